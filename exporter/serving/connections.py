"""What keeps the HTTP server alive against hostile clients: limits, deadlines, the connection
table (a cap that evicts idle connections first) and the backoff of a failing accept().

The server (exporter/serving/server.py) is the standard library's thread-per-connection
`http.server`; these pieces bound what one connection, or many, can hold: a thread and a file
descriptor each, never longer than a deadline, never more than the cap.
"""

from __future__ import annotations

import errno
import io
import resource
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.core.logs import get_logger
from exporter.core.token_bucket import TokenBucket

log = get_logger(__name__)


@dataclass(frozen=True)
class ServerLimits:
    """The bounds of the HTTP server, in seconds and connections.

    `idle_timeout` is how long a connection may wait for a request's first byte (a new one, or
    a keep-alive one between scrapes: above the usual scrape intervals, so Prometheus keeps
    reusing its connection); `read_timeout` bounds the rest of a request (request line,
    headers, body) from that first byte, so a client sending one byte every few seconds
    (slowloris) is cut; `write_timeout` bounds sending one answer; `handshake_timeout` the
    TLS handshake. `max_connections` is further capped by half the process's file
    descriptor limit, so connections alone never exhaust it. When the cap is reached and every
    connection is answering, one answering for longer than `busy_grace` (a client that sends
    requests and never reads the answers) may be cut to make room.
    """

    backlog: int = 1024
    max_connections: int = 256
    # What one request may send (request line, headers, a body of at most 64 KiB, and the
    # reader's look-ahead): the standard library takes 100 header lines of 64 KiB each, 6.5 MB a
    # connection, which 200 connections turned into 1.4 GB of memory before any authentication.
    max_request_bytes: int = 136 * 1024
    idle_timeout: float = 120.0
    read_timeout: float = 10.0
    write_timeout: float = 60.0
    handshake_timeout: float = 10.0
    # Far above what sending a page takes (100k series, 10 MB, go out in well under a second on
    # any network a scrape crosses), far below `write_timeout`.
    busy_grace: float = 5.0

    def connection_cap(self) -> int:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(4, min(self.max_connections, soft // 2))


class RequestTooLarge(TimeoutError):
    """A request longer than `max_request_bytes`. A TimeoutError because the standard
    library's handler discards the connection quietly on one (as on a read deadline); any other
    error from a read would end in a traceback."""


class DeadlineSocketReader(io.RawIOBase):
    """A socket's receiving side whose every recv is bounded by the current request's deadline.

    A per-recv socket timeout alone lets a client trickle a byte just before each timeout and
    hold the connection forever; here the first byte of a request may take `idle_timeout`, and
    everything after it must arrive within `read_timeout` of that first byte.
    """

    def __init__(self, sock: socket.socket, limits: ServerLimits) -> None:
        super().__init__()
        self._sock = sock
        self._limits = limits
        self._first_byte_at: float | None = None
        self._received = 0

    def begin_request(self) -> None:
        """The next byte received is the first of a new request."""
        self._first_byte_at = None
        self._received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._first_byte_at is None:
            timeout = self._limits.idle_timeout
        else:
            timeout = self._first_byte_at + self._limits.read_timeout - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("request not received within the read timeout")
        if self._received >= self._limits.max_request_bytes:
            raise RequestTooLarge(f"request over {self._limits.max_request_bytes} bytes")
        self._sock.settimeout(timeout)
        received = self._sock.recv_into(buffer)
        if received and self._first_byte_at is None:
            self._first_byte_at = time.monotonic()
        self._received += received
        return received


@dataclass
class Connection:
    """One accepted connection: its socket (the TLS one once wrapped) and, while it is
    answering a request, since when (`busy_since`, None while it waits for one)."""

    sock: socket.socket
    client: str
    opened: float
    busy_since: float | None = None

    @property
    def busy(self) -> bool:
        return self.busy_since is not None


class ConnectionTable:
    """The open connections, at most `cap`: a new one evicts one that is not answering, or
    one stuck answering for longer than `busy_grace`.

    Evicting idle and half-read connections first means 200 slowloris clients can never keep a
    scrape out: each new connection pushes the oldest of them out. A client that pipelines
    requests and never reads the answers keeps its threads blocked in a write, busy; past the
    grace those are cut too (the blocked write fails at once), so they cannot hold the table
    for the whole write timeout either. The victim is taken from the client holding the most
    connections, so one flooding address pushes out its own connections before a scraper's.
    Only when every connection answers, none for longer than the grace, is the new one refused.
    """

    def __init__(
        self,
        cap: int,
        busy_grace: float = ServerLimits.busy_grace,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cap = cap
        self._busy_grace = busy_grace
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[socket.socket, Connection] = {}
        self.evicted = 0
        self.refused = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def admit(self, sock: socket.socket, client: str) -> Connection | None:
        """The new connection's entry, or None when every open connection is busy."""
        now = self._clock()
        with self._lock:
            if len(self._open) >= self.cap:
                victim = self._victim(now)
                if victim is None:
                    self.refused += 1
                    return None
                # Its thread's recv or send returns at once; that thread closes the socket and
                # removes the entry, so the fd is never shut down after being reused.
                _shutdown(victim.sock)
                del self._open[victim.sock]
                self.evicted += 1
            connection = Connection(sock, client, now)
            self._open[sock] = connection
            return connection

    def _victim(self, now: float) -> Connection | None:
        """The connection to cut for a new one: idle ones first (the oldest), then one busy
        past the grace (the longest busy), each from the client with the most connections."""
        held: dict[str, int] = {}
        for connection in self._open.values():
            held[connection.client] = held.get(connection.client, 0) + 1
        idle = [c for c in self._open.values() if c.busy_since is None]
        if idle:
            return min(idle, key=lambda c: (-held[c.client], c.opened))
        stuck = [
            c
            for c in self._open.values()
            if c.busy_since is not None and now - c.busy_since >= self._busy_grace
        ]
        if stuck:
            return min(stuck, key=lambda c: (-held[c.client], c.busy_since or now))
        return None

    def busy(self) -> int:
        """How many connections are answering a request."""
        with self._lock:
            return sum(1 for c in self._open.values() if c.busy_since is not None)

    def rewrap(self, connection: Connection, sock: socket.socket) -> None:
        """The connection now speaks through `sock` (after the TLS handshake)."""
        with self._lock:
            if self._open.pop(connection.sock, None) is not None:
                self._open[sock] = connection
            connection.sock = sock

    def of(self, sock: socket.socket) -> Connection | None:
        with self._lock:
            return self._open.get(sock)

    def set_busy(self, connection: Connection, busy: bool) -> None:
        now = self._clock()
        with self._lock:
            connection.busy_since = now if busy else None

    def remove(self, connection: Connection) -> None:
        with self._lock:
            self._open.pop(connection.sock, None)

    def close_all(self) -> None:
        with self._lock:
            for connection in self._open.values():
                _shutdown(connection.sock)
            self._open.clear()


class RefusalLog:
    """`http_connection_refused` at a bounded rate: a few at once, then one a minute, each
    saying how many it left out. A flood of connections is not a flood of log lines."""

    def __init__(
        self,
        burst: int = 5,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._bucket = TokenBucket(rate=1.0 / interval, capacity=burst, now=clock())
        self._suppressed = 0

    def refused(self, client: str, reason: str) -> None:
        with self._lock:
            if self._bucket.take(self._clock()) > 0.0:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
        log.warning("http_connection_refused", client=client, reason=reason, suppressed=suppressed)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its peer


# accept() errors that mean the process or the system is out of something: retrying at once
# fails again at once (the pending connection stays in the backlog, the socket stays readable).
_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class AcceptBackoff:
    """Sleeps after an accept() that failed for lack of resources, 10 ms doubling to 1 s.

    Without it the accept loop spins at 100% CPU for as long as the file descriptors are
    used up (socketserver retries at once). Logged once per episode, not per attempt.
    """

    FIRST = 0.01
    LONGEST = 1.0

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._delay = 0.0
        self.failures = 0

    def failed(self, exc: OSError) -> None:
        if exc.errno not in _RESOURCE_ERRORS:
            return
        self.failures += 1
        if self._delay == 0.0:
            log.warning(
                "http_accept_failed",
                error=errno.errorcode.get(exc.errno or 0, str(exc.errno)),
                backoff_max_seconds=self.LONGEST,
            )
            self._delay = self.FIRST
        else:
            self._delay = min(self.LONGEST, self._delay * 2)
        self._sleep(self._delay)

    def succeeded(self) -> None:
        if self._delay:
            log.info("http_accept_recovered", failures=self.failures)
            self._delay = 0.0


# Buffers one sendmsg() takes at most (Linux's IOV_MAX).
_IOV_MAX = 1024
# Over TLS (no sendmsg) the pieces are joined into writes of about this size: one TLS write
# per piece would be one system call and record per family header.
TLS_WRITE_BYTES = 1 << 20


def send_pieces(sock: socket.socket, pieces: Sequence[bytes], timeout: float) -> None:
    """Sends the pieces in order, all within `timeout` seconds (TimeoutError after), in as
    few system calls as the socket takes: sendmsg() of up to _IOV_MAX pieces at once, so a
    cached page of a thousand pieces goes out as a static file would, not as a thousand
    writes each waking the client. TLS sockets have no sendmsg(): joined writes there."""
    deadline = time.monotonic() + timeout
    if isinstance(sock, ssl.SSLSocket):
        for chunk in _joined(pieces, TLS_WRITE_BYTES):
            sock.settimeout(_remaining(deadline))
            sock.sendall(chunk)  # the timeout bounds the whole sendall
        return
    views = [memoryview(piece) for piece in pieces if piece]
    first = 0
    while first < len(views):
        sock.settimeout(_remaining(deadline))
        sent = sock.sendmsg(views[first : first + _IOV_MAX])
        # A partial send (the socket's buffer filled): go on from the byte it stopped at.
        while sent and first < len(views):
            size = len(views[first])
            if sent >= size:
                sent -= size
                first += 1
            else:
                views[first] = views[first][sent:]
                sent = 0


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("answer not sent within the write timeout")
    return remaining


def _joined(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The same bytes in order, joined into chunks of about `size` (big pieces alone)."""
    pending: list[bytes] = []
    pending_bytes = 0
    for piece in pieces:
        if pending and pending_bytes + len(piece) > size:
            yield b"".join(pending)
            pending, pending_bytes = [], 0
        pending.append(piece)
        pending_bytes += len(piece)
    if pending:
        yield b"".join(pending)
