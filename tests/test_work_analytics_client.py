"""The Work Analytics client against the vendor's example answers, replayed strictly."""

from __future__ import annotations

import urllib.parse

import pytest
import requests
import responses
from prometheus_client import CollectorRegistry

from exporter.api.http_errors import parse_retry_after
from exporter.api.tokens import parse_token_answer
from exporter.core.errors import (
    AuthenticationError,
    ForbiddenError,
    MalformedResponseError,
    PagingLoopError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnauthorizedError,
)
from exporter.core.windows import DateRange
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.work_analytics import BASE, PBX, TOKEN_URL, Sleeps, add_token, make_client


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def count(registry: CollectorRegistry, name: str, endpoint: str, **labels: str) -> float:
    wanted = {"api": "work_analytics", "endpoint": endpoint, **labels}
    return registry.get_sample_value(name, wanted) or 0.0


def test_token_flow_follows_the_guide(rsps, registry, sleeps) -> None:
    rsps.post(TOKEN_URL, json=fixture_json("token.json"))
    rsps.get(f"{BASE}/v2/pbxes/", json=fixture_json("pbxes.json"))
    client = make_client(registry, sleeps)
    assert client.pbxes() == [{"id": "rXp_ceLVQs6RYjUp1Iqqwa", "name": "aPbx", "deleted": False}]
    auth, data = rsps.calls[0].request, rsps.calls[1].request
    assert auth.headers["8x8-apikey"] == "test_key"
    assert auth.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(auth.body) == {
        "username": ["supervisor@example.com"],
        "password": ["s3cret pass&word"],
    }
    token = fixture_json("token.json")["access_token"]
    assert data.headers["Authorization"] == f"Bearer {token}"
    assert data.headers["8x8-apikey"] == "test_key"
    assert data.headers["User-Agent"].startswith("eightbyeight-exporter/")


def test_token_is_reused_until_shortly_before_expiry(rsps, registry, sleeps) -> None:
    clock = FakeClock()
    add_token(rsps, "tok-1", 1800)
    add_token(rsps, "tok-2", 1800)
    rsps.get(f"{BASE}/v2/pbxes/", json=fixture_json("pbxes.json"))
    client = make_client(registry, sleeps, clock)
    for _ in range(3):
        client.pbxes()
        clock.advance(500)  # 1500 s in: still valid
    assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 1
    clock.advance(245)  # 1745 s: within the last minute before expiry
    client.pbxes()
    tokens = [
        c.request.headers.get("Authorization") for c in rsps.calls if c.request.url != TOKEN_URL
    ]
    assert tokens == ["Bearer tok-1"] * 3 + ["Bearer tok-2"]


def test_expires_in_as_string_is_understood() -> None:
    # Contact Center sends "1799", Work Analytics 1800.
    assert parse_token_answer("/t", {"access_token": "a", "expires_in": "1799"}) == ("a", 1799)
    assert parse_token_answer("/t", {"access_token": "a", "expires_in": 1800}) == ("a", 1800)
    for bad in (None, "soon", 0, -5, True, "nan", "inf", 10**400):
        with pytest.raises(MalformedResponseError, match="no valid expires_in"):
            parse_token_answer("/t", {"access_token": "a", "expires_in": bad})
    bodies: list[object] = [{"expires_in": 1800}, {"access_token": 5, "expires_in": 1800}, [], None]
    for body in bodies:
        with pytest.raises(MalformedResponseError, match="no access_token"):
            parse_token_answer("/t", body)


def test_401_renews_the_token_once_and_retries(rsps, registry, sleeps) -> None:
    add_token(rsps, "tok-1")
    rsps.get(f"{BASE}/v2/pbxes/", status=401, json=fixture_json("error_401_invalid_token.json"))
    add_token(rsps, "tok-2")
    rsps.get(f"{BASE}/v2/pbxes/", json=fixture_json("pbxes.json"))
    client = make_client(registry, sleeps)
    assert len(client.pbxes()) == 1
    auths = [
        c.request.headers.get("Authorization") for c in rsps.calls if c.request.url != TOKEN_URL
    ]
    assert auths == ["Bearer tok-1", "Bearer tok-2"]
    assert sleeps == []  # a 401 is not a backoff case


