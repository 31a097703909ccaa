"""Contact Center tenants: their region, default time zone and configuration (queues, agent
groups, agents), generated from (seed, tenant id) so a tenant looks the same whatever other
tenants the simulator has."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.directory_names import FIRST_NAMES, LAST_NAMES

REGIONS = ("us", "eu", "au", "ca")
# Path prefix of each region on api.8x8.com (the specs' servers and the historical guide).
REGION_PREFIXES = {"us": "", "eu": "/eu", "au": "/au", "ca": "/ca"}

# Default time zone by tenant position: the first two as the contract says, then a few more.
DEFAULT_TIME_ZONES = (
    "America/New_York",
    "Europe/London",
    "America/Chicago",
    "Australia/Sydney",
    "America/Toronto",
    "Europe/Berlin",
)

PHONE = "Phone"
CHAT = "Chat"
# Media served by the n-th queue (cycled): real CC queues mix media through scripts, so the
# reports' rows carry several media per queue.
_QUEUE_MEDIA: tuple[tuple[str, ...], ...] = ((PHONE, CHAT), (PHONE,), (PHONE, CHAT), (CHAT,))
_QUEUE_NAMES = (
    "Sales",
    "Support",
    "Billing",
    "Renewals",
    "Technical Support",
    "VIP Line",
    "Returns",
    "Onboarding",
    "Escalations",
    "Partners",
    "Accounts",
    "Customer Care",
)
_GROUP_NAMES = ("Tier 1", "Tier 2", "Back Office", "Night Shift", "Specialists", "Team Leads")


class CcRef(NamedTuple):
    """An entity as the ground-truth accessors list it: unpacks as (id, name)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CcQueue:
    """A Contact Center queue and the traffic it gets (durations in seconds)."""

    id: str
    name: str
    media: tuple[str, ...]
    channels: tuple[tuple[str, str], ...]  # (media, channel name), one per media
    agent_ids: tuple[str, ...]  # assigned agents, in routing order
    sla_target_percent: int
    sla_threshold_seconds: int
    short_abandon_seconds: int
    max_wait_seconds: float  # then the interaction is diverted (voicemail, callback)
    peak_per_hour: float
    media_weights: tuple[float, ...]  # share of the traffic per media

    def channel(self, media: str) -> str:
        return dict(self.channels)[media]


@dataclass(frozen=True, slots=True)
class CcGroup:
    id: str
    name: str
    agent_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CcAgent:
    id: str
    name: str
    group_id: str
    queue_ids: tuple[str, ...]
    answer_probability: float  # of an offer; the rest are rejected or time out
    # False for a configured agent who never logged in (the last one of a tenant of 4 or more
    # agents): always Logged Out, `lastLogin.rt` and `lastLogout.rt` null.
    logs_in: bool = True


