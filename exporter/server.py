"""The exporter's HTTP server: /metrics, a landing page, /-/healthy and /-/ready."""

from __future__ import annotations

import gzip
import html
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from exporter import __version__
from exporter.collectors.base import Scheduler
from exporter.logs import get_logger

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
    """What the server serves: read on every request, so a config reload can swap both."""

    @property
    def registry(self) -> CollectorRegistry: ...

    @property
    def scheduler(self) -> Scheduler: ...


READ_ONLY_PATHS = ("/", "/metrics", "/-/healthy", "/-/ready")
# `POST /-/reload`: (reloaded, message); the running config stays when the new one is invalid.
Reload = Callable[[], tuple[bool, str]]


class ExporterServer:
    """A threading HTTP server bound to the listen address; `start()` serves in the background."""

    def __init__(self, served: Served, address: str, *, on_reload: Reload | None = None) -> None:
        host, port = parse_listen_address(address)
        handler = _make_handler(served, on_reload)
        server_class = type("ExporterHTTPServer", (ThreadingHTTPServer,),
                            {"address_family": _family(host), "daemon_threads": True})
        self.httpd = server_class((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http-server",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _make_handler(served: Served, on_reload: Reload | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"eightbyeight-exporter/{__version__}"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("http_request", client=self.client_address[0], request=self.requestline)

        def _send(self, status: int, body: bytes, content_type: str,
                  extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
            self.do_GET()

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            if 0 < length <= 65536:
                self.rfile.read(length)  # the body means nothing; read it to keep the connection
            if path != "/-/reload":
                if path in READ_ONLY_PATHS:
                    self._send(405, b"method not allowed\n", "text/plain; charset=utf-8",
                               {"Allow": "GET, HEAD"})
                else:
                    self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
                return
            if on_reload is None:
                self._send(404, b"reloading is not enabled\n", "text/plain; charset=utf-8")
                return
            ok, message = on_reload()
            self._send(200 if ok else 500, (message + "\n").encode(), "text/plain; charset=utf-8")

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            scheduler = served.scheduler
            path = self.path.split("?", 1)[0]
            if path == "/-/reload":
                self._send(405, b"use POST to reload\n", "text/plain; charset=utf-8",
                           {"Allow": "POST"})
            elif path == "/metrics":
                self._metrics()
            elif path == "/":
                self._send(200, _landing_page([r.name for r in scheduler.runners]),
                           "text/html; charset=utf-8")
            elif path == "/-/healthy":
                stuck = scheduler.stuck()
                body = json.dumps({"status": "stuck" if stuck else "healthy",
                                   "stuck_collectors": stuck}).encode()
                self._send(503 if stuck else 200, body, "application/json")
            elif path == "/-/ready":
                pending = [r.name for r in scheduler.runners if not r.first_run_done.is_set()]
                body = json.dumps({"status": "not ready" if pending else "ready",
                                   "pending_collectors": pending}).encode()
                self._send(503 if pending else 200, body, "application/json")
            else:
                self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

        def _metrics(self) -> None:
            encoder, content_type = choose_encoder(self.headers.get("Accept"))
            try:
                output = encoder(served.registry)
            except Exception:
                log.exception("metrics_render_failed")
                self._send(500, b"error rendering metrics\n", "text/plain; charset=utf-8")
                return
            extra: dict[str, str] = {}
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                output = gzip.compress(output, compresslevel=6)
                extra["Content-Encoding"] = "gzip"
            self._send(200, output, content_type, extra)

    return Handler
