"""How call records and legs are counted: their outcome and direction, the ids already counted
(bounded memory), and the histograms of waits and talk times."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal, NamedTuple

from exporter.core.id_table import IdTable, digest
from exporter.metrics import spec as specs
from exporter.metrics.spec import MetricSpec
from exporter.metrics.units import to_number

OUTCOMES = ("answered", "voicemail", "abandoned", "missed", "other")


ZERO_OUTCOMES = OUTCOMES[:-1]  # exported at 0 as soon as their key is known; `other` when seen


DIRECTIONS = {
    "incoming": "inbound",
    "inbound": "inbound",
    "outgoing": "outbound",
    "outbound": "outbound",
    "internal": "internal",
}


OTHER = "_other"  # where series beyond the ceiling are folded, so no call goes uncounted


class Pending(Enum):
    """A record whose series cannot be told yet: read again later, never remembered as read."""

    GROUP = "the group of the leg is not known yet"


PENDING: Final = Pending.GROUP
# The series key a record is counted under; None: not counted by this poller at all.
RecordKey = tuple[str, ...] | None | Literal[Pending.GROUP]


def outcome(row: Mapping[str, Any], disposition_key: str) -> str:
    if str(row.get("answered") or "").lower() == "answered":
        return "answered"
    if str(row.get(disposition_key) or "").lower() == "voicemail":
        return "voicemail"
    if str(row.get("abandoned") or "").lower() == "abandoned":
        return "abandoned"
    if str(row.get("missed") or "").lower() == "missed":
        return "missed"
    return "other"


def direction(row: Mapping[str, Any]) -> str:
    return DIRECTIONS.get(str(row.get("direction") or "").lower(), "other")


def milliseconds(row: Mapping[str, Any], key: str) -> float | None:
    value = to_number(row.get(key))
    return None if value is None or value < 0 else value


class SeenIds:
    """Ids of the day's counted records, with their latest end (ms). Bounded: past
    `max_entries` the oldest are forgotten first, and `evicted_until` says up to where, so no
    window asks for them again.

    The ids are kept as digests in flat arrays (`IdTable`: 32-64 bytes an id and no object
    per id, where a dict of the id strings took about 130 and pinned the allocator's arenas).
    The order of ends (a heap) is made only once the bound is first passed: a day within the
    bound never evicts, so never needs it.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._ends = IdTable()
        # (end, digest) once past max_entries; digests are unique, so no tie-breaker: which of
        # two ids of one end goes first changes nothing (the window then starts after both).
        self._heap: list[tuple[float, int]] | None = None
        self.evicted = 0
        self.evicted_until = 0.0  # the latest end forgotten for room, ms

    def __len__(self) -> int:
        return len(self._ends)

    def __contains__(self, key: str) -> bool:
        return self._ends.get(digest(key)) is not None

    def add(self, key: str, when: float) -> bool:
        """Remember `key`; False when it was already known (then remembered until the later of
        its two ends: a record answered again with a corrected end stays a duplicate)."""
        hashed = digest(key)
        known = self._ends.get(hashed)
        if known is not None:
            if when > known:
                self._push(hashed, when)
            return False
        self._push(hashed, when)
        if len(self._ends) > self.max_entries:
            if self._heap is None:
                self._heap = [(end, hashed_key) for hashed_key, end in self._ends.items()]
                heapq.heapify(self._heap)
            while len(self._ends) > self.max_entries:
                when_evicted = self._pop(self._heap)
                if when_evicted is not None:
                    self.evicted += 1
                    self.evicted_until = max(self.evicted_until, when_evicted)
        return True

    def _push(self, key: int, when: float) -> None:
        self._ends.put(key, when)
        if self._heap is not None:
            heapq.heappush(self._heap, (when, key))

    def _pop(self, heap: list[tuple[float, int]]) -> float | None:
        """Forget the oldest entry; its end, or None for a stale entry of a refreshed id."""
        when, key = heapq.heappop(heap)
        if self._ends.get(key) != when:
            return None
        self._ends.delete(key)
        return when


@dataclass
class Histogram:
    counts: list[int]
    total: float = 0.0

    def observe(self, bounds: Sequence[float], value: float) -> None:
        self.counts[bisect_left(bounds, value)] += 1
        self.total += value

    def buckets(self, bounds: Sequence[float]) -> list[tuple[str, float]]:
        out, running = [], 0
        for bound, count in zip([*map(str, bounds), "+Inf"], self.counts):
            running += count
            out.append((bound, float(running)))
        return out


class CallDetailSpecs(NamedTuple):
    """One poller's families: calls ended by outcome, their waits and their talk times."""

    calls: MetricSpec
    wait: MetricSpec
    talk: MetricSpec


def call_detail_specs(
    poller: str, endpoint: str, key_labels: tuple[str, ...], *helps: str
) -> CallDetailSpecs:
    """`key_labels` are what the series ceiling counts (a PBX and direction, a group)."""
    names = {
        "call_records": (
            "eightbyeight_calls_total",
            "eightbyeight_call_wait_seconds",
            "eightbyeight_call_talk_seconds",
        ),
        "call_legs": (
            "eightbyeight_group_calls_total",
            "eightbyeight_group_call_wait_seconds",
            "eightbyeight_group_call_talk_seconds",
        ),
    }[poller]
    source = f"{poller} (`{endpoint}`)"
    return CallDetailSpecs(
        specs.counter(names[0], helps[0], (*key_labels, "outcome"), source),
        specs.histogram(names[1], helps[1], (*key_labels, "outcome"), source),
        specs.histogram(names[2], helps[2], key_labels, source),
    )
