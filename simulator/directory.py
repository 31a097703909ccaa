"""The simulated 8x8 account (PBXes, sites, call queues, ring groups, agents): the ground truth
the Customer Data API serves and the queueing model animates. directory_generator.py draws one
from a seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class QueueRole(str, Enum):
    """How an agent belongs to a call queue: primary members are offered calls first."""

    PRIMARY = "primary"
    OVERFLOW = "overflow"  # "secondary users" in the vendor's metric descriptions


class RoutingDestination(str, Enum):
    """Where a queue sends callers after its max wait time, or when no agent is logged in."""

    VOICEMAIL = "voicemail"
    CALL_QUEUE = "call_queue"
    RING_GROUP = "ring_group"
    EXTERNAL_NUMBER = "external_number"


class TrafficTier(str, Enum):
    """How busy a queue is at the peak of its day."""

    BUSY = "busy"
    MEDIUM = "medium"
    QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class QueueMember:
    """An agent's membership of one call queue."""

    agent_id: str
    role: QueueRole
    enabled: bool  # an admin can disable a member without removing it from the queue


@dataclass(frozen=True, slots=True)
class QueueTraffic:
    """Configuration of a queue's load and behaviour, drawn once from the seed."""

    tier: TrafficTier
    peak_arrivals_per_hour: float
    mean_talk_seconds: float
    hold_probability: float
    mean_hold_seconds: float
    mean_wrap_up_seconds: float
    mean_patience_seconds: float
    max_wait_seconds: float
    max_waiting_callers: int
    overflow_after_seconds: float  # overflow members are offered a caller only after this wait
    ring_timeout_seconds: float
    destination: RoutingDestination
    transfer_queue_id: str | None  # target of RoutingDestination.CALL_QUEUE
    transfer_ring_group_id: str | None = None  # target of RoutingDestination.RING_GROUP (same site)


@dataclass(frozen=True, slots=True)
class RingGroupTraffic:
    """Load and behaviour of a ring group, drawn once from the seed."""

    peak_arrivals_per_hour: float
    mean_talk_seconds: float
    hold_probability: float
    mean_hold_seconds: float
    mean_wrap_up_seconds: float
    mean_patience_seconds: float  # callers hang up while it rings after 3 s + Exp(this)
    ring_timeout_seconds: float  # then the call goes to the group's voicemail


@dataclass(slots=True)
class Agent:
    """A user who can answer queue calls (Customer Data API `Agent`); also an extension of the
    Extension Summary (the profile fields below are only served there)."""

    id: str
    pbx_id: str
    site_id: str
    first_name: str
    last_name: str
    extension: str
    deleted: bool = False
    department: str = ""
    branch: str = ""
    email: str = ""
    username: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True)
class RingGroup:
    """A ring group: every Available member rings at once; no answer -> the group's voicemail."""

    id: str
    name: str
    extension: str
    pbx_id: str
    site_id: str
    member_ids: list[str]  # agent ids, agents of the group's site
    traffic: RingGroupTraffic


@dataclass(slots=True)
class CallQueue:
    """A call queue (Customer Data API `CallQueue`), with its members and traffic profile."""

    id: str
    name: str
    extension: str
    pbx_id: str
    site_id: str
    auto_login: bool
    deleted: bool = False
    members: list[QueueMember] = field(default_factory=list)
    traffic: QueueTraffic | None = None  # None for deleted queues: they get no calls


@dataclass(slots=True)
class Site:
    """A site of a PBX (Customer Data API `Site`)."""

    id: str
    name: str
    pbx_id: str
    utc_offset_hours: int
    deleted: bool = False
    queues: list[CallQueue] = field(default_factory=list)
    ring_groups: list[RingGroup] = field(default_factory=list)


@dataclass(slots=True)
class Pbx:
    """A PBX of the customer (Customer Data API `Pbx`)."""

    id: str
    name: str
    deleted: bool = False
    sites: list[Site] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)


class Account:
    """The whole simulated customer account, with id lookups."""

    def __init__(self, pbxes: list[Pbx]) -> None:
        self.pbxes: list[Pbx] = pbxes
        self._pbx_by_id: dict[str, Pbx] = {pbx.id: pbx for pbx in pbxes}
        self._site_by_id: dict[str, Site] = {}
        self._queue_by_id: dict[str, CallQueue] = {}
        self._agent_by_id: dict[str, Agent] = {}
        self._ring_group_by_id: dict[str, RingGroup] = {}
        for pbx in pbxes:
            for site in pbx.sites:
                self._site_by_id[site.id] = site
                for queue in site.queues:
                    self._queue_by_id[queue.id] = queue
                for group in site.ring_groups:
                    self._ring_group_by_id[group.id] = group
            for agent in pbx.agents:
                self._agent_by_id[agent.id] = agent

    def pbx(self, pbx_id: str) -> Pbx | None:
        return self._pbx_by_id.get(pbx_id)

    def site(self, site_id: str) -> Site | None:
        return self._site_by_id.get(site_id)

    def queue(self, queue_id: str) -> CallQueue | None:
        return self._queue_by_id.get(queue_id)

    def agent(self, agent_id: str) -> Agent | None:
        return self._agent_by_id.get(agent_id)

    def ring_group(self, ring_group_id: str) -> RingGroup | None:
        return self._ring_group_by_id.get(ring_group_id)

    def pbx_by_name(self, name: str) -> Pbx | None:
        """The non-deleted PBX of that name (the historical endpoints take PBX names)."""
        return next((pbx for pbx in self.pbxes if pbx.name == name and not pbx.deleted), None)

    def all_queues(self) -> list[CallQueue]:
        """Every queue, deleted ones included, in directory order."""
        return [q for pbx in self.pbxes for site in pbx.sites for q in site.queues]

    def active_queues(self) -> list[CallQueue]:
        """Queues that take calls: not deleted, on a site and PBX that are not deleted."""
        return [
            q
            for pbx in self.pbxes
            if not pbx.deleted
            for site in pbx.sites
            if not site.deleted
            for q in site.queues
            if not q.deleted
        ]

    def active_ring_groups(self) -> list[RingGroup]:
        """Ring groups of non-deleted sites and PBXes, in directory order."""
        return [
            group
            for pbx in self.pbxes
            if not pbx.deleted
            for site in pbx.sites
            if not site.deleted
            for group in site.ring_groups
        ]

    def all_agents(self) -> list[Agent]:
        return [agent for pbx in self.pbxes for agent in pbx.agents]
