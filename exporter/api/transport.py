"""requests' transport adapter, sending over the standard library's `http.client` where the
route is direct: the same requests on the wire, the client's CPU per request 205 µs instead of
326 (issue 20).

requests' own adapter hands every request to urllib3, which parses the URL again, re-encodes
its target, builds a pool key, a `Retry` and a response object of its own, which requests then
copies into a `Response`: about 270 µs of CPU a request where `http.client` alone takes about
90 (benchmarks/http_client.py), and a fifth of a 100k collection cycle, most of it in the ring
group member poller's small answers. `DirectAdapter.send` keeps a pool of `http.client`
connections per origin and makes the `Response` itself, with a body object that offers what
the HTTP client reads (exporter/api/answer_body.py: `read1` with the content decoded, within a
bound per call).

requests' adapter still sends whatever this one does not cover, as before: a route through a
proxy (HTTPS_PROXY and the rest, resolved once per session; NO_PROXY alone is none), a client
certificate, a body that is a stream (sent chunked), and any request while something has
replaced requests' own transport (`responses` in the tests).
"""

from __future__ import annotations

import http.client
import os
import ssl
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.cookies
import requests.exceptions
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers, select_proxy
from urllib3.connectionpool import ConnectionPool
from urllib3.util import wait_for_read

from exporter.api.answer_body import Body, decoder_for

# requests' own function, untyped in its stubs: the answer's Set-Cookie headers into the jar.
extract_cookies: Callable[[Any, Any, Any], None] = requests.cookies.extract_cookies_to_jar
# requests' own transport, as imported: anything that replaces it (a test double) is obeyed.
_REQUESTS_SEND = requests.adapters.HTTPAdapter.send
DEFAULT_PORTS = {"http": 80, "https": 443}
# TLS contexts kept: one per CA bundle's version; more means a bundle rewritten again and again.
MAX_CONTEXTS = 8
# What the session asks for (requests' default, without brotli or zstd, which would need
# libraries this adapter does not decode with): the answer's Content-Encoding is one of these.
ACCEPT_ENCODING = "gzip, deflate"


class PoolKeepingAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, remembering the connection pool of each origin, TLS settings and
    proxies: requests works it out again at every request (the URL parsed, a CA bundle's path
    stat'ed, the pool key built and looked up under the pool manager's lock), about 3% of a
    100k cycle for an answer that never changes for a client of one host. A pool the manager
    has closed since (evicted, or the adapter closed) is looked up again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pools: dict[tuple[Any, ...], ConnectionPool] = {}

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> ConnectionPool:
        parts = urlsplit(request.url or "")
        key = (
            parts.scheme.lower(),
            parts.netloc.lower(),
            verify,
            cert,
            tuple(sorted(proxies.items())) if proxies else (),
        )
        pool = self._pools.get(key)
        if pool is None or getattr(pool, "pool", None) is None:  # None once closed
            pool = self._pools[key] = super().get_connection_with_tls_context(
                request, verify, proxies=proxies, cert=cert
            )
        return pool

    def close(self) -> None:
        self._pools.clear()
        super().close()