def test_second_401_is_an_error_with_the_vendor_message(rsps, registry, sleeps) -> None:
    add_token(rsps, "tok-1")
    add_token(rsps, "tok-2")
    rsps.get(f"{BASE}/v2/pbxes/", status=401, json=fixture_json("error_401_invalid_token.json"))
    client = make_client(registry, sleeps)
    with pytest.raises(UnauthorizedError) as info:
        client.pbxes()
    assert "Cannot convert access token to JSON" in str(info.value)
    assert len(rsps.calls) == 4


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("token_invalid_api_key.json", "Invalid 8x8-apikey; Please provide valid apikey"),
        ("token_invalid_grant.json", "USER_NOTFOUND_ERROR"),
    ],
)
def test_authentication_errors_quote_the_vendor(rsps, registry, sleeps, fixture, message) -> None:
    rsps.post(TOKEN_URL, status=400, json=fixture_json(fixture))
    client = make_client(registry, sleeps)
    with pytest.raises(AuthenticationError) as info:
        client.pbxes()
    assert message in str(info.value)
    assert "s3cret" not in str(info.value) and "test_key" not in str(info.value)
    assert sleeps == []  # wrong credentials are not retried


def test_429_honours_retry_after(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/pbxes/", status=429, headers={"Retry-After": "7"})
    rsps.get(f"{BASE}/v2/pbxes/", json=fixture_json("pbxes.json"))
    client = make_client(registry, sleeps)
    assert len(client.pbxes()) == 1
    assert sleeps == [7.0]
    assert count(registry, "eightbyeight_api_requests_total", "/v2/pbxes/") == 2
    assert count(registry, "eightbyeight_api_request_failures_total", "/v2/pbxes/", code="429") == 1


def test_retry_after_beyond_the_limit_fails_at_once(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/pbxes/", status=429, headers={"Retry-After": "3600"})
    client = make_client(registry, sleeps, max_retry_after=120)
    with pytest.raises(RateLimitedError) as info:
        client.pbxes()
    assert info.value.retry_after == 3600
    assert sleeps == []


def test_5xx_backs_off_exponentially_with_jitter_then_gives_up(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/pbxes/", status=503, body="upstream unavailable")
    client = make_client(registry, sleeps, max_attempts=4, initial_backoff=1, max_backoff=3)
    with pytest.raises(ServerError) as info:
        client.pbxes()
    assert "HTTP 503" in str(info.value) and "upstream unavailable" in str(info.value)
    assert len(sleeps) == 3
    # Full jitter: each wait lies in [0, min(max, initial * 2^n)].
    for n, wait in enumerate(sleeps):
        assert 0 <= wait <= min(3, 1 * 2**n)
    assert count(registry, "eightbyeight_api_requests_total", "/v2/pbxes/") == 4
    assert count(registry, "eightbyeight_api_request_failures_total", "/v2/pbxes/", code="503") == 4


def test_connection_errors_are_retried_then_reported(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/pbxes/", body=requests.ConnectTimeout("boom"))
    rsps.get(f"{BASE}/v2/pbxes/", json=fixture_json("pbxes.json"))
    client = make_client(registry, sleeps)
    assert len(client.pbxes()) == 1
    assert len(sleeps) == 1
    rsps.get(f"{BASE}/v2/pbxes/", body=requests.ConnectionError("refused"))
    client = make_client(CollectorRegistry(), sleeps, max_attempts=2)
    with pytest.raises(TransportError, match="connection failed"):
        client.pbxes()


def test_timeouts_are_set_on_every_request(rsps, registry, sleeps, monkeypatch) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/pbxes/", json=fixture_json("pbxes.json"))
    client = make_client(registry, sleeps, connect_timeout=2, read_timeout=9)
    seen: list[object] = []
    # The adapter sends every request, whichever way the client prepares it.
    adapter = client.http.session.get_adapter(BASE)
    original = adapter.send

    def spy(*args, **kwargs):
        seen.append(kwargs.get("timeout"))
        return original(*args, **kwargs)

    monkeypatch.setattr(adapter, "send", spy)
    client.pbxes()
    assert seen == [(2, 9), (2, 9)]


def test_403_quotes_the_vendor(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(
        f"{BASE}/v2/pbxes/{PBX}/call-queue-metrics",
        status=403,
        json=fixture_json("call_queue_metrics_403.json"),
    )
    client = make_client(registry, sleeps)
    with pytest.raises(ForbiddenError) as info:
        client.call_queue_metrics(PBX)
    assert "does not have access to pbxId" in str(info.value)
    assert str(info.value).startswith("/v2/pbxes/{pbxId}/call-queue-metrics:")


def test_malformed_json_is_reported(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/pbxes/", body='{"_embedded": {"pbxList": [', status=200)
    client = make_client(registry, sleeps)
    with pytest.raises(MalformedResponseError):
        client.pbxes()


def test_hal_paging_reaches_the_last_page(rsps, registry, sleeps) -> None:
    add_token(rsps)
    url = f"{BASE}/v2/pbxes/{PBX}/queues"
    rsps.get(
        url,
        json=fixture_json("queues_page0.json"),
        match=[responses.matchers.query_param_matcher({"page": "0", "size": "3"})],
    )
    rsps.get(
        url,
        json=fixture_json("queues_page1.json"),
        match=[responses.matchers.query_param_matcher({"page": "1", "size": "3"})],
    )
    client = make_client(registry, sleeps)
    queues = client.queues(PBX, page_size=3)
    assert [q["name"] for q in queues] == ["Arryk", "Dorcas", "Waif", "Billing", "Old queue"]


def test_paging_without_metadata_follows_next_links(rsps, registry, sleeps) -> None:
    add_token(rsps)
    url = f"{BASE}/v2/pbxes/{PBX}/sites"
    page0 = {
        "_embedded": {"siteList": [{"id": "s1", "name": "A"}]},
        "_links": {"next": {"href": "x?page=1"}},
    }
    page1 = {"_embedded": {"siteList": [{"id": "s2", "name": "B"}]}, "_links": {}}
    rsps.get(
        url,
        json=page0,
        match=[responses.matchers.query_param_matcher({"page": "0", "size": "100"})],
    )
    rsps.get(
        url,
        json=page1,
        match=[responses.matchers.query_param_matcher({"page": "1", "size": "100"})],
    )
    assert [s["id"] for s in make_client(registry, sleeps).sites(PBX)] == ["s1", "s2"]


def test_call_queue_parameters(rsps, registry, sleeps) -> None:
    add_token(rsps)
    rsps.get(
        f"{BASE}/v2/pbxes/{PBX}/call-queue-metrics",
        json=fixture_json("call_queue_metrics.json"),
        match=[
            responses.matchers.query_param_matcher(
                {
                    "siteIds": "s1,s2",
                    "queueIds": "q1",
                    "metrics": "ongoingWaitingCalls",
                    "includeSummary": "false",
                }
            )
        ],
    )
    rsps.get(
        f"{BASE}/v2/call-queues/real-time/pbxes/{PBX}",
        json=fixture_json("realtime_call_queues.json"),
        match=[responses.matchers.query_param_matcher({"includeSummary": "true"})],
    )
    client = make_client(registry, sleeps)
    client.call_queue_metrics(
        PBX,
        site_ids=["s1", "s2"],
        queue_ids=["q1"],
        metrics=["ongoingWaitingCalls"],
        include_summary=False,
    )
    client.realtime_call_queues(PBX)


def test_call_queue_date_range_parameters(rsps, registry, sleeps) -> None:
    add_token(rsps)
    params = {
        "includeSummary": "true",
        "metrics": "enteredCalls",
        "startDate": "2024-03-05T09:00:00+0100",
        "endDate": "2024-03-05T10:00:00+0100",
        "intraDayStart": "09:00:00+0100",
        "intraDayEnd": "10:00:00+0100",
    }
    rsps.get(
        f"{BASE}/v2/pbxes/{PBX}/call-queue-metrics",
        json=fixture_json("call_queue_metrics.json"),
        match=[responses.matchers.query_param_matcher(params)],
    )
    client = make_client(registry, sleeps)
    client.call_queue_metrics(
        PBX,
        metrics=["enteredCalls"],
        date_range=DateRange(
            "2024-03-05T09:00:00+0100",
            "2024-03-05T10:00:00+0100",
            "09:00:00+0100",
            "10:00:00+0100",
        ),
    )
    # A bare "+" in a query is a space: the offset must arrive percent-encoded.
    sent = urllib.parse.urlsplit(rsps.calls[-1].request.url).query
    assert "startDate=2024-03-05T09%3A00%3A00%2B0100" in sent
    assert "intraDayEnd=10%3A00%3A00%2B0100" in sent


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412470.0) == 10.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_client_repr_hides_credentials(registry, sleeps) -> None:
    client = make_client(registry, sleeps)
    assert "s3cret" not in repr(client) and "test_key" not in repr(client)


LOOPS = "eightbyeight_api_paging_loops_total"


def test_a_page_that_repeats_an_earlier_one_stops_the_paging(rsps, registry, sleeps) -> None:
    # An API that ignores `page` (here: totalPages 100000, the same items every time) is asked
    # once more than it has pages, not 1,000 times.
    add_token(rsps)
    url = f"{BASE}/v2/pbxes/{PBX}/sites"
    same = {
        "_embedded": {"siteList": [{"id": "s1", "name": "A"}]},
        "page": {"size": 100, "totalElements": 10_000_000, "totalPages": 100_000, "number": 0},
    }
    rsps.get(url, json=same)
    client = make_client(registry, sleeps)
    assert count(registry, LOOPS, "/v2/pbxes/{pbxId}/sites") == 0.0
    with pytest.raises(PagingLoopError, match="page 1 repeats page 0"):
        client.sites(PBX)
    assert len([c for c in rsps.calls if c.request.url.startswith(url)]) == 2
    assert count(registry, LOOPS, "/v2/pbxes/{pbxId}/sites") == 1.0


def test_distinct_pages_with_the_same_shape_are_all_read(rsps, registry, sleeps) -> None:
    add_token(rsps)
    url = f"{BASE}/v2/pbxes/{PBX}/sites"
    for page in range(3):
        body = {
            "_embedded": {"siteList": [{"id": f"s{page}", "name": "Same name"}]},
            "page": {"size": 1, "totalPages": 3, "number": page},
        }
        rsps.get(
            url,
            json=body,
            match=[responses.matchers.query_param_matcher({"page": str(page), "size": "1"})],
        )
    sites = make_client(registry, sleeps).sites(PBX, page_size=1)
    assert [s["id"] for s in sites] == ["s0", "s1", "s2"]
    assert count(registry, LOOPS, "/v2/pbxes/{pbxId}/sites") == 0.0


@pytest.mark.parametrize("ids", [["a", "a"], ["a", "b", "a"]], ids=["same", "back"])
def test_a_scroll_id_handed_out_again_stops_the_scroll(rsps, registry, sleeps, ids) -> None:
    # The guide's scroll ids move on with every page (a cursor); one handed out again would
    # send the same pages forever.
    add_token(rsps)
    url = f"{BASE}/v2/call-records"
    for number, scroll_id in enumerate(ids):
        rsps.get(url, json={"meta": {"scrollId": scroll_id}, "data": [{"callId": str(number)}]})
    client = make_client(registry, sleeps)
    pages = client.scroll("/v2/call-records", {"pbxId": "acme"}, 50)
    read = []
    with pytest.raises(PagingLoopError, match=f"scrollId repeated after {len(ids)} pages"):
        for page in pages:
            read.append(page)
    assert len(read) == len(ids)  # the pages before the repeat were handed over
    assert len([c for c in rsps.calls if c.request.url.startswith(url)]) == len(ids)
    assert count(registry, LOOPS, "/v2/call-records") == 1.0


def test_a_scroll_follows_new_ids_to_the_end_marker(rsps, registry, sleeps) -> None:
    add_token(rsps)
    url = f"{BASE}/v2/call-records"
    for scroll_id in ("a", "b", "No Data"):
        rsps.get(url, json={"meta": {"scrollId": scroll_id}, "data": [{"callId": scroll_id}]})
    pages = list(make_client(registry, sleeps).scroll("/v2/call-records", {"pbxId": "acme"}, 50))
    assert [p[0]["callId"] for p in pages] == ["a", "b", "No Data"]
    assert count(registry, LOOPS, "/v2/call-records") == 0.0
