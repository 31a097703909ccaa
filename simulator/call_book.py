"""The time-ordered book of finished calls and legs, and the `Journey` that builds a call's legs
while it goes on (see calls.py for the records and their millisecond arithmetic)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TypeVar

from .calls import (
    CallLeg,
    Disposition,
    FinishedCall,
    GroupKind,
    GroupRef,
    LegKind,
    ms,
)
from .directory import Agent


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
        # Moves whenever a position in `legs` stops naming the leg it named (a compaction, a
        # sort): a span of positions is the same legs while it has not moved.
        self.legs_generation = 0

    def open(
        self, call_id: str, pbx: str, pbx_id: str, direction: str, external_number: str
    ) -> Journey:
        return Journey(self, call_id, pbx, pbx_id, direction, external_number)

    def legs_between(self, start_ms: int, end_ms: int) -> list[CallLeg]:
        """Legs disconnected in [start_ms, end_ms)."""
        return _between(self.legs, self._legs_head, start_ms, end_ms, "disconnected_ms")

    def leg_span(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """The positions [first, last) in `legs` of the legs disconnected in [start_ms,
        end_ms), valid while `legs_generation` stays."""
        get = attrgetter("disconnected_ms")
        first = bisect_left(self.legs, start_ms, lo=self._legs_head, key=get)
        return first, bisect_left(self.legs, end_ms, lo=first, key=get)

    def legs_from(self, start_ms: int) -> list[CallLeg]:
        """Legs disconnected at or after start_ms (connect times are never later than that)."""
        return _between(self.legs, self._legs_head, start_ms, None, "disconnected_ms")

    def calls_between(self, start_ms: int, end_ms: int) -> list[FinishedCall]:
        """Calls that ended in [start_ms, end_ms)."""
        return _between(self.calls, self._calls_head, start_ms, end_ms, "ended_ms")

    def sort(self) -> None:
        self.legs.sort(key=attrgetter("disconnected_ms"))
        self.legs_generation += 1
        self.calls.sort(key=attrgetter("ended_ms"))

    def prune(self, cutoff_ms: int) -> None:
        """Forget what ended before cutoff_ms (compacting the lists only now and then)."""
        head = _prune(self.legs, self._legs_head, cutoff_ms, "disconnected_ms")
        if head < self._legs_head:  # compacted: every position moved
            self.legs_generation += 1
        self._legs_head = head
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
