"""The exporter's HTTP server: /metrics, the status page, /-/healthy and /-/ready.

With `--web.config.file` (exporter/serving/webconfig/) the same server speaks TLS, asks for basic
auth on every path and adds the configured response headers; without one it is plain HTTP.
The requests themselves are answered by exporter/serving/handler.py; the limits that keep it
alive against hostile clients (backlog, deadlines, the connection cap, accept backoff) are in
exporter/serving/connections.py.

Why the standard library's server and not waitress or cheroot (measured in docs/performance.md):
waitress has no TLS, and cheroot does the TLS handshake on its accept thread (one stalled client
stops every new connection: cherrypy/cheroot#748) and answers its own errors without the web
config's headers; both serve the cached bytes no faster.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from exporter.core.logs import get_logger
from exporter.serving.connections import (
    AcceptBackoff,
    Connection,
    ConnectionTable,
    RefusalLog,
    ServerLimits,
)
from exporter.serving.handler import (
    ExporterRequestHandler,
    HandlerContext,
    Reload,
    Served,
    accepts_gzip,
)
from exporter.serving.status import StatusFacts
from exporter.serving.status_page import StatusPage
from exporter.serving.webconfig import WebConfigWatcher, client_san_allowed, ssl_reason

# accepts_gzip: imported from here by code that predates the handler's own module.
__all__ = [
    "HANDSHAKE_TIMEOUT",
    "ExporterServer",
    "ServerLimits",
    "accepts_gzip",
    "parse_listen_address",
]

log = get_logger(__name__)


def parse_listen_address(address: str) -> tuple[str, int]:
    """`host:port`, `:port` or `[::1]:port` to (host, port); empty host means every interface."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port")
    host = host.strip("[]")
    return host, int(port)


class ExporterServer:
    """A threading HTTP server bound to the listen address; `start()` serves in the background.

    `web_config` (the exporter-toolkit's file, loaded) turns on TLS, basic auth and extra
    headers. `status_facts`: what the status page shows beyond the runners (budgets, config).
    """

    def __init__(
        self,
        served: Served,
        address: str,
        *,
        on_reload: Reload | None = None,
        web_config: WebConfigWatcher | None = None,
        enable_lifecycle: bool = False,
        limits: ServerLimits = ServerLimits(),
        telemetry_path: str = "/metrics",
        status_facts: StatusFacts | None = None,
    ) -> None:
        host, port = parse_listen_address(address)
        self.web_config = web_config
        self.status_page = StatusPage(telemetry_path, status_facts)
        context = HandlerContext(
            served,
            on_reload,
            web_config,
            enable_lifecycle,
            limits,
            telemetry_path,
            self.status_page,
        )
        handler = partial(ExporterRequestHandler, context)
        self.httpd = _HTTPServer((host, port), handler, _family(host), web_config, limits)
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
        # shutdown() waits for serve_forever() to end: forever when it never started (a
        # start-up that failed after the early bind).
        if self._thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.connections.close_all()
        if self._thread:
            self._thread.join(5)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# A TLS client that stalls in the handshake holds a thread at most this long (the default of
# ServerLimits.handshake_timeout).
HANDSHAKE_TIMEOUT = ServerLimits().handshake_timeout
_TLS_HANDSHAKE_RECORD = b"\x16"
_PLAIN_HTTP_ANSWER = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\n\r\n"
    b"Client sent an HTTP request to an HTTPS server.\n"
)
# Sent, without waiting, to a connection over the cap when every open one is busy answering.
_BUSY_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 25\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    b"too many open connections"
)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a backlog, a connection cap, accept backoff and, with TLS on,
    the handshake in the connection's own thread.

    The accept loop never touches TLS nor waits on a client: a slow or broken handshake (a port
    scanner, plain HTTP sent to the TLS port, a client with the wrong certificate) costs only
    its own thread, is logged at debug, and the server keeps accepting.
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[[Any, Any, _HTTPServer], BaseHTTPRequestHandler],
        family: socket.AddressFamily,
        web_config: WebConfigWatcher | None,
        limits: ServerLimits,
    ) -> None:
        # Read by the base class's constructor, which creates, binds and listens: socketserver's
        # backlog of 5 refuses or delays connections as soon as a few clients connect at once.
        self.address_family = family
        self.request_queue_size = limits.backlog
        self.web_config = web_config
        self.limits = limits
        self.connections = ConnectionTable(limits.connection_cap(), limits.busy_grace)
        self.accept_backoff = AcceptBackoff()
        self.refusals = RefusalLog()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            request, client_address = self.socket.accept()
        except OSError as exc:
            self.accept_backoff.failed(exc)  # sleeps when out of descriptors: no busy loop
            raise
        self.accept_backoff.succeeded()
        return request, client_address

    def process_request(self, request: Any, client_address: Any) -> None:
        connection = self.connections.admit(request, _client(client_address))
        if connection is None:
            self.refusals.refused(_client(client_address), reason="busy")
            _send_and_close(request, _BUSY_ANSWER)
            return
        thread = threading.Thread(
            target=self._serve_connection,
            args=(connection, client_address),
            name="http-connection",
            daemon=True,
        )
        thread.start()

    def _serve_connection(self, connection: Connection, client_address: Any) -> None:
        request = connection.sock
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.connections.remove(connection)
            self.shutdown_request(request)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.web_config is None or not self.web_config.tls:
            super().finish_request(request, client_address)
            return
        # The context of this moment: a rotated certificate is used from the next connection.
        state = self.web_config.current()
        assert state.ssl_context is not None and state.config.tls is not None  # TLS stays on
        conn = _tls_accept(
            request,
            client_address,
            state.ssl_context,
            state.config.tls.client_allowed_sans,
            self.limits.handshake_timeout,
        )
        if conn is None:
            return
        connection = self.connections.of(request)
        if connection is not None:
            self.connections.rewrap(connection, conn)
        try:
            super().finish_request(conn, client_address)
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
        # Anything else is a bug of the handler: in the structured log (redacted like every
        # line), not as the standard library's traceback on stderr.
        log.error("http_request_crashed", client=_client(client_address), exc_info=True)


def _client(client_address: Any) -> str:
    return str(client_address[0]) if client_address else "?"


def _send_and_close(sock: socket.socket, answer: bytes) -> None:
    try:
        sock.setblocking(False)
        sock.send(answer)
    except OSError:
        pass  # a full buffer or a gone client: the close below is the answer
    finally:
        sock.close()


def _tls_accept(
    sock: socket.socket,
    client_address: Any,
    context: ssl.SSLContext,
    allowed_sans: tuple[str, ...],
    handshake_timeout: float,
) -> ssl.SSLSocket | None:
    """The TLS side of an accepted connection, or None when it was dropped (and logged).

    The timeout bounds the whole handshake; after it the request reader's deadlines apply
    (a TLS connection is no less bounded than a plain one).
    """
    conn: ssl.SSLSocket | None = None
    try:
        sock.settimeout(handshake_timeout)
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
        return conn
    except (OSError, ValueError) as exc:  # ssl.SSLError, timeouts and resets are OSErrors
        log.debug("tls_handshake_failed", client=_client(client_address), error=ssl_reason(exc))
        if conn is not None:
            conn.close()
        return None
