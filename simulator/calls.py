"""Finished calls and their legs: the immutable records behind the historical endpoints
(call-legs, call-records and the summaries), and the time-ordered book that keeps them.

Every time is an integer of epoch milliseconds, rounded once from the model's float seconds,
so that sums agree to the millisecond: a leg's `call_ms` is exactly `wait_ms + talk_ms +
hold_ms`, a call's wait is the sum of its group legs' waits.
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from operator import attrgetter
from typing import NamedTuple, TypeVar

from .directory import Agent

INCOMING = "Incoming"
OUTGOING = "Outgoing"


def ms(seconds: float) -> int:
    """Epoch (or duration) seconds, never negative, as whole milliseconds (half up)."""
    return int(seconds * 1000.0 + 0.5)


@contextmanager
def collector_paused() -> Iterator[None]:
    """For creating history in bulk: tens of thousands of long-lived records (without reference
    cycles) at once, which the cyclic garbage collector would otherwise scan over and over."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class GroupKind(str, Enum):
    QUEUE = "queue"
    RING_GROUP = "ring_group"


class LegKind(str, Enum):
    QUEUE = "queue"  # top-level leg: a caller's stay in a call queue
    RING_GROUP = "ring_group"  # top-level leg: a caller's stay in a ring group
    MEMBER = "member"  # child leg: one agent rung by a queue or a ring group
    OUTBOUND = "outbound"  # top-level leg: an agent's call to an external number


class Disposition(str, Enum):
    """How a leg ended."""

    ANSWERED = "answered"
    VOICEMAIL = "voicemail"  # group legs: sent to voicemail; member legs: rang out, then voicemail
    ABANDONED = "abandoned"  # the caller hung up first (outbound: the agent gave up unanswered)
    NO_ANSWER = "no_answer"  # member legs: rang without an answer, the call went on waiting
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # member legs: another ring group member answered
    TRANSFERRED = (
        "transferred"  # queue legs: routed on to a queue, a ring group or an outside number
    )

    @property
    def outcome(self) -> str:
        """answered, voicemail, abandoned or missed (everything else)."""
        return self.value if self in _OWN_OUTCOMES else "missed"


