"""The far past, synthesized: a cheap stand-in for simulating days of history event by event.

Calls arrive with the same daily rhythm and are handled with the same random draws as in the
event model (behaviour.py), and are recorded through the same model methods, so they are the
same kind of `CallRecord`s, legs and finished calls. What is left out is the interaction
between calls: agents are drawn as available with the hour's staffing level instead of being
tracked, so an agent may, rarely, have two overlapping synthesized calls. Calls that would
still be going on when the event simulation takes over are dropped.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from . import behaviour
from .call_book import CallBook, Journey
from .call_records import CallOutcome, CallRecord, routing
from .calls import INCOMING, OUTGOING, Disposition, ms
from .directory import Agent, QueueRole
from .model_state import AgentState, QueueState, RingGroupState, SiteState


class HistoryRecorder(Protocol):
    """What the synthesizer needs of the model: it records its calls through the same methods
    as the event simulation (so both kinds of history are alike), and tidies the call book."""

    @property
    def book(self) -> CallBook: ...

    def open_call(self, pbx_id: str, direction: str, number: str) -> Journey: ...

    def record_queue_visit(
        self, queue: QueueState, journey: Journey, record: CallRecord
    ) -> None: ...

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
    ) -> None: ...

    def record_outbound(
        self,
        journey: Journey,
        agent: Agent,
        started_at: float,
        ended_at: float,
        answered_at: float | None,
        hold_seconds: float,
    ) -> None: ...


# Share of a ring group's members at their desks and free, times the hour's staffing level.
RING_GROUP_MEMBER_FREE = 0.35
# Share of outbound attempts that find the agent free, times the hour's staffing level.
OUTBOUND_AGENT_FREE = 0.95
# Queue callers routed away at once (nobody logged in, or the line is full).
DIVERTED_SHARE = 0.02
# Mean wait (s) for a free agent at the peak hour; it scales with the square of the demand.
QUEUE_PEAK_MEAN_WAIT = 130.0


@dataclass(slots=True, eq=False)
class _Visit:
    """A synthesized caller in a queue."""

    queue: QueueState
    journey: Journey
    entered: float
    transferred_in: bool
    offered: list[str]  # agents rung, in order
    missed: int  # rings that ended without an answer


class HistorySynthesizer:
    """Fills the model's records for [start, end) before its event simulation starts at `end`."""

    def __init__(
        self,
        model: HistoryRecorder,
        rng: random.Random,
        *,
        queues: list[QueueState],
        ring_groups: dict[str, RingGroupState],
        sites: list[SiteState],
    ) -> None:
        self.model = model
        self.rng = rng
        self.queues = {queue.queue.id: queue for queue in queues}
        self.ring_groups = ring_groups
        self.sites = sites
        # Per queue: the enabled primary members, then every enabled member (after the overflow time).
        self.members: dict[str, tuple[list[AgentState], list[AgentState]]] = {}
        for queue in queues:
            enabled = [m for m in queue.members if m.enabled]
            primaries = [m.agent for m in enabled if m.role is QueueRole.PRIMARY]
            everyone = [m.agent for m in enabled]
            self.members[queue.queue.id] = (primaries or everyone, everyone)

    def run(self, start: float, end: float) -> None:
        arrivals: list[tuple[float, int, Callable[[float, Any], None], Any]] = []
        for queue in self.queues.values():
            self._arrivals(
                arrivals,
                start,
                end,
                queue.traffic.peak_arrivals_per_hour,
                queue.utc_offset_hours,
                self._queue_call,
                queue,
            )
        for group in self.ring_groups.values():
            self._arrivals(
                arrivals,
                start,
                end,
                group.traffic.peak_arrivals_per_hour,
                group.utc_offset_hours,
                self._ring_group_call,
                group,
            )
        for site in self.sites:
            self._arrivals(
                arrivals,
                start,
                end,
                behaviour.OUTBOUND_PEAK_PER_AGENT_PER_HOUR * len(site.agents),
                site.utc_offset_hours,
                self._outbound_call,
                site,
            )
        arrivals.sort(key=lambda arrival: (arrival[0], arrival[1]))  # call ids follow the time
        for when, _, handle, target in arrivals:
            handle(when, target)
        self._drop_calls_ending_after(end)

    def _arrivals(
        self,
        into: list[tuple[float, int, Callable[[float, Any], None], Any]],
        start: float,
        end: float,
        peak_per_hour: float,
        utc_offset_hours: int,
        handle: Callable[[float, Any], None],
        target: Any,
    ) -> None:
        now = start
        while True:
            now, arrives = behaviour.next_arrival(self.rng, now, peak_per_hour, utc_offset_hours)
            if now >= end:
                return
            if arrives:
                into.append((now, len(into), handle, target))

    # ----------------------------------------------------------------- queues
    def _queue_call(self, when: float, queue: QueueState) -> None:
        journey = self.model.open_call(
            queue.queue.pbx_id, INCOMING, behaviour.external_number(self.rng)
        )
        self._queue_visit(queue, journey, when, transferred_in=False)

    def _queue_visit(
        self, queue: QueueState, journey: Journey, entered: float, *, transferred_in: bool
    ) -> None:
        rng, traffic = self.rng, queue.traffic
        visit = _Visit(queue, journey, entered, transferred_in, [], 0)
        primaries, everyone = self.members[queue.queue.id]
        if not everyone or rng.random() < DIVERTED_SHARE:
            self._route_away(visit, entered)
            return
        load = behaviour.demand_factor(entered, queue.utc_offset_hours)
        patience = 3.0 + rng.expovariate(1.0 / traffic.mean_patience_seconds)
        leave = min(patience, traffic.max_wait_seconds)
        elapsed = rng.expovariate(
            1.0 / (3.0 + QUEUE_PEAK_MEAN_WAIT * load * load)
        )  # until an agent is free
        while elapsed < leave:
            agent = rng.choice(everyone if elapsed >= traffic.overflow_after_seconds else primaries)
            answers, ring = behaviour.draw_ring(
                rng, agent.answer_probability, traffic.ring_timeout_seconds
            )
            ring_start = entered + elapsed
            visit.offered.append(agent.agent.id)
            if elapsed + ring >= leave:  # the caller leaves while this phone rings
                ring_end = (
                    Disposition.ABANDONED
                    if patience <= traffic.max_wait_seconds
                    else Disposition.NO_ANSWER
                )
                journey.member_leg(queue.ref, agent.agent, ring_start, entered + leave, ring_end)
                break
            if answers:
                self._answered(visit, agent, ring_start, ring_start + ring)
                return
            journey.member_leg(
                queue.ref, agent.agent, ring_start, ring_start + ring, Disposition.NO_ANSWER
            )
            visit.missed += 1
            elapsed += ring + rng.expovariate(1.0 / (2.0 + 20.0 * load))
        if patience <= traffic.max_wait_seconds:
            self._record(visit, entered + patience, CallOutcome.ABANDONED)
        else:
            self._route_away(visit, entered + traffic.max_wait_seconds)

    def _answered(
        self, visit: _Visit, agent: AgentState, ring_start: float, answered_at: float
    ) -> None:
        traffic = visit.queue.traffic
        talk = behaviour.draw_talk(
            self.rng, traffic.mean_talk_seconds, traffic.hold_probability, traffic.mean_hold_seconds
        )
        ended = answered_at + talk.talk_seconds + talk.hold_seconds
        visit.journey.member_leg(
            visit.queue.ref,
            agent.agent,
            ring_start,
            ended,
            Disposition.ANSWERED,
            answered_at=answered_at,
            hold_seconds=talk.hold_seconds,
        )
        self._record(
            visit,
            answered_at,
            CallOutcome.ANSWERED,
            ended_at=ended,
            agent_id=agent.agent.id,
            ring_started_at=ring_start,
            talk_seconds=talk.talk_seconds,
            hold_seconds=talk.hold_seconds,
            wrap_up_seconds=behaviour.draw_wrap_up(self.rng, traffic.mean_wrap_up_seconds),
        )

    def _route_away(self, visit: _Visit, left: float) -> None:
        route = routing(visit.queue.traffic, visit.transferred_in, self.queues, self.ring_groups)
        self._record(
            visit,
            left,
            route.outcome,
            queue_target=route.queue_id,
            group_target=route.ring_group_id,
        )
        if route.queue_id is not None:
            self._queue_visit(self.queues[route.queue_id], visit.journey, left, transferred_in=True)
        elif route.ring_group_id is not None:
            self._ring_group_visit(self.ring_groups[route.ring_group_id], visit.journey, left)

    def _record(
        self,
        visit: _Visit,
        left: float,
        outcome: CallOutcome,
        *,
        ended_at: float | None = None,
        agent_id: str | None = None,
        ring_started_at: float | None = None,
        talk_seconds: float = 0.0,
        hold_seconds: float = 0.0,
        wrap_up_seconds: float = 0.0,
        queue_target: str | None = None,
        group_target: str | None = None,
    ) -> None:
        queue = visit.queue.queue
        record = CallRecord(
            visit.journey.call_id,
            queue.pbx_id,
            queue.site_id,
            queue.id,
            visit.journey.external_number,
            visit.entered,
            left,
            left if ended_at is None else ended_at,
            outcome,
            tuple(visit.offered),
            visit.missed,
            agent_id,
            ring_started_at,
            left if agent_id is not None else None,
            talk_seconds,
            hold_seconds,
            wrap_up_seconds,
            visit.transferred_in,
            queue_target,
            group_target,
        )
        self.model.record_queue_visit(visit.queue, visit.journey, record)

    # ----------------------------------------------------------------- ring groups
    def _ring_group_call(self, when: float, group: RingGroupState) -> None:
        journey = self.model.open_call(
            group.group.pbx_id, INCOMING, behaviour.external_number(self.rng)
        )
        self._ring_group_visit(group, journey, when)

    def _ring_group_visit(self, group: RingGroupState, journey: Journey, entered: float) -> None:
        rng = self.rng
        free = RING_GROUP_MEMBER_FREE * behaviour.staffing_level(entered, group.utc_offset_hours)
        ringing = [agent for agent in group.members if rng.random() < free]
        if not ringing:
            self.model.record_ring_group_visit(
                group, journey, entered, entered, entered, Disposition.VOICEMAIL
            )
            return
        decision = behaviour.decide_ring_group(
            rng, [agent.answer_probability for agent in ringing], group.traffic
        )
        decided = entered + decision.after
        answerer = ringing[decision.answerer] if decision.answerer is not None else None
        ring_end = Disposition.ANSWERED_ELSEWHERE if answerer is not None else decision.disposition
        for agent in ringing:
            if agent is not answerer:
                journey.member_leg(group.ref, agent.agent, entered, decided, ring_end)
        if answerer is None:
            self.model.record_ring_group_visit(
                group, journey, entered, decided, decided, decision.disposition
            )
            return
        traffic = group.traffic
        talk = behaviour.draw_talk(
            rng, traffic.mean_talk_seconds, traffic.hold_probability, traffic.mean_hold_seconds
        )
        ended = decided + talk.talk_seconds + talk.hold_seconds
        journey.member_leg(
            group.ref,
            answerer.agent,
            entered,
            ended,
            Disposition.ANSWERED,
            answered_at=decided,
            hold_seconds=talk.hold_seconds,
        )
        self.model.record_ring_group_visit(
            group,
            journey,
            entered,
            decided,
            ended,
            Disposition.ANSWERED,
            agent=answerer.agent,
            hold_seconds=talk.hold_seconds,
        )

    # ----------------------------------------------------------------- outbound calls
    def _outbound_call(self, when: float, site: SiteState) -> None:
        rng = self.rng
        if not site.agents or rng.random() >= OUTBOUND_AGENT_FREE * behaviour.staffing_level(
            when, site.utc_offset_hours
        ):
            return
        agent = rng.choice(site.agents)
        plan = behaviour.draw_outbound(rng)
        journey = self.model.open_call(site.pbx_id, OUTGOING, behaviour.external_number(rng))
        ended = when + plan.ring_seconds + plan.talk.talk_seconds + plan.talk.hold_seconds
        answered_at = when + plan.ring_seconds if plan.answered else None
        self.model.record_outbound(
            journey, agent.agent, when, ended, answered_at, plan.talk.hold_seconds
        )

    # ----------------------------------------------------------------- clean-up
    def _drop_calls_ending_after(self, end: float) -> None:
        """Forget calls not finished by `end` (the event simulation owns that time), then put
        every list in end order."""
        book = self.model.book
        end_ms = ms(end)
        late = {call.call_id for call in book.calls if call.ended_ms >= end_ms}
        book.calls[:] = [call for call in book.calls if call.call_id not in late]
        book.legs[:] = [leg for leg in book.legs if (leg.parent_call_id or leg.call_id) not in late]
        book.sort()
        for queue in self.queues.values():
            queue.records[:] = sorted(
                (r for r in queue.records if r.call_id not in late), key=lambda r: r.ended_at
            )
