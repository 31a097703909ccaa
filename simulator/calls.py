"""Finished calls and their legs: the immutable records behind the historical endpoints
(call-legs, call-records and the summaries); call_book.py builds and keeps them.

Every time is an integer of epoch milliseconds, rounded once from the model's float seconds,
so that sums agree to the millisecond: a leg's `call_ms` is exactly `wait_ms + talk_ms +
hold_ms`, a call's wait is the sum of its group legs' waits.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

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