@dataclass(frozen=True)
class CcTenant:
    """One Contact Center tenant: immutable configuration, looked up by id."""

    id: str
    region: str
    time_zone: str
    queues: tuple[CcQueue, ...]
    groups: tuple[CcGroup, ...]
    agents: tuple[CcAgent, ...]
    queue_by_id: dict[str, CcQueue] = field(init=False, repr=False, compare=False)
    group_by_id: dict[str, CcGroup] = field(init=False, repr=False, compare=False)
    agent_by_id: dict[str, CcAgent] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "queue_by_id", {q.id: q for q in self.queues})
        object.__setattr__(self, "group_by_id", {g.id: g for g in self.groups})
        object.__setattr__(self, "agent_by_id", {a.id: a for a in self.agents})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def parse_tenants(tenants: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Validate (tenant id, region) pairs: ids unique and non-empty, regions known."""
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for entry in tenants:
        tenant_id, region = entry
        tenant_id, region = str(tenant_id).strip(), str(region).strip().lower()
        if not tenant_id:
            raise ValueError("a Contact Center tenant id cannot be empty")
        if tenant_id in seen:
            raise ValueError(f"duplicate Contact Center tenant id {tenant_id!r}")
        if region not in REGION_PREFIXES:
            raise ValueError(
                f"unknown Contact Center region {region!r} (one of {', '.join(REGIONS)})"
            )
        seen.add(tenant_id)
        result.append((tenant_id, region))
    if not result:
        raise ValueError("at least one Contact Center tenant is required")
    return result


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def build_tenant(
    seed: int, tenant_id: str, region: str, time_zone: str, *, queues: int, groups: int, agents: int
) -> CcTenant:
    """The configuration of one tenant, from (seed, tenant id) alone."""
    if queues < 1 or groups < 1 or agents < 1:
        raise ValueError(
            "a Contact Center tenant needs at least one queue, one group and one agent"
        )
    rng = random.Random(f"8x8-cc-tenant:{seed}:{tenant_id}")
    queue_ids = _distinct_numbers(rng, queues, 100, 999)
    group_ids = _distinct_numbers(rng, groups, 100, 999)
    agent_ids = [f"ag{number}" for number in _distinct_numbers(rng, agents, 100_000, 999_999)]
    agent_names = _distinct_names(rng, agents)
    # Agent i is in group i % groups and serves queues i % queues and (i + 1) % queues.
    served: list[tuple[str, ...]] = []
    for index in range(agents):
        picks = [queue_ids[index % queues]]
        if queues > 1:
            picks.append(queue_ids[(index + 1) % queues])
        served.append(tuple(picks))
    agent_list = tuple(
        CcAgent(
            id=agent_ids[i],
            name=agent_names[i],
            group_id=group_ids[i % groups],
            queue_ids=served[i],
            answer_probability=round(rng.uniform(0.86, 0.97), 3),
            logs_in=not (agents >= 4 and i == agents - 1),
        )
        for i in range(agents)
    )
    group_list = tuple(
        CcGroup(
            id=group_ids[g],
            name=_numbered(_GROUP_NAMES, g),
            agent_ids=tuple(a.id for a in agent_list if a.group_id == group_ids[g]),
        )
        for g in range(groups)
    )
    queue_list: list[CcQueue] = []
    for q in range(queues):
        media = _QUEUE_MEDIA[q % len(_QUEUE_MEDIA)]
        name = _numbered(_QUEUE_NAMES, q)
        chat_only = media == (CHAT,)
        queue_list.append(
            CcQueue(
                id=queue_ids[q],
                name=name,
                media=media,
                channels=tuple(
                    (m, f"{name} {'Line' if m == PHONE else 'Web Chat'}") for m in media
                ),
                agent_ids=tuple(a.id for a in agent_list if queue_ids[q] in a.queue_ids),
                sla_target_percent=rng.choice((80, 85, 90)),
                sla_threshold_seconds=60 if chat_only else rng.choice((20, 30)),
                short_abandon_seconds=10,
                max_wait_seconds=900.0 if chat_only else 600.0,
                # Scaled to the staff: about 70% occupancy at the peak hour.
                peak_per_hour=round(rng.uniform(0.8, 1.2) * 7.0 * agents / queues, 2),
                media_weights=(0.7, 0.3) if len(media) == 2 else (1.0,),
            )
        )
    return CcTenant(tenant_id, region, time_zone, tuple(queue_list), group_list, agent_list)


def _distinct_numbers(rng: random.Random, count: int, low: int, high: int) -> list[str]:
    span = high - low + 1
    if count > span:
        raise ValueError(f"cannot draw {count} distinct ids from {low}..{high}")
    return [str(n) for n in rng.sample(range(low, high + 1), count)]


def _distinct_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name in seen:
            name = f"{name} {len(names) + 1}"
        seen.add(name)
        names.append(name)
    return names


def _numbered(catalogue: tuple[str, ...], index: int) -> str:
    base = catalogue[index % len(catalogue)]
    return base if index < len(catalogue) else f"{base} {index // len(catalogue) + 1}"
