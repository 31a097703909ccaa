"""requests' transport adapter, sending over the standard library's `http.client` where the
route is direct: the same requests on the wire for a quarter of the CPU (issue 20).

requests' own adapter hands every request to urllib3, which parses the URL again, re-encodes
its target, builds a pool key, a `Retry` and a response object of its own, which requests then
copies into a `Response`: about 270 µs of CPU a request where `http.client` alone takes about
90 (benchmarks/http_client.py), and a fifth of a 100k collection cycle, most of it in the ring
group member poller's small answers. `DirectAdapter.send` keeps a pool of `http.client`
connections per origin and makes the `Response` itself, with a body object that offers what
the HTTP client reads (`read1` with the content decoded, within a bound per call).

requests' adapter still sends whatever this one does not cover, as before: a route through a
proxy (HTTPS_PROXY and the rest, resolved once per session), a client certificate, and any
request while something has replaced requests' own transport (`responses` in the tests).
"""

from __future__ import annotations

import http.client
import os
import ssl
import threading
import zlib
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.cookies
import requests.exceptions
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers
from urllib3.connectionpool import ConnectionPool
from urllib3.util import wait_for_read

# requests' own function, untyped in its stubs: the answer's Set-Cookie headers into the jar.
extract_cookies: Callable[[Any, Any, Any], None] = requests.cookies.extract_cookies_to_jar
# requests' own transport, as imported: anything that replaces it (a test double) is obeyed.
_REQUESTS_SEND = requests.adapters.HTTPAdapter.send
DEFAULT_PORTS = {"http": 80, "https": 443}
# What the session asks for (requests' default, without brotli or zstd, which would need
# libraries this adapter does not decode with): the answer's Content-Encoding is one of these.
ACCEPT_ENCODING = "gzip, deflate"
_DECODERS = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
}


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
        if (
            proxies
            or cert
            or requests.adapters.HTTPAdapter.send is not _REQUESTS_SEND
            or not isinstance(timeout, tuple)
        ):
            return super().send(request, stream, timeout, verify, cert, proxies)
        url = request.url or ""
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in DEFAULT_PORTS or parts.hostname is None:
            return super().send(request, stream, timeout, verify, cert, proxies)
        host, port = parts.hostname, parts.port or DEFAULT_PORTS[scheme]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (scheme, host, port, verify)
        connection = self._take(key)
        if connection is None:
            connection = self._connection(scheme, host, port, verify, timeout[0])
        connection.read_timeout = timeout[1]
        if connection.sock is not None:  # kept from an earlier request
            connection.sock.settimeout(timeout[1])
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        try:
            connection.request(request.method or "GET", target, body, request.headers)
            answer = connection.getresponse()
        except TimeoutError as exc:
            connection.close()
            if connection.connected:
                raise requests.exceptions.ReadTimeout(exc, request=request) from None
            raise requests.exceptions.ConnectTimeout(exc, request=request) from None
        except ssl.SSLError as exc:
            connection.close()
            raise requests.exceptions.SSLError(exc, request=request) from None
        except (OSError, http.client.HTTPException) as exc:
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
        encoding = headers.get("Content-Encoding", "").strip().lower()
        decoder: Any
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in _DECODERS:
            decoder = _DECODERS[encoding]()
        elif encoding == "deflate":
            decoder = _Deflate()
        else:
            connection.close()
            raise requests.exceptions.ContentDecodingError(
                f"answer encoded as {encoding[:40]!r}, which was not asked for", request=request
            )
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = headers
        response.encoding = get_encoding_from_headers(headers)
        response.url = request.url or ""
        response.request = request
        response.connection = self
        keep = None if answer.will_close else (lambda: self._give_back(key, connection))
        response.raw = cast(Any, Body(answer, decoder, keep, connection.close))  # urllib3's, typed
        if "set-cookie" in headers:
            extract_cookies(response.cookies, request, response.raw)
        return response

    # --- the pool ---------------------------------------------------------------------------

    def _take(self, key: tuple[Any, ...]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            try:
                connection = idle.pop()  # the most recently used: the least likely dropped
            except IndexError:
                return None
            # A kept connection the server has closed (or written to unasked) reads as ready.
            if connection.sock is not None and not wait_for_read(connection.sock, timeout=0.0):
                return connection
            connection.close()
        return None

    def _give_back(self, key: tuple[Any, ...], connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, deque())
            if self._closed or len(idle) >= self._maxsize:
                connection.close()
            else:
                idle.append(connection)

    def _connection(
        self, scheme: str, host: str, port: int, verify: Any, connect_timeout: float
    ) -> _Connection:
        if scheme == "http":
            return _Connection(host, port, timeout=connect_timeout)
        return _TlsConnection(host, port, timeout=connect_timeout, context=self._context(verify))

    def _context(self, verify: Any) -> ssl.SSLContext:
        """requests' rules: True is certifi's bundle, a path a bundle file or a directory of
        certificates, False no verification at all."""
        context = self._contexts.get(verify)
        if context is None:
            if verify is False:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                where = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
                if os.path.isdir(where):
                    context = ssl.create_default_context(capath=where)
                else:
                    context = ssl.create_default_context(cafile=where)
            self._contexts[verify] = context
        return context

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
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


class _Deflate:
    """`deflate` as servers send it: a zlib stream, or (against RFC 9110) a raw one."""

    def __init__(self) -> None:
        self._first = True
        self._inner = zlib.decompressobj()
        self._started = b""

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        if not self._first:
            return self._inner.decompress(data, max_length)
        self._started += data
        try:
            out = self._inner.decompress(self._started, max_length)
        except zlib.error:
            self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inner.decompress(self._started, max_length)
        self._first = False
        self._started = b""
        return out

    def flush(self) -> bytes:
        return self._inner.flush()


class Body:
    """The answer's body as requests' `Response.raw` offers it to the HTTP client: `read1`
    (whatever the socket has, decoded, at most `amt` bytes of it), `read`, `stream`, `close`.
    A body read to its end gives its connection back to the pool; one closed before that
    closes its connection (what is left of the answer would be read as the next one's)."""

    def __init__(
        self,
        answer: http.client.HTTPResponse,
        decoder: Any,
        give_back: Any,
        drop: Any,
    ) -> None:
        self._original_response = answer  # what requests reads cookies from
        self._answer = answer
        self._decoder = decoder
        self._give_back = give_back
        self._drop = drop
        self._done = False

    def read1(self, amt: int = 65536, decode_content: bool = True) -> bytes:
        amt = amt if amt and amt > 0 else 65536
        decoder = self._decoder if decode_content else None
        while not self._done:
            out: bytes
            if decoder is not None and decoder.unconsumed_tail:
                out = decoder.decompress(decoder.unconsumed_tail, amt)
                if out:
                    return out
            try:
                data = self._answer.read1(amt)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.close()
                raise urllib3.exceptions.ProtocolError("connection broken", exc) from None
            if not data:
                if self._answer.length:  # http.client takes an early end for the end
                    self.close()
                    raise urllib3.exceptions.ProtocolError(
                        "connection broken", f"{self._answer.length} bytes short"
                    )
                self._finish()
                out = decoder.flush() if decoder is not None else b""
                return out
            if decoder is None:
                return data
            try:
                out = decoder.decompress(data, amt)
            except zlib.error as exc:
                self.close()
                raise urllib3.exceptions.DecodeError("content not decodable", exc) from None
            if out:
                return out
        return b""

    def read(self, amt: int | None = None, decode_content: bool = True) -> bytes:
        if amt is not None:
            return self.read1(amt, decode_content)
        pieces = []
        while piece := self.read1(65536, decode_content):
            pieces.append(piece)
        return b"".join(pieces)

    def stream(self, amt: int = 65536, decode_content: bool = True) -> Generator[bytes, None, None]:
        while piece := self.read1(amt, decode_content):
            yield piece

    def _finish(self) -> None:
        self._done = True
        self._answer.close()
        if self._give_back is not None:
            give_back, self._give_back = self._give_back, None
            give_back()
        else:
            self._drop()

    def release_conn(self) -> None:
        """requests calls it after a redirect's body was read: nothing left to do then."""

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._give_back = None
            self._answer.close()
            self._drop()
