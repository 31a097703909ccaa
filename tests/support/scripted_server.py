"""A loopback HTTP/1.1 server that answers each request with the raw bytes a test scripts:
headers, framing and the moment a connection ends are the test's, not a library's. It records
every request as received and the connection it came on."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

# How long the server waits on a quiet connection before it gives up on it.
IDLE_SECONDS = 10.0
MAX_REQUEST_BYTES = 1 << 20


@dataclass(frozen=True)
class Received:
    head: bytes  # request line and headers, up to the blank line
    body: bytes
    connection: int  # 1 for the first connection accepted, 2 for the next

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    @property
    def headers(self) -> dict[str, str]:
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines if x)}


@dataclass(frozen=True)
class Reply:
    """What to write back, then whether to close the connection (or, with `stall`, hold the
    connection after the data, writing nothing more, until the server stops)."""

    data: bytes = b""
    close: bool = False
    stall: bool = False


def answer(
    body: bytes = b"{}",
    *,
    status: str = "200 OK",
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
    length: bool = True,
) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


@dataclass
class ScriptedServer:
    """`with ScriptedServer(script) as server:` serves on `server.url`; `script(received)`
    returns the Reply to each request, in order of arrival."""

    script: Callable[[Received], Reply]
    tls: ssl.SSLContext | None = None
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections = 0
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._closed = threading.Condition(self._lock)
        self.closed = 0  # connections the server has closed
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        port = self._listener.getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def wait_closed(self, count: int, timeout: float = 5.0) -> bool:
        """Until the server has closed `count` connections (False after `timeout`)."""
        with self._closed:
            return self._closed.wait_for(lambda: self.closed >= count, timeout)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
                self._sockets.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(IDLE_SECONDS)
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(IDLE_SECONDS)
            buffer = b""
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data or len(buffer) > MAX_REQUEST_BYTES:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                received = Received(head, b"", number)
                length = int(received.headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                received = Received(head, buffer[:length], number)
                buffer = buffer[length:]
                with self._lock:
                    self.received.append(received)
                reply = self.script(received)
                if reply.stall:  # what there is to write, then nothing more
                    conn.sendall(reply.data)
                    self._stop.wait(IDLE_SECONDS)
                    return
                conn.sendall(reply.data)
                if reply.close:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()
            with self._closed:
                self.closed += 1
                self._closed.notify_all()

    def __enter__(self) -> ScriptedServer:
        self._accepting.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._listener.close()
        self._accepting.join(timeout=5)
        with self._lock:
            sockets = list(self._sockets)
        for conn in sockets:  # wakes a thread waiting on a quiet connection
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
