"""What Work Analytics' agent activity endpoints read from the live model: each member's status
in a queue (queueStatus), its presence (userStatus), how long it has been in each, and its
interactions with the queue's calls over a window. Read with the model's lock held."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from enum import Enum
from operator import attrgetter

from .call_records import CallOutcome, CallRecord
from .calls import ms
from .model_state import ActiveCall, AgentStatus, MemberState, QueueCaller, QueueState


class QueueStatus(str, Enum):
    """An agent's status in one queue (the spec's queueStatuses enum)."""

    AVAILABLE_IDLE = "AVAILABLE_IDLE"
    HANDLING = "HANDLING"
    ALERTING = "ALERTING"
    PAUSE = "PAUSE"
    WRAP_UP = "WRAP_UP"
    BUSY_OTHER = "BUSY_OTHER"
    DND = "DND"
    LOGGED_OUT = "LOGGED_OUT"


class UserStatus(str, Enum):
    """An agent's presence (the spec's userStatuses enum)."""

    AVAILABLE = "AVAILABLE"
    BUSY = "BUSY"
    DND = "DND"
    AWAY = "AWAY"
    AUTO_AWAY = "AUTO_AWAY"
    OFFLINE = "OFFLINE"
    ON_CALL = "ON_CALL"
    INVISIBLE = "INVISIBLE"


# activityStatus of /agent-activity: the most engaged queueStatus over the agent's queues
# (the contract of issue #18, point 3), most engaged first.
ENGAGEMENT_ORDER: tuple[QueueStatus, ...] = (
    QueueStatus.HANDLING,
    QueueStatus.ALERTING,
    QueueStatus.WRAP_UP,
    QueueStatus.BUSY_OTHER,
    QueueStatus.AVAILABLE_IDLE,
    QueueStatus.PAUSE,
    QueueStatus.DND,
    QueueStatus.LOGGED_OUT,
)

_PRESENCE_QUEUE_STATUS = {
    AgentStatus.AVAILABLE: QueueStatus.AVAILABLE_IDLE,
    AgentStatus.BUSY: QueueStatus.BUSY_OTHER,  # never without a call; kept for completeness
    AgentStatus.WRAP_UP: QueueStatus.WRAP_UP,  # after any call: as wrappingUpAgents counts it
    AgentStatus.AWAY: QueueStatus.PAUSE,
    AgentStatus.APPEAR_OFFLINE: QueueStatus.PAUSE,  # takes no queue calls, yet not logged out
    AgentStatus.DND: QueueStatus.DND,
    AgentStatus.LOGGED_OUT: QueueStatus.LOGGED_OUT,
}


def queue_status(member: MemberState, queue: QueueState) -> QueueStatus:
    """The member's status in `queue`. A disabled membership is LOGGED_OUT whatever the agent
    does; a call or a ring of another queue, a ring group or outbound is BUSY_OTHER."""
    agent = member.agent
    if not member.enabled or agent.status is AgentStatus.LOGGED_OUT:
        return QueueStatus.LOGGED_OUT
    call = agent.call
    if call is not None:
        ours = isinstance(call, ActiveCall) and _is_callers_queue(call.caller, queue)
        return QueueStatus.HANDLING if ours else QueueStatus.BUSY_OTHER
    if agent.reserved_for is not None:
        ours = _is_callers_queue(agent.reserved_for, queue)
        return QueueStatus.ALERTING if ours else QueueStatus.BUSY_OTHER
    return _PRESENCE_QUEUE_STATUS[agent.status]


def _is_callers_queue(caller: object, queue: QueueState) -> bool:
    return isinstance(caller, QueueCaller) and caller.queue is queue


def user_status(member: MemberState) -> UserStatus:
    agent = member.agent
    status = agent.status
    if agent.call is not None or status is AgentStatus.BUSY:
        return UserStatus.ON_CALL
    if status is AgentStatus.AWAY:
        return UserStatus.AUTO_AWAY if agent.automatic else UserStatus.AWAY
    return {
        AgentStatus.AVAILABLE: UserStatus.AVAILABLE,  # also while a call rings (the example)
        AgentStatus.WRAP_UP: UserStatus.BUSY,
        AgentStatus.APPEAR_OFFLINE: UserStatus.INVISIBLE,
        AgentStatus.DND: UserStatus.DND,
        AgentStatus.LOGGED_OUT: UserStatus.OFFLINE,
    }[status]


def queue_status_ms(member: MemberState, now: float) -> int:
    """Time in the current queueStatus. The model does not know when a membership was
    disabled: a disabled member's time counts from the agent's last presence change."""
    agent = member.agent
    since = agent.activity_since if member.enabled else agent.status_since
    return max(0, ms(now) - ms(since))


def user_status_ms(member: MemberState, now: float) -> int:
    return max(0, ms(now) - ms(member.agent.status_since))


@dataclass(slots=True)
class AgentInteractionStats:
    """One agent's interactions with one queue's calls (or a sum of them): counts and integer
    ms. An offer is one ring of the agent's phone; accepted + missed + offers the caller hung up
    on + the ringing one == entered. The model's agents never decline a ring: rejected is 0."""

    entered: int = 0
    accepted: int = 0
    missed: int = 0
    rejected: int = 0
    alerting_total_ms: int = 0  # ringing before the answer, over accepted offers
    handled: int = 0  # answered calls finished before the window end
    talk_total_ms: int = 0
    hold_total_ms: int = 0
    wrap_up_total_ms: int = 0
    ongoing_handling: int = 0
    ongoing_talking: int = 0
    ongoing_on_hold: int = 0
    ongoing_wrap_up: int = 0
    ongoing_handling_ms: int = 0
    ongoing_talking_ms: int = 0
    ongoing_on_hold_ms: int = 0
    ongoing_wrap_up_ms: int = 0

    @classmethod
    def merge(cls, parts: Iterable[AgentInteractionStats]) -> AgentInteractionStats:
        merged = cls()
        for part in parts:
            for f in fields(cls):
                setattr(merged, f.name, getattr(merged, f.name) + getattr(part, f.name))
        return merged


