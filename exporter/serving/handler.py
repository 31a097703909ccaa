"""The request handler of the exporter's HTTP server: one connection's requests.

/metrics, the status page (exporter/serving/status_page.py), /-/healthy, /-/ready and `POST /-/reload` (with
`--web.enable-lifecycle` only); with a web config, the rate limit and basic auth before any of
them, and the configured headers on every answer. Every request's body is framed strictly
(a Content-Length of digits, no Transfer-Encoding) and read before it is answered, so bytes of a
body are never taken for a second request.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs

from prometheus_client.exposition import choose_encoder

from exporter import __version__
from exporter.core.logs import get_logger
from exporter.pollers.base import Scheduler
from exporter.serving.connections import DeadlineSocketReader, ServerLimits, send_pieces
from exporter.serving.exposition import Exposition
from exporter.serving.status_page import CONTENT_SECURITY_POLICY, StatusPage
from exporter.serving.webconfig import AuthResult, WebConfigWatcher, WebState

log = get_logger(__name__)


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


# The paths that --web.telemetry-path cannot take (the metrics' own is `telemetry_path`).
FIXED_PATHS = ("/-/healthy", "/-/ready", "/-/reload")
READ_ONLY_PATHS = ("/", "/metrics", "/-/healthy", "/-/ready")
# `POST /-/reload`: (reloaded, message); the running config stays when the new one is invalid.
Reload = Callable[[], tuple[bool, str]]

AUTH_REALM = "eightbyeight-exporter"
_TEXT = "text/plain; charset=utf-8"
# No endpoint takes a body; one up to this size is read and ignored (a browser's retry after a
# 401, a client that sends `{}`), a bigger one is refused.
_MAX_BODY = 65536
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")
# What the exposition renders (exporter/metrics/rendering.py); prometheus-client's negotiation
# would echo whatever version the client asked for.
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The key path that starts a config problem (`work_analytics.colour: unknown key`): what a
# failed reload's answer names; the rest (values, file paths) stays in the log.
_PROBLEM_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]-]*):")


@dataclass(frozen=True)
class HandlerContext:
    """What every request of one server reads, handed to each handler by the server."""

    served: Served
    on_reload: Reload | None
    web_config: WebConfigWatcher | None
    # `--web.enable-lifecycle`: POST /-/reload answers 403 without it, as in Prometheus.
    enable_lifecycle: bool = False
    limits: ServerLimits = field(default_factory=ServerLimits)
    # `--web.telemetry-path`: where /metrics is served.
    telemetry_path: str = "/metrics"
    # The page at `/` (it links the telemetry path: made by the server with it).
    status: StatusPage = field(default_factory=StatusPage)


class ExporterRequestHandler(BaseHTTPRequestHandler):
    """One connection's requests: /metrics, the status page, health, readiness and reload.

    With a web config, every request first passes the rate limit and basic auth (in
    `parse_request`, so a new endpoint cannot forget them) and every answer carries the
    configured headers.
    """

    server_version = f"eightbyeight-exporter/{__version__}"
    protocol_version = "HTTP/1.1"
    # A page may go out in several writes: no write may wait for the ACK of the one before.
    disable_nagle_algorithm = True
    # The status line and headers not sent yet (the base class's, undeclared in its stub).
    _headers_buffer: list[bytes]
    # The parser's own errors (400, 414, 501): short text, not an HTML page.
    error_message_format = "%(code)d %(message)s\n"
    error_content_type = _TEXT

    def __init__(
        self, context: HandlerContext, request: Any, client_address: Any, server: Any
    ) -> None:
        # Set before the base class, whose constructor serves the connection's requests.
        self.context = context
        self._web_state: WebState | None = None
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        super().setup()
        # Every read of a request is bounded by its deadline (connections.py), not by a plain
        # socket timeout that a client trickling bytes would renew forever.
        self.rfile.close()
        self._reader = DeadlineSocketReader(self.connection, self.context.limits)
        self.rfile = io.BufferedReader(self._reader)
        self._table = getattr(self.server, "connections", None)
        self._entry = self._table.of(self.connection) if self._table is not None else None

    def handle_one_request(self) -> None:
        self._reader.begin_request()
        if self._table is not None and self._entry is not None:
            self._table.set_busy(self._entry, False)  # evictable until a request is read
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http_request", client=self.client_address[0], request=self.requestline)

    # -- Admission: every method and path goes through parse_request ---------------------------

    def parse_request(self) -> bool:
        # The snapshot also fixes which headers this request's answer (even a 400 from the
        # parser) carries.
        web = self.context.web_config
        self._web_state = web.current() if web is not None else None
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            # The standard library takes a bare `GET /metrics` line for HTTP/0.9, an answer
            # without status line or headers that nothing here writes: a 400 with both, as
            # Go's server answers it.
            self.request_version = "HTTP/1.0"
            self.close_connection = True
            self.send_error(400, "HTTP/0.9 is not served")
            return False
        if not self._read_body():
            return False
        if self._table is not None and self._entry is not None:
            self._table.set_busy(self._entry, True)
        self.connection.settimeout(self.context.limits.write_timeout)
        return self._web_state is None or self._admitted(self._web_state)

    def _read_body(self) -> bool:
        """Reads the request's body, or refuses a body it cannot frame safely (and closes).

        Chunked bodies are refused rather than parsed: no endpoint takes a body, and a body
        left unread would be parsed as the next request (a smuggled `POST /-/reload`).
        """
        if self.headers.defects or self.headers.get_payload():
            # The header parser stopped at a malformed line (no colon, a space before it, a
            # folded line) and took every later line as payload: a Content-Length or
            # Transfer-Encoding may hide there, and a lenient proxy would frame the body
            # differently. Refused, never guessed.
            self._reject(400, b"malformed header line\n")
            return False
        if self.headers.get("Transfer-Encoding") is not None:
            self._reject(501, b"Transfer-Encoding is not supported; send a Content-Length\n")
            return False
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return True
        if len(lengths) > 1 or not _CONTENT_LENGTH.fullmatch(lengths[0].strip()):
            self._reject(400, b"invalid Content-Length\n")
            return False
        length = int(lengths[0])
        if length > _MAX_BODY:
            self._reject(413, b"request body too large\n")
            return False
        if length:
            body = self.rfile.read(length)  # bounded by the read deadline
            if len(body) < length:
                self.close_connection = True
                return False
        return True

    def _reject(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.close_connection = True
        self._send(status, body, _TEXT, {**(extra or {}), "Connection": "close"})

    def _admitted(self, state: WebState) -> bool:
        """Whether the rate limit and basic auth let this request in; answers it when not."""
        if state.rate_limiter is not None and not state.rate_limiter.allow():
            self._refuse(429, b"429 too many requests\n", {})
            return False
        if state.authenticator is None:
            return True
        result = state.authenticator.check(
            self.headers.get("Authorization"), client=self.client_address[0]
        )
        if result.ok:
            return True
        self._log_auth_failure(result)
        if result.reason == "overloaded":
            self._refuse(429, b"429 too many authentication attempts\n", {"Retry-After": "1"})
            return False
        self._refuse(
            401, b"401 Unauthorized\n", {"WWW-Authenticate": f'Basic realm="{AUTH_REALM}"'}
        )
        return False

    def _log_auth_failure(self, result: AuthResult) -> None:
        # Counted, and logged at a bounded rate: a flood of bad credentials is not a flood
        # of log lines (exporter/serving/webconfig/auth_failures.py).
        web = self.context.web_config
        if web is not None:
            web.auth_failures.record(result, client=self.client_address[0])

    def _refuse(self, status: int, body: bytes, extra: dict[str, str]) -> None:
        # Closed after the answer: a client without the right credentials, or over the rate,
        # could otherwise pipeline requests on one connection without reading the answers and
        # keep its thread blocked in a write. A browser retries the 401 on a new connection.
        self._reject(status, body, extra)

    # -- Answers ---------------------------------------------------------------------------------

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(code, message)
        if self._web_state is not None:
            for key, value in self._web_state.config.http.headers.items():
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

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        path = self._path()
        if path == "/-/reload":
            self._reload()
        elif path in (*READ_ONLY_PATHS, self.context.telemetry_path):
            self._send(405, b"method not allowed\n", _TEXT, {"Allow": "GET, HEAD"})
        else:
            self._send(404, b"404 page not found\n", _TEXT)

    def do_GET(self) -> None:
        path = self._path()
        if path == "/-/reload":
            self._send(405, b"use POST to reload\n", _TEXT, {"Allow": "POST"})
        elif path == self.context.telemetry_path:
            self._metrics()
        elif path == "/":
            self._status_page()
        elif path == "/-/healthy":
            self._healthy()
        elif path == "/-/ready":
            self._ready()
        else:
            self._send(404, b"404 page not found\n", _TEXT)

    def _status_page(self) -> None:
        wanted = parse_qs(self.path.partition("?")[2]).get("format", ["html"])[-1]
        if wanted not in ("html", "json"):
            self._send(400, b"format must be html or json\n", _TEXT)
            return
        as_json = wanted == "json"
        try:
            body = self.context.status.answer(self.context.served.scheduler, as_json=as_json)
        except Exception:
            log.exception("status_page_failed")
            self._send(500, b"error rendering the status page\n", _TEXT)
            return
        content_type = "application/json" if as_json else "text/html; charset=utf-8"
        # The state it shows is the moment's: no cache keeps it; no script ever runs in it.
        headers = {
            "Cache-Control": "no-store",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        }
        self._send(200, body, content_type, headers)

    def _reload(self) -> None:
        on_reload = self.context.on_reload
        if not self.context.enable_lifecycle:
            self._send(403, b"Lifecycle API is not enabled (--web.enable-lifecycle).\n", _TEXT)
            return
        if on_reload is None:
            self._send(404, b"reloading is not enabled\n", _TEXT)
            return
        log.info("config_reload_requested", client=self.client_address[0])
        ok, message = on_reload()
        self._send(200 if ok else 500, (reload_answer(ok, message) + "\n").encode(), _TEXT)

    def _healthy(self) -> None:
        stuck = self.context.served.scheduler.stuck()
        body = json.dumps(
            {"status": "stuck" if stuck else "healthy", "stuck_collectors": stuck}
        ).encode()
        self._send(503 if stuck else 200, body, "application/json")

    def _ready(self) -> None:
        runners = self.context.served.scheduler.runners
        pending = [r.name for r in runners if not r.first_run_done.is_set()]
        body = json.dumps(
            {"status": "not ready" if pending else "ready", "pending_collectors": pending}
        ).encode()
        self._send(503 if pending else 200, body, "application/json")

    def _metrics(self) -> None:
        # prometheus-client's negotiation, for the content type it would answer; the bytes
        # come from the exposition's cache: a scrape renders none of the pollers' data.
        try:
            _, negotiated = choose_encoder(self.headers.get("Accept") or "")
        except Exception:  # prometheus-client fails on a malformed version (`version=x`)
            negotiated = TEXT_CONTENT_TYPE
        openmetrics = negotiated.startswith("application/openmetrics-text")
        content_type = OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
        gzip = accepts_gzip(self.headers.get("Accept-Encoding"))
        try:
            pieces = self.context.served.exposition.answer(openmetrics=openmetrics, gzip=gzip)
        except Exception:
            log.exception("metrics_render_failed")
            self._send(500, b"error rendering metrics\n", _TEXT)
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(sum(len(piece) for piece in pieces)))
        self.send_header("Vary", "Accept, Accept-Encoding")
        if gzip:
            self.send_header("Content-Encoding", "gzip")
        if self.command == "HEAD":
            self.end_headers()
            return
        # The headers and the cached pieces in one sendmsg() (a few for a big page), as a
        # static server writes one buffer: a write per piece cost 8 scrapers at once 2-4x the
        # static server's time. wfile is unbuffered, so nothing of ours waits in it.
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        send_pieces(self.connection, [head, *pieces], self.context.limits.write_timeout)


def reload_answer(ok: bool, message: str) -> str:
    """The body of `POST /-/reload`: a failure names the keys at fault, never their values or
    file paths (those are in the log's `config_reload_failed`)."""
    if ok:
        return message
    _, _, listed = message.partition(": ")
    problems = [p for p in listed.split("; ") if p]
    keys = sorted({m.group(1) for p in problems if (m := _PROBLEM_KEY.match(p))})
    where = f" at {', '.join(keys)}" if keys else ""
    return (
        f"configuration not reloaded, the running one stays: {len(problems) or 1} problem(s)"
        f"{where}; see the exporter's log (config_reload_failed)"
    )
