"""Free loopback ports and bounded waits, for what runs in other threads or processes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports: each socket is held until all are chosen, since
    the kernel may hand out a port again once its socket is closed (two servers of one stack
    were given the same port that way)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for(
    condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.02
) -> bool:
    """Whether `condition()` came true within `timeout` seconds, polled every `interval`.

    For what another thread or process does in its own time (a server noticing a closed
    connection, a thread ending): the bound is generous because a loaded CI machine may take
    seconds, and costs nothing when the condition is met at once. Bounded twice: by a deadline
    on the monotonic clock, and by a count of polls (each sleeps at least `interval`), so that
    neither a clock that stalls nor one that jumps can make it spin or wait forever.
    """
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return bool(condition())