def _count_offers(
    stats: AgentInteractionStats,
    agent_id: str,
    offered: Iterable[str],
    last_outcome: str,
) -> None:
    """`last_outcome` of the call's last offer: "accepted", "missed", "open" (still ringing,
    or the caller left while it rang, or the answer falls after the window)."""
    offers = list(offered)
    for index, offered_id in enumerate(offers):
        if offered_id != agent_id:
            continue
        stats.entered += 1
        outcome = last_outcome if index == len(offers) - 1 else "missed"
        if outcome == "missed":
            stats.missed += 1
        elif outcome == "accepted":
            stats.accepted += 1


def _count_record(
    stats: AgentInteractionStats, agent_id: str, record: CallRecord, end: float
) -> None:
    answered = record.outcome is CallOutcome.ANSWERED
    # Rings neither answered nor rung out: the caller left while the last one rang.
    interrupted = len(record.offered_agent_ids) - record.missed_offers - (1 if answered else 0)
    if answered:
        last = (
            "accepted" if record.answered_at is not None and record.answered_at <= end else "open"
        )
    else:
        last = "open" if interrupted > 0 else "missed"
    _count_offers(stats, agent_id, record.offered_agent_ids, last)
    if answered and record.agent_id == agent_id and last == "accepted":
        stats.alerting_total_ms += record.alerting_ms
        if record.ended_at <= end:
            stats.handled += 1
            stats.talk_total_ms += record.talk_ms
            stats.hold_total_ms += record.hold_ms
            stats.wrap_up_total_ms += ms(record.wrap_up_seconds)


class QueueInteractions:
    """Every member's `interaction_stats` with one queue, from one pass over the queue's calls
    (at 500k series, one pass per member read each record of the day 6 to 20 times)."""

    def __init__(
        self,
        queue: QueueState,
        now: float,
        start: float,
        end: float,
        entered_filter: Callable[[float], bool] | None = None,
    ) -> None:
        self.queue = queue
        self.now = now
        end = min(end, now)
        by_agent: dict[str, AgentInteractionStats] = {}
        self._by_agent = by_agent

        def stats_of(agent_id: str) -> AgentInteractionStats:
            stats = by_agent.get(agent_id)
            if stats is None:
                stats = by_agent[agent_id] = AgentInteractionStats()
            return stats

        def selected(entered_at: float) -> bool:
            return start <= entered_at < end and (
                entered_filter is None or entered_filter(entered_at)
            )

        records = queue.records
        first = bisect_left(records, start, lo=queue.records_head, key=attrgetter("ended_at"))
        for index in range(first, len(records)):
            record = records[index]
            if record.offered_agent_ids and selected(record.entered_at):
                for agent_id in set(record.offered_agent_ids):
                    _count_record(stats_of(agent_id), agent_id, record, end)
        for caller in queue.waiting:
            if caller.offered_agent_ids and selected(caller.entered_at):
                last = "open" if caller.ringing_agent is not None else "missed"
                for agent_id in set(caller.offered_agent_ids):
                    _count_offers(stats_of(agent_id), agent_id, caller.offered_agent_ids, last)
        for call in queue.handling:
            answered = call.caller
            assert isinstance(answered, QueueCaller)
            handler_id = call.agent.agent.id
            if answered.offered_agent_ids and selected(answered.entered_at):
                accepted = call.answered_at <= end
                for agent_id in set(answered.offered_agent_ids):
                    stats = stats_of(agent_id)
                    _count_offers(
                        stats,
                        agent_id,
                        answered.offered_agent_ids,
                        "accepted" if accepted else "open",
                    )
                    if accepted and handler_id == agent_id:
                        stats.alerting_total_ms += ms(call.answered_at) - ms(call.ring_started_at)
            _count_ongoing_call(stats_of(handler_id), call, now)

    def of(self, member: MemberState) -> AgentInteractionStats:
        """What `interaction_stats(queue, member, now, start, end, entered_filter)` gives."""
        agent = member.agent
        agent_id = agent.agent.id
        found = self._by_agent.get(agent_id)
        stats = AgentInteractionStats() if found is None else replace(found)
        if agent.status is AgentStatus.WRAP_UP and _wraps_up_after(
            self.queue, agent_id, agent.status_since
        ):
            stats.ongoing_wrap_up = 1
            stats.ongoing_wrap_up_ms = max(0, ms(self.now) - ms(agent.status_since))
        return stats


