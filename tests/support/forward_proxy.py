"""A loopback HTTP forward proxy (no CONNECT: plain http:// upstreams only) that logs every
request it relays, and a loopback JSON upstream to relay to; both on free ports."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

# Headers that belong to one connection, not to the request (RFC 9110 7.6.1).
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade")
)
UPSTREAM_TIMEOUT = 5.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.seen: list[str] = []  # request targets as received (absolute URLs for a proxy)
        self.peers: list[int] = []  # the client's port of each request: one per connection

    def log(self, target: str, peer: tuple[str, int]) -> None:
        with self.lock:
            self.seen.append(target)
            self.peers.append(peer[1])


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _relay(self) -> None:
        self.server.log(self.path, self.client_address)
        target = urlsplit(self.path)
        if target.scheme != "http" or target.hostname is None:
            self.send_error(400, "absolute http:// URL expected")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(
            target.hostname, target.port or 80, timeout=UPSTREAM_TIMEOUT
        )
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path or "/", body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length", "date", "server"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST = _relay

    def log_message(self, format: str, *args: object) -> None:
        pass


class _UpstreamHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.server.log(self.path, self.client_address)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        data = json.dumps({"path": self.path, "via": self.headers.get("Via", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class LoopbackServer:
    """`with LoopbackServer.proxy() as proxy:` (or `.upstream()`) serves on `.url` until the
    block ends; `.seen` lists the request targets it received, `.connections` counts the
    connections they came on."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _Server(handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @classmethod
    def proxy(cls) -> LoopbackServer:
        return cls(_ProxyHandler)

    @classmethod
    def upstream(cls) -> LoopbackServer:
        return cls(_UpstreamHandler)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def seen(self) -> list[str]:
        with self._server.lock:
            return list(self._server.seen)

    @property
    def connections(self) -> int:
        """How many connections the requests so far came on."""
        with self._server.lock:
            return len(set(self._server.peers))

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
