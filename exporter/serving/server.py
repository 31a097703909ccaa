"""The exporter's HTTP server: /metrics, a landing page, /-/healthy and /-/ready.

With `--web.config.file` (exporter/serving/web_config.py) the same server speaks TLS, asks for basic
auth on every path and adds the configured response headers; without one it is plain HTTP.
"""

from __future__ import annotations

import html
import json
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from prometheus_client.exposition import choose_encoder

from exporter import __version__
from exporter.core.logs import get_logger
from exporter.metrics.rendering import coalesce
from exporter.pollers.base import Scheduler
from exporter.serving.exposition import Exposition
from exporter.serving.web_config import WebConfigWatcher, WebState, client_san_allowed, ssl_reason

log = get_logger(__name__)


def parse_listen_address(address: str) -> tuple[str, int]:
    """`host:port`, `:port` or `[::1]:port` to (host, port); empty host means every interface."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port")
    host = host.strip("[]")
    return host, int(port)


def _landing_page(collectors: list[str]) -> bytes:
    items = "".join(f"<li>{html.escape(c)}</li>" for c in collectors)
    return f"""<!DOCTYPE html>
<html><head><title>8x8 Exporter</title></head>
<body>
<h1>8x8 Exporter</h1>
<p>Prometheus exporter for 8x8 Work Analytics and Contact Center analytics, version {__version__}.</p>
<ul>
<li><a href="metrics">Metrics</a></li>
<li><a href="-/healthy">Health</a></li>
<li><a href="-/ready">Readiness</a></li>
</ul>
<h2>Collectors</h2><ul>{items}</ul>
</body></html>
""".encode()


class Served(Protocol):
    """What the server serves: read on every request, so a config reload can swap them."""

    @property
    def exposition(self) -> Exposition: ...

    @property
    def scheduler(self) -> Scheduler: ...


def accepts_gzip(header: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (`gzip;q=0` refuses it)."""
    for item in (header or "").split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            q = params.strip().lower()
            return not (q.startswith("q=") and _quality(q[2:]) == 0.0)
    return False


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


READ_ONLY_PATHS = ("/", "/metrics", "/-/healthy", "/-/ready")
# `POST /-/reload`: (reloaded, message); the running config stays when the new one is invalid.
Reload = Callable[[], tuple[bool, str]]


