"""A run's heartbeat: what a collector's run does that shows it is not stuck.

The runner sets a callback for the run (`beating`); the HTTP client calls `beat()` after each
attempt it finishes, answered or failed. The context goes with the run into its worker threads
(`bounded_map` copies it), so a run that keeps retrying a slow endpoint is seen moving, while
one blocked for good is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CURRENT: ContextVar[Callable[[], None] | None] = ContextVar("heartbeat", default=None)


def beat() -> None:
    """The current run made headway (nothing outside a run)."""
    callback = _CURRENT.get()
    if callback is not None:
        callback()


@contextmanager
def beating(callback: Callable[[], None]) -> Iterator[None]:
    """`callback` is what `beat()` calls within this block (and the threads it starts)."""
    token = _CURRENT.set(callback)
    try:
        yield
    finally:
        _CURRENT.reset(token)
