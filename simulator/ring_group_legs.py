"""The top-level ring group legs of a window, by group, kept from one request to the next:
the ring group member summary is asked once per ring group (`extId` takes one), each time for
the same window, and at 500k series scanning every leg of the day under the model's lock took
55 ms a request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .call_book import CallBook
from .calls import CallLeg, LegKind

# Windows kept at once: a poller asks for each of its windows in turn (1h, today, ...).
KEPT_WINDOWS = 4


@dataclass
class _Window:
    last: int  # the position in the book's legs up to which `by_group` is filled
    by_group: defaultdict[str, list[CallLeg]] = field(default_factory=lambda: defaultdict(list))


class RingGroupLegIndex:
    """`legs(book, start_ms, end_ms)`: what scanning the window's legs would give, extended by
    the legs the book gained since the window was last asked, and built again when its start
    moved to another position or the book's positions moved (a compaction)."""

    def __init__(self) -> None:
        self._windows: dict[tuple[int, int], _Window] = {}

    def legs(self, book: CallBook, start_ms: int, end_ms: int) -> defaultdict[str, list[CallLeg]]:
        """Top-level ring group legs disconnected in [start_ms, end_ms), by group id. The lists
        are the index's own: read them, and only under the lock the book is kept under."""
        first, last = book.leg_span(start_ms, end_ms)
        key = (book.legs_generation, first)
        window = self._windows.pop(key, None)  # popped, then put back as the newest
        if window is None or last < window.last:
            window = _Window(first)
        for leg in book.legs[window.last : last]:
            if leg.kind is LegKind.RING_GROUP and leg.group is not None:
                window.by_group[leg.group.id].append(leg)
        window.last = last
        self._windows[key] = window
        while len(self._windows) > KEPT_WINDOWS:
            del self._windows[next(iter(self._windows))]
        return window.by_group
