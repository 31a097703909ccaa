"""No credential and no token in any output: the daemon runs through faults on every endpoint
with known secrets at debug level, and its logs, its pages, its reload and check-config
errors, and the config's repr are searched for them."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, TypedDict

import pytest
import structlog

from exporter.config import load_config_data
from exporter.core.errors import ConfigError
from exporter.core.redaction import SECRETS, SecretRedactor, redact
from exporter.demo import demo_config_data
from simulator import Simulator
from tests.support.echo_upstream import EchoUpstream
from tests.support.page import PageReader
from tests.support.waiting import free_port

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
API_KEY, PASSWORD = "AK-5f1e0c9b7d-known", "PW-9c2d4e11aa-known"
CC_ID, CC_SECRET = "cc-client-3b8f", "CS-7a3b55c1e0-known"
ENDPOINTS = [
    r"/oauth/token",
    r"/oauth/v2/token",
    r"/v2/pbxes",
    r"/call-queue-metrics",
    r"/compsum",
    r"/rgsum-",
    r"/extsum",
    r"/call-records",
    r"/call-legs",
    r"/realtime-metrics/",
    r"/historical-metrics",
]


class Fault(TypedDict, total=False):
    """What the simulator's fault rules take, as keyword arguments."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    malformed: bool


FAULTS: list[Fault] = [
    {"status": 401, "body": {"error": "invalid_token"}},
    {"status": 400},
    {"status": 403},
    {"status": 429, "headers": {"Retry-After": "1"}},
    {"status": 500},
    {"status": 200, "malformed": True},
]


def fetch(url: str, method: str = "GET") -> str:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.read().decode(errors="replace")


