"""The API clients against a hostile upstream: Retry-After of any size, answers nested too
deep or made of tiny values, and credentials no HTTP header can carry."""

from __future__ import annotations

import io
import json
import random
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import structlog

from exporter.api.budget import RequestBudget
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.http_errors import error_for_status, parse_retry_after
from exporter.api.json_answers import (
    MAX_JSON_DEPTH,
    MIN_BYTES_PER_CONTAINER,
    _nested_deeper,
    _structure,
    _structure_deeper,
    json_text,
)
from exporter.api.request_stats import RequestStats
from exporter.api.tokens import parse_token_answer
from exporter.config import load_config_data
from exporter.core.errors import ConfigError, MalformedResponseError, RateLimitedError
from exporter.core.logs import configure_logging
from tests.support.clock import FakeClock
from tests.support.files import fixture_json

BASE = "https://api.example.test"
ENV = {"EIGHTBYEIGHT_USERNAME": "u", "EIGHTBYEIGHT_PASSWORD": "p"}


def client(bucket: RequestBudget | None, clock: FakeClock, **settings: Any) -> HttpClient:
    return HttpClient(
        "work_analytics",
        BASE,
        HttpSettings(**{"max_attempts": 1, **settings}),
        RequestStats(),
        sleep=clock.advance,
        budget=bucket,
    )


def test_retry_after_is_a_finite_number_of_seconds() -> None:
    assert parse_retry_after("1e400") is None  # infinite as a float
    assert parse_retry_after("nan") is None
    assert parse_retry_after("-inf") is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("99999999") == 99999999.0  # finite: capped where it is used


NOV_18_17H = 1763485200.0  # Tue, 18 Nov 2025 17:00:00 GMT


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    "date",
    [
        "Tue, 18 Nov 2025 17:00:30 GMT",
        "Tuesday, 18-Nov-25 17:00:30 GMT",
        "Tue Nov 18 17:00:30 2025",
    ],
)
def test_a_retry_after_date_is_utc_in_each_form_an_http_date_takes(date: str) -> None:
    """The asctime form has no zone: read in the exporter's local one, a 30 s pause was 0 s
    in Berlin (every retry spent at once) and hours west of UTC."""
    assert parse_retry_after(date, now=lambda: NOV_18_17H) == 30.0


def test_a_retry_after_date_is_measured_against_the_answers_own_date() -> None:
    """Both are the API's clock: an exporter clock 5 minutes ahead of it read 30 s as 0."""
    retry_after = "Tue, 18 Nov 2025 16:55:30 GMT"
    sent = "Tue, 18 Nov 2025 16:55:00 GMT"
    assert parse_retry_after(retry_after, now=lambda: NOV_18_17H, date=sent) == 30.0
    assert parse_retry_after(retry_after, now=lambda: NOV_18_17H, date="garbage") == 0.0
    answer = requests.Response()
    answer.status_code = 429
    answer.headers.update({"Retry-After": retry_after, "Date": sent})
    error = error_for_status("/a", answer)
    assert isinstance(error, RateLimitedError) and error.retry_after == 30.0