class ExporterServer:
    """A threading HTTP server bound to the listen address; `start()` serves in the background.

    `web_config` (the exporter-toolkit's file, loaded) turns on TLS, basic auth and extra
    headers.
    """

    def __init__(
        self,
        served: Served,
        address: str,
        *,
        on_reload: Reload | None = None,
        web_config: WebConfigWatcher | None = None,
    ) -> None:
        host, port = parse_listen_address(address)
        self.web_config = web_config
        handler = _make_handler(served, on_reload, self.web_config)
        server_class = type(
            "ExporterHTTPServer",
            (_HTTPServer,),
            {
                "address_family": _family(host),
                "daemon_threads": True,
                "web_config": self.web_config,
            },
        )
        self.httpd = server_class((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def scheme(self) -> str:
        """`https` when the web config has TLS: for the start-up log and scrape configs."""
        return "https" if self.web_config is not None and self.web_config.tls else "http"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="http-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# A TLS client that stalls in the handshake holds a thread at most this long.
HANDSHAKE_TIMEOUT = 10.0
_TLS_HANDSHAKE_RECORD = b"\x16"
_PLAIN_HTTP_ANSWER = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\n"
    b"Client sent an HTTP request to an HTTPS server.\n"
)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that, with TLS on, does the handshake in the connection's thread.

    The accept loop never touches TLS: a slow or broken handshake (a port scanner, plain HTTP
    sent to the TLS port, a client with the wrong certificate) costs only its own thread,
    is logged at debug, and the server keeps accepting.
    """

    web_config: WebConfigWatcher | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.web_config is None or not self.web_config.tls:
            super().finish_request(request, client_address)
            return
        # The context of this moment: a rotated certificate is used from the next connection.
        state = self.web_config.current()
        assert state.ssl_context is not None and state.config.tls is not None  # TLS stays on
        conn = _tls_accept(
            request, client_address, state.ssl_context, state.config.tls.client_allowed_sans
        )
        if conn is None:
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.shutdown_request(conn)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-answer is not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], OSError):
            log.debug(
                "http_connection_failed",
                client=_client(client_address),
                error=str(sys.exc_info()[1]),
            )
            return
        super().handle_error(request, client_address)


def _client(client_address: Any) -> str:
    return str(client_address[0]) if client_address else "?"


def _tls_accept(
    sock: socket.socket, client_address: Any, context: ssl.SSLContext, allowed_sans: tuple[str, ...]
) -> ssl.SSLSocket | None:
    """The TLS side of an accepted connection, or None when it was dropped (and logged)."""
    conn: ssl.SSLSocket | None = None
    try:
        sock.settimeout(HANDSHAKE_TIMEOUT)
        first = sock.recv(1, socket.MSG_PEEK)
        if not first:
            raise ConnectionAbortedError("closed before the TLS handshake")
        if first != _TLS_HANDSHAKE_RECORD:
            if first.isalpha():
                # Plain HTTP to the TLS port: say so, as Go's server does, then hang up.
                sock.recv(65536)
                sock.sendall(_PLAIN_HTTP_ANSWER)
            raise ConnectionAbortedError("not a TLS handshake (plain HTTP to the TLS port?)")
        conn = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        conn.do_handshake()
        if allowed_sans and not client_san_allowed(conn.getpeercert(), allowed_sans):
            raise ConnectionRefusedError("client certificate has none of client_allowed_sans")
        conn.settimeout(None)
        return conn
    except (OSError, ValueError) as exc:  # ssl.SSLError, timeouts and resets are OSErrors
        log.debug("tls_handshake_failed", client=_client(client_address), error=ssl_reason(exc))
        if conn is not None:
            conn.close()
        return None


AUTH_REALM = "eightbyeight-exporter"


def _make_handler(
    served: Served, on_reload: Reload | None, web: WebConfigWatcher | None = None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"eightbyeight-exporter/{__version__}"
        protocol_version = "HTTP/1.1"
        # A page goes out in several writes: no write may wait for the ACK of the one before.
        disable_nagle_algorithm = True
        _web_state: WebState | None = None

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http_request", client=self.client_address[0], request=self.requestline)

        def parse_request(self) -> bool:
            # Every method and path goes through here, so the rate limit and basic auth
            # cannot be forgotten on a new endpoint; the snapshot also fixes which headers
            # this request's answer (even a 400 from the parser) carries.
            self._web_state = web.current() if web is not None else None
            if not super().parse_request():
                return False
            state = self._web_state
            if state is None:
                return True
            if state.rate_limiter is not None and not state.rate_limiter.allow():
                self._refuse(429, b"429 too many requests\n", {})
                return False
            if state.authenticator is None:
                return True
            result = state.authenticator.check(self.headers.get("Authorization"))
            if result.ok:
                return True
            # The username is the only part of the credentials ever logged (and cut short:
            # it is whatever the client sent).
            username = None if result.username is None else result.username[:128]
            if result.reason == "missing":
                log.debug(
                    "http_auth_failed",
                    client=self.client_address[0],
                    username=None,
                    reason=result.reason,
                )
            else:
                log.warning(
                    "http_auth_failed",
                    client=self.client_address[0],
                    username=username,
                    reason=result.reason,
                )
            self._refuse(
                401, b"401 Unauthorized\n", {"WWW-Authenticate": f'Basic realm="{AUTH_REALM}"'}
            )
            return False

        def _refuse(self, status: int, body: bytes, extra: dict[str, str]) -> None:
            # Read a small body so the connection stays usable (a browser retries on it after
            # the 401); anything bigger or chunked is not worth reading for a refusal.
            length = self.headers.get("Content-Length") or "0"
            if self.headers.get("Transfer-Encoding") or not length.isdigit() or int(length) > 65536:
                self.close_connection = True
            elif int(length) > 0:
                self.rfile.read(int(length))
            self._send(status, body, "text/plain; charset=utf-8", extra)

        def send_response(self, code: int, message: str | None = None) -> None:
            super().send_response(code, message)
            state = self._web_state
            if state is not None:
                for key, value in state.config.http.headers.items():
                    self.send_header(key, value)

        def _send(
            self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            if 0 < length <= 65536:
                self.rfile.read(length)  # the body means nothing; read it to keep the connection
            if path != "/-/reload":
                if path in READ_ONLY_PATHS:
                    self._send(
                        405,
                        b"method not allowed\n",
                        "text/plain; charset=utf-8",
                        {"Allow": "GET, HEAD"},
                    )
                else:
                    self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
                return
            if on_reload is None:
                self._send(404, b"reloading is not enabled\n", "text/plain; charset=utf-8")
                return
            ok, message = on_reload()
            self._send(200 if ok else 500, (message + "\n").encode(), "text/plain; charset=utf-8")

        def do_GET(self) -> None:
            scheduler = served.scheduler
            path = self.path.split("?", 1)[0]
            if path == "/-/reload":
                self._send(
                    405, b"use POST to reload\n", "text/plain; charset=utf-8", {"Allow": "POST"}
                )
            elif path == "/metrics":
                self._metrics()
            elif path == "/":
                self._send(
                    200,
                    _landing_page([r.name for r in scheduler.runners]),
                    "text/html; charset=utf-8",
                )
            elif path == "/-/healthy":
                stuck = scheduler.stuck()
                body = json.dumps(
                    {"status": "stuck" if stuck else "healthy", "stuck_collectors": stuck}
                ).encode()
                self._send(503 if stuck else 200, body, "application/json")
            elif path == "/-/ready":
                pending = [r.name for r in scheduler.runners if not r.first_run_done.is_set()]
                body = json.dumps(
                    {"status": "not ready" if pending else "ready", "pending_collectors": pending}
                ).encode()
                self._send(503 if pending else 200, body, "application/json")
            else:
                self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

        def _metrics(self) -> None:
            # prometheus-client's negotiation, for the content type it would answer; the bytes
            # come from the exposition's cache: a scrape renders none of the collectors' data.
            _, content_type = choose_encoder(self.headers.get("Accept") or "")
            openmetrics = content_type.startswith("application/openmetrics-text")
            gzip = accepts_gzip(self.headers.get("Accept-Encoding"))
            try:
                pieces = served.exposition.answer(openmetrics=openmetrics, gzip=gzip)
            except Exception:
                log.exception("metrics_render_failed")
                self._send(500, b"error rendering metrics\n", "text/plain; charset=utf-8")
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(sum(len(piece) for piece in pieces)))
            self.send_header("Vary", "Accept, Accept-Encoding")
            if gzip:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            if self.command != "HEAD":
                for piece in coalesce(pieces):
                    self.wfile.write(piece)

    return Handler
