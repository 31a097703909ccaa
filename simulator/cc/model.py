"""The live model of one Contact Center tenant (`TenantModel`): the event simulation
(simulation.py) behind a lock, with the reads the realtime API and the admin state need (agent
snapshots, waiting interactions, status history) and the controls tests use (staffing, arrival
rate)."""

from __future__ import annotations

from dataclasses import dataclass

from .facts import AgentStatus, status_seconds
from .simulation import TenantSimulation


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


class TenantModel(TenantSimulation):
    """The model of one tenant. Thread-safe: public methods take `lock` (re-entrant)."""

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
