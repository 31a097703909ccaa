"""The mutable state of a Contact Center tenant's simulation: its queues with their waiting
interactions, its agents with their presence and status transitions, and the interactions in
progress."""

from __future__ import annotations

from dataclasses import dataclass, field

from .facts import AgentStatus
from .tenants import CcAgent, CcQueue


@dataclass(slots=True, eq=False)
class Interaction:
    serial: int
    queue: QueueState
    media: str
    channel: str
    entered: float
    offered_to: AgentState | None = None
    offer_started: float = 0.0
    offer_serial: int = 0
    divert_pending: bool = False
    left: bool = False  # no longer waiting
    offering_ms: int = 0  # of the accepted offer
    handling_ms: int = 0
    hold_ms: int = 0


@dataclass(slots=True, eq=False)
class QueueState:
    config: CcQueue
    agents: list[AgentState] = field(default_factory=list)
    waiting: list[Interaction] = field(default_factory=list)  # by entry time
    allowed: frozenset[str] | None = None  # set_staffing: only these agents take its interactions
    arrivals_per_hour: float | None = None  # set_arrival_rate: a constant rate, no daily rhythm
    arrival_epoch: int = 0  # arrivals scheduled under an older rate are dropped

    def enabled(self, agent: AgentState) -> bool:
        return self.allowed is None or agent.config.id in self.allowed

    def longest_idle_agent(self) -> AgentState | None:
        """The enabled Available agent idle the longest (the first of a tie), or None."""
        best: AgentState | None = None
        for agent in self.agents:
            if agent.status is AgentStatus.AVAILABLE and self.enabled(agent):
                if best is None or agent.idle_since < best.idle_since:
                    best = agent
        return best


@dataclass(slots=True, eq=False)
class AgentState:
    config: CcAgent
    order: int
    queues: list[QueueState] = field(default_factory=list)
    status: AgentStatus = AgentStatus.LOGGED_OUT
    code: str | None = None
    since: float = 0.0
    version: int = 0
    interaction: Interaction | None = None
    idle_since: float = 0.0
    last_login: float | None = None
    last_logout: float | None = None
    line_status: str = "Idle"
    line_since: float = 0.0
    # Status transitions: times[i] is when statuses[i] began (the last one lasts until now).
    times: list[float] = field(default_factory=list)
    statuses: list[AgentStatus] = field(default_factory=list)

    def oldest_unoffered(self) -> Interaction | None:
        """The interaction that entered first among the unoffered ones waiting in the queues
        this agent takes interactions of (the first of a tie), or None."""
        oldest: Interaction | None = None
        for queue in self.queues:
            if not queue.enabled(self):
                continue
            for interaction in queue.waiting:
                if interaction.offered_to is None:
                    if oldest is None or interaction.entered < oldest.entered:
                        oldest = interaction
                    break
        return oldest
