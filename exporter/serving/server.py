"""The exporter's HTTP server: /metrics, a landing page, /-/healthy and /-/ready.

With `--web.config.file` (exporter/serving/webconfig/) the same server speaks TLS, asks for basic
auth on every path and adds the configured response headers; without one it is plain HTTP.
The requests themselves are answered by exporter/serving/handler.py.
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
from exporter.serving.handler import (
    ExporterRequestHandler,
    HandlerContext,
    Reload,
    Served,
    accepts_gzip,
)
from exporter.serving.webconfig import WebConfigWatcher, client_san_allowed, ssl_reason

# accepts_gzip: imported from here by code that predates the handler's own module.
__all__ = ["HANDSHAKE_TIMEOUT", "ExporterServer", "accepts_gzip", "parse_listen_address"]

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
        handler = partial(ExporterRequestHandler, HandlerContext(served, on_reload, web_config))
        self.httpd = _HTTPServer((host, port), handler, _family(host), web_config)
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

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[[Any, Any, _HTTPServer], BaseHTTPRequestHandler],
        family: socket.AddressFamily,
        web_config: WebConfigWatcher | None,
    ) -> None:
        # Both are read by the base class's constructor, which creates and binds the socket.
        self.address_family = family
        self.web_config = web_config
        super().__init__(address, handler)

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