def interaction_stats(
    queue: QueueState,
    member: MemberState,
    now: float,
    start: float,
    end: float,
    entered_filter: Callable[[float], bool] | None = None,
) -> AgentInteractionStats:
    """The member's interactions with the calls that entered `queue` in [start, end) (the
    selection of call-queue-metrics' window aggregates, so the members' acceptedInteractions
    add up to the queue's acceptedCalls), and its ongoing ones with this queue now. The
    reference of QueueInteractions, which the endpoints use."""
    agent = member.agent
    agent_id = agent.agent.id
    end = min(end, now)
    stats = AgentInteractionStats()

    def selected(entered_at: float) -> bool:
        return start <= entered_at < end and (entered_filter is None or entered_filter(entered_at))

    records = queue.records
    first = bisect_left(records, start, lo=queue.records_head, key=attrgetter("ended_at"))
    for index in range(first, len(records)):
        record = records[index]
        if agent_id in record.offered_agent_ids and selected(record.entered_at):
            _count_record(stats, agent_id, record, end)
    for caller in queue.waiting:
        if agent_id in caller.offered_agent_ids and selected(caller.entered_at):
            ringing = caller.ringing_agent is not None
            _count_offers(
                stats, agent_id, caller.offered_agent_ids, "open" if ringing else "missed"
            )
    for call in queue.handling:
        answered = call.caller
        assert isinstance(answered, QueueCaller)
        if agent_id in answered.offered_agent_ids and selected(answered.entered_at):
            accepted = call.answered_at <= end
            _count_offers(
                stats, agent_id, answered.offered_agent_ids, "accepted" if accepted else "open"
            )
            if accepted and call.agent is agent:
                stats.alerting_total_ms += ms(call.answered_at) - ms(call.ring_started_at)
        if call.agent is agent:
            _count_ongoing_call(stats, call, now)
    if agent.status is AgentStatus.WRAP_UP and _wraps_up_after(queue, agent_id, agent.status_since):
        stats.ongoing_wrap_up = 1
        stats.ongoing_wrap_up_ms = max(0, ms(now) - ms(agent.status_since))
    return stats


def _count_ongoing_call(stats: AgentInteractionStats, call: ActiveCall, now: float) -> None:
    handling = ms(now) - ms(call.answered_at)
    stats.ongoing_handling += 1
    stats.ongoing_handling_ms += handling
    if call.on_hold_at(now):
        assert call.hold_start_at is not None
        stats.ongoing_on_hold += 1
        stats.ongoing_on_hold_ms += ms(now) - ms(call.hold_start_at)
    else:
        stats.ongoing_talking += 1
        stats.ongoing_talking_ms += handling - ms(call.hold_seconds_at(now))


def _wraps_up_after(queue: QueueState, agent_id: str, wrap_up_since: float) -> bool:
    """Whether the agent's wrap-up follows a call of this queue: its record ended (exactly)
    when the wrap-up began (a wrap-up may follow a ring group or outbound call instead)."""
    records = queue.records
    key = attrgetter("ended_at")
    low = bisect_left(records, wrap_up_since, lo=queue.records_head, key=key)
    high = bisect_right(records, wrap_up_since, lo=low, key=key)
    return any(records[index].agent_id == agent_id for index in range(low, high))