@pytest.mark.parametrize("retry_after", ["1e400", "99999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_429_pauses_the_api_for_at_most_max_retry_after(
    rsps: responses.RequestsMock, retry_after: str
) -> None:
    clock = FakeClock(0)
    bucket = RequestBudget("work_analytics", 600, clock=clock, sleep=clock.advance)
    rsps.get(f"{BASE}/a", status=429, headers={"Retry-After": retry_after})
    rsps.get(f"{BASE}/b", json={"ok": True})
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    try:
        with pytest.raises(RateLimitedError):
            client(bucket, clock, max_retry_after=120).request("GET", "/a", "/a")
        assert bucket.paused()
        # The other pollers wait out the capped pause, then collect again.
        assert client(bucket, clock).request("GET", "/b", "/b") == {"ok": True}
    finally:
        structlog.reset_defaults()
    assert clock() <= 121
    for line in stream.getvalue().splitlines():  # valid JSON: no Infinity
        json.loads(line, parse_constant=refuse_constant)
    assert '"seconds": 120' in stream.getvalue() or '"seconds": 1.0' in stream.getvalue()


def test_a_pause_must_be_finite() -> None:
    clock = FakeClock(0)
    bucket = RequestBudget("work_analytics", 600, clock=clock, sleep=clock.advance)
    with pytest.raises(ValueError, match="finite"):
        bucket.pause(float("inf"))
    assert not bucket.paused()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_an_answer_nested_too_deep_is_malformed(rsps: responses.RequestsMock, depth: int) -> None:
    rsps.get(f"{BASE}/deep", body="[" * depth + "]" * depth)
    with pytest.raises(MalformedResponseError, match=f"nested deeper than {MAX_JSON_DEPTH}"):
        client(None, FakeClock(0)).request("GET", "/deep", "/deep")


def test_an_answer_nested_to_the_limit_is_read(rsps: responses.RequestsMock) -> None:
    body = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    rsps.get(f"{BASE}/deep", body=body)
    assert client(None, FakeClock(0)).request("GET", "/deep", "/deep") is not None


def depth_of(body: Any) -> int:
    """Levels of lists and objects, by plain recursion (the reference for the walk)."""
    if isinstance(body, dict):
        return 1 + max(map(depth_of, body.values()), default=0)
    if isinstance(body, list):
        return 1 + max(map(depth_of, body), default=0)
    return 0


# Strings that look like structure to a reader of bytes: brackets, quotes and backslashes
# escaped in every way, a quote after an escaped backslash, text past ASCII.
AWKWARD_STRINGS = [
    "a",
    "",
    "[",
    "]}",
    '"',
    '\\',
    '\\"',
    '\\\\',
    '[{"x":[',
    "é[ü]",
    "\u2028",
    "\x00",
]


def random_body(rng: random.Random, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([1, None, 1.5, True, *AWKWARD_STRINGS])
    if rng.random() < 0.5:
        keys = rng.sample(AWKWARD_STRINGS, rng.randint(0, 4))
        return {key: random_body(rng, depth - 1) for key in keys}
    return [random_body(rng, depth - 1) for _ in range(rng.randint(0, 4))]


def test_the_depth_walk_agrees_with_recursion_on_any_shape() -> None:
    rng = random.Random(20)
    bodies = [random_body(rng, rng.randint(0, 9)) for _ in range(400)]
    # A level wider than one step of the walk, with the deepest node in its last step.
    wide: list[Any] = [{"a": 1} for _ in range(3 * 4096)] + [{"a": [[[1]]]}]
    for body in [*bodies, wide, [wide], {"rows": wide}]:
        depth = depth_of(body)
        for limit in range(1, 11):
            assert _nested_deeper(body, limit) == (depth > limit), (body, limit)


@pytest.mark.parametrize("ascii_only", [True, False])
def test_the_depth_read_from_the_bytes_agrees_with_recursion(ascii_only: bool) -> None:
    rng = random.Random(21)
    bodies = [random_body(rng, rng.randint(0, 9)) for _ in range(600)]
    # Alternating kinds, each level's brackets beside the next one's.
    chain: Any = 1
    for level in range(12):
        chain = [chain] if level % 2 else {"k": chain}
    for body in [*bodies, chain, [chain, "]]]]"], {"[": chain}]:
        depth = depth_of(body)
        for indent in (None, 1):
            content = json.dumps(body, ensure_ascii=ascii_only, indent=indent).encode()
            for limit in range(1, 14):
                assert _structure_deeper(_structure(content), limit) == (depth > limit), content


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32-be"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
def test_the_depth_bound_holds_in_every_encoding_json_reads(
    rsps: responses.RequestsMock, encoding: str, depth: int
) -> None:
    """UTF-8 answers are read as bytes; the others (never the vendor's) are walked."""
    body = ("[" * depth + '"[[é"' + "]" * depth).encode(encoding)
    assert json_text("/deep", body, 1 << 20).too_deep is (
        (depth > MAX_JSON_DEPTH) if encoding.startswith("utf-8") else None
    )
    rsps.get(f"{BASE}/deep", body=body)
    http = client(None, FakeClock(0))
    if depth > MAX_JSON_DEPTH:
        with pytest.raises(MalformedResponseError, match="nested deeper"):
            http.request("GET", "/deep", "/deep")
    else:
        assert http.request("GET", "/deep", "/deep") is not None


@pytest.mark.parametrize("item", [b"{}", b"[]", b"1.5", b'{"a":1}'])
def test_an_answer_of_tiny_values_is_refused_before_it_is_parsed(
    rsps: responses.RequestsMock, item: bytes
) -> None:
    # Under the size limit, but 12 to 50 times its size as Python objects.
    limit = 64 * 1024
    body = b"[" + b",".join([item] * (limit // (len(item) + 1) - 1)) + b"]"
    assert len(body) <= limit
    rsps.get(f"{BASE}/tiny", body=body)
    with pytest.raises(MalformedResponseError, match="max_response_bytes"):
        client(None, FakeClock(0), max_response_bytes=limit).request("GET", "/tiny", "/tiny")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("extra", [0, 1])
def test_the_count_of_objects_and_lists_is_exact_at_its_bound(encoding: str, extra: int) -> None:
    """UTF-8 answers count them in their structure, the others in their bytes: the same
    bound either way, one more refused. Brackets in strings count too."""
    limit = 64 * 1024
    allowed = limit // MIN_BYTES_PER_CONTAINER
    body = "[" + ",".join(['"[{"'] + ["[]"] * (allowed - 3 + extra)) + "]"
    content = body.encode(encoding)
    if extra:
        with pytest.raises(MalformedResponseError, match=f"answer has {allowed + 1} objects"):
            json_text("/list", content, limit)
    else:
        assert json_text("/list", content, limit).too_deep in (False, None)


def test_a_big_answer_of_the_vendors_shape_is_parsed_frugally(
    rsps: responses.RequestsMock,
) -> None:
    record = fixture_json("call_records.json")["data"][0]
    rows = [{**record, "callId": str(10**12 + i), "callerName": f"C{i}"} for i in range(2000)]
    body = json.dumps({"meta": {"scrollId": "x"}, "data": rows}).encode()
    rsps.get(f"{BASE}/records", body=body)
    http = client(None, FakeClock(0), max_response_bytes=4 * 1024 * 1024)
    tracemalloc.start()
    try:
        answer = http.request("GET", "/records", "/records")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(answer["data"]) == 2000
    # The bytes, a copy joined from pieces, the text and the objects were all alive at once
    # (4.4 times the answer); now the bytes go before the objects are made.
    assert peak < 3.9 * len(body), peak / len(body)


def test_the_default_size_limit_fits_the_charts_memory_limit() -> None:
    config = load_config_data({"work_analytics": {"api_key": "key1"}}, env=ENV)
    assert config.work_analytics.max_response_bytes == 16 * 1024 * 1024
    assert HttpSettings().max_response_bytes == 16 * 1024 * 1024


@pytest.mark.parametrize("api_key", ["ключ-123", "clé-1234", "key with space", "key\r\nX: 1"])
def test_an_api_key_no_header_can_carry_is_a_config_error(api_key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": {"api_key": api_key}}, env=ENV)
    [problem] = caught.value.problems
    assert problem.startswith("work_analytics.api_key: only printable ASCII")
    assert api_key not in problem


def test_any_text_is_a_password() -> None:
    # Sent form-encoded as UTF-8: no reason to refuse it.
    config = load_config_data(
        {"work_analytics": {"api_key": "key1", "password": "pässwörd-ключ"}}, env=ENV
    )
    assert config.work_analytics.password is not None


def test_a_tenant_no_header_can_carry_is_a_config_error() -> None:
    section = {"enabled": True, "client_id": "i", "client_secret": "s", "tenants": ["tenänt"]}
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": {"enabled": False}, "contact_center": section}, env={})
    assert any("tenants" in p and "printable ASCII" in p for p in caught.value.problems)


def refuse_constant(name: str) -> None:
    """json.loads' hook for `Infinity`, `-Infinity` and `NaN`: not JSON, a log shipper refuses
    the line."""
    pytest.fail(f"{name} in a log line")


@pytest.mark.parametrize("token", ["x" * 8193, "two words", "tok\u00e9n", ""])
def test_a_token_that_is_no_bearer_token_is_a_malformed_answer(token: str) -> None:
    # A hostile token endpoint: a 4 MB token cost the redactor 8 s and 900 MB.
    with pytest.raises(MalformedResponseError, match="not a bearer token"):
        parse_token_answer("/oauth/v2/token", {"access_token": token, "expires_in": 1800})
    assert parse_token_answer("/t", {"access_token": "a1-._~+/b==", "expires_in": 60})[1] == 60
