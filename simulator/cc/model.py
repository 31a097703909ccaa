"""The live model of one Contact Center tenant: interactions arrive per queue with the daily
rhythm of the tenant's time zone, wait, are offered to agents one at a time (who accept, reject
or let the offer time out), are handled and wrapped up, or leave: abandoned by the customer or
diverted after the queue's maximum wait. Agents move between Available, Offering, Busy, Wrap Up,
On Break, Working Offline and Logged Out.

Everything that happens is kept in append-only, time-ordered logs (entries, queue leaves,
offers, completions, agent status transitions), so the realtime metrics of any window and the
historical reports of any range are both computed from the same facts: they agree by
construction. The whole history since `history_start` is simulated event by event (a day of a
default tenant is a few thousand events), so the live state is the natural result of it.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from .. import behaviour
from ..events import DiscreteEventModel
from .tenants import PHONE, CcAgent, CcQueue, CcTenant

DAY_SECONDS = 86_400.0
MIN_HISTORY_SECONDS = DAY_SECONDS

# Offers: an agent's phone rings (or a chat alerts) this long before the agent reacts.
OFFER_TIMEOUT_SECONDS = 15.0
# Of the offers an agent does not accept, this share is rejected; the rest time out.
REJECT_SHARE = 0.4
MEAN_WRAP_UP_SECONDS = 25.0
# Per media: mean handling (talk) seconds, hold probability, mean hold seconds, mean patience.
_MEDIA_TRAFFIC = {
    "Phone": (210.0, 0.15, 40.0, 150.0),
    "Chat": (360.0, 0.0, 0.0, 240.0),
}
BREAK_CODES = ("Lunch", "Coffee Break", "Meeting", "Training")
OFFLINE_CODES = ("Admin Work", "Email Follow-up", "Callback")


class AgentStatus(str, Enum):
    """The agent statuses `status.rt` serves."""

    AVAILABLE = "Available"
    OFFERING = "Offering"
    BUSY = "Busy"
    WRAP_UP = "Wrap Up"
    ON_BREAK = "On Break"
    WORKING_OFFLINE = "Working Offline"
    LOGGED_OUT = "Logged Out"


_IDLE = frozenset(
    {
        AgentStatus.AVAILABLE,
        AgentStatus.ON_BREAK,
        AgentStatus.WORKING_OFFLINE,
        AgentStatus.LOGGED_OUT,
    }
)


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


@dataclass(slots=True, eq=False)
class _Interaction:
    serial: int
    queue: _Queue
    media: str
    channel: str
    entered: float
    offered_to: _Agent | None = None
    offer_started: float = 0.0
    offer_serial: int = 0
    divert_pending: bool = False
    left: bool = False  # no longer waiting
    offering_ms: int = 0  # of the accepted offer
    handling_ms: int = 0
    hold_ms: int = 0


@dataclass(slots=True, eq=False)
class _Queue:
    config: CcQueue
    agents: list[_Agent] = field(default_factory=list)
    waiting: list[_Interaction] = field(default_factory=list)  # by entry time
    allowed: frozenset[str] | None = None  # set_staffing: only these agents take its interactions
    arrivals_per_hour: float | None = None  # set_arrival_rate: a constant rate, no daily rhythm
    arrival_epoch: int = 0  # arrivals scheduled under an older rate are dropped

    def enabled(self, agent: _Agent) -> bool:
        return self.allowed is None or agent.config.id in self.allowed


@dataclass(slots=True, eq=False)
class _Agent:
    config: CcAgent
    order: int
    queues: list[_Queue] = field(default_factory=list)
    status: AgentStatus = AgentStatus.LOGGED_OUT
    code: str | None = None
    since: float = 0.0
    version: int = 0
    interaction: _Interaction | None = None
    idle_since: float = 0.0
    last_login: float | None = None
    last_logout: float | None = None
    line_status: str = "Idle"
    line_since: float = 0.0
    # Status transitions: times[i] is when statuses[i] began (the last one lasts until now).
    times: list[float] = field(default_factory=list)
    statuses: list[AgentStatus] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """An agent now, as the realtime `.rt` metrics show it (times in epoch seconds)."""

    id: str
    status: AgentStatus
    status_code: str | None
    since: float
    queue_id: str | None  # of the interaction offered, handled or wrapped up
    media: str | None
    last_login: float | None
    last_logout: float | None
    line_status: str
    line_since: float


@dataclass(frozen=True, slots=True)
class WaitingInteraction:
    queue_id: str
    media: str
    channel: str
    entered: float
    offered_to: str | None


class TenantModel(DiscreteEventModel):
    """The model of one tenant. Thread-safe: public methods take `lock` (re-entrant).

    Time moves forward only, by `advance(now)`. Random draws happen only inside events, so the
    state at time T depends on the seed, the tenant and the start time alone (and on
    `set_staffing` interventions, which act from the moment they are made).
    """

    def __init__(
        self,
        tenant: CcTenant,
        *,
        seed: int,
        start_time: float,
        history_seconds: float,
        retention_seconds: float | None = None,
    ) -> None:
        self.tenant = tenant
        self.zone = ZoneInfo(tenant.time_zone)
        start_time = float(start_time)
        self.start_time = start_time
        # At least a day (and since the tenant's local midnight), so `.today` of any time zone
        # is complete from the start: no zone's midnight is more than 24 hours ago.
        self.history_start = min(
            start_time - max(MIN_HISTORY_SECONDS, float(history_seconds)),
            local_midnight(start_time, self.zone),
        )
        span = start_time - self.history_start
        self.retention_seconds = (
            float(retention_seconds)
            if retention_seconds
            else max(2 * DAY_SECONDS, span + DAY_SECONDS)
        )
        self._rng = random.Random(f"8x8-cc-model:{seed}:{tenant.id}")
        self._init_events(self.history_start)
        self._interaction_serial = 0
        self._offsets: dict[int, int] = {}
        self.entries: EventLog[Entry] = EventLog()
        self.leaves: EventLog[Leave] = EventLog()
        self.offers: EventLog[Offer] = EventLog()
        self.completions: EventLog[Completion] = EventLog()
        self._queues: dict[str, _Queue] = {q.id: _Queue(q) for q in tenant.queues}
        self._agents: dict[str, _Agent] = {}
        with self.lock:
            self._build()
            self.advance(start_time)

    # ----------------------------------------------------------------- public API
    def agent_snapshot(self, agent_id: str) -> AgentSnapshot:
        with self.lock:
            agent = self._agents[agent_id]
            interaction = agent.interaction
            return AgentSnapshot(
                agent_id,
                agent.status,
                agent.code,
                agent.since,
                interaction.queue.config.id if interaction else None,
                interaction.media if interaction else None,
                agent.last_login,
                agent.last_logout,
                agent.line_status,
                agent.line_since,
            )

    def agent_snapshots(self) -> dict[str, AgentSnapshot]:
        with self.lock:
            return {agent_id: self.agent_snapshot(agent_id) for agent_id in self._agents}

    def waiting(self, queue_id: str | None = None) -> list[WaitingInteraction]:
        """Interactions waiting in a queue (or all queues) now, offered ones included."""
        with self.lock:
            queues = (
                [self._queues[queue_id]] if queue_id is not None else list(self._queues.values())
            )
            return [
                WaitingInteraction(
                    q.config.id,
                    i.media,
                    i.channel,
                    i.entered,
                    i.offered_to.config.id if i.offered_to else None,
                )
                for q in queues
                for i in q.waiting
            ]

    def enabled_agent_ids(self, queue_id: str) -> list[str]:
        """The queue's agents that take its interactions (all, unless `set_staffing` limits them)."""
        with self.lock:
            queue = self._queues[queue_id]
            return [a.config.id for a in queue.agents if queue.enabled(a)]

    def set_staffing(self, queue_id: str, available_agents: int | None) -> None:
        """From now on only the first `available_agents` agents of the queue take (and count
        for) its interactions; None restores every assigned agent."""
        with self.lock:
            queue = self._queues[queue_id]
            if available_agents is None:
                queue.allowed = None
            else:
                if available_agents < 0:
                    raise ValueError("available_agents must be >= 0 or None")
                queue.allowed = frozenset(a.config.id for a in queue.agents[:available_agents])
            self._dispatch_queue(queue)

    def set_arrival_rate(self, queue_id: str, per_hour: float | None) -> None:
        """From now on interactions arrive at the queue at a constant `per_hour` (a surge, or 0
        for none); None restores the queue's daily rhythm."""
        with self.lock:
            if per_hour is not None and per_hour < 0:
                raise ValueError("per_hour must be >= 0 or None")
            queue = self._queues[queue_id]
            queue.arrivals_per_hour = per_hour
            queue.arrival_epoch += 1
            self._schedule_arrival(queue)

    def status_seconds(self, agent_id: str, start: float, end: float) -> dict[AgentStatus, float]:
        """Seconds the agent spent in each status within [start, min(end, now))."""
        with self.lock:
            agent = self._agents[agent_id]
            return status_seconds(agent.times, agent.statuses, start, min(end, self._now))

    def status_history(self, agent_id: str) -> tuple[list[float], list[AgentStatus]]:
        """Copies of the agent's transitions (times, statuses) kept so far."""
        with self.lock:
            agent = self._agents[agent_id]
            return list(agent.times), list(agent.statuses)

    def footprint(self) -> dict[str, int]:
        with self.lock:
            return {
                "entries": len(self.entries),
                "leaves": len(self.leaves),
                "offers": len(self.offers),
                "completions": len(self.completions),
                "transitions": sum(len(a.times) for a in self._agents.values()),
                "pending_events": len(self._events),
            }

    # ----------------------------------------------------------------- set-up
    def _build(self) -> None:
        rng = self._rng
        start = self._now
        staffing = behaviour.staffing_level(start, self._offset(start))
        for order, config in enumerate(self.tenant.agents):
            agent = _Agent(config, order)
            agent.queues = [self._queues[qid] for qid in config.queue_ids]
            self._agents[config.id] = agent
            logged_out = rng.random() < 0.1 + 0.5 * (1.0 - staffing) or not config.logs_in
            agent.status = AgentStatus.LOGGED_OUT if logged_out else AgentStatus.AVAILABLE
            agent.since = agent.idle_since = agent.line_since = start
            agent.times.append(start)
            agent.statuses.append(agent.status)
            if not config.logs_in:
                continue  # never logged in: no last login or logout
            # What happened before the history: a login, and for most a logout, some hours before.
            if logged_out:
                agent.last_logout = start - rng.uniform(600.0, 6 * 3600.0)
                agent.last_login = agent.last_logout - rng.uniform(4 * 3600.0, 9 * 3600.0)
            else:
                agent.last_login = start - rng.uniform(600.0, 4 * 3600.0)
                agent.last_logout = (
                    agent.last_login - rng.uniform(8 * 3600.0, 14 * 3600.0)
                    if rng.random() < 0.6
                    else None
                )
        for queue in self._queues.values():
            queue.agents = [self._agents[agent_id] for agent_id in queue.config.agent_ids]
        for agent in self._agents.values():
            self._schedule_status_timer(agent)
        for queue in self._queues.values():
            self._schedule_arrival(queue)

    def _offset(self, epoch: float) -> int:
        """UTC offset of the tenant's zone at that moment in whole hours (what the daily rhythm
        of behaviour.py takes; a half-hour zone is rounded), cached per hour."""
        hour = int(epoch // 3600)
        offset = self._offsets.get(hour)
        if offset is None:
            delta = datetime.fromtimestamp(hour * 3600, self.zone).utcoffset() or timedelta(0)
            offset = self._offsets[hour] = round(delta.total_seconds() / 3600.0)
        return offset

    def _after_advance(self) -> None:
        cutoff = self._now - self.retention_seconds
        if not self.entries.times or self.entries.times[0] >= cutoff - 3600.0:
            return  # prune in hourly steps
        for log in (self.entries, self.leaves, self.offers, self.completions):
            log.prune(cutoff)
        for agent in self._agents.values():
            keep = max(0, bisect_right(agent.times, cutoff) - 1)  # the status at the cutoff stays
            if keep:
                del agent.times[:keep]
                del agent.statuses[:keep]

    # ----------------------------------------------------------------- arrivals and waiting
    def _schedule_arrival(self, queue: _Queue) -> None:
        if queue.arrivals_per_hour is not None:
            if queue.arrivals_per_hour <= 0:
                return
            when = self._now + self._rng.expovariate(queue.arrivals_per_hour / 3600.0)
        else:
            when, arrives = self._now, False
            while not arrives:
                when, arrives = behaviour.next_arrival(
                    self._rng, when, queue.config.peak_per_hour, self._offset(when)
                )
        self._schedule(when, self._on_arrival, queue, queue.arrival_epoch)

    def _on_arrival(self, queue: _Queue, epoch: int) -> None:
        if epoch != queue.arrival_epoch:
            return  # scheduled before set_arrival_rate changed the rate
        self._schedule_arrival(queue)
        rng, config, now = self._rng, queue.config, self._now
        media = (
            config.media[0]
            if len(config.media) == 1
            else rng.choices(config.media, config.media_weights)[0]
        )
        self._interaction_serial += 1
        interaction = _Interaction(
            self._interaction_serial, queue, media, config.channel(media), now
        )
        self.entries.append(Entry(now, config.id, media, interaction.channel))
        patience = 3.0 + rng.expovariate(1.0 / _MEDIA_TRAFFIC[media][3])
        if patience < config.max_wait_seconds:
            self._schedule(now + patience, self._on_abandon, interaction)
        else:
            self._schedule(now + config.max_wait_seconds, self._on_divert, interaction)
        queue.waiting.append(interaction)
        self._dispatch_queue(queue)

    def _on_abandon(self, interaction: _Interaction) -> None:
        if interaction.left:
            return
        agent = interaction.offered_to
        if agent is not None:  # the customer hangs up while it rings: the offer ends
            self._end_offer(interaction, agent, OfferResult.ABANDONED)
        wait = self._now - interaction.entered
        short = wait <= interaction.queue.config.short_abandon_seconds
        self._leave(
            interaction, LeaveOutcome.SHORT_ABANDONED if short else LeaveOutcome.ABANDONED, None
        )
        if agent is not None:
            self._agent_free(agent)

    def _on_divert(self, interaction: _Interaction) -> None:
        if interaction.left:
            return
        if interaction.offered_to is not None:
            interaction.divert_pending = True  # diverted if this offer fails
            return
        self._leave(interaction, LeaveOutcome.DIVERTED, None)

    def _leave(
        self, interaction: _Interaction, outcome: LeaveOutcome, agent: _Agent | None
    ) -> None:
        interaction.left = True
        queue = interaction.queue
        queue.waiting.remove(interaction)
        wait_ms = ms(self._now) - ms(interaction.entered)
        in_sla = (
            outcome is LeaveOutcome.ACCEPTED
            and wait_ms <= queue.config.sla_threshold_seconds * 1000
        )
        self.leaves.append(
            Leave(
                self._now,
                queue.config.id,
                interaction.media,
                interaction.channel,
                outcome,
                wait_ms,
                agent.config.id if agent else None,
                in_sla,
            )
        )

    # ----------------------------------------------------------------- routing
    def _dispatch_queue(self, queue: _Queue) -> None:
        """Offer the queue's waiting interactions (oldest first) to its longest-idle agents."""
        for interaction in queue.waiting:
            if interaction.offered_to is not None:
                continue
            agent = self._pick_agent(queue)
            if agent is None:
                return
            self._offer(interaction, agent)

    def _pick_agent(self, queue: _Queue) -> _Agent | None:
        best: _Agent | None = None
        for agent in queue.agents:
            if agent.status is AgentStatus.AVAILABLE and queue.enabled(agent):
                if best is None or agent.idle_since < best.idle_since:
                    best = agent
        return best

    def _dispatch_agent(self, agent: _Agent) -> None:
        """An agent became available: offer it the oldest unoffered interaction of its queues."""
        oldest: _Interaction | None = None
        for queue in agent.queues:
            if not queue.enabled(agent):
                continue
            for interaction in queue.waiting:
                if interaction.offered_to is None:
                    if oldest is None or interaction.entered < oldest.entered:
                        oldest = interaction
                    break
        if oldest is not None:
            self._offer(oldest, agent)

    def _offer(self, interaction: _Interaction, agent: _Agent) -> None:
        rng = self._rng
        interaction.offered_to = agent
        interaction.offer_started = self._now
        interaction.offer_serial += 1
        agent.interaction = interaction
        self._set_status(agent, AgentStatus.OFFERING)
        if rng.random() < agent.config.answer_probability:
            result, after = OfferResult.ACCEPTED, rng.uniform(2.0, 8.0)
        elif rng.random() < REJECT_SHARE:
            result, after = OfferResult.REJECTED, rng.uniform(1.0, 4.0)
        else:
            result, after = OfferResult.TIMEOUT, OFFER_TIMEOUT_SECONDS
        self._schedule(
            self._now + after, self._on_offer_end, interaction, interaction.offer_serial, result
        )

    def _on_offer_end(self, interaction: _Interaction, serial: int, result: OfferResult) -> None:
        agent = interaction.offered_to
        if agent is None or serial != interaction.offer_serial or interaction.left:
            return  # the customer left while it rang
        offering_ms = self._end_offer(interaction, agent, result)
        if result is OfferResult.ACCEPTED:
            interaction.offering_ms = offering_ms
            self._leave(interaction, LeaveOutcome.ACCEPTED, agent)
            agent.interaction = interaction
            self._set_status(agent, AgentStatus.BUSY)
            talk_mean, hold_probability, hold_mean, _ = _MEDIA_TRAFFIC[interaction.media]
            talk = behaviour.draw_talk(self._rng, talk_mean, hold_probability, hold_mean or 1.0)
            handling = talk.talk_seconds + talk.hold_seconds
            interaction.handling_ms = ms(self._now + handling) - ms(self._now)
            interaction.hold_ms = ms(talk.hold_seconds)
            self._schedule(self._now + handling, self._on_handling_end, agent, interaction)
            return
        if interaction.divert_pending:
            self._leave(interaction, LeaveOutcome.DIVERTED, None)
        self._agent_free(agent)
        if not interaction.left:
            self._dispatch_queue(interaction.queue)

    def _end_offer(self, interaction: _Interaction, agent: _Agent, result: OfferResult) -> int:
        offering_ms = ms(self._now) - ms(interaction.offer_started)
        self.offers.append(
            Offer(
                self._now,
                interaction.queue.config.id,
                interaction.media,
                interaction.channel,
                agent.config.id,
                result,
                offering_ms,
            )
        )
        interaction.offered_to = None
        agent.interaction = None
        return offering_ms

    def _on_handling_end(self, agent: _Agent, interaction: _Interaction) -> None:
        self._set_status(agent, AgentStatus.WRAP_UP)
        wrap = behaviour.draw_wrap_up(self._rng, MEAN_WRAP_UP_SECONDS)
        self._schedule(self._now + wrap, self._on_wrap_up_end, agent, interaction, self._now)

    def _on_wrap_up_end(
        self, agent: _Agent, interaction: _Interaction, wrap_started: float
    ) -> None:
        self.completions.append(
            Completion(
                self._now,
                interaction.queue.config.id,
                interaction.media,
                interaction.channel,
                agent.config.id,
                interaction.offering_ms,
                interaction.handling_ms,
                interaction.hold_ms,
                ms(self._now) - ms(wrap_started),
            )
        )
        agent.interaction = None
        self._agent_free(agent)

    def _agent_free(self, agent: _Agent) -> None:
        """Back to Available after an offer or an interaction, and offered the next one."""
        agent.interaction = None
        self._set_status(agent, AgentStatus.AVAILABLE)
        self._dispatch_agent(agent)

    # ----------------------------------------------------------------- presence
    def _set_status(self, agent: _Agent, status: AgentStatus, code: str | None = None) -> None:
        now = self._now
        if agent.status is AgentStatus.LOGGED_OUT and status is not AgentStatus.LOGGED_OUT:
            agent.last_login = now
        elif status is AgentStatus.LOGGED_OUT and agent.status is not AgentStatus.LOGGED_OUT:
            agent.last_logout = now
        if status is not agent.status:
            if agent.times[-1] == now:  # two changes at one instant: the later one wins
                agent.statuses[-1] = status
                if len(agent.statuses) > 1 and agent.statuses[-2] is status:
                    agent.times.pop()
                    agent.statuses.pop()
            else:
                agent.times.append(now)
                agent.statuses.append(status)
        agent.status, agent.code, agent.since = status, code, now
        agent.version += 1
        if status is AgentStatus.AVAILABLE:
            agent.idle_since = now
        line = _line_status(status, agent.interaction)
        if line != agent.line_status:
            agent.line_status, agent.line_since = line, now
        if status in _IDLE:
            self._schedule_status_timer(agent)

    def _schedule_status_timer(self, agent: _Agent) -> None:
        if not agent.config.logs_in:
            return
        staffing = behaviour.staffing_level(self._now, self._offset(self._now))
        status = agent.status
        # Exit rates per second from each idle status; fewer agents stay logged in off-peak.
        rates: tuple[tuple[AgentStatus, float], ...]
        if status is AgentStatus.AVAILABLE:
            rates = (
                (AgentStatus.ON_BREAK, 1 / 3600),
                (AgentStatus.WORKING_OFFLINE, 1 / 9000),
                (AgentStatus.LOGGED_OUT, 1 / (25_200 * staffing)),
            )
        elif status is AgentStatus.ON_BREAK:
            rates = ((AgentStatus.AVAILABLE, 1 / 600),)
        elif status is AgentStatus.WORKING_OFFLINE:
            rates = ((AgentStatus.AVAILABLE, 1 / 900),)
        elif status is AgentStatus.LOGGED_OUT:
            rates = ((AgentStatus.AVAILABLE, staffing * staffing / 1800),)
        else:
            return
        rng = self._rng
        total = sum(rate for _, rate in rates)
        delay = rng.expovariate(total)
        draw = rng.random() * total
        target = rates[-1][0]
        for candidate, rate in rates:
            if draw < rate:
                target = candidate
                break
            draw -= rate
        code = None
        if target is AgentStatus.ON_BREAK:
            code = rng.choice(BREAK_CODES)
        elif target is AgentStatus.WORKING_OFFLINE:
            code = rng.choice(OFFLINE_CODES)
        self._schedule(self._now + delay, self._on_status_timer, agent, agent.version, target, code)

    def _on_status_timer(
        self, agent: _Agent, version: int, target: AgentStatus, code: str | None
    ) -> None:
        if version != agent.version or agent.status not in _IDLE:
            return
        self._set_status(agent, target, code)
        if target is AgentStatus.AVAILABLE:
            self._dispatch_agent(agent)


def _line_status(status: AgentStatus, interaction: _Interaction | None) -> str:
    """Line 1 of the agent's phone: ringing or busy with a phone interaction, else idle."""
    if interaction is None or interaction.media != PHONE:
        return "Idle"
    if status is AgentStatus.OFFERING:
        return "Ringing"
    if status is AgentStatus.BUSY:
        return "Busy"
    return "Idle"


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


def ms(seconds: float) -> int:
    """Epoch (or duration) seconds -> whole milliseconds, rounded half up."""
    return math.floor(seconds * 1000.0 + 0.5)


def local_midnight(epoch: float, zone: ZoneInfo) -> float:
    """The epoch of the local midnight that starts the day `epoch` is in."""
    local = datetime.fromtimestamp(epoch, zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    return midnight.timestamp()


def iso_utc(epoch: float) -> str:
    """2025-11-18T16:59:12.000Z"""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
