"""The mutable state of the queueing model: agents with their presence, queues with their
waiting callers and records, ring groups, sites, and the calls in progress. Shared by the event
model (model.py) and the synthesized history (history.py), which fills the same records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .call_book import Journey
from .call_records import CallRecord
from .calls import GroupRef
from .directory import (
    Agent,
    CallQueue,
    QueueRole,
    QueueTraffic,
    RingGroup,
    RingGroupTraffic,
    Site,
)


class AgentStatus(str, Enum):
    """Presence of an agent, as the vendor's metric descriptions name them."""

    AVAILABLE = "Available"
    BUSY = "Busy"  # on a call: queue, ring group or outbound
    WRAP_UP = "Wrap-up"
    AWAY = "Away"
    APPEAR_OFFLINE = "Appear offline"
    DND = "Dnd"
    LOGGED_OUT = "Logged out"


# Status groups of the vendor's definitions: "eligible" agents are in Available, Busy, Away or
# Appear Offline; "logged out and DND" are Offline, Logged out or Dnd; wrap-up is its own group.
ELIGIBLE_STATUSES = frozenset(
    {AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.AWAY, AgentStatus.APPEAR_OFFLINE}
)
LOGGED_OUT_OR_DND_STATUSES = frozenset({AgentStatus.LOGGED_OUT, AgentStatus.DND})
IDLE_STATUSES = frozenset(
    {
        AgentStatus.AVAILABLE,
        AgentStatus.AWAY,
        AgentStatus.APPEAR_OFFLINE,
        AgentStatus.DND,
        AgentStatus.LOGGED_OUT,
    }
)


@dataclass(slots=True, eq=False)
class MemberState:
    agent: AgentState
    role: QueueRole
    enabled: bool


@dataclass(slots=True, eq=False)
class QueueState:
    queue: CallQueue
    traffic: QueueTraffic
    utc_offset_hours: int
    order: int  # directory position: the deterministic tie-breaker
    ref: GroupRef
    members: list[MemberState] = field(default_factory=list)
    waiting: list[QueueCaller] = field(default_factory=list)  # FIFO
    handling: list[ActiveCall] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)  # in ended_at order
    records_head: int = 0  # records before this index are pruned (compacted lazily)
    # set_arrival_rate: a constant rate instead of the daily rhythm; a new epoch makes the
    # arrival scheduled before it lapse.
    arrivals_per_hour: float | None = None
    arrival_epoch: int = 0


@dataclass(slots=True, eq=False)
class RingGroupState:
    group: RingGroup
    traffic: RingGroupTraffic
    utc_offset_hours: int
    ref: GroupRef
    members: list[AgentState]


@dataclass(slots=True, eq=False)
class SiteState:
    """A site's agents, for their outbound calls."""

    site: Site
    pbx_id: str
    utc_offset_hours: int
    agents: list[AgentState]


@dataclass(slots=True, eq=False)
class AgentState:
    agent: Agent
    status: AgentStatus
    utc_offset_hours: int
    answer_probability: float
    idle_since: float
    # When the presence (status) last changed, and when anything the queue-agent-activity
    # statuses read (presence, an offer, a call) last changed: userStatusTime, queueStatusTime.
    status_since: float
    activity_since: float
    automatic: bool = False  # the system set the status (AWAY after a missed ring: AUTO_AWAY)
    version: int = 0  # bumped on every status change; stale timers compare it
    reserved_for: QueueCaller | RingGroupCaller | None = None  # the caller ringing this agent
    call: ActiveCall | OutboundCall | None = None
    queues: list[QueueState] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return (
            self.status is AgentStatus.AVAILABLE and self.reserved_for is None and self.call is None
        )


@dataclass(slots=True, eq=False)
class QueueCaller:
    """A caller in a call queue."""

    journey: Journey
    queue: QueueState
    entered_at: float
    overflow_at: float
    transferred_in: bool
    ringing_agent: AgentState | None = None
    ring_started_at: float | None = None
    ring_serial: int = 0  # identifies the current ring; stale ring-end events compare it
    tried_agent_ids: set[str] = field(default_factory=set)
    offered_agent_ids: list[str] = field(default_factory=list)
    missed_offers: int = 0
    done: bool = False  # left the waiting line; pending patience/max-wait events are void

    @property
    def call_id(self) -> str:
        return self.journey.call_id

    @property
    def caller_number(self) -> str:
        return self.journey.external_number


@dataclass(slots=True, eq=False)
class RingGroupCaller:
    """A caller in a ring group: every member in `ringing` rings until the decision."""

    journey: Journey
    group: RingGroupState
    entered_at: float
    ringing: list[AgentState] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ActiveCall:
    """An answered queue or ring group call."""

    caller: QueueCaller | RingGroupCaller
    agent: AgentState
    ring_started_at: float
    answered_at: float
    hold_start_at: float | None
    hold_end_at: float | None
    ends_at: float
    mean_wrap_up_seconds: float  # of the queue or ring group

    def hold_seconds_at(self, now: float) -> float:
        if self.hold_start_at is None or self.hold_end_at is None or now <= self.hold_start_at:
            return 0.0
        return min(now, self.hold_end_at) - self.hold_start_at

    def on_hold_at(self, now: float) -> bool:
        return (
            self.hold_start_at is not None
            and self.hold_end_at is not None
            and self.hold_start_at <= now < self.hold_end_at
        )


@dataclass(slots=True, eq=False)
class OutboundCall:
    journey: Journey
    agent: AgentState
    started_at: float
    answered_at: float | None
    hold_seconds: float
    ends_at: float
