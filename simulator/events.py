"""The discrete-event loop shared by the simulator's models (Work Analytics queues and Contact
Center tenants): a heap of timed handlers, processed in time order up to "now"."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from typing import Any


class DiscreteEventModel:
    """Base of a model driven by timed events. Subclasses call `_init_events(start)` in their
    constructor, `_schedule` handlers, and may override `_after_advance` (history pruning)."""

    lock: threading.RLock
    _now: float
    _events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]]
    _event_serial: int

    def _init_events(self, now: float) -> None:
        self.lock = threading.RLock()
        self._now = float(now)
        self._events = []
        self._event_serial = 0

    @property
    def now(self) -> float:
        """The time the model has been advanced to (epoch seconds)."""
        return self._now

    def advance(self, now: float) -> None:
        """Process every event up to `now`; a no-op when `now` is not after the model time."""
        with self.lock:
            if now <= self._now:
                return
            events = self._events
            while events and events[0][0] <= now:
                when, _, handler, args = heapq.heappop(events)
                self._now = when
                handler(*args)
            self._now = float(now)
            self._after_advance()

    def _after_advance(self) -> None:
        """Called with the lock held after every advance."""

    def _schedule(self, when: float, handler: Callable[..., None], *args: Any) -> None:
        self._event_serial += 1  # ties are broken by scheduling order: deterministic
        heapq.heappush(self._events, (when, self._event_serial, handler, args))
