"""One large read at a time in the process, a live one before the others: the turn that the call
counters' whole-day reads and the live calls' first read take (docs/performance.md, "The
daemon's memory")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadTurn:
    """Reads of many pages that hold it run one after another. At a start the call counters'
    whole-day reads and the live calls' first read (four hours of every PBX) would otherwise
    decode their pages at the same moment: that moment sets the peak of Python objects, and
    pymalloc keeps the arenas of a peak for good (an arena goes back to the system only when
    all of it is free).

    A live read is `urgent`: it takes the turn before the other reads waiting for it, and waits
    no longer than its bound (then it reads without the turn: live data before memory). A read
    under way is never paused for it: its generator would keep its page while the other read
    decodes (measured: worse than no turn at all). Other takers wait for as long as the holder
    reads; a stop ends the holder's read at its next request, and so their wait."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._held = False
        self._urgent_waiting = 0

    @contextmanager
    def taken(self, *, urgent: bool = False, wait: float | None = None) -> Iterator[bool]:
        """Hold the turn over the block; yields False when `wait` seconds passed first (the
        block runs all the same, without it)."""
        had = self._take(urgent, wait)
        try:
            yield had
        finally:
            if had:
                with self._condition:
                    self._held = False
                    self._condition.notify_all()

    def _take(self, urgent: bool, wait: float | None) -> bool:
        with self._condition:
            self._urgent_waiting += 1 if urgent else 0
            try:
                had = self._condition.wait_for(
                    lambda: not self._held and (urgent or not self._urgent_waiting), wait
                )
                if had:
                    self._held = True
                return had
            finally:
                if urgent:
                    self._urgent_waiting -= 1
                    self._condition.notify_all()  # the others no longer wait behind it

    @property
    def held(self) -> bool:
        return self._held

    @property
    def urgent_waiting(self) -> int:
        return self._urgent_waiting


# The process's one turn (pollers of every exporter a reload builds share it).
LARGE_READS = ReadTurn()
