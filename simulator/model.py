"""Deterministic discrete-event model of the account's telephony: callers arrive in call queues
and ring groups, wait, ring agents, talk, hold, abandon or get routed away; agents change
presence and place outbound calls; finished calls are kept with their legs (see calls.py)."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .behaviour import (
    DAY_SECONDS,
    HOURLY_DEMAND,
    OUTBOUND_MEAN_WRAP_UP_SECONDS,
    OUTBOUND_PEAK_PER_AGENT_PER_HOUR,
    WEEKEND_DEMAND_FACTOR,
    RingGroupDecision,
    decide_ring_group,
    demand_factor,
    draw_outbound,
    draw_ring,
    draw_talk,
    draw_wrap_up,
    external_number,
    next_arrival,
    staffing_level,
)
from .call_book import CallBook, Journey
from .call_records import CallOutcome, CallRecord, routing
from .calls import (
    INCOMING,
    OUTGOING,
    CallLeg,
    Disposition,
    FinishedCall,
    GroupKind,
    GroupRef,
    collector_paused,
    ms,
)
from .directory import (
    Account,
    Agent,
    QueueRole,
    QueueTraffic,
    RingGroupTraffic,
    Site,
)
from .events import DiscreteEventModel
from .history import HistorySynthesizer
from .metrics import DurationUnit, MetricValue, render_call_queue_metrics
from .model_state import (
    ELIGIBLE_STATUSES,
    IDLE_STATUSES,
    LOGGED_OUT_OR_DND_STATUSES,
    ActiveCall,
    AgentState,
    AgentStatus,
    MemberState,
    OutboundCall,
    QueueCaller,
    QueueState,
    RingGroupCaller,
    RingGroupState,
    SiteState,
)
from .stats import CallWindowStats, LiveQueueStats

__all__ = [
    "DAY_SECONDS",
    "HOURLY_DEMAND",
    "WEEKEND_DEMAND_FACTOR",
    "demand_factor",
    "staffing_level",
]

# The last part of the history is simulated event by event (so the live state at the start is
# the natural outcome of it); anything older is synthesized cheaply (history.py).
SIMULATED_HISTORY_SECONDS = 2 * 3600.0
# The kept history must hold the generated one, plus this margin.
HISTORY_MARGIN_SECONDS = 3600.0

_DISPOSITION_BY_OUTCOME = {
    CallOutcome.ANSWERED: Disposition.ANSWERED,
    CallOutcome.ABANDONED: Disposition.ABANDONED,
    CallOutcome.VOICEMAIL: Disposition.VOICEMAIL,
    CallOutcome.TRANSFERRED_TO_CALL_QUEUE: Disposition.TRANSFERRED,
    CallOutcome.TRANSFERRED_TO_RING_GROUP: Disposition.TRANSFERRED,
    CallOutcome.TRANSFERRED_TO_EXTERNAL_NUMBER: Disposition.TRANSFERRED,
}


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
    passage: int = 1  # 1 + the queues and ring groups the call went through before this one
    offered_agent_ids: tuple[str, ...] = ()  # every agent rung so far, in order
    missed_offers: int = 0  # rings that ended without an answer
    hold_seconds: float = 0.0  # on hold so far


@dataclass(frozen=True, slots=True)
class LiveRingGroupCall:
    """A read-only view of a call in progress in a ring group: ringing (every member at once)
    or answered."""

    call_id: str
    ring_group_id: str
    caller_number: str
    entered_at: float
    passage: int  # as LiveCall.passage
    ringing_agent_ids: tuple[str, ...]  # while it rings
    agent_id: str | None  # once answered
    answered_at: float | None
    on_hold: bool
    hold_seconds: float  # on hold so far


@dataclass(frozen=True, slots=True)
class RingGroupInfo:
    """A ring group as the historical endpoints report it (ground truth for tests)."""

    id: str
    pbx: str  # PBX name
    site: str  # site name
    name: str
    extension: str
    member_extensions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExtensionInfo:
    """An extension (every active agent) as the Extension Summary reports it."""

    agent_id: str
    pbx: str  # PBX name
    site: str
    extension: str
    first_name: str
    last_name: str
    department: str
    branch: str
    email: str
    username: str
    service_type: str = "UE"


class QueueingModel(DiscreteEventModel):
    """The live model. Thread-safe: every public method takes `lock` (re-entrant).

    Time only moves forward, by `advance(now)`, which processes every scheduled event up to
    `now`. Random draws happen only inside events, so the state at time T depends on the
    seed and the start time alone, not on how often or in what steps it was advanced.

    `history_seconds` of calls exist before the start: the last `SIMULATED_HISTORY_SECONDS`
    of them simulated, the older ones synthesized (history.py). Finished calls are kept for
    `history_retention_seconds` (default: the larger of 48 h and the history plus a day).
    """

    def __init__(
        self,
        account: Account,
        *,
        seed: int,
        start_time: float,
        history_seconds: float = 3600.0,
        history_retention_seconds: float | None = None,
    ) -> None:
        history_seconds = float(history_seconds)
        if history_retention_seconds is None:
            history_retention_seconds = max(2 * DAY_SECONDS, history_seconds + DAY_SECONDS)
        if history_seconds < 0:
            raise ValueError("history_seconds must be >= 0")
        if history_retention_seconds < history_seconds + HISTORY_MARGIN_SECONDS:
            raise ValueError(
                f"history_retention_seconds must be at least history_seconds + {HISTORY_MARGIN_SECONDS:g}"
            )
        self.account = account
        self.history_seconds = history_seconds
        self.history_retention_seconds = float(history_retention_seconds)
        self._seed = seed
        self._rng = random.Random(f"8x8-simulator-model:{seed}")
        self._call_serial = 0
        simulated = min(history_seconds, SIMULATED_HISTORY_SECONDS)
        self._init_events(float(start_time) - simulated)
        self._queues: dict[str, QueueState] = {}
        self._ring_groups: dict[str, RingGroupState] = {}
        self._sites: list[SiteState] = []
        self._agents: dict[str, AgentState] = {}
        self._pbx_names: dict[str, str] = {pbx.id: pbx.name for pbx in account.pbxes}
        self.book = CallBook()
        synthesized = history_seconds > simulated
        with self.lock, collector_paused() if synthesized else nullcontext():
            self._build_runtime()
            if synthesized:
                self._synthesize_history(float(start_time) - history_seconds, self._now)
            self.advance(float(start_time))  # history and live state before "now"

    # ----------------------------------------------------------------- public API
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
                waited = ms(now - caller.entered_at)
                stats.waiting_calls += 1
                stats.waiting_total_ms += waited
                stats.waiting_longest_ms = max(stats.waiting_longest_ms, waited)
            for call in queue.handling:
                handling = ms(now - call.answered_at)
                stats.handling_calls += 1
                stats.handling_total_ms += handling
                stats.handling_longest_ms = max(stats.handling_longest_ms, handling)
                if call.on_hold_at(now):
                    assert call.hold_start_at is not None
                    held = ms(now - call.hold_start_at)
                    stats.on_hold_calls += 1
                    stats.on_hold_total_ms += held
                    stats.on_hold_longest_ms = max(stats.on_hold_longest_ms, held)
                else:
                    talked = ms(now - call.answered_at - call.hold_seconds_at(now))
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
                    # Not while a call rings the agent (queue-agent-activity: ALERTING or
                    # BUSY_OTHER), so availableAgents == the agents AVAILABLE_IDLE there.
                    if member.agent.ready:
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
                if start <= caller.entered_at < end and (
                    entered_filter is None or entered_filter(caller.entered_at)
                ):
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
                    answered_ms = ms(call.answered_at)
                    self._count_answer(
                        stats, answered_ms - ms(entered_at), answered_ms - ms(call.ring_started_at)
                    )
            return stats

    def completed_calls(
        self, start: float, end: float, queue_ids: Iterable[str] | None = None
    ) -> list[CallRecord]:
        """Retained records that ended in [start, end), ordered by end time (then queue)."""
        with self.lock:
            chosen = (
                self._queues.values() if queue_ids is None else [self._queues[q] for q in queue_ids]
            )
            found: list[CallRecord] = []
            for queue in chosen:
                first = bisect_left(
                    queue.records, start, lo=queue.records_head, key=attrgetter("ended_at")
                )
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
                    passage=c.journey.top_legs + 1,
                    offered_agent_ids=tuple(c.offered_agent_ids),
                    missed_offers=c.missed_offers,
                )
                for c in queue.waiting
            ]
            handling = [
                LiveCall(
                    call_id=a.caller.journey.call_id,
                    queue_id=queue_id,
                    caller_number=a.caller.journey.external_number,
                    entered_at=a.caller.entered_at,
                    ringing_agent_id=None,
                    agent_id=a.agent.agent.id,
                    answered_at=a.answered_at,
                    on_hold=a.on_hold_at(now),
                    passage=a.caller.journey.top_legs + 1,
                    offered_agent_ids=tuple(a.caller.offered_agent_ids),
                    missed_offers=a.caller.missed_offers,
                    hold_seconds=a.hold_seconds_at(now),
                )
                for a in queue.handling
                if isinstance(a.caller, QueueCaller)
            ]
            return waiting + handling

    def live_ring_group_calls(self) -> list[LiveRingGroupCall]:
        """Calls in progress in ring groups, found through the agents they ring or talk to."""
        with self.lock:
            now = self._now
            found: dict[int, LiveRingGroupCall] = {}
            for agent in self._agents.values():
                caller, call = agent.reserved_for, agent.call
                if isinstance(caller, RingGroupCaller) and id(caller) not in found:
                    found[id(caller)] = LiveRingGroupCall(
                        caller.journey.call_id,
                        caller.group.group.id,
                        caller.journey.external_number,
                        caller.entered_at,
                        caller.journey.top_legs + 1,
                        tuple(member.agent.id for member in caller.ringing),
                        None,
                        None,
                        False,
                        0.0,
                    )
                elif isinstance(call, ActiveCall) and isinstance(call.caller, RingGroupCaller):
                    caller = call.caller
                    found[id(caller)] = LiveRingGroupCall(
                        caller.journey.call_id,
                        caller.group.group.id,
                        caller.journey.external_number,
                        caller.entered_at,
                        caller.journey.top_legs + 1,
                        (),
                        agent.agent.id,
                        call.answered_at,
                        call.on_hold_at(now),
                        call.hold_seconds_at(now),
                    )
            return list(found.values())

    def runtime_queue(self, queue_id: str) -> QueueState:
        """The live state of one active queue (its members, callers, records): read it with
        `lock` held. Raises KeyError for unknown or deleted queues."""
        return self._queues[queue_id]

    def set_presence(self, agent_id: str, status: AgentStatus, now: float) -> None:
        """The agent sets its presence itself at `now` (the admin API, a test, a demo):
        Available, Away, Dnd, Appear offline or Logged out. Refused (ValueError) while it is
        rung or on a call; a wrap-up under way ends. KeyError for an unknown agent."""
        if status not in IDLE_STATUSES:
            raise ValueError(f"{status.value} is not a presence an agent sets itself")
        with self.lock:
            self.advance(now)
            agent = self._agents[agent_id]
            if agent.call is not None or agent.reserved_for is not None:
                raise ValueError("the agent is on a call or being rung")
            self._set_status(agent, status)  # a new version: pending timers of it lapse
            if status is AgentStatus.AVAILABLE:
                self._agent_freed(agent)

    def set_members_enabled(self, queue_id: str, enabled: bool | None, now: float) -> None:
        """An administrator takes every agent out of the queue at `now` (False: no member is
        offered its callers nor counts as logged in to it; calls under way go on), or puts
        them all in (True); None restores the directory's membership. KeyError for an
        unknown queue."""
        with self.lock:
            self.advance(now)
            queue = self._queues[queue_id]
            for member, listed in zip(queue.members, queue.queue.members, strict=True):
                member.enabled = listed.enabled if enabled is None else enabled
            self._dispatch(queue)

    def set_arrival_rate(self, queue_id: str, per_hour: float | None, now: float) -> None:
        """From `now` on callers arrive at the queue at a constant `per_hour` (a surge, or 0
        for none); None restores the queue's daily rhythm. Callers still find the queue
        closed (diverted) while none of its members is logged in. KeyError for an unknown
        queue."""
        if per_hour is not None and not per_hour >= 0:
            raise ValueError("per_hour must be >= 0 or None")
        with self.lock:
            self.advance(now)
            queue = self._queues[queue_id]
            queue.arrivals_per_hour = per_hour
            queue.arrival_epoch += 1
            self._next_queue_arrival(queue)

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
                **self.book.footprint(),
            }

    # ----------------------------------------------------------------- historical ground truth
    def finished_calls(self, start: float, end: float) -> list[FinishedCall]:
        """Whole calls (one per call record) that ended in [start, end) (epoch seconds, compared
        in whole ms), in end order. Calls in progress are not finished."""
        with self.lock:
            return self.book.calls_between(ms(start), ms(end))

    def call_legs(
        self, start: float, end: float, *, by_connect_time: bool = False
    ) -> list[CallLeg]:
        """Legs disconnected (or, with by_connect_time, connected) in [start, end), in
        disconnect order; top-level and member legs, whatever the CDR delay."""
        with self.lock:
            start_ms, end_ms = ms(start), ms(end)
            if not by_connect_time:
                return self.book.legs_between(start_ms, end_ms)
            return [
                leg
                for leg in self.book.legs_from(start_ms)
                if start_ms <= leg.connected_ms < end_ms
            ]

    def ring_groups(self) -> list[RingGroupInfo]:
        """Every ring group of the active sites, in directory order."""
        return [
            RingGroupInfo(
                id=state.group.id,
                pbx=state.ref.pbx,
                site=state.ref.site,
                name=state.group.name,
                extension=state.group.extension,
                member_extensions=tuple(member.agent.extension for member in state.members),
            )
            for state in self._ring_groups.values()
        ]

    def extensions(self) -> list[ExtensionInfo]:
        """Every active agent's extension, in directory order."""
        return [
            ExtensionInfo(
                agent_id=agent.id,
                pbx=self._pbx_names[agent.pbx_id],
                site=agent.branch,
                extension=agent.extension,
                first_name=agent.first_name,
                last_name=agent.last_name,
                department=agent.department,
                branch=agent.branch,
                email=agent.email,
                username=agent.username,
            )
            for agent in (state.agent for state in self._agents.values())
        ]

    def group_refs(self) -> list[GroupRef]:
        """Every active queue and ring group as legs name them."""
        return [q.ref for q in self._queues.values()] + [g.ref for g in self._ring_groups.values()]

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
                status = self._initial_status(staffing_level(start, offset))
                probability = rng.uniform(0.82, 0.97)
                since = start - rng.uniform(0.0, 600.0)  # no new draw: the same sequence
                self._agents[agent.id] = AgentState(
                    agent=agent,
                    status=status,
                    utc_offset_hours=offset,
                    answer_probability=probability,
                    idle_since=since,
                    status_since=since,
                    activity_since=since,
                )
            for site in pbx.sites:
                if not site.deleted:
                    agents = [
                        state for state in self._agents.values() if state.agent.site_id == site.id
                    ]
                    self._sites.append(SiteState(site, pbx.id, site.utc_offset_hours, agents))
        for order, queue in enumerate(self.account.active_queues()):
            queue_site = self.account.site(queue.site_id)
            assert queue_site is not None and queue.traffic is not None
            state = QueueState(
                queue=queue,
                traffic=queue.traffic,
                utc_offset_hours=queue_site.utc_offset_hours,
                order=order,
                ref=self._group_ref(
                    GroupKind.QUEUE, queue.id, queue.pbx_id, queue_site, queue.name, queue.extension
                ),
            )
            for member in queue.members:
                agent_state = self._agents[member.agent_id]
                state.members.append(MemberState(agent_state, member.role, member.enabled))
                if state not in agent_state.queues:
                    agent_state.queues.append(state)
            self._queues[queue.id] = state
        for group in self.account.active_ring_groups():
            group_site = self.account.site(group.site_id)
            assert group_site is not None
            self._ring_groups[group.id] = RingGroupState(
                group=group,
                traffic=group.traffic,
                utc_offset_hours=group_site.utc_offset_hours,
                ref=self._group_ref(
                    GroupKind.RING_GROUP,
                    group.id,
                    group.pbx_id,
                    group_site,
                    group.name,
                    group.extension,
                ),
                members=[
                    self._agents[agent_id]
                    for agent_id in group.member_ids
                    if agent_id in self._agents
                ],
            )
        for agent_state in self._agents.values():
            self._schedule_status_timer(agent_state)
        for state in self._queues.values():
            self._next_queue_arrival(state)
        for group_state in self._ring_groups.values():
            self._schedule_arrival(
                group_state.traffic.peak_arrivals_per_hour,
                group_state.utc_offset_hours,
                self._on_ring_group_arrival,
                group_state,
            )
        for site_state in self._sites:
            self._schedule_arrival(
                OUTBOUND_PEAK_PER_AGENT_PER_HOUR * len(site_state.agents),
                site_state.utc_offset_hours,
                self._on_outbound_attempt,
                site_state,
            )

    def _group_ref(
        self, kind: GroupKind, group_id: str, pbx_id: str, site: Site, name: str, extension: str
    ) -> GroupRef:
        return GroupRef(kind, group_id, self._pbx_names[pbx_id], site.name, name, extension)

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

    def _synthesize_history(self, start: float, end: float) -> None:
        HistorySynthesizer(
            self,
            random.Random(f"8x8-simulator-history:{self._seed}"),
            queues=list(self._queues.values()),
            ring_groups=self._ring_groups,
            sites=self._sites,
        ).run(start, end)

    # ----------------------------------------------------------------- event plumbing
    def _after_advance(self) -> None:
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
        self.book.prune(ms(cutoff))

    # ----------------------------------------------------------------- recording (also used by history.py)
    def open_call(self, pbx_id: str, direction: str, number: str) -> Journey:
        """A new call with the next call id; its legs go to the book as they end."""
        self._call_serial += 1
        return self.book.open(
            str(1_600_000_000_000 + self._call_serial),
            self._pbx_names[pbx_id],
            pbx_id,
            direction,
            number,
        )

    def record_queue_visit(self, queue: QueueState, journey: Journey, record: CallRecord) -> None:
        """A caller left a queue's care: its record, its top-level leg; the call ends unless it
        was transferred on to another queue or a ring group."""
        queue.records.append(record)
        agent = self._agents[record.agent_id].agent if record.agent_id is not None else None
        journey.group_leg(
            queue.ref,
            ms(record.entered_at),
            record.wait_ms,
            _DISPOSITION_BY_OUTCOME[record.outcome],
            agent=agent,
            talk_ms=record.talk_ms,
            hold_ms=record.hold_ms,
        )
        if record.transfer_target_queue_id is None and record.transfer_target_ring_group_id is None:
            journey.finish()

    def record_ring_group_visit(
        self,
        group: RingGroupState,
        journey: Journey,
        entered_at: float,
        left_at: float,
        ended_at: float,
        disposition: Disposition,
        *,
        agent: Agent | None = None,
        hold_seconds: float = 0.0,
    ) -> None:
        """A caller left a ring group (answered and done, hung up, or voicemail): the call ends."""
        left_ms = ms(left_at)
        hold_ms = ms(hold_seconds) if agent is not None else 0
        talk_ms = ms(ended_at) - left_ms - hold_ms if agent is not None else 0
        journey.group_leg(
            group.ref,
            ms(entered_at),
            left_ms - ms(entered_at),
            disposition,
            agent=agent,
            talk_ms=talk_ms,
            hold_ms=hold_ms,
        )
        journey.finish()

    def record_outbound(
        self,
        journey: Journey,
        agent: Agent,
        started_at: float,
        ended_at: float,
        answered_at: float | None,
        hold_seconds: float,
    ) -> None:
        journey.outbound_leg(
            agent, started_at, ended_at, answered_at=answered_at, hold_seconds=hold_seconds
        )
        journey.finish()

    # ----------------------------------------------------------------- arrivals
    def _schedule_arrival(
        self,
        peak_per_hour: float,
        utc_offset_hours: int,
        on_arrival: Callable[[Any], None],
        target: Any,
    ) -> None:
        when, arrives = next_arrival(self._rng, self._now, peak_per_hour, utc_offset_hours)
        if arrives:
            self._schedule(when, on_arrival, target)
        else:
            self._schedule(
                when, self._schedule_arrival, peak_per_hour, utc_offset_hours, on_arrival, target
            )

    def _next_queue_arrival(self, queue: QueueState) -> None:
        epoch = (queue, queue.arrival_epoch)
        if queue.arrivals_per_hour is None:
            self._schedule_arrival(
                queue.traffic.peak_arrivals_per_hour,
                queue.utc_offset_hours,
                self._on_arrival,
                epoch,
            )
        elif queue.arrivals_per_hour > 0:
            delay = self._rng.expovariate(queue.arrivals_per_hour / 3600.0)
            self._schedule(self._now + delay, self._on_arrival, epoch)

    def _on_arrival(self, epoch: tuple[QueueState, int]) -> None:
        queue, scheduled_in = epoch
        if scheduled_in != queue.arrival_epoch:
            return  # scheduled before set_arrival_rate changed the rate
        journey = self.open_call(queue.queue.pbx_id, INCOMING, external_number(self._rng))
        self._enter_queue(queue, journey, transferred_in=False)
        self._next_queue_arrival(queue)

    def _enter_queue(self, queue: QueueState, journey: Journey, *, transferred_in: bool) -> None:
        now = self._now
        traffic = queue.traffic
        caller = QueueCaller(
            journey=journey,
            queue=queue,
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
    def _on_patience(self, caller: QueueCaller) -> None:
        if caller.done:
            return
        self._leave_waiting(caller, Disposition.ABANDONED)
        self._record_unanswered(caller, CallOutcome.ABANDONED)

    def _on_max_wait(self, caller: QueueCaller) -> None:
        if caller.done:
            return
        self._route_away(caller)

    def _on_overflow_ready(self, caller: QueueCaller) -> None:
        if caller.done or caller.ringing_agent is not None:
            return
        self._dispatch(caller.queue)

    def _route_away(self, caller: QueueCaller) -> None:
        route = routing(
            caller.queue.traffic, caller.transferred_in, self._queues, self._ring_groups
        )
        self._leave_waiting(caller, Disposition.NO_ANSWER)
        self._record_unanswered(
            caller,
            route.outcome,
            transfer_target_queue_id=route.queue_id,
            transfer_target_ring_group_id=route.ring_group_id,
        )
        if route.queue_id is not None:
            self._enter_queue(self._queues[route.queue_id], caller.journey, transferred_in=True)
        elif route.ring_group_id is not None:
            self._enter_ring_group(self._ring_groups[route.ring_group_id], caller.journey)

    def _leave_waiting(self, caller: QueueCaller, ring_end: Disposition) -> None:
        """The caller leaves the line; a ring in progress ends with `ring_end`."""
        caller.done = True
        queue = caller.queue
        if caller in queue.waiting:
            queue.waiting.remove(caller)
        agent = caller.ringing_agent
        if agent is not None:  # the ring stops with the caller gone
            assert caller.ring_started_at is not None
            caller.journey.member_leg(
                queue.ref, agent.agent, caller.ring_started_at, self._now, ring_end
            )
            caller.ringing_agent = None
            agent.reserved_for = None
            self._rearm_status_timer(agent)
            self._agent_freed(agent)

    def _record_unanswered(
        self, caller: QueueCaller, outcome: CallOutcome, **targets: str | None
    ) -> None:
        self._record_call(caller, outcome, left_queue_at=self._now, **targets)

    def _record_call(
        self, caller: QueueCaller, outcome: CallOutcome, *, left_queue_at: float, **details: Any
    ) -> None:
        """Record the caller's finished passage through its queue (ended now)."""
        queue = caller.queue
        self.record_queue_visit(
            queue,
            caller.journey,
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
    def _dispatch(self, queue: QueueState) -> None:
        for caller in queue.waiting:
            if caller.ringing_agent is not None:
                continue
            agent = self._pick_agent(queue, caller)
            if agent is not None:
                self._offer(caller, agent)

    def _pick_agent(self, queue: QueueState, caller: QueueCaller) -> AgentState | None:
        for role in (QueueRole.PRIMARY, QueueRole.OVERFLOW):
            if role is QueueRole.OVERFLOW and self._now < caller.overflow_at:
                return None
            ready = [
                m.agent for m in queue.members if m.role is role and m.enabled and m.agent.ready
            ]
            if not ready:
                continue
            # Prefer agents who have not let this caller ring out yet; then the longest idle.
            untried = [a for a in ready if a.agent.id not in caller.tried_agent_ids]
            return min(untried or ready, key=attrgetter("idle_since"))
        return None

    def _offer(self, caller: QueueCaller, agent: AgentState) -> None:
        agent.reserved_for = caller
        agent.activity_since = self._now
        caller.ringing_agent = agent
        caller.ring_started_at = self._now
        caller.ring_serial += 1
        caller.offered_agent_ids.append(agent.agent.id)
        answers, ring = draw_ring(
            self._rng, agent.answer_probability, caller.queue.traffic.ring_timeout_seconds
        )
        self._schedule(self._now + ring, self._on_ring_end, caller, caller.ring_serial, answers)

    def _on_ring_end(self, caller: QueueCaller, ring_serial: int, answers: bool) -> None:
        agent = caller.ringing_agent
        if caller.done or ring_serial != caller.ring_serial or agent is None:
            return
        caller.ringing_agent = None
        agent.reserved_for = None
        if answers:
            self._answer(caller, agent)
            return
        assert caller.ring_started_at is not None
        caller.journey.member_leg(
            caller.queue.ref, agent.agent, caller.ring_started_at, self._now, Disposition.NO_ANSWER
        )
        caller.missed_offers += 1
        caller.tried_agent_ids.add(agent.agent.id)
        if self._rng.random() < 0.3:
            self._set_status(agent, AgentStatus.AWAY, automatic=True)  # the system's auto-away
        else:
            self._rearm_status_timer(agent)
        self._agent_freed(agent, also=caller.queue)

    def _answer(self, caller: QueueCaller, agent: AgentState) -> None:
        queue = caller.queue
        caller.done = True
        queue.waiting.remove(caller)
        ring_started_at = (
            caller.ring_started_at if caller.ring_started_at is not None else self._now
        )
        queue.handling.append(self._connect(caller, agent, queue.traffic, ring_started_at))

    def _connect(
        self,
        caller: QueueCaller | RingGroupCaller,
        agent: AgentState,
        traffic: QueueTraffic | RingGroupTraffic,
        ring_started_at: float,
    ) -> ActiveCall:
        """The agent picked up now: talk (maybe with a hold), then `_on_call_end`."""
        now = self._now
        talk = draw_talk(
            self._rng,
            traffic.mean_talk_seconds,
            traffic.hold_probability,
            traffic.mean_hold_seconds,
        )
        hold_start_at = now + talk.hold_after if talk.hold_seconds else None
        call = ActiveCall(
            caller=caller,
            agent=agent,
            ring_started_at=ring_started_at,
            answered_at=now,
            hold_start_at=hold_start_at,
            hold_end_at=hold_start_at + talk.hold_seconds if hold_start_at is not None else None,
            ends_at=now + talk.talk_seconds + talk.hold_seconds,
            mean_wrap_up_seconds=traffic.mean_wrap_up_seconds,
        )
        agent.call = call
        self._set_status(agent, AgentStatus.BUSY)
        self._schedule(call.ends_at, self._on_call_end, call)
        return call

    def _on_call_end(self, call: ActiveCall) -> None:
        caller = call.caller
        agent = call.agent
        wrap_up = draw_wrap_up(self._rng, call.mean_wrap_up_seconds)
        hold = call.hold_seconds_at(call.ends_at)
        group = caller.queue.ref if isinstance(caller, QueueCaller) else caller.group.ref
        caller.journey.member_leg(
            group,
            agent.agent,
            call.ring_started_at,
            self._now,
            Disposition.ANSWERED,
            answered_at=call.answered_at,
            hold_seconds=hold,
        )
        if isinstance(caller, QueueCaller):
            caller.queue.handling.remove(call)
            self._record_call(
                caller,
                CallOutcome.ANSWERED,
                left_queue_at=call.answered_at,
                agent_id=agent.agent.id,
                ring_started_at=call.ring_started_at,
                answered_at=call.answered_at,
                talk_seconds=call.ends_at - call.answered_at - hold,
                hold_seconds=hold,
                wrap_up_seconds=wrap_up,
            )
        else:
            self.record_ring_group_visit(
                caller.group,
                caller.journey,
                caller.entered_at,
                call.answered_at,
                self._now,
                Disposition.ANSWERED,
                agent=agent.agent,
                hold_seconds=hold,
            )
        agent.call = None
        self._wrap_up(agent, wrap_up)

    def _wrap_up(self, agent: AgentState, seconds: float) -> None:
        self._set_status(agent, AgentStatus.WRAP_UP)
        self._schedule(self._now + seconds, self._on_wrap_up_end, agent, agent.version)

    def _on_wrap_up_end(self, agent: AgentState, version: int) -> None:
        if version != agent.version:
            return
        if self._rng.random() < 0.08:
            self._set_status(agent, AgentStatus.AWAY)  # a break after the call
            return
        self._set_status(agent, AgentStatus.AVAILABLE)
        self._agent_freed(agent)

    def _agent_freed(self, agent: AgentState, also: QueueState | None = None) -> None:
        """Offer waiting callers to a newly free agent, longest-waiting queue first."""
        queues = list(agent.queues)
        if also is not None and also not in queues:
            queues.append(also)
        pending: list[tuple[float, int, QueueState]] = []
        for queue in queues:
            oldest = next((c.entered_at for c in queue.waiting if c.ringing_agent is None), None)
            if oldest is not None:
                pending.append((oldest, queue.order, queue))
        for _, _, queue in sorted(pending, key=lambda item: (item[0], item[1])):
            self._dispatch(queue)

    # ----------------------------------------------------------------- ring groups
    def _on_ring_group_arrival(self, group: RingGroupState) -> None:
        journey = self.open_call(group.group.pbx_id, INCOMING, external_number(self._rng))
        self._enter_ring_group(group, journey)
        self._schedule_arrival(
            group.traffic.peak_arrivals_per_hour,
            group.utc_offset_hours,
            self._on_ring_group_arrival,
            group,
        )

    def _enter_ring_group(self, group: RingGroupState, journey: Journey) -> None:
        """Ring every Available member at once; nobody to ring means voicemail at once."""
        now = self._now
        caller = RingGroupCaller(
            journey, group, now, [agent for agent in group.members if agent.ready]
        )
        if not caller.ringing:
            self.record_ring_group_visit(group, journey, now, now, now, Disposition.VOICEMAIL)
            return
        decision = decide_ring_group(
            self._rng, [a.answer_probability for a in caller.ringing], group.traffic
        )
        for agent in caller.ringing:
            agent.reserved_for = caller
            agent.activity_since = now
        self._schedule(now + decision.after, self._on_ring_group_decided, caller, decision)

    def _on_ring_group_decided(self, caller: RingGroupCaller, decision: RingGroupDecision) -> None:
        now = self._now
        answerer = caller.ringing[decision.answerer] if decision.answerer is not None else None
        others = [agent for agent in caller.ringing if agent is not answerer]
        ring_end = Disposition.ANSWERED_ELSEWHERE if answerer is not None else decision.disposition
        for agent in caller.ringing:
            agent.reserved_for = None
        for agent in others:
            caller.journey.member_leg(
                caller.group.ref, agent.agent, caller.entered_at, now, ring_end
            )
            self._rearm_status_timer(agent)
        if answerer is not None:
            self._connect(caller, answerer, caller.group.traffic, caller.entered_at)
        else:
            self.record_ring_group_visit(
                caller.group, caller.journey, caller.entered_at, now, now, decision.disposition
            )
        for agent in others:
            self._agent_freed(agent)

    # ----------------------------------------------------------------- outbound calls
    def _on_outbound_attempt(self, site: SiteState) -> None:
        """A ready agent of the site dials out (nobody ready: no call this time)."""
        ready = [agent for agent in site.agents if agent.ready]
        if ready:
            self._place_outbound(self._rng.choice(ready), site)
        self._schedule_arrival(
            OUTBOUND_PEAK_PER_AGENT_PER_HOUR * len(site.agents),
            site.utc_offset_hours,
            self._on_outbound_attempt,
            site,
        )

    def _place_outbound(self, agent: AgentState, site: SiteState) -> None:
        now = self._now
        plan = draw_outbound(self._rng)
        journey = self.open_call(site.pbx_id, OUTGOING, external_number(self._rng))
        answered_at = now + plan.ring_seconds if plan.answered else None
        ends_at = now + plan.ring_seconds + plan.talk.talk_seconds + plan.talk.hold_seconds
        call = OutboundCall(journey, agent, now, answered_at, plan.talk.hold_seconds, ends_at)
        agent.call = call
        self._set_status(agent, AgentStatus.BUSY)
        self._schedule(ends_at, self._on_outbound_end, call)

    def _on_outbound_end(self, call: OutboundCall) -> None:
        agent = call.agent
        self.record_outbound(
            call.journey,
            agent.agent,
            call.started_at,
            self._now,
            call.answered_at,
            call.hold_seconds,
        )
        agent.call = None
        self._wrap_up(agent, draw_wrap_up(self._rng, OUTBOUND_MEAN_WRAP_UP_SECONDS))

    # ----------------------------------------------------------------- agent presence
    def _set_status(
        self, agent: AgentState, status: AgentStatus, *, automatic: bool = False
    ) -> None:
        if status is not agent.status or automatic != agent.automatic:
            agent.status_since = self._now
        agent.activity_since = self._now
        agent.automatic = automatic
        agent.status = status
        agent.version += 1
        if status is AgentStatus.AVAILABLE:
            agent.idle_since = self._now
        if status in IDLE_STATUSES:
            self._schedule_status_timer(agent)

    def _rearm_status_timer(self, agent: AgentState) -> None:
        # Presence timers that fire while an agent rings are dropped; re-draw one afterwards.
        agent.activity_since = self._now  # the ring is over
        agent.version += 1
        if agent.status in IDLE_STATUSES:
            self._schedule_status_timer(agent)

    def _schedule_status_timer(self, agent: AgentState) -> None:
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

    def _on_status_timer(self, agent: AgentState, version: int, target: AgentStatus) -> None:
        if version != agent.version or agent.reserved_for is not None or agent.call is not None:
            return
        self._set_status(agent, target)
        if target is AgentStatus.AVAILABLE:
            self._agent_freed(agent)

    # ----------------------------------------------------------------- records and windows
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
