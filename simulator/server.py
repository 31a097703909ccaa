"""The threaded HTTP/1.1 server that feeds requests to the simulator's application callable and
puts its answers on the wire, transport faults (`Delivery`) included."""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

from .routing import Headers, Request, Response

Application = Callable[[Request], Response]

# Oversized answers are written in slices of this size: 50 MB never sits in memory at once.
STREAM_CHUNK = 64 * 1024
# A trickle writes a chunk every TRICKLE_TICK seconds: each pause stays far below any sane read
# timeout, so only a client limiting a request's total time gives up.
TRICKLE_TICK = 0.05


@dataclass(slots=True, frozen=True)
class Delivery:
    """How an answer goes on the wire, for transport faults; the default writes it whole."""

    drop: Literal["refuse", "reset"] | None = None  # no answer: close (FIN) or abort (RST)
    truncate: bool = False  # announce the whole body, send half of it, then close
    padding: int = 0  # bytes of JSON whitespace after the body (valid JSON, streamed)
    trickle_bytes_per_second: float | None = None
    on_hang_up: Callable[[], None] | None = None  # the client closed before the last byte


@dataclass(slots=True)
class FaultedResponse(Response):
    """A Response the server delivers as `delivery` says."""

    delivery: Delivery = field(default_factory=Delivery)


class SimulatorHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so `close_connections` can end
    idle keep-alive sockets at shutdown instead of leaving their threads blocked."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        application: Application,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.application = application
        self.clock = clock  # the simulated API's clock: every answer's Date header
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # A client hanging up (or stop() closing its socket) mid-answer is not a simulator error.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its gateway
    server_version = "8x8-simulator"
    timeout = 60  # seconds an idle keep-alive connection may hold its thread
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date of every answer, send_error's included, from the simulated API's clock, so a
        # test can skew it against the exporter's (http.server reads time.time()).
        return super().date_time_string(self.server.clock() if timestamp is None else timestamp)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests and benchmarks would drown in access logs; `Simulator.requests` has them."""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=Request.parse_query(split.query),
            headers=Headers(self.headers.items()),
            body=body,
            host=self.headers.get("Host", ""),
        )
        try:
            response = self.server.application(request)
        except Exception:  # a simulator bug must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            response = Response.json(
                500, {"status": 500, "messages": ["simulator internal error"], "path": split.path}
            )
        self._write(response)

    def _write(self, response: Response) -> None:
        delivery = response.delivery if isinstance(response, FaultedResponse) else Delivery()
        if delivery.drop is not None:
            self._drop(delivery.drop)
            return
        # send_response, with exactly one Date: a fault's own (a broken or skewed proxy) or
        # the simulated clock's.
        self.log_request(response.status)
        self.send_response_only(response.status)
        self.send_header("Server", self.version_string())
        dates = [value for name, value in response.headers.items() if name.lower() == "date"]
        self.send_header("Date", dates[-1] if dates else self.date_time_string())
        for name, value in response.headers.items():
            if name.lower() != "date":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body) + delivery.padding))
        self.end_headers()
        if self.command == "HEAD":
            self.wfile.flush()
            return
        if delivery.truncate:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True  # the client waits for the rest until the close
            return
        try:
            self._write_body(response.body, delivery)
        except (ConnectionError, TimeoutError):
            if delivery.on_hang_up is not None:
                delivery.on_hang_up()
            raise

    def _write_body(self, body: bytes, delivery: Delivery) -> None:
        chunks = _chunks(body, delivery.padding)
        rate = delivery.trickle_bytes_per_second
        if rate is None:
            for chunk in chunks:
                self.wfile.write(chunk)
        else:
            step = max(1, int(rate * TRICKLE_TICK))
            for chunk in chunks:
                for start in range(0, len(chunk), step):
                    piece = chunk[start : start + step]
                    self.wfile.write(piece)
                    self.wfile.flush()
                    time.sleep(len(piece) / rate)  # real time on purpose: it is the network
        self.wfile.flush()

    def _drop(self, how: Literal["refuse", "reset"]) -> None:
        """End the connection without a byte of answer: a FIN ("refuse", the client reads
        end-of-file where the status line belongs) or a RST ("reset": SO_LINGER 0, then close)."""
        self.close_connection = True
        if how == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The descriptor really closes (sending the RST) once finish() closes rfile/wfile.
            self.connection.close()
        else:
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the client is gone already


def _chunks(body: bytes, padding: int) -> Iterator[bytes]:
    """The body, then `padding` spaces, in slices of at most STREAM_CHUNK bytes."""
    for start in range(0, len(body), STREAM_CHUNK):
        yield body[start : start + STREAM_CHUNK]
    filler = b" " * STREAM_CHUNK
    while padding > 0:
        size = min(padding, STREAM_CHUNK)
        yield filler if size == STREAM_CHUNK else filler[:size]
        padding -= size
