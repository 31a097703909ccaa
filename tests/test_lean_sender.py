"""The API client's requests, prepared without `Session.request`: the same URL, headers and
body as requests makes, redirects and cookies handled as before."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import responses

from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.sessions import LeanSender, api_session
from exporter.api.transport import PoolKeepingAdapter
from exporter.core.errors import ApiError

BASE = "https://API.Example.test:8443/analytics/work"
NORMAL_BASE = "https://api.example.test:8443/analytics/work"


def client(base: str = BASE) -> HttpClient:
    return HttpClient("work_analytics", base, HttpSettings(max_attempts=1), RequestStats())


def what_requests_prepares(
    session: requests.Session, method: str, url: str, **parts: Any
) -> requests.PreparedRequest:
    """What Session.request would have sent (its own `prepare_request`)."""
    parts["data"] = parts.get("data") or {}
    return session.prepare_request(requests.Request(method.upper(), url, **parts))


def recorded(
    sent: list[requests.PreparedRequest], request: requests.PreparedRequest
) -> tuple[int, dict[str, str], str]:
    sent.append(request)
    return 200, {}, "{}"


QUERIES: list[Any] = [
    None,
    {},
    {"pageSize": 100, "filter": "a b&c=d/é", "none": None},
    [("page", "1"), ("size", "2"), ("page", "3")],
    {"ids": ["x", "y z"], "n": 1.5},
    {"q": "%41 already ~quoted_-."},
]


@pytest.mark.parametrize("params", QUERIES)
@pytest.mark.parametrize("path", ["/v2/pbxes/", "/v2/pbxes/a b/calls", "/v1/ü%2F"])
def test_the_request_is_the_one_requests_prepares(
    rsps: responses.RequestsMock, path: str, params: Any
) -> None:
    session = api_session(BASE)
    session.headers["User-Agent"] = "test"
    sent: list[requests.PreparedRequest] = []
    rsps.add_callback(
        "GET",
        re.compile(".*"),
        callback=lambda request: recorded(sent, request),
    )
    headers = {"Authorization": "Bearer t0ken"}
    sender = LeanSender(session, BASE)
    sender.send(
        "get", path, params=params, data=None, json_body=None, headers=headers, timeout=(1, 2)
    ).close()
    expected = what_requests_prepares(
        session, "get", BASE + path, params=params or {}, headers=headers
    )
    (request,) = sent
    assert request.url == expected.url
    assert request.method == expected.method
    assert dict(request.headers) == dict(expected.headers)
    assert request.body == expected.body


@pytest.mark.parametrize(
    ("data", "json_body"), [({"grant_type": "password", "p": "a&b"}, None), (None, {"a": [1]})]
)
def test_a_body_is_the_one_requests_prepares(
    rsps: responses.RequestsMock, data: Any, json_body: Any
) -> None:
    session = api_session(BASE)
    sent: list[requests.PreparedRequest] = []
    rsps.add_callback(
        "POST",
        NORMAL_BASE + "/token",
        callback=lambda request: recorded(sent, request),
    )
    LeanSender(session, BASE).send(
        "POST", "/token", params=None, data=data, json_body=json_body, headers={}, timeout=(1, 2)
    ).close()
    expected = what_requests_prepares(session, "POST", BASE + "/token", data=data, json=json_body)
    (request,) = sent
    assert (request.url, request.body) == (expected.url, expected.body)
    assert dict(request.headers) == dict(expected.headers)


def test_a_redirect_is_followed_as_requests_follows_it(rsps: responses.RequestsMock) -> None:
    rsps.get(
        NORMAL_BASE + "/v2/pbxes/",
        status=302,
        headers={"Location": NORMAL_BASE + "/v2/moved/"},
    )
    moved = rsps.get(NORMAL_BASE + "/v2/moved/", json={"moved": True})
    headers = lambda: {"Authorization": "Bearer t0ken"}  # noqa: E731
    assert client().request("GET", "/v2/pbxes/", "/v2/pbxes/", headers=headers) == {"moved": True}
    # Same host: the token goes along, as requests sends it.
    assert moved.calls[0].request.headers["Authorization"] == "Bearer t0ken"


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("https://elsewhere.example.test/v2/pbxes/", "https://elsewhere.example.test"),
        ("//elsewhere.example.test/v2/pbxes/", "https://elsewhere.example.test"),  # no scheme
        (NORMAL_BASE.replace("https://", "http://") + "/v2/pbxes/", "http://api.example.test"),
        ("https://api.example.test/v2/pbxes/", "https://api.example.test"),  # 443, not 8443
    ],
)
def test_a_redirect_out_of_the_origin_is_not_followed(
    rsps: responses.RequestsMock, location: str, target: str
) -> None:
    """requests drops only `Authorization` on a move to another host: the API key's header,
    and a 307's body (the token request's password), would go wherever `Location` says."""
    rsps.get(NORMAL_BASE + "/v2/pbxes/", status=307, headers={"Location": location})
    headers = lambda: {"Authorization": "Bearer t0ken", "8x8-apikey": "k3y"}  # noqa: E731
    with pytest.raises(ApiError, match="another origin: not followed") as failed:
        client().request("GET", "/v2/pbxes/", "/v2/pbxes/", headers=headers)
    assert failed.value.status == 307
    assert f"redirected to {target}, another origin" in str(failed.value)
    assert len(rsps.calls) == 1  # nothing sent to the Location


def test_a_cookie_the_api_sets_goes_back_with_the_next_request(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(NORMAL_BASE + "/a", json={}, headers={"Set-Cookie": "AWSALB=sticky; Path=/"})
    second = rsps.get(NORMAL_BASE + "/b", json={})
    api = client()
    api.request("GET", "/a", "/a")
    api.request("GET", "/b", "/b")
    assert second.calls[0].request.headers["Cookie"] == "AWSALB=sticky"


def test_a_session_that_reads_the_environment_takes_session_request(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = requests.Session()  # trust_env on: requests' own path, as before
    used: list[str] = []
    original = session.request

    def spy(*args: Any, **kwargs: Any) -> requests.Response:
        used.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(session, "request", spy)
    rsps.get(NORMAL_BASE + "/a", json={})
    api = HttpClient("x", BASE, HttpSettings(max_attempts=1), RequestStats(), session=session)
    api.request("GET", "/a", "/a")
    assert used == [BASE + "/a"]


def test_the_adapter_works_out_a_pool_once_per_origin_and_again_once_it_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = api_session(BASE)
    adapter = session.get_adapter(NORMAL_BASE)
    assert isinstance(adapter, PoolKeepingAdapter)
    looked_up: list[str | None] = []
    real = requests.adapters.HTTPAdapter.get_connection_with_tls_context

    def counting(self: Any, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(request.url)
        return real(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "get_connection_with_tls_context", counting)

    def pool(url: str, verify: Any = True, proxies: dict[str, str] | None = None) -> Any:
        request = requests.PreparedRequest()
        request.prepare_url(url, None)
        return adapter.get_connection_with_tls_context(request, verify, proxies=proxies)

    first = pool(NORMAL_BASE + "/v2/pbxes")
    assert pool(NORMAL_BASE + "/v2/call-queues?x=1") is first
    assert len(looked_up) == 1
    # Another host, other TLS settings or proxies: a pool of its own, each looked up once.
    other = pool("https://other.example.test/v1")
    unverified = pool(NORMAL_BASE + "/v2/pbxes", verify=False)
    proxied = pool(NORMAL_BASE + "/v2/pbxes", proxies={"https": "http://127.0.0.1:3128"})
    assert len({id(p) for p in (first, other, unverified, proxied)}) == 4
    assert len(looked_up) == 4
    # After the adapter is closed, or a pool (a closed pool would refuse every request), the
    # pool is looked up again.
    adapter.close()
    reopened = pool(NORMAL_BASE + "/v2/pbxes")
    assert reopened.pool is not None and len(looked_up) == 5
    reopened.close()
    pool(NORMAL_BASE + "/v2/pbxes")  # whatever the manager answers now, as requests would
    assert len(looked_up) == 6