class DirectAdapter(PoolKeepingAdapter):
    """A requests adapter: direct routes over pooled `http.client` connections, the rest
    through requests' own `HTTPAdapter.send`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._maxsize = kwargs.get("pool_maxsize", requests.adapters.DEFAULT_POOLSIZE)
        self._idle: dict[tuple[Any, ...], deque[_Connection]] = {}
        self._contexts: dict[Any, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        body = request.body
        if (
            cert
            or requests.adapters.HTTPAdapter.send is not _REQUESTS_SEND
            or not isinstance(timeout, tuple)
            or not (body is None or isinstance(body, bytes | str))  # a stream: chunked
            or (proxies and select_proxy(url, proxies))  # NO_PROXY alone is no proxy
        ):
            return super().send(request, stream, timeout, verify, cert, proxies)
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in DEFAULT_PORTS or parts.hostname is None:
            return super().send(request, stream, timeout, verify, cert, proxies)
        host, port = parts.hostname, parts.port or DEFAULT_PORTS[scheme]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (scheme, host, port, verify)
        if isinstance(body, str):
            body = body.encode("utf-8")
        connection = self._take(key)
        try:
            if connection is None:
                connection = self._connection(scheme, host, port, verify, timeout[0])
            connection.read_timeout = timeout[1]
            if connection.sock is not None:  # kept from an earlier request
                connection.sock.settimeout(timeout[1])
            connection.request(request.method or "GET", target, body, request.headers)
            answer = connection.getresponse()
        except TimeoutError as exc:
            if connection is None:
                raise requests.exceptions.ConnectTimeout(exc, request=request) from None
            connection.close()
            if connection.connected:
                raise requests.exceptions.ReadTimeout(exc, request=request) from None
            raise requests.exceptions.ConnectTimeout(exc, request=request) from None
        except ssl.SSLError as exc:  # a bad CA bundle too, when the context is made
            if connection is not None:
                connection.close()
            raise requests.exceptions.SSLError(exc, request=request) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if connection is not None:
                connection.close()
            raise requests.exceptions.ConnectionError(exc, request=request) from None
        return self._response(request, answer, connection, key)

    def _response(
        self,
        request: requests.PreparedRequest,
        answer: http.client.HTTPResponse,
        connection: _Connection,
        key: tuple[Any, ...],
    ) -> requests.Response:
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in answer.getheaders():
            known = headers.get(name)
            headers[name] = value if known is None else f"{known}, {value}"
        # An encoding not asked for is passed on as it came, as urllib3 does: an error's status
        # still counts, and a JSON answer fails as malformed.
        decoder = decoder_for(headers.get("Content-Encoding", ""))
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = headers
        response.encoding = get_encoding_from_headers(headers)
        response.url = request.url or ""
        response.request = request
        response.connection = self
        keep = None if answer.will_close else (lambda: self._give_back(key, connection))
        response.raw = cast(Any, Body(answer, decoder, keep, connection.close))  # typed urllib3's
        if "set-cookie" in headers:
            extract_cookies(response.cookies, request, response.raw)
        return response

    # --- the pool ---------------------------------------------------------------------------

    def _take(self, key: tuple[Any, ...]) -> _Connection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                connection = idle.pop()  # the most recently used: the least likely dropped
            # A kept connection the server has closed (or written to unasked) reads as ready.
            if connection.sock is not None and not wait_for_read(connection.sock, timeout=0.0):
                return connection
            connection.close()

    def _give_back(self, key: tuple[Any, ...], connection: _Connection) -> None:
        with self._lock:
            idle = None if self._closed else self._idle.setdefault(key, deque())
            if idle is not None and len(idle) < self._maxsize:
                idle.append(connection)
                return
        connection.close()  # after a close() of the adapter, or beyond the pool's size

    def _connection(
        self, scheme: str, host: str, port: int, verify: Any, connect_timeout: float
    ) -> _Connection:
        if scheme == "http":
            return _Connection(host, port, timeout=connect_timeout)
        return _TlsConnection(host, port, timeout=connect_timeout, context=self._context(verify))

    def _context(self, verify: Any) -> ssl.SSLContext:
        """requests' rules: True is certifi's bundle, a path a bundle file or a directory of
        certificates, False no verification at all. Made once per version of the bundle (its
        modification time and size): a bundle rotated in place is read at the next new
        connection, as urllib3 reads it."""
        if verify is False:
            key: Any = False
        else:
            where = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
            found = os.stat(where)
            key = (where, found.st_mtime_ns, found.st_size)
        context = self._contexts.get(key)
        if context is None:
            if verify is False:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif os.path.isdir(where):
                context = ssl.create_default_context(capath=where)
            else:
                context = ssl.create_default_context(cafile=where)
            with self._lock:
                if len(self._contexts) >= MAX_CONTEXTS:  # versions of a bundle rotated often
                    self._contexts.clear()
                self._contexts[key] = context
        return context

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle = {}
        for connection in idle:
            connection.close()
        super().close()


class _Connection(http.client.HTTPConnection):
    """Connects (TLS handshake included) within the connect timeout, then reads within the
    read timeout."""

    read_timeout: float | None = None
    connected = False

    def connect(self) -> None:
        super().connect()
        self.connected = True
        if self.sock is not None:
            self.sock.settimeout(self.read_timeout)


class _TlsConnection(_Connection, http.client.HTTPSConnection):
    pass