def secrets_in(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


@pytest.mark.slow
def test_no_secret_or_token_in_any_output(tmp_path: Path) -> None:
    with Simulator(
        seed=4,
        host="127.0.0.1",
        port=0,
        api_key=API_KEY,
        password=PASSWORD,
        cc_client_id=CC_ID,
        cc_client_secret=CC_SECRET,
        cc_report_delay_seconds=0.2,
    ) as sim:
        data = demo_config_data({}, sim)
        wa, cc = data["work_analytics"], data["contact_center"]
        # Credentials from the environment, as in production, not in the file.
        for key in ("api_key", "password"):
            wa.pop(key)
        cc.pop("client_secret")
        for section in (wa, cc):
            section["retries"] = {
                "max_attempts": 2,
                "initial_backoff": "10ms",
                "max_backoff": "20ms",
                "max_retry_after": "2s",
            }
        for key in (
            "call_queues",
            "company_summary",
            "ring_groups",
            "extensions",
            "call_records",
            "call_legs",
        ):
            wa[key] = {**wa.get(key, {}), "interval": "1s"}
        for key in ("queues", "groups", "agents"):
            cc[key] = {**cc.get(key, {}), "interval": "1s"}
        cc["reports"] = [dict(r, interval="2s") for r in cc["reports"]]
        cc["report_status"] = {"initial_backoff": "100ms", "max_backoff": "200ms"}
        config = tmp_path / "config.json"
        config.write_text(json.dumps(data))
        env = {
            "PATH": "/usr/bin:/bin",
            "EIGHTBYEIGHT_API_KEY": API_KEY,
            "EIGHTBYEIGHT_PASSWORD": PASSWORD,
            "EIGHTBYEIGHT_CC_CLIENT_SECRET": CC_SECRET,
        }
        port, log = free_port(), tmp_path / "exporter.log"
        base = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "exporter",
                    "--config.file",
                    str(config),
                    "--web.listen-address",
                    f"127.0.0.1:{port}",
                    "--log.level",
                    "debug",
                    "--web.enable-lifecycle",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                env=env,
            )
        pages: list[str] = []
        try:
            deadline = time.monotonic() + 60
            for _ in range(600):
                if time.monotonic() > deadline or process.poll() is not None:
                    break
                try:
                    if "ready" in fetch(f"{base}/-/ready") and "not ready" not in fetch(
                        f"{base}/-/ready"
                    ):
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            # Every fault on every endpoint, a few times each, with tokens expiring between.
            for fault in FAULTS:
                for endpoint in ENDPOINTS:
                    sim.faults.add(endpoint, times=3, **fault)
                sim.expire_tokens()
                time.sleep(2.5)
                pages += [
                    fetch(f"{base}{path}") for path in ("/metrics", "/", "/-/healthy", "/-/ready")
                ]
            sim.faults.clear()
            # A failed reload reports its problems: none of them may carry a secret.
            config.write_text(json.dumps({**data, "work_analytics": {**wa, "colour": 1}}))
            pages.append(fetch(f"{base}/-/reload", "POST"))
        finally:
            process.terminate()
            process.wait(timeout=60)
        tokens = {
            r.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            for r in sim.requests
            if r.headers.get("Authorization", "").startswith("Bearer")
        }
        # --check-config with refused credentials: its error message is output too.
        bad = subprocess.run(
            [sys.executable, "-m", "exporter", "--check-config", "--config.file", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env={**env, "EIGHTBYEIGHT_CC_CLIENT_SECRET": CC_SECRET + "-wrong"},
        )
    assert len(tokens) >= 2, "the run used tokens of both APIs"
    basic = base64.b64encode(f"{CC_ID}:{CC_SECRET}".encode()).decode()
    secrets = {API_KEY, PASSWORD, CC_SECRET, CC_SECRET + "-wrong", basic, *tokens}
    output = log.read_text(errors="replace")
    assert "api_request_retry" in output and "collector_run_failed" in output  # faults were hit
    assert secrets_in(output, secrets) == []
    assert secrets_in("\n".join(pages), secrets) == []
    assert secrets_in(bad.stdout + bad.stderr, secrets) == []
    # The config's repr and str, and a config error about a secret's file.
    loaded = load_config_data(data, env=env)
    assert secrets_in(repr(loaded) + str(loaded) + repr(loaded.model_dump()), secrets) == []
    with pytest.raises(ConfigError) as caught:
        load_config_data(
            {"work_analytics": {**wa, "password": PASSWORD, "password_file": "/nonexistent"}},
            env=env,
        )
    assert secrets_in(str(caught.value), secrets) == []


ECHO_TOKEN = "eyJ-bearer-token-4f9a1c"


def run_against_echo_upstream(tmp_path: Path) -> tuple[str, str, list[str]]:
    """The exporter's logs, its page and its pollers' last errors after one run of every
    poller against an upstream that quotes every request back."""
    from exporter.app import build_exporter
    from exporter.core.logs import configure_logging

    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    try:
        with EchoUpstream(ECHO_TOKEN) as upstream:
            retries = {"max_attempts": 1, "initial_backoff": "1ms", "max_backoff": "1ms"}
            config = load_config_data(
                {
                    "work_analytics": {
                        "base_url": upstream.url,
                        "api_key": API_KEY,
                        "username": "supervisor@example.com",
                        "password": PASSWORD,
                        "retries": retries,
                    },
                    "contact_center": {
                        "enabled": True,
                        "base_url": upstream.url,
                        "token_url": f"{upstream.url}/oauth/v2/token",
                        "client_id": CC_ID,
                        "client_secret": CC_SECRET,
                        "retries": retries,
                    },
                },
                env={},
            )
            exporter = build_exporter(config, process_metrics=False)
            try:
                # The first poller of each API is given a token, twice, and meets 401s quoting
                # it; the next ones ask for a token again and meet 400s quoting the credentials.
                for runner in exporter.scheduler.runners:
                    runner.run_once()
                page = PageReader(exporter.exposition).text()
                errors = [r.state.last_error or "" for r in exporter.scheduler.runners]
            finally:
                exporter.close()
    finally:
        structlog.reset_defaults()
    return stream.getvalue(), page, errors


def test_an_upstream_echoing_every_secret_puts_none_in_any_output(tmp_path: Path) -> None:
    logs, page, errors = run_against_echo_upstream(tmp_path)
    basic = base64.b64encode(f"{CC_ID}:{CC_SECRET}".encode()).decode()
    form_password = urllib.parse.quote_plus(PASSWORD)
    secrets = {API_KEY, PASSWORD, CC_SECRET, basic, ECHO_TOKEN}
    # The upstream did quote them: the scrubbing, not a quiet upstream, keeps them out.
    assert "oauth/v2/token" in logs and "<redacted>" in logs
    assert any("unauthorized (HTTP 401)" in e for e in errors)
    assert any("authentication refused (HTTP 400)" in e for e in errors)
    output = "\n".join([logs, page, *errors])
    assert secrets_in(output, secrets | {form_password}) == []
    # Every line is JSON a log shipper can read (no Infinity, no NaN).
    for line in logs.splitlines():
        json.loads(line, parse_constant=refuse_constant)


def test_the_redaction_finds_every_encoding_of_a_secret() -> None:
    SECRETS.add_credential("p@ss/wörd \"x\"")
    SECRETS.add_credential(f"{CC_ID}:{CC_SECRET}")
    SECRETS.add_token("tok-abcdef-0123456789")
    value = "p@ss/wörd \"x\""
    for form in (
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        urllib.parse.quote(value, safe="").lower(),
        json.dumps(value)[1:-1],
        base64.b64encode(value.encode()).decode(),
        "Basic " + base64.b64encode(f"{CC_ID}:{CC_SECRET}".encode()).decode(),
        "Bearer tok-abcdef-0123456789",
    ):
        assert secrets_in(redact(f"before {form} after"), {form.split()[-1]}) == [], form
        assert redact(f"before {form} after").startswith("before ")
    # Text with no secret is left alone, and values too short to mean anything are not hunted.
    SECRETS.add_credential("abc")
    assert redact("abc and nothing else") == "abc and nothing else"


def test_only_the_latest_tokens_are_kept() -> None:
    redactor = SecretRedactor(max_tokens=2)
    tokens = [f"tok-{digit * 16}" for digit in "123"]
    for token in tokens:
        redactor.add_token(token)
    assert redactor.redact(" ".join(tokens)) == f"{tokens[0]} <redacted> <redacted>"


def test_every_log_value_is_scrubbed_and_finite() -> None:
    from exporter.core.logs import configure_logging, get_logger

    SECRETS.add_credential(API_KEY)
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    try:
        log = get_logger("test")
        log.warning("vendor_said", text=f"key {API_KEY}", nested={"a": [API_KEY]}, wait=1e400)
        try:
            raise ValueError(f"bad key {API_KEY}")
        except ValueError:
            log.exception("crashed")
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert API_KEY not in stream.getvalue()
    assert lines[0]["wait"] == "inf" and lines[0]["nested"] == {"a": ["<redacted>"]}
    assert "bad key <redacted>" in lines[1]["exception"]


def refuse_constant(name: str) -> None:
    """json.loads' hook for `Infinity`, `-Infinity` and `NaN`: not JSON, a log shipper refuses
    the line."""
    pytest.fail(f"{name} in a log line")


@pytest.mark.parametrize("prefix", ["", "a", "ab", "abc:", "client-id:"])
def test_a_secret_inside_a_longer_base64_text_is_found_at_any_offset(prefix: str) -> None:
    # `base64(client_id:client_secret)` puts the secret wherever the id's length says: the
    # encoded secret is then none of the spellings of base64(secret) alone.
    SECRETS.add_credential(CC_SECRET)
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(f"{prefix}{CC_SECRET}:and more".encode()).decode()
        redacted = redact(f"header {text} end")
        assert redacted.startswith("header ") and "<redacted>" in redacted, (prefix, text)


def test_the_escapings_other_encoders_use_are_found() -> None:
    value = "PW/<9c&2d>-known"
    SECRETS.add_credential(value)
    once = urllib.parse.quote(value, safe="")
    for form in (
        json.dumps(value)[1:-1].replace("/", "\\/"),  # PHP, some Java encoders
        json.dumps(value)[1:-1]
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026"),  # Go's encoding/json
        "".join(f"\\u{ord(c):04X}" for c in value),  # every character escaped, upper case
        urllib.parse.quote(once, safe=""),  # percent-encoded twice
    ):
        assert redact(f"said {form} !") == "said <redacted> !", form


def test_a_short_token_from_the_upstream_blanks_no_word_and_no_event_name() -> None:
    from exporter.core.logs import configure_logging, get_logger

    SECRETS.add_token("error")  # a broken or hostile upstream's "access_token"
    SECRETS.add_credential("vendor_said")  # a password that happens to be an event's name
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    try:
        get_logger("test").warning("vendor_said", text="an error, vendor_said")
    finally:
        structlog.reset_defaults()
    line = json.loads(stream.getvalue())
    assert line["msg"] == "vendor_said"
    assert line["text"] == "an error, <redacted>"


def test_a_label_value_quoting_a_secret_is_redacted_on_the_page() -> None:
    from prometheus_client.core import GaugeMetricFamily

    from exporter.metrics.rendering import GaugeFamily, render_family

    SECRETS.add_credential(API_KEY)
    SECRETS.add_token(ECHO_TOKEN)
    text_family = GaugeFamily("eightbyeight_test_calls", "Test.", labels=["pbx", "queue"])
    client_family = GaugeMetricFamily("eightbyeight_test_agents", "Test.", labels=["pbx"])
    # Names an upstream may echo back: the key, the key percent-encoded, the bearer token.
    names = [f"pbx {API_KEY}", f"pbx {urllib.parse.quote(API_KEY)}x", f"Bearer {ECHO_TOKEN}"]
    for name in names:
        text_family.add_metric([name, "sales"], 1.0)
        client_family.add_metric([name], 2.0)
    text_family.add_metric(["plain", "sales"], 3.0)
    pages = [render_family(text_family).samples, render_family(client_family).samples]
    for page in (p.decode() for p in pages):
        assert secrets_in(page, {API_KEY, ECHO_TOKEN}) == []
        assert page.count("<redacted>") == 3
        # Two names that differ only in their secret stay two series: a page with two equal
        # series would fail the whole scrape.
        keys = [line.rsplit(" ", 1)[0] for line in page.splitlines()]
        assert len(set(keys)) == len(keys)
    assert 'pbx="plain"' in pages[0].decode()


def test_a_label_value_seen_clean_is_redacted_once_it_quotes_a_new_secret() -> None:
    redactor = SecretRedactor()
    redactor.add_credential(API_KEY)
    token = "eyJ-a-later-token-0123456789"
    value = f"queue {token}"
    assert redactor.redact_label(value) == value  # remembered clean under the first pattern
    assert redactor.redact_label("Sales") == "Sales"
    redactor.add_token(token)
    assert redactor.redact_label(value).startswith("queue <redacted>[")
    redactor.add_credential("Sales-password")  # a new credential searches every value again
    assert redactor.redact_label("x Sales-password").startswith("x <redacted>[")
    # Long values are searched with every form, short ones with the short forms only.
    long_value = "q" * 100 + token
    assert token not in redactor.redact_label(long_value)
