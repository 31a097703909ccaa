"""A collector run's context, which the HTTP client reads: its heartbeat, and whether the run
is to end.

The runner sets both for the run (`beating`). The HTTP client calls `beat()` after each attempt
it finishes, answered or failed, so a run that keeps retrying a slow endpoint is seen moving,
while one blocked for good is not; and it refuses to send for a run whose runner was stopped
(`run_stopped()`), so a run a reload replaced ends at its next request instead of going on
beside its successor. The context goes with the run into its worker threads (`bounded_map`
copies it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class _Run:
    beat: Callable[[], None]
    stop: threading.Event


_CURRENT: ContextVar[_Run | None] = ContextVar("collector_run", default=None)


def beat() -> None:
    """The current run made headway (nothing outside a run)."""
    run = _CURRENT.get()
    if run is not None:
        run.beat()


def run_stopped() -> bool:
    """Whether the current run's runner was stopped (False outside a run)."""
    run = _CURRENT.get()
    return run is not None and run.stop.is_set()


@contextmanager
def beating(callback: Callable[[], None], stop: threading.Event) -> Iterator[None]:
    """Within this block (and the threads it starts), `beat()` calls `callback` and
    `run_stopped()` reads `stop`."""
    token = _CURRENT.set(_Run(callback, stop))
    try:
        yield
    finally:
        _CURRENT.reset(token)
