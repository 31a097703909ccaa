"""The event simulation of one Contact Center tenant: interactions arrive per queue with the
daily rhythm of the tenant's time zone, wait, are offered to agents one at a time (who accept,
reject or let the offer time out), are handled and wrapped up, or leave: abandoned by the
customer or diverted after the queue's maximum wait. Agents move between Available, Offering,
Busy, Wrap Up, On Break, Working Offline and Logged Out (presence.py).

Everything that happens is appended to the fact logs (facts.py). The whole history since
`history_start` is simulated event by event (a day of a default tenant is a few thousand
events), so the live state is the natural result of it. model.py adds the thread-safe reads and
controls the APIs and tests use.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .. import behaviour
from ..events import DiscreteEventModel
from .facts import (
    AgentStatus,
    Completion,
    Entry,
    EventLog,
    Leave,
    LeaveOutcome,
    Offer,
    OfferResult,
)
from .presence import IDLE_STATUSES, draw_status_change, line_status
from .tenant_state import AgentState, Interaction, QueueState
from .tenants import CcTenant
from .timestamps import local_midnight, ms

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


class TenantSimulation(DiscreteEventModel):
    """The events of one tenant. Time moves forward only, by `advance(now)`. Random draws
    happen only inside events, so the state at time T depends on the seed, the tenant and the
    start time alone (and on the interventions of `TenantModel`, from the moment they are made).
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
        self._queues: dict[str, QueueState] = {q.id: QueueState(q) for q in tenant.queues}
        self._agents: dict[str, AgentState] = {}
        with self.lock:
            self._build()
            self.advance(start_time)

    # ----------------------------------------------------------------- set-up
    def _build(self) -> None:
        rng = self._rng
        start = self._now
        staffing = behaviour.staffing_level(start, self._offset(start))
        for order, config in enumerate(self.tenant.agents):
            agent = AgentState(config, order)
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
    def _schedule_arrival(self, queue: QueueState) -> None:
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

    def _on_arrival(self, queue: QueueState, epoch: int) -> None:
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
        interaction = Interaction(
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

    def _on_abandon(self, interaction: Interaction) -> None:
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

    def _on_divert(self, interaction: Interaction) -> None:
        if interaction.left:
            return
        if interaction.offered_to is not None:
            interaction.divert_pending = True  # diverted if this offer fails
            return
        self._leave(interaction, LeaveOutcome.DIVERTED, None)

    def _leave(
        self, interaction: Interaction, outcome: LeaveOutcome, agent: AgentState | None
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
    def _dispatch_queue(self, queue: QueueState) -> None:
        """Offer the queue's waiting interactions (oldest first) to its longest-idle agents."""
        for interaction in queue.waiting:
            if interaction.offered_to is not None:
                continue
            agent = queue.longest_idle_agent()
            if agent is None:
                return
            self._offer(interaction, agent)

    def _dispatch_agent(self, agent: AgentState) -> None:
        """An agent became available: offer it the oldest unoffered interaction of its queues."""
        oldest = agent.oldest_unoffered()
        if oldest is not None:
            self._offer(oldest, agent)

    def _offer(self, interaction: Interaction, agent: AgentState) -> None:
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

    def _on_offer_end(self, interaction: Interaction, serial: int, result: OfferResult) -> None:
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

    def _end_offer(self, interaction: Interaction, agent: AgentState, result: OfferResult) -> int:
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

    def _on_handling_end(self, agent: AgentState, interaction: Interaction) -> None:
        self._set_status(agent, AgentStatus.WRAP_UP)
        wrap = behaviour.draw_wrap_up(self._rng, MEAN_WRAP_UP_SECONDS)
        self._schedule(self._now + wrap, self._on_wrap_up_end, agent, interaction, self._now)

    def _on_wrap_up_end(
        self, agent: AgentState, interaction: Interaction, wrap_started: float
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

    def _agent_free(self, agent: AgentState) -> None:
        """Back to Available after an offer or an interaction, and offered the next one."""
        agent.interaction = None
        self._set_status(agent, AgentStatus.AVAILABLE)
        self._dispatch_agent(agent)

    # ----------------------------------------------------------------- presence
    def _set_status(self, agent: AgentState, status: AgentStatus, code: str | None = None) -> None:
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
        line = line_status(status, agent.interaction.media if agent.interaction else None)
        if line != agent.line_status:
            agent.line_status, agent.line_since = line, now
        if status in IDLE_STATUSES:
            self._schedule_status_timer(agent)

    def _schedule_status_timer(self, agent: AgentState) -> None:
        if not agent.config.logs_in:
            return
        staffing = behaviour.staffing_level(self._now, self._offset(self._now))
        change = draw_status_change(self._rng, agent.status, staffing)
        if change is None:
            return
        self._schedule(
            self._now + change.delay,
            self._on_status_timer,
            agent,
            agent.version,
            change.target,
            change.code,
        )

    def _on_status_timer(
        self, agent: AgentState, version: int, target: AgentStatus, code: str | None
    ) -> None:
        if version != agent.version or agent.status not in IDLE_STATUSES:
            return
        self._set_status(agent, target, code)
        if target is AgentStatus.AVAILABLE:
            self._dispatch_agent(agent)