_OWN_OUTCOMES = frozenset({Disposition.ANSWERED, Disposition.VOICEMAIL, Disposition.ABANDONED})


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A call queue or a ring group, as legs and finished calls name it."""

    kind: GroupKind
    id: str
    pbx: str  # PBX name
    site: str  # site name
    name: str
    extension: str


class CallLeg(NamedTuple):
    """One leg as `/v2/call-legs` serves it (times in epoch ms, durations in ms).

    Top-level legs (`parent_call_id` None) share the call's id and number their `leg_id` from
    "1" per call; a member leg has its own `call_id`, `leg_id` "1" and the call's id as parent.
    """

    call_id: str
    leg_id: str
    parent_call_id: str | None
    kind: LegKind
    pbx: str  # PBX name
    group: GroupRef | None  # the queue or ring group (for member legs: the one that rang them)
    agent: (
        Agent | None
    )  # member legs: who was rung; group legs: who answered; outbound: who dialled
    external_number: str  # the outside party: the caller (inbound) or the number dialled (outbound)
    started_ms: int
    connected_ms: int  # answer time; the start for legs that never connected
    disconnected_ms: int
    talk_ms: int
    hold_ms: int
    ring_ms: int
    disposition: Disposition
    children: tuple[CallLeg, ...] = ()  # group legs: the member legs of this stay

    @property
    def outcome(self) -> str:
        return self.disposition.outcome

    @property
    def direction(self) -> str:
        return OUTGOING if self.kind is LegKind.OUTBOUND else INCOMING

    @property
    def call_ms(self) -> int:
        return self.disconnected_ms - self.started_ms

    @property
    def wait_ms(self) -> int:
        """Group legs: how long the caller waited (entry to answer, hang-up or routing)."""
        return self.call_ms - self.talk_ms - self.hold_ms


class FinishedCall(NamedTuple):
    """One whole call (one `/v2/call-records` record): every leg of its journey.

    `outcome` is answered, voicemail, abandoned or missed; `wait_ms` sums the caller's waits
    in every group it went through (outbound: the ringing before an answer or the give-up),
    so `call_ms == wait_ms + talk_ms + hold_ms`. `group` is the first queue or ring group the
    call went to (None for outbound calls), `agent` who answered or dialled.
    """

    call_id: str
    pbx: str  # PBX name
    pbx_id: str
    direction: str  # "Incoming" or "Outgoing"
    external_number: str
    started_ms: int
    connected_ms: int
    ended_ms: int
    outcome: str
    last_disposition: Disposition  # of the last top-level leg
    wait_ms: int
    talk_ms: int
    hold_ms: int
    ring_ms: int
    group: GroupRef | None
    agent: Agent | None
    legs: tuple[CallLeg, ...]  # every leg, in disconnect order

    @property
    def call_ms(self) -> int:
        return self.ended_ms - self.started_ms

    @property
    def top_legs(self) -> tuple[CallLeg, ...]:
        return tuple(leg for leg in self.legs if leg.parent_call_id is None)


@dataclass(slots=True, eq=False)
class Journey:
    """A call in progress: collects its legs, then becomes a `FinishedCall`."""

    book: CallBook
    call_id: str
    pbx: str
    pbx_id: str
    direction: str
    external_number: str
    legs: list[CallLeg] = field(default_factory=list)
    pending_children: list[CallLeg] = field(default_factory=list)  # member legs of the current stay
    first_top: CallLeg | None = None
    last_top: CallLeg | None = None
    top_legs: int = 0
    child_legs: int = 0
    ring_ms: int = 0  # of the top-level legs so far

    def _add(self, leg: CallLeg) -> CallLeg:
        self.legs.append(leg)
        self.book.legs.append(leg)
        return leg

    def member_leg(
        self,
        group: GroupRef,
        agent: Agent,
        started_at: float,
        ended_at: float,
        disposition: Disposition,
        *,
        answered_at: float | None = None,
        hold_seconds: float = 0.0,
    ) -> CallLeg:
        """One agent rung by `group`, from the ring's start to its end (or the talk's end)."""
        self.child_legs += 1
        start, end = ms(started_at), ms(ended_at)
        if answered_at is not None:
            connected = ms(answered_at)
            hold = ms(hold_seconds)
            talk = end - connected - hold
            ring = connected - start
        else:
            talk = hold = 0
            connected = start
            ring = end - start
        leg = CallLeg(
            f"{self.call_id}{self.child_legs:03d}",
            "1",
            self.call_id,
            LegKind.MEMBER,
            self.pbx,
            group,
            agent,
            self.external_number,
            start,
            connected,
            end,
            talk,
            hold,
            ring,
            disposition,
        )
        self.pending_children.append(leg)
        return self._add(leg)

    def group_leg(
        self,
        group: GroupRef,
        entered_ms: int,
        wait_ms: int,
        disposition: Disposition,
        *,
        agent: Agent | None = None,
        talk_ms: int = 0,
        hold_ms: int = 0,
    ) -> CallLeg:
        """The caller's stay in a queue or ring group: it waited `wait_ms` (until the answer, the
        hang-up or the routing), then talked and held (answered stays only)."""
        children = tuple(self.pending_children)
        self.pending_children.clear()
        left = entered_ms + wait_ms
        if group.kind is GroupKind.QUEUE:
            kind = LegKind.QUEUE
            ring = sum(child.ring_ms for child in children)  # one agent rings at a time
        else:
            kind = LegKind.RING_GROUP
            ring = wait_ms if children else 0  # every member rings from the entry on
        connected = left if disposition is Disposition.ANSWERED else entered_ms
        return self._add(
            self._top_leg(
                kind,
                group,
                agent,
                entered_ms,
                connected,
                left + talk_ms + hold_ms,
                talk_ms,
                hold_ms,
                ring,
                disposition,
                children,
            )
        )

    def outbound_leg(
        self,
        agent: Agent,
        started_at: float,
        ended_at: float,
        *,
        answered_at: float | None,
        hold_seconds: float = 0.0,
    ) -> CallLeg:
        start, end = ms(started_at), ms(ended_at)
        if answered_at is not None:
            connected = ms(answered_at)
            hold = ms(hold_seconds)
            talk = end - connected - hold
            disposition = Disposition.ANSWERED
        else:
            talk = hold = 0
            connected = start
            disposition = Disposition.ABANDONED
        ring = (connected if answered_at is not None else end) - start
        return self._add(
            self._top_leg(
                LegKind.OUTBOUND,
                None,
                agent,
                start,
                connected,
                end,
                talk,
                hold,
                ring,
                disposition,
                (),
            )
        )

    def _top_leg(
        self,
        kind: LegKind,
        group: GroupRef | None,
        agent: Agent | None,
        start: int,
        connected: int,
        end: int,
        talk: int,
        hold: int,
        ring: int,
        disposition: Disposition,
        children: tuple[CallLeg, ...],
    ) -> CallLeg:
        self.top_legs += 1
        self.ring_ms += ring
        leg = CallLeg(
            self.call_id,
            str(self.top_legs),
            None,
            kind,
            self.pbx,
            group,
            agent,
            self.external_number,
            start,
            connected,
            end,
            talk,
            hold,
            ring,
            disposition,
            children,
        )
        if self.first_top is None:
            self.first_top = leg
        self.last_top = leg
        return leg

    def finish(self) -> FinishedCall:
        """Close the call (after its last top-level leg) and hand it to the book."""
        first, last = self.first_top, self.last_top
        assert first is not None and last is not None, "a call ends with a top-level leg"
        disposition = last.disposition
        answered = disposition is Disposition.ANSWERED  # an answer always ends a call
        talk, hold = last.talk_ms, last.hold_ms  # only the answered (last) leg has any
        if answered or last.kind is LegKind.OUTBOUND:
            agent = last.agent
        else:
            agent = None
        call = FinishedCall(
            self.call_id,
            self.pbx,
            self.pbx_id,
            self.direction,
            self.external_number,
            first.started_ms,
            last.connected_ms if answered else first.started_ms,
            last.disconnected_ms,
            disposition.outcome,
            disposition,
            last.disconnected_ms - first.started_ms - talk - hold,
            talk,
            hold,
            self.ring_ms,
            first.group,
            agent,
            tuple(self.legs),
        )
        self.book.calls.append(call)
        return call


_T = TypeVar("_T", CallLeg, FinishedCall)


class CallBook:
    """Every leg and finished call, each list in disconnect order (appended as they end; the
    synthesized history is sorted once). Old entries are pruned from the front."""

    def __init__(self) -> None:
        self.legs: list[CallLeg] = []
        self.calls: list[FinishedCall] = []
        self._legs_head = 0
        self._calls_head = 0

    def open(
        self, call_id: str, pbx: str, pbx_id: str, direction: str, external_number: str
    ) -> Journey:
        return Journey(self, call_id, pbx, pbx_id, direction, external_number)

    def legs_between(self, start_ms: int, end_ms: int) -> list[CallLeg]:
        """Legs disconnected in [start_ms, end_ms)."""
        return _between(self.legs, self._legs_head, start_ms, end_ms, "disconnected_ms")

    def legs_from(self, start_ms: int) -> list[CallLeg]:
        """Legs disconnected at or after start_ms (connect times are never later than that)."""
        return _between(self.legs, self._legs_head, start_ms, None, "disconnected_ms")

    def calls_between(self, start_ms: int, end_ms: int) -> list[FinishedCall]:
        """Calls that ended in [start_ms, end_ms)."""
        return _between(self.calls, self._calls_head, start_ms, end_ms, "ended_ms")

    def sort(self) -> None:
        self.legs.sort(key=attrgetter("disconnected_ms"))
        self.calls.sort(key=attrgetter("ended_ms"))

    def prune(self, cutoff_ms: int) -> None:
        """Forget what ended before cutoff_ms (compacting the lists only now and then)."""
        self._legs_head = _prune(self.legs, self._legs_head, cutoff_ms, "disconnected_ms")
        self._calls_head = _prune(self.calls, self._calls_head, cutoff_ms, "ended_ms")

    def footprint(self) -> dict[str, int]:
        return {
            "legs": len(self.legs) - self._legs_head,
            "finished_calls": len(self.calls) - self._calls_head,
        }


def _between(items: list[_T], head: int, start: int, end: int | None, key: str) -> list[_T]:
    get = attrgetter(key)
    first = bisect_left(items, start, lo=head, key=get)
    last = len(items) if end is None else bisect_left(items, end, lo=first, key=get)
    return items[first:last]


def _prune(items: list[_T], head: int, cutoff: int, key: str) -> int:
    head = max(head, bisect_left(items, cutoff, lo=head, key=attrgetter(key)))
    if head > 1024 and head * 2 > len(items):
        del items[:head]  # amortised O(1) per entry
        return 0
    return head
