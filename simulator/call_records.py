"""What the model records of a call's passage through a queue (`CallRecord`, with its
`CallOutcome`), and where a queue routes the callers it sends away: shared by the event model
(model.py) and the synthesized history (history.py)."""

from __future__ import annotations

from collections.abc import Container
from enum import Enum
from typing import NamedTuple

from .calls import ms
from .directory import QueueTraffic, RoutingDestination


class CallOutcome(str, Enum):
    """How a call left a queue."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up while waiting
    VOICEMAIL = "voicemail"
    TRANSFERRED_TO_CALL_QUEUE = "transferred_to_call_queue"
    TRANSFERRED_TO_RING_GROUP = "transferred_to_ring_group"
    TRANSFERRED_TO_EXTERNAL_NUMBER = "transferred_to_external_number"


_ROUTED_OUTCOMES = frozenset(
    {
        CallOutcome.VOICEMAIL,
        CallOutcome.TRANSFERRED_TO_CALL_QUEUE,
        CallOutcome.TRANSFERRED_TO_RING_GROUP,
        CallOutcome.TRANSFERRED_TO_EXTERNAL_NUMBER,
    }
)
_OUTCOME_BY_DESTINATION = {
    RoutingDestination.VOICEMAIL: CallOutcome.VOICEMAIL,
    RoutingDestination.CALL_QUEUE: CallOutcome.TRANSFERRED_TO_CALL_QUEUE,
    RoutingDestination.RING_GROUP: CallOutcome.TRANSFERRED_TO_RING_GROUP,
    RoutingDestination.EXTERNAL_NUMBER: CallOutcome.TRANSFERRED_TO_EXTERNAL_NUMBER,
}


class _CallRecordFields(NamedTuple):
    call_id: str
    pbx_id: str
    site_id: str
    queue_id: str
    caller_number: str
    entered_at: float
    left_queue_at: float  # end of waiting: answered, abandoned or routed away
    ended_at: float  # the caller left this queue's care (hang-up after the talk, or left_queue_at)
    outcome: CallOutcome
    offered_agent_ids: tuple[str, ...]  # every agent the call rang, in order
    missed_offers: int  # rings that ended without an answer
    agent_id: str | None
    ring_started_at: float | None  # ringing of the agent who answered
    answered_at: float | None
    talk_seconds: float
    hold_seconds: float
    wrap_up_seconds: float
    transferred_in: bool  # arrived by a transfer from another queue
    transfer_target_queue_id: str | None
    transfer_target_ring_group_id: str | None
    # Whole-millisecond durations, derived once: window aggregates sum these integers, so a
    # summary's totals are exactly the sums of the per-queue totals.
    wait_ms: int
    alerting_ms: int  # ringing of the agent who answered
    talk_ms: int
    hold_ms: int


class CallRecord(_CallRecordFields):
    """One finished passage of a call through one queue (times are epoch seconds); immutable.

    The ms durations are differences of rounded epoch milliseconds, like the call legs': the
    queue leg's callTime is exactly wait_ms + talk_ms + hold_ms. (A tuple, not a frozen
    dataclass: days of synthesized history create tens of thousands of them.)
    """

    __slots__ = ()

    def __new__(
        cls,
        call_id: str,
        pbx_id: str,
        site_id: str,
        queue_id: str,
        caller_number: str,
        entered_at: float,
        left_queue_at: float,
        ended_at: float,
        outcome: CallOutcome,
        offered_agent_ids: tuple[str, ...],
        missed_offers: int,
        agent_id: str | None = None,
        ring_started_at: float | None = None,
        answered_at: float | None = None,
        talk_seconds: float = 0.0,
        hold_seconds: float = 0.0,
        wrap_up_seconds: float = 0.0,
        transferred_in: bool = False,
        transfer_target_queue_id: str | None = None,
        transfer_target_ring_group_id: str | None = None,
    ) -> CallRecord:
        left_ms = ms(left_queue_at)
        hold_ms = ms(hold_seconds)
        if answered_at is not None:
            alerting_ms = left_ms - (
                ms(ring_started_at) if ring_started_at is not None else left_ms
            )
            talk_ms = ms(ended_at) - left_ms - hold_ms
        else:
            alerting_ms, talk_ms = 0, ms(talk_seconds)
        return tuple.__new__(
            cls,
            (
                call_id,
                pbx_id,
                site_id,
                queue_id,
                caller_number,
                entered_at,
                left_queue_at,
                ended_at,
                outcome,
                offered_agent_ids,
                missed_offers,
                agent_id,
                ring_started_at,
                answered_at,
                talk_seconds,
                hold_seconds,
                wrap_up_seconds,
                transferred_in,
                transfer_target_queue_id,
                transfer_target_ring_group_id,
                left_ms - ms(entered_at),
                alerting_ms,
                talk_ms,
                hold_ms,
            ),
        )

    @property
    def answered(self) -> bool:
        return self.outcome is CallOutcome.ANSWERED

    @property
    def offered(self) -> bool:
        return bool(self.offered_agent_ids)

    @property
    def missed(self) -> bool:
        """Lost because of agents: it rang without an answer and was never answered."""
        return self.missed_offers > 0 and not self.answered

    @property
    def diverted(self) -> bool:
        """Routed away by the system without ever ringing an agent (the spec's `diverted`)."""
        return self.outcome in _ROUTED_OUTCOMES and not self.offered

    @property
    def wait_seconds(self) -> float:
        return self.left_queue_at - self.entered_at

    @property
    def handling_seconds(self) -> float:
        return self.talk_seconds + self.hold_seconds


class Routing(NamedTuple):
    outcome: CallOutcome
    queue_id: str | None  # transferred into this queue
    ring_group_id: str | None  # transferred into this ring group


def routing(
    traffic: QueueTraffic, transferred_in: bool, queues: Container[str], ring_groups: Container[str]
) -> Routing:
    """Where a queue sends a caller it routes away (max wait, or nobody logged in). A caller who
    was transferred in is not routed on again (no ping-pong); a missing target queue means
    voicemail, a site without a ring group means the caller just leaves the queue."""
    destination = RoutingDestination.VOICEMAIL if transferred_in else traffic.destination
    queue_id = traffic.transfer_queue_id if destination is RoutingDestination.CALL_QUEUE else None
    if destination is RoutingDestination.CALL_QUEUE and queue_id not in queues:
        destination, queue_id = RoutingDestination.VOICEMAIL, None
    group_id = (
        traffic.transfer_ring_group_id if destination is RoutingDestination.RING_GROUP else None
    )
    return Routing(
        _OUTCOME_BY_DESTINATION[destination],
        queue_id,
        group_id if group_id in ring_groups else None,
    )
