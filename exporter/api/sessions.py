"""The requests session of one API host: proxy and CA settings read from the environment once,
and a pool of kept-alive connections (exporter/api/transport.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import requests.cookies
import requests.utils
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri

from exporter.api.transport import ACCEPT_ENCODING, DEFAULT_PORTS, DirectAdapter, extract_cookies

# Connections kept alive per host. Every poller of an API shares its client, each in its own
# thread (Work Analytics has up to 12), and the ring group member poller asks with up to
# MAX_MEMBER_CONCURRENCY threads at once (exporter/config/work_analytics.py): a request that
# finds the pool empty opens a connection of its own, and one returned to a full pool is
# closed, so a pool smaller than the threads would reconnect (TLS included) again and again.
POOL_SIZE = 20
# Where a CA bundle may be named, first found wins: requests' own two (which requests reads at
# every request while `trust_env` is on), then OpenSSL's, which requests ignores (it uses
# certifi's bundle) but a container image sets for every other TLS client.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def api_session(base_url: str) -> requests.Session:
    """A session for `base_url`'s host that never looks at the environment again.

    With `trust_env` on (requests' default) every request scans the whole environment for
    proxies, matches `no_proxy` against the host, looks for `~/.netrc` and reads the CA
    variables: about 7% of a collection cycle's busy time (issue 20). The host of a client
    never changes, so the answer for it is the same every time: HTTPS_PROXY, HTTP_PROXY,
    ALL_PROXY and NO_PROXY (either case) are resolved here, once, by requests' own rules for
    that host. Changing them takes a restart (a reload keeps an unchanged client)."""
    session = SameOriginSession()
    session.trust_env = False
    # Empty when NO_PROXY covers the host; else every `*_proxy` variable by scheme.
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = next((os.environ[n] for n in CA_BUNDLE_VARIABLES if os.environ.get(n)), None)
    if bundle is not None:
        session.verify = bundle
    session.headers["Accept-Encoding"] = ACCEPT_ENCODING  # what DirectAdapter decodes
    adapter = DirectAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class SameOriginSession(requests.Session):
    """A session that follows a redirect only within its origin (scheme, host and port).

    requests drops `Authorization` on a move to another host, but keeps every other header
    (the API key's `8x8-apikey`) and, on a 307 or 308, the body (the token request's user
    name and password): a gateway, or anyone on a plain-http route, could have them sent
    anywhere, an `http://` downgrade included. No vendor document describes a redirect, so one
    that leaves the origin is not followed: its 3xx is the answer, a failed request."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None or _origin(urljoin(resp.url, target)) != _origin(resp.url):
            return None
        return target


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # a port that is no number: nowhere to follow
        return None


class LeanSender:
    """Sends one request through the session's own adapter, without what `Session.request`
    does at every request that a client of one fixed host does not need: a `Request` merged
    into a `PreparedRequest` (cookie jars copied twice, the URL parsed and its host
    IDNA-checked, every header re-validated), the environment's settings merged, hooks
    dispatched: about a tenth of a 100k cycle by the profile, a third of the client's CPU per
    request by benchmarks/http_client.py (issue 20).

    The adapter is the session's (exporter/api/transport.py's `DirectAdapter`: the pool, TLS
    verification, timeouts; requests' own `HTTPAdapter.send` for a proxy, and where
    `responses` patches it in tests); the session's proxies, CA bundle and client
    certificate are passed as `Session.send` passes them with `trust_env` off. Kept as before:
    the session's headers and cookies, a redirect followed by the session's own
    `resolve_redirects`, within the origin only (`SameOriginSession`).
    Anything unusual (a session that reads the environment, session-wide auth or params, a
    path that carries its own query or fragment) takes `Session.request` as before."""

    def __init__(self, session: requests.Session, base_url: str) -> None:
        self.session = session
        # The base as requests prepares it (scheme and host lower-cased, IDNA): a path appended
        # to it makes the URL requests would have made of the whole.
        base = requests.PreparedRequest()
        base.prepare_url(base_url, None)
        self.base_url = str(base.url).rstrip("/")
        self._base_as_given = base_url

    def _usual(self, path: str) -> bool:
        session = self.session
        return (
            not session.trust_env
            and session.auth is None
            and not session.params
            and not session.hooks.get("response")
            and "?" not in path
            and "#" not in path
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Any,
        data: Mapping[str, str] | None,
        json_body: Any,
        headers: Mapping[str, str],
        timeout: tuple[float, float],
    ) -> requests.Response:
        session = self.session
        if not self._usual(path):
            return session.request(
                method,
                self._base_as_given + path,
                params=params,
                data=data,
                json=json_body,
                headers=dict(headers),
                timeout=timeout,
                stream=True,
            )
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        query = _query(params) if params else ""
        url = self.base_url + path
        prepared.url = requote_uri(f"{url}?{query}" if query else url)
        merged: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        merged.update(cast(Mapping[str, str], session.headers))
        for header in headers.items():
            requests.utils.check_header_validity(header)
            merged[header[0]] = header[1]
        prepared.headers = merged
        if session.cookies:
            prepared.prepare_cookies(session.cookies)
        prepared.prepare_body(data or {}, None, json_body)  # as Session.request passes them
        # As Session.send passes them with trust_env off (the stubs type `verify` narrower than
        # requests takes it: a CA bundle's path is a str).
        verify: Any = session.verify
        cert, proxies = session.cert, session.proxies
        response = session.get_adapter(url).send(
            prepared, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        if "set-cookie" in response.headers:
            extract_cookies(session.cookies, prepared, response.raw)
        if response.is_redirect:
            # The cookies prepare_request would have given the request, a copy of the
            # session's (resolve_redirects adds the answer's own to them).
            jar = requests.cookies.RequestsCookieJar()
            jar.update(session.cookies)
            prepared.prepare_cookies(jar)
            hops = session.resolve_redirects(
                response,
                prepared,
                stream=True,
                timeout=timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
            history = [response, *hops]
            response = history.pop()
            response.history = history
        return response


def _query(params: Any) -> str:
    """The query string requests makes of `params` (`RequestEncodingMixin._encode_params`):
    pairs or a mapping, a list value repeats its key, None values are left out."""
    pairs: list[tuple[bytes, bytes]] = []
    items = params.items() if isinstance(params, Mapping) else params
    for key, values in items:
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            values = [values]
        for value in values:
            if value is not None:
                pairs.append((_utf8(key), _utf8(value)))
    return urlencode(pairs, doseq=True)


def _utf8(value: Any) -> Any:
    return value.encode("utf-8") if isinstance(value, str) else value
