"""Deterministic discrete-event model of the account's call queues: callers arrive, wait, ring
agents, talk, hold, abandon or get routed away; agents change presence; finished calls are kept."""

from __future__ import annotations

import heapq
import math
import random
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from enum import Enum
from operator import attrgetter
from typing import Any, Callable, Iterable

from .directory import Account, Agent, CallQueue, QueueRole, QueueTraffic, RoutingDestination
from .metrics import DurationUnit, MetricValue, render_call_queue_metrics
from .stats import CallWindowStats, LiveQueueStats

DAY_SECONDS = 86_400.0

# Relative call demand by local hour of day (1.0 = the queue's peak rate); weekends are quieter.
# Nights keep some traffic on purpose: a demo or a test started at any hour still sees callers
# (fewer agents are logged in then, so queues still form).
HOURLY_DEMAND: tuple[float, ...] = (
    0.15, 0.15, 0.15, 0.15, 0.15, 0.18, 0.25, 0.45, 0.75, 0.95, 1.00, 0.95,
    0.70, 0.80, 0.95, 1.00, 0.85, 0.60, 0.40, 0.28, 0.22, 0.18, 0.16, 0.15,
)
WEEKEND_DEMAND_FACTOR = 0.5


class AgentStatus(str, Enum):
    """Presence of an agent, as the vendor's metric descriptions name them."""

    AVAILABLE = "Available"
    BUSY = "Busy"  # on a queue call
    WRAP_UP = "Wrap-up"
    AWAY = "Away"
    APPEAR_OFFLINE = "Appear offline"
    DND = "Dnd"
    LOGGED_OUT = "Logged out"


