"""The HTTP client reads the proxy and CA settings of the environment once, at construction:
HTTP_PROXY and NO_PROXY still decide the route (through a loopback forward proxy, or around
it), the CA variables still name the bundle, and later changes of them are not looked at."""

from __future__ import annotations

import os

import pytest
import requests

from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.sessions import CA_BUNDLE_VARIABLES, POOL_SIZE, api_session
from exporter.config.work_analytics import MAX_MEMBER_CONCURRENCY
from tests.support.forward_proxy import LoopbackServer

# Every Work Analytics poller thread at once: the pool must not be smaller.
WORK_ANALYTICS_POLLERS = 12


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA variable of the machine running the tests."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in CA_BUNDLE_VARIABLES:
            monkeypatch.delenv(name)


def client(base_url: str) -> HttpClient:
    return HttpClient("work_analytics", base_url, HttpSettings(max_attempts=1), RequestStats())


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_requests_go_through_the_proxy_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    with LoopbackServer.upstream() as upstream, LoopbackServer.proxy() as proxy:
        monkeypatch.setenv(variable, proxy.url)
        http = client(upstream.url)
        try:
            body = http.request("GET", "/v1/thing", "/v1/thing", params={"a": "1"})
            http.request("GET", "/v1/thing", "/v1/thing", params={"a": "2"})
        finally:
            http.close()
    assert body["path"] == "/v1/thing?a=1"
    # The proxy was asked with absolute URLs, and relayed both to the upstream.
    assert proxy.seen == [f"{upstream.url}/v1/thing?a=1", f"{upstream.url}/v1/thing?a=2"]
    assert upstream.seen == ["/v1/thing?a=1", "/v1/thing?a=2"]


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "127.0.0.0/8"])
def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch, no_proxy: str) -> None:
    with LoopbackServer.upstream() as upstream, LoopbackServer.proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        http = client(upstream.url)
        try:
            body = http.request("GET", "/v1/thing", "/v1/thing")
        finally:
            http.close()
    assert body["path"] == "/v1/thing"
    assert proxy.seen == []
    assert upstream.seen == ["/v1/thing"]


def test_the_environment_is_read_once_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at every request (requests' trust_env did: ~7% of a cycle's busy time)."""
    with LoopbackServer.upstream() as upstream, LoopbackServer.proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        through = client(upstream.url)
        monkeypatch.delenv("HTTP_PROXY")
        direct = client(upstream.url)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        try:
            through.request("GET", "/a", "/a")
            direct.request("GET", "/b", "/b")
        finally:
            through.close()
            direct.close()
    assert proxy.seen == [f"{upstream.url}/a"]
    assert upstream.seen == ["/a", "/b"]


@pytest.mark.parametrize(
    ("variables", "verify"),
    [
        ({}, True),
        ({"SSL_CERT_FILE": "/etc/ssl/openssl.pem"}, "/etc/ssl/openssl.pem"),
        ({"CURL_CA_BUNDLE": "/c.pem", "SSL_CERT_FILE": "/s.pem"}, "/c.pem"),
        ({"REQUESTS_CA_BUNDLE": "/r.pem", "CURL_CA_BUNDLE": "/c.pem"}, "/r.pem"),
        ({"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "/s.pem"}, "/s.pem"),
    ],
)
def test_the_ca_bundle_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], verify: bool | str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    session = api_session("https://api.8x8.com/analytics/work")
    assert session.verify == verify
    assert session.trust_env is False


def test_one_pool_of_kept_connections_covers_every_thread_of_an_api() -> None:
    session = api_session("https://api.8x8.com/analytics/work")
    adapter = session.get_adapter("https://api.8x8.com/analytics/work/v2/pbxes/")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == POOL_SIZE
    assert POOL_SIZE >= WORK_ANALYTICS_POLLERS + MAX_MEMBER_CONCURRENCY - 1


def test_connections_are_kept_alive_between_requests() -> None:
    with LoopbackServer.upstream() as upstream:
        http = client(upstream.url)
        try:
            for n in range(3):
                http.request("GET", "/n", f"/n/{n}")
        finally:
            http.close()
    assert len(upstream.seen) == 3
    assert upstream.connections == 1
