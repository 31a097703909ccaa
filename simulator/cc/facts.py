"""The facts a Contact Center tenant's model records, in append-only time-ordered logs: queue
entries and leaves, offers, completions (with their outcomes), and agent status transitions.
Realtime metrics and historical reports are both computed from these: they agree by
construction."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from enum import Enum
from typing import Generic, NamedTuple, TypeVar


class AgentStatus(str, Enum):
    """The agent statuses `status.rt` serves."""

    AVAILABLE = "Available"
    OFFERING = "Offering"
    BUSY = "Busy"
    WRAP_UP = "Wrap Up"
    ON_BREAK = "On Break"
    WORKING_OFFLINE = "Working Offline"
    LOGGED_OUT = "Logged Out"


class LeaveOutcome(str, Enum):
    ACCEPTED = "accepted"
    ABANDONED = "abandoned"  # after the queue's short-abandon threshold
    SHORT_ABANDONED = "short_abandoned"
    DIVERTED = "diverted"  # waited the queue's maximum wait


class OfferResult(str, Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    ABANDONED = "abandoned"  # the customer left while it was offered


# Log records: `at` first (the event time, epoch seconds), then the dimensions
# (queue id, media, channel), then the facts. Durations in whole milliseconds.
class Entry(NamedTuple):
    at: float
    queue: str
    media: str
    channel: str


class Leave(NamedTuple):
    """The interaction left the queue: accepted by an agent, abandoned or diverted."""

    at: float
    queue: str
    media: str
    channel: str
    outcome: LeaveOutcome
    wait_ms: int  # entry to accept / abandon / diversion
    agent: str | None
    in_sla: bool  # accepted within the queue's SLA threshold


class Offer(NamedTuple):
    """An offer ended (at = its end)."""

    at: float
    queue: str
    media: str
    channel: str
    agent: str
    result: OfferResult
    offering_ms: int


class Completion(NamedTuple):
    """An accepted interaction finished its wrap-up (at = the end of wrap-up)."""

    at: float
    queue: str
    media: str
    channel: str
    agent: str
    offering_ms: int
    handling_ms: int  # talk and hold
    hold_ms: int
    wrap_ms: int


R = TypeVar("R", bound=tuple)


class EventLog(Generic[R]):
    """Append-only records in time order, with windows by bisection on their times."""

    __slots__ = ("records", "times")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.records: list[R] = []

    def append(self, record: R) -> None:
        self.times.append(record[0])
        self.records.append(record)

    def window(self, start: float, end: float, *, include_end: bool = False) -> list[R]:
        """Records with start <= at < end (or <= end)."""
        low = bisect_left(self.times, start)
        high = bisect_right(self.times, end) if include_end else bisect_left(self.times, end)
        return self.records[low:high]

    def prune(self, cutoff: float) -> None:
        drop = bisect_left(self.times, cutoff)
        if drop:
            del self.times[:drop]
            del self.records[:drop]

    def __len__(self) -> int:
        return len(self.records)


def status_seconds(
    times: list[float], statuses: list[AgentStatus], start: float, end: float
) -> dict[AgentStatus, float]:
    """Seconds in each status within [start, end), from transitions (the last one open-ended).
    Time before the first transition is unknown and not counted."""
    result: dict[AgentStatus, float] = {}
    if end <= start or not times:
        return result
    index = max(0, bisect_right(times, start) - 1)
    count = len(times)
    while index < count:
        segment_start = times[index]
        if segment_start >= end:
            break
        segment_end = times[index + 1] if index + 1 < count else end
        low = segment_start if segment_start > start else start
        high = segment_end if segment_end < end else end
        if high > low:
            status = statuses[index]
            result[status] = result.get(status, 0.0) + (high - low)
        index += 1
    return result