# Status groups of the vendor's definitions: "eligible" agents are in Available, Busy, Away or
# Appear Offline; "logged out and DND" are Offline, Logged out or Dnd; wrap-up is its own group.
ELIGIBLE_STATUSES = frozenset({AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.AWAY, AgentStatus.APPEAR_OFFLINE})
LOGGED_OUT_OR_DND_STATUSES = frozenset({AgentStatus.LOGGED_OUT, AgentStatus.DND})
_IDLE_STATUSES = frozenset(
    {AgentStatus.AVAILABLE, AgentStatus.AWAY, AgentStatus.APPEAR_OFFLINE, AgentStatus.DND, AgentStatus.LOGGED_OUT}
)


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


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished passage of a call through one queue (times are epoch seconds)."""

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
    agent_id: str | None = None
    ring_started_at: float | None = None  # ringing of the agent who answered
    answered_at: float | None = None
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    transferred_in: bool = False  # arrived by a transfer from another queue
    transfer_target_queue_id: str | None = None
    # Whole-millisecond durations, derived once: window aggregates sum these integers, so a
    # summary's totals are exactly the sums of the per-queue totals.
    wait_ms: int = field(init=False)
    alerting_ms: int = field(init=False)  # ringing of the agent who answered
    talk_ms: int = field(init=False)
    hold_ms: int = field(init=False)

    def __post_init__(self) -> None:
        ring_started_at = self.ring_started_at if self.ring_started_at is not None else self.left_queue_at
        object.__setattr__(self, "wait_ms", _ms(self.left_queue_at - self.entered_at))
        object.__setattr__(self, "alerting_ms", _ms(self.left_queue_at - ring_started_at) if self.answered_at is not None else 0)
        object.__setattr__(self, "talk_ms", _ms(self.talk_seconds))
        object.__setattr__(self, "hold_ms", _ms(self.hold_seconds))

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


@dataclass(frozen=True, slots=True)
class LiveCall:
    """A read-only view of a call in progress in a queue."""

    call_id: str
    queue_id: str
    caller_number: str
    entered_at: float
    ringing_agent_id: str | None  # while waiting
    agent_id: str | None  # once answered
    answered_at: float | None
    on_hold: bool


@dataclass(slots=True, eq=False)
class _Member:
    agent: _AgentState
    role: QueueRole
    enabled: bool


@dataclass(slots=True, eq=False)
class _QueueState:
    queue: CallQueue
    traffic: QueueTraffic
    utc_offset_hours: int
    order: int  # directory position: the deterministic tie-breaker
    members: list[_Member] = field(default_factory=list)
    waiting: list[_Caller] = field(default_factory=list)  # FIFO
    handling: list[_ActiveCall] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)  # in ended_at order
    records_head: int = 0  # records before this index are pruned (compacted lazily)


@dataclass(slots=True, eq=False)
class _AgentState:
    agent: Agent
    status: AgentStatus
    utc_offset_hours: int
    answer_probability: float
    idle_since: float
    version: int = 0  # bumped on every status change; stale timers compare it
    reserved_for: _Caller | None = None  # the caller ringing this agent
    call: _ActiveCall | None = None
    queues: list[_QueueState] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.status is AgentStatus.AVAILABLE and self.reserved_for is None and self.call is None


@dataclass(slots=True, eq=False)
class _Caller:
    call_id: str
    queue: _QueueState
    caller_number: str
    entered_at: float
    overflow_at: float
    transferred_in: bool
    ringing_agent: _AgentState | None = None
    ring_started_at: float | None = None
    ring_serial: int = 0  # identifies the current ring; stale ring-end events compare it
    tried_agent_ids: set[str] = field(default_factory=set)
    offered_agent_ids: list[str] = field(default_factory=list)
    missed_offers: int = 0
    done: bool = False  # left the waiting line; pending patience/max-wait events are void


@dataclass(slots=True, eq=False)
class _ActiveCall:
    caller: _Caller
    agent: _AgentState
    ring_started_at: float
    answered_at: float
    hold_start_at: float | None
    hold_end_at: float | None
    ends_at: float

    def hold_seconds_at(self, now: float) -> float:
        if self.hold_start_at is None or self.hold_end_at is None or now <= self.hold_start_at:
            return 0.0
        return min(now, self.hold_end_at) - self.hold_start_at

    def on_hold_at(self, now: float) -> bool:
        return self.hold_start_at is not None and self.hold_end_at is not None and self.hold_start_at <= now < self.hold_end_at


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def demand_factor(epoch_seconds: float, utc_offset_hours: int) -> float:
    """Share of the peak call rate at this moment for a site at this UTC offset."""
    local = epoch_seconds + utc_offset_hours * 3600
    hour = int(local // 3600) % 24
    weekday = (int(local // DAY_SECONDS) + 3) % 7  # 1970-01-01 was a Thursday; Monday == 0
    factor = HOURLY_DEMAND[hour]
    return factor * WEEKEND_DEMAND_FACTOR if weekday >= 5 else factor


def staffing_level(epoch_seconds: float, utc_offset_hours: int) -> float:
    """How many agents want to be logged in, 0.25 (night) .. 1.0 (peak)."""
    return 0.25 + 0.75 * demand_factor(epoch_seconds, utc_offset_hours)


class QueueingModel:
    """The live model. Thread-safe: every public method takes `lock` (re-entrant).

    Time only moves forward, by `advance(now)`, which processes every scheduled event up to
    `now`. Random draws happen only inside events, so the state at time T depends on the
    seed and the start time alone, not on how often or in what steps it was advanced.
    """

    def __init__(
        self,
        account: Account,
        *,
        seed: int,
        start_time: float,
        warmup_seconds: float = 3600.0,
        history_retention_seconds: float = 2 * DAY_SECONDS,
    ) -> None:
        if warmup_seconds < 0 or history_retention_seconds <= 0:
            raise ValueError("warmup_seconds must be >= 0 and history_retention_seconds > 0")
        self.lock = threading.RLock()
        self.account = account
        self.history_retention_seconds = float(history_retention_seconds)
        self._rng = random.Random(f"8x8-simulator-model:{seed}")
        self._events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._event_serial = 0
        self._call_serial = 0
        self._now = float(start_time) - float(warmup_seconds)
        self._queues: dict[str, _QueueState] = {}
        self._agents: dict[str, _AgentState] = {}
        self._build_runtime()
        with self.lock:
            self.advance(float(start_time))  # the warm-up: history and live state before "now"

    # ----------------------------------------------------------------- public API
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
            self._prune_history()

    def queue_ids(self) -> list[str]:
        """Ids of the simulated (active) queues, in directory order."""
        return list(self._queues)

    def queue_state(self, queue_id: str) -> dict[str, MetricValue]:
        """Every Call Queue Metric API metric of one queue now: live values and last-24h
        aggregates, durations in seconds. Raises KeyError for unknown or deleted queues."""
        with self.lock:
            return render_call_queue_metrics(
                self.live_stats(queue_id),
                self.window_stats(queue_id, self._now - DAY_SECONDS, self._now),
                DurationUnit.SECONDS,
            )

    def live_stats(self, queue_id: str) -> LiveQueueStats:
        """Raw live statistics of one queue at the model time."""
        with self.lock:
            queue = self._queues[queue_id]
            now = self._now
            stats = LiveQueueStats()
            for caller in queue.waiting:
                waited = _ms(now - caller.entered_at)
                stats.waiting_calls += 1
                stats.waiting_total_ms += waited
                stats.waiting_longest_ms = max(stats.waiting_longest_ms, waited)
            for call in queue.handling:
                handling = _ms(now - call.answered_at)
                stats.handling_calls += 1
                stats.handling_total_ms += handling
                stats.handling_longest_ms = max(stats.handling_longest_ms, handling)
                if call.on_hold_at(now):
                    assert call.hold_start_at is not None
                    held = _ms(now - call.hold_start_at)
                    stats.on_hold_calls += 1
                    stats.on_hold_total_ms += held
                    stats.on_hold_longest_ms = max(stats.on_hold_longest_ms, held)
                else:
                    talked = _ms(now - call.answered_at - call.hold_seconds_at(now))
                    stats.talking_calls += 1
                    stats.talking_total_ms += talked
                    stats.talking_longest_ms = max(stats.talking_longest_ms, talked)
            for member in queue.members:
                primary = member.role is QueueRole.PRIMARY
                if primary:
                    stats.primary_agents += 1
                else:
                    stats.overflow_agents += 1
                if not member.enabled:
                    continue
                status = member.agent.status
                if primary:
                    stats.enabled_primary_agents += 1
                else:
                    stats.enabled_overflow_agents += 1
                if status in ELIGIBLE_STATUSES:
                    if primary:
                        stats.eligible_primary_agents += 1
                    else:
                        stats.eligible_overflow_agents += 1
                    if status is AgentStatus.AVAILABLE:
                        stats.available_agents += 1
                elif status is AgentStatus.WRAP_UP:
                    if primary:
                        stats.wrapping_up_primary_agents += 1
                    else:
                        stats.wrapping_up_overflow_agents += 1
                elif primary:
                    stats.logged_out_dnd_primary_agents += 1
                else:
                    stats.logged_out_dnd_overflow_agents += 1
            return stats

    def window_stats(
        self,
        queue_id: str,
        start: float,
        end: float,
        *,
        entered_filter: Callable[[float], bool] | None = None,
    ) -> CallWindowStats:
        """Aggregates over the calls that entered `queue_id` in [start, end).

        `entered_filter` narrows further by entry time (used for intra-day windows). Calls
        still in progress at `end` count as active; data older than the retention is gone.
        """
        with self.lock:
            queue = self._queues[queue_id]
            end = min(end, self._now)
            stats = CallWindowStats()
            records = queue.records
            # Records are in ended_at order and ended_at >= entered_at: skip those ended before start.
            first = bisect_left(records, start, lo=queue.records_head, key=attrgetter("ended_at"))
            for index in range(first, len(records)):
                record = records[index]
                if not start <= record.entered_at < end:
                    continue
                if entered_filter is not None and not entered_filter(record.entered_at):
                    continue
                self._count_record(stats, record, end)
            for caller in queue.waiting:
                if start <= caller.entered_at < end and (entered_filter is None or entered_filter(caller.entered_at)):
                    stats.entered += 1
                    stats.active += 1
            for call in queue.handling:
                entered_at = call.caller.entered_at
                if not start <= entered_at < end:
                    continue
                if entered_filter is not None and not entered_filter(entered_at):
                    continue
                stats.entered += 1
                stats.active += 1
                if call.answered_at <= end:
                    self._count_answer(
                        stats, _ms(call.answered_at - entered_at), _ms(call.answered_at - call.ring_started_at)
                    )
            return stats

    def completed_calls(
        self, start: float, end: float, queue_ids: Iterable[str] | None = None
    ) -> list[CallRecord]:
        """Retained records that ended in [start, end), ordered by end time (then queue)."""
        with self.lock:
            chosen = self._queues.values() if queue_ids is None else [self._queues[q] for q in queue_ids]
            found: list[CallRecord] = []
            for queue in chosen:
                first = bisect_left(queue.records, start, lo=queue.records_head, key=attrgetter("ended_at"))
                for index in range(first, len(queue.records)):
                    record = queue.records[index]
                    if record.ended_at >= end:
                        break
                    found.append(record)
            found.sort(key=attrgetter("ended_at"))
            return found

    def live_calls(self, queue_id: str) -> list[LiveCall]:
        """Calls in progress in a queue: the waiting ones (FIFO) then the answered ones."""
        with self.lock:
            queue = self._queues[queue_id]
            now = self._now
            waiting = [
                LiveCall(
                    call_id=c.call_id,
                    queue_id=queue_id,
                    caller_number=c.caller_number,
                    entered_at=c.entered_at,
                    ringing_agent_id=c.ringing_agent.agent.id if c.ringing_agent else None,
                    agent_id=None,
                    answered_at=None,
                    on_hold=False,
                )
                for c in queue.waiting
            ]
            handling = [
                LiveCall(
                    call_id=a.caller.call_id,
                    queue_id=queue_id,
                    caller_number=a.caller.caller_number,
                    entered_at=a.caller.entered_at,
                    ringing_agent_id=None,
                    agent_id=a.agent.agent.id,
                    answered_at=a.answered_at,
                    on_hold=a.on_hold_at(now),
                )
                for a in queue.handling
            ]
            return waiting + handling

    def agent_statuses(self) -> dict[str, AgentStatus]:
        """Current presence of every (non-deleted) agent."""
        with self.lock:
            return {agent_id: state.status for agent_id, state in self._agents.items()}

    def footprint(self) -> dict[str, int]:
        """Sizes of the model's growing structures, to check that memory stays bounded."""
        with self.lock:
            return {
                "events": len(self._events),
                "records": sum(len(q.records) - q.records_head for q in self._queues.values()),
                "stored_records": sum(len(q.records) for q in self._queues.values()),
                "waiting": sum(len(q.waiting) for q in self._queues.values()),
                "handling": sum(len(q.handling) for q in self._queues.values()),
            }

    # ----------------------------------------------------------------- set-up
    def _build_runtime(self) -> None:
        rng = self._rng
        start = self._now
        for pbx in self.account.pbxes:
            if pbx.deleted:
                continue
            sites_by_id = {site.id: site for site in pbx.sites}
            for agent in pbx.agents:
                if agent.deleted:
                    continue
                offset = sites_by_id[agent.site_id].utc_offset_hours
                self._agents[agent.id] = _AgentState(
                    agent=agent,
                    status=self._initial_status(staffing_level(start, offset)),
                    utc_offset_hours=offset,
                    answer_probability=rng.uniform(0.82, 0.97),
                    idle_since=start - rng.uniform(0.0, 600.0),
                )
        for order, queue in enumerate(self.account.active_queues()):
            site = self.account.site(queue.site_id)
            assert site is not None and queue.traffic is not None
            state = _QueueState(queue=queue, traffic=queue.traffic, utc_offset_hours=site.utc_offset_hours, order=order)
            for member in queue.members:
                agent_state = self._agents[member.agent_id]
                state.members.append(_Member(agent_state, member.role, member.enabled))
                if state not in agent_state.queues:
                    agent_state.queues.append(state)
            self._queues[queue.id] = state
        for agent_state in self._agents.values():
            self._schedule_status_timer(agent_state)
        for state in self._queues.values():
            self._schedule_next_arrival(state)

    def _initial_status(self, staffing: float) -> AgentStatus:
        draw = self._rng.random()
        logged_out = 0.1 + 0.4 * (1.0 - staffing)
        for status, share in (
            (AgentStatus.LOGGED_OUT, logged_out),
            (AgentStatus.AWAY, 0.08),
            (AgentStatus.DND, 0.04),
            (AgentStatus.APPEAR_OFFLINE, 0.03),
        ):
            if draw < share:
                return status
            draw -= share
        return AgentStatus.AVAILABLE

    # ----------------------------------------------------------------- event plumbing
    def _schedule(self, when: float, handler: Callable[..., None], *args: Any) -> None:
        self._event_serial += 1  # ties are broken by scheduling order: deterministic
        heapq.heappush(self._events, (when, self._event_serial, handler, args))

    def _prune_history(self) -> None:
        cutoff = self._now - self.history_retention_seconds
        for queue in self._queues.values():
            records = queue.records
            head = queue.records_head
            while head < len(records) and records[head].ended_at < cutoff:
                head += 1
            if head > 256 and head * 2 > len(records):
                del records[:head]  # compact only now and then: amortised O(1) per record
                head = 0
            queue.records_head = head

    # ----------------------------------------------------------------- arrivals
    def _schedule_next_arrival(self, queue: _QueueState) -> None:
        # The rate is constant within a clock hour, so an exponential gap is exact up to the
        # next hour boundary; past it, re-draw at the boundary (memorylessness).
        now = self._now
        boundary = (math.floor(now / 3600.0) + 1.0) * 3600.0
        rate = queue.traffic.peak_arrivals_per_hour / 3600.0 * demand_factor(now, queue.utc_offset_hours)
        gap = self._rng.expovariate(rate)
        if now + gap < boundary:
            self._schedule(now + gap, self._on_arrival, queue)
        else:
            self._schedule(boundary, self._schedule_next_arrival, queue)

    def _on_arrival(self, queue: _QueueState) -> None:
        self._call_serial += 1
        call_id = str(1_600_000_000_000 + self._call_serial)
        caller_number = f"+1{self._rng.randint(2_002_000_000, 9_899_999_999)}"
        self._enter_queue(queue, call_id, caller_number, transferred_in=False)
        self._schedule_next_arrival(queue)

    def _enter_queue(self, queue: _QueueState, call_id: str, caller_number: str, *, transferred_in: bool) -> None:
        now = self._now
        traffic = queue.traffic
        caller = _Caller(
            call_id=call_id,
            queue=queue,
            caller_number=caller_number,
            entered_at=now,
            overflow_at=now + traffic.overflow_after_seconds,
            transferred_in=transferred_in,
        )
        nobody_logged_in = not any(
            m.enabled and m.agent.status not in LOGGED_OUT_OR_DND_STATUSES for m in queue.members
        )
        if nobody_logged_in or len(queue.waiting) >= traffic.max_waiting_callers:
            self._route_away(caller)  # never offered to anyone: a "diverted" call
            return
        queue.waiting.append(caller)
        patience = 3.0 + self._rng.expovariate(1.0 / traffic.mean_patience_seconds)
        self._schedule(now + patience, self._on_patience, caller)
        self._schedule(now + traffic.max_wait_seconds, self._on_max_wait, caller)
        if any(m.role is QueueRole.OVERFLOW for m in queue.members):
            self._schedule(caller.overflow_at, self._on_overflow_ready, caller)
        self._dispatch(queue)

    # ----------------------------------------------------------------- waiting callers
    def _on_patience(self, caller: _Caller) -> None:
        if caller.done:
            return
        self._leave_waiting(caller)
        self._record_unanswered(caller, CallOutcome.ABANDONED)

    def _on_max_wait(self, caller: _Caller) -> None:
        if caller.done:
            return
        self._route_away(caller)

    def _on_overflow_ready(self, caller: _Caller) -> None:
        if caller.done or caller.ringing_agent is not None:
            return
        self._dispatch(caller.queue)

    def _route_away(self, caller: _Caller) -> None:
        queue = caller.queue
        destination = queue.traffic.destination
        if caller.transferred_in:
            # A transferred call is not bounced on again: no ping-pong between queues.
            destination = RoutingDestination.VOICEMAIL
        target_id = queue.traffic.transfer_queue_id if destination is RoutingDestination.CALL_QUEUE else None
        if destination is RoutingDestination.CALL_QUEUE and target_id not in self._queues:
            destination, target_id = RoutingDestination.VOICEMAIL, None
        self._leave_waiting(caller)
        self._record_unanswered(caller, _OUTCOME_BY_DESTINATION[destination], transfer_target_queue_id=target_id)
        if target_id is not None:
            self._enter_queue(self._queues[target_id], caller.call_id, caller.caller_number, transferred_in=True)

    def _leave_waiting(self, caller: _Caller) -> None:
        caller.done = True
        queue = caller.queue
        if caller in queue.waiting:
            queue.waiting.remove(caller)
        agent = caller.ringing_agent
        if agent is not None:  # the ring stops with the caller gone
            caller.ringing_agent = None
            agent.reserved_for = None
            self._rearm_status_timer(agent)
            self._agent_freed(agent)

    def _record_unanswered(
        self, caller: _Caller, outcome: CallOutcome, *, transfer_target_queue_id: str | None = None
    ) -> None:
        self._record_call(caller, outcome, left_queue_at=self._now,
                          transfer_target_queue_id=transfer_target_queue_id)

    def _record_call(self, caller: _Caller, outcome: CallOutcome, *, left_queue_at: float,
                     **details: Any) -> None:
        """Append the finished call to its queue's history (ended now)."""
        queue = caller.queue
        self._append_record(
            queue,
            CallRecord(
                call_id=caller.call_id,
                pbx_id=queue.queue.pbx_id,
                site_id=queue.queue.site_id,
                queue_id=queue.queue.id,
                caller_number=caller.caller_number,
                entered_at=caller.entered_at,
                left_queue_at=left_queue_at,
                ended_at=self._now,
                outcome=outcome,
                offered_agent_ids=tuple(caller.offered_agent_ids),
                missed_offers=caller.missed_offers,
                transferred_in=caller.transferred_in,
                **details,
            ),
        )

    # ----------------------------------------------------------------- offering and answering
    def _dispatch(self, queue: _QueueState) -> None:
        for caller in queue.waiting:
            if caller.ringing_agent is not None:
                continue
            agent = self._pick_agent(queue, caller)
            if agent is not None:
                self._offer(caller, agent)

    def _pick_agent(self, queue: _QueueState, caller: _Caller) -> _AgentState | None:
        for role in (QueueRole.PRIMARY, QueueRole.OVERFLOW):
            if role is QueueRole.OVERFLOW and self._now < caller.overflow_at:
                return None
            ready = [m.agent for m in queue.members if m.role is role and m.enabled and m.agent.ready]
            if not ready:
                continue
            # Prefer agents who have not let this caller ring out yet; then the longest idle.
            untried = [a for a in ready if a.agent.id not in caller.tried_agent_ids]
            return min(untried or ready, key=attrgetter("idle_since"))
        return None

    def _offer(self, caller: _Caller, agent: _AgentState) -> None:
        agent.reserved_for = caller
        caller.ringing_agent = agent
        caller.ring_started_at = self._now
        caller.ring_serial += 1
        caller.offered_agent_ids.append(agent.agent.id)
        timeout = caller.queue.traffic.ring_timeout_seconds
        answers = self._rng.random() < agent.answer_probability
        ring = min(timeout - 0.5, 1.5 + self._rng.expovariate(1.0 / 4.0)) if answers else timeout
        self._schedule(self._now + ring, self._on_ring_end, caller, caller.ring_serial, answers)

    def _on_ring_end(self, caller: _Caller, ring_serial: int, answers: bool) -> None:
        agent = caller.ringing_agent
        if caller.done or ring_serial != caller.ring_serial or agent is None:
            return
        caller.ringing_agent = None
        agent.reserved_for = None
        if answers:
            self._answer(caller, agent)
            return
        caller.missed_offers += 1
        caller.tried_agent_ids.add(agent.agent.id)
        if self._rng.random() < 0.3:
            self._set_status(agent, AgentStatus.AWAY)  # stepped away from the desk
        else:
            self._rearm_status_timer(agent)
        self._agent_freed(agent, also=caller.queue)

    def _answer(self, caller: _Caller, agent: _AgentState) -> None:
        queue = caller.queue
        traffic = queue.traffic
        now = self._now
        caller.done = True
        queue.waiting.remove(caller)
        sigma = 0.7
        mu = math.log(traffic.mean_talk_seconds) - sigma * sigma / 2  # lognormal with that mean
        talk = min(max(self._rng.lognormvariate(mu, sigma), 8.0), 5400.0)
        hold_start_at: float | None = None
        hold_end_at: float | None = None
        hold = 0.0
        if self._rng.random() < traffic.hold_probability:
            hold = min(5.0 + self._rng.expovariate(1.0 / traffic.mean_hold_seconds), 900.0)
            hold_start_at = now + talk * self._rng.uniform(0.2, 0.7)
            hold_end_at = hold_start_at + hold
        call = _ActiveCall(
            caller=caller,
            agent=agent,
            ring_started_at=caller.ring_started_at if caller.ring_started_at is not None else now,
            answered_at=now,
            hold_start_at=hold_start_at,
            hold_end_at=hold_end_at,
            ends_at=now + talk + hold,
        )
        queue.handling.append(call)
        agent.call = call
        self._set_status(agent, AgentStatus.BUSY)
        self._schedule(call.ends_at, self._on_call_end, call)

    def _on_call_end(self, call: _ActiveCall) -> None:
        caller = call.caller
        queue = caller.queue
        agent = call.agent
        queue.handling.remove(call)
        wrap_up = 3.0 + self._rng.expovariate(1.0 / queue.traffic.mean_wrap_up_seconds)
        hold = call.hold_seconds_at(call.ends_at)
        self._record_call(
            caller, CallOutcome.ANSWERED, left_queue_at=call.answered_at,
            agent_id=agent.agent.id,
            ring_started_at=call.ring_started_at,
            answered_at=call.answered_at,
            talk_seconds=call.ends_at - call.answered_at - hold,
            hold_seconds=hold,
            wrap_up_seconds=wrap_up,
        )
        agent.call = None
        self._set_status(agent, AgentStatus.WRAP_UP)
        self._schedule(self._now + wrap_up, self._on_wrap_up_end, agent, agent.version)

    def _on_wrap_up_end(self, agent: _AgentState, version: int) -> None:
        if version != agent.version:
            return
        if self._rng.random() < 0.08:
            self._set_status(agent, AgentStatus.AWAY)  # a break after the call
            return
        self._set_status(agent, AgentStatus.AVAILABLE)
        self._agent_freed(agent)

    def _agent_freed(self, agent: _AgentState, also: _QueueState | None = None) -> None:
        """Offer waiting callers to a newly free agent, longest-waiting queue first."""
        queues = list(agent.queues)
        if also is not None and also not in queues:
            queues.append(also)
        pending: list[tuple[float, int, _QueueState]] = []
        for queue in queues:
            oldest = next((c.entered_at for c in queue.waiting if c.ringing_agent is None), None)
            if oldest is not None:
                pending.append((oldest, queue.order, queue))
        for _, _, queue in sorted(pending, key=lambda item: (item[0], item[1])):
            self._dispatch(queue)

    # ----------------------------------------------------------------- agent presence
    def _set_status(self, agent: _AgentState, status: AgentStatus) -> None:
        agent.status = status
        agent.version += 1
        if status is AgentStatus.AVAILABLE:
            agent.idle_since = self._now
        if status in _IDLE_STATUSES:
            self._schedule_status_timer(agent)

    def _rearm_status_timer(self, agent: _AgentState) -> None:
        # Presence timers that fire while an agent rings are dropped; re-draw one afterwards.
        agent.version += 1
        if agent.status in _IDLE_STATUSES:
            self._schedule_status_timer(agent)

    def _schedule_status_timer(self, agent: _AgentState) -> None:
        staffing = staffing_level(self._now, agent.utc_offset_hours)
        # Exit rates per second from each idle status; fewer agents stay logged in off-peak.
        rates: tuple[tuple[AgentStatus, float], ...]
        status = agent.status
        if status is AgentStatus.AVAILABLE:
            rates = (
                (AgentStatus.AWAY, 1 / 2700),
                (AgentStatus.DND, 1 / 10800),
                (AgentStatus.APPEAR_OFFLINE, 1 / 21600),
                (AgentStatus.LOGGED_OUT, 1 / (28800 * staffing)),
            )
        elif status is AgentStatus.AWAY:
            rates = ((AgentStatus.AVAILABLE, 1 / 360), (AgentStatus.LOGGED_OUT, 1 / 14400))
        elif status is AgentStatus.DND:
            rates = ((AgentStatus.AVAILABLE, 1 / 480),)
        elif status is AgentStatus.APPEAR_OFFLINE:
            rates = ((AgentStatus.AVAILABLE, 1 / 720),)
        elif status is AgentStatus.LOGGED_OUT:
            rates = ((AgentStatus.AVAILABLE, staffing / 1500),)
        else:
            return
        total = sum(rate for _, rate in rates)
        delay = self._rng.expovariate(total)
        draw = self._rng.random() * total
        target = rates[-1][0]
        for candidate, rate in rates:
            if draw < rate:
                target = candidate
                break
            draw -= rate
        self._schedule(self._now + delay, self._on_status_timer, agent, agent.version, target)

    def _on_status_timer(self, agent: _AgentState, version: int, target: AgentStatus) -> None:
        if version != agent.version or agent.reserved_for is not None or agent.call is not None:
            return
        self._set_status(agent, target)
        if target is AgentStatus.AVAILABLE:
            self._agent_freed(agent)

    # ----------------------------------------------------------------- records and windows
    def _append_record(self, queue: _QueueState, record: CallRecord) -> None:
        queue.records.append(record)

    @staticmethod
    def _count_waited(stats: CallWindowStats, wait_ms: int) -> None:
        stats.waited_calls += 1
        stats.waiting_total_ms += wait_ms
        if wait_ms > stats.waiting_longest_ms:
            stats.waiting_longest_ms = wait_ms

    @classmethod
    def _count_answer(cls, stats: CallWindowStats, wait_ms: int, alerting_ms: int) -> None:
        # Answer time is the wait of an answered call: queue entry to answer.
        stats.accepted += 1
        stats.answer_total_ms += wait_ms
        stats.alerting_total_ms += alerting_ms
        cls._count_waited(stats, wait_ms)

    def _count_record(self, stats: CallWindowStats, record: CallRecord, end: float) -> None:
        stats.entered += 1
        if record.ended_at > end:
            # Finished after the window: active at its end, maybe answered within it.
            stats.active += 1
            if record.answered_at is not None and record.answered_at <= end:
                self._count_answer(stats, record.wait_ms, record.alerting_ms)
            elif record.left_queue_at <= end:
                self._count_waited(stats, record.wait_ms)
            return
        stats.completed += 1
        outcome = record.outcome
        if outcome is CallOutcome.ANSWERED:
            self._count_answer(stats, record.wait_ms, record.alerting_ms)
            talk, hold = record.talk_ms, record.hold_ms
            stats.handled_calls += 1
            stats.talk_total_ms += talk
            stats.hold_total_ms += hold
            stats.handling_total_ms += talk + hold
            if talk > stats.talk_longest_ms:
                stats.talk_longest_ms = talk
            if hold > stats.hold_longest_ms:
                stats.hold_longest_ms = hold
            if talk + hold > stats.handling_longest_ms:
                stats.handling_longest_ms = talk + hold
            return
        self._count_waited(stats, record.wait_ms)
        if outcome is CallOutcome.ABANDONED:
            stats.abandoned += 1
        elif outcome is CallOutcome.VOICEMAIL:
            stats.voicemail += 1
        elif outcome is CallOutcome.TRANSFERRED_TO_CALL_QUEUE:
            stats.transferred_to_call_queue += 1
        elif outcome is CallOutcome.TRANSFERRED_TO_RING_GROUP:
            stats.transferred_to_ring_group += 1
        else:
            stats.transferred_to_external_number += 1
        if record.diverted:
            stats.diverted += 1
        if record.missed:
            stats.missed += 1
