"""Generates the simulated account from a seed, deterministically: the same seed always gives
the same ids, names, extensions, memberships and traffic profiles."""

from __future__ import annotations

import random
from dataclasses import replace

from .directory import (
    Account,
    Agent,
    CallQueue,
    Pbx,
    QueueMember,
    QueueRole,
    QueueTraffic,
    RingGroup,
    RingGroupTraffic,
    RoutingDestination,
    Site,
    TrafficTier,
)
from .directory_names import (
    FIRST_NAMES,
    ID_ALPHABET,
    ID_LENGTH,
    LAST_NAMES,
    PBX_NAME_STEMS,
    QUEUE_NAMES,
    RING_GROUP_NAMES,
    SITE_CATALOGUE,
)


def _new_id(rng: random.Random, used: set[str]) -> str:
    while True:
        candidate = "".join(rng.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
        if candidate not in used:
            used.add(candidate)
            return candidate


def _unique_extension(rng: random.Random, low: int, high: int, used: set[str]) -> str:
    # Extensions are unique per PBX, as on a real PBX dial plan.
    for _ in range(10_000):
        candidate = str(rng.randint(low, high))
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise ValueError("extension range exhausted: the simulated account is too large")


def _traffic(rng: random.Random, tier: TrafficTier, agents_per_queue: int) -> QueueTraffic:
    # Peak load is scaled by the queue size so that small and large accounts stay in the same
    # regime (some waiting at peak, little at night) instead of collapsing or idling.
    staffing_scale = max(agents_per_queue, 1) / 6.0
    base_rate = {TrafficTier.BUSY: 88.0, TrafficTier.MEDIUM: 45.0, TrafficTier.QUIET: 13.0}[tier]
    destination = rng.choices(
        (
            RoutingDestination.VOICEMAIL,
            RoutingDestination.CALL_QUEUE,
            RoutingDestination.RING_GROUP,
            RoutingDestination.EXTERNAL_NUMBER,
        ),
        weights=(0.5, 0.2, 0.2, 0.1),
    )[0]
    return QueueTraffic(
        tier=tier,
        peak_arrivals_per_hour=base_rate * staffing_scale * rng.uniform(0.85, 1.15),
        mean_talk_seconds=rng.uniform(150.0, 300.0),
        hold_probability=rng.uniform(0.1, 0.3),
        mean_hold_seconds=rng.uniform(25.0, 60.0),
        mean_wrap_up_seconds=rng.uniform(10.0, 30.0),
        mean_patience_seconds=rng.uniform(270.0, 650.0),
        max_wait_seconds=float(rng.choice((120, 180, 240, 300, 420))),
        max_waiting_callers=rng.choice((10, 15, 20)),
        overflow_after_seconds=float(rng.choice((15, 20, 30, 45))),
        ring_timeout_seconds=float(rng.choice((15, 20, 25))),
        destination=destination,
        transfer_queue_id=None,  # resolved once every queue of the PBX exists
    )


def build_account(
    seed: int,
    *,
    pbxes: int = 2,
    sites_per_pbx: int = 2,
    queues_per_site: int = 3,
    agents_per_queue: int = 6,
) -> Account:
    """Generate the account deterministically from `seed`.

    The counts are the *active* entities. On top of them every PBX gets one deleted queue
    (on its first site) and one deleted agent, and the first PBX gets one deleted site holding
    one deleted queue: clients must skip these, as the Customer Data API lists them too.
    """
    if min(pbxes, sites_per_pbx, queues_per_site, agents_per_queue) < 1:
        raise ValueError("pbxes, sites_per_pbx, queues_per_site and agents_per_queue must be >= 1")
    # A separate generator for the directory: changing the model never reshuffles the ids.
    rng = random.Random(f"8x8-simulator-directory:{seed}")
    used_ids: set[str] = set()
    result: list[Pbx] = []
    pbx_stems = list(PBX_NAME_STEMS)
    rng.shuffle(pbx_stems)
    for pbx_index in range(pbxes):
        stem = pbx_stems[pbx_index % len(pbx_stems)]
        round_suffix = "" if pbx_index < len(pbx_stems) else str(pbx_index // len(pbx_stems) + 1)
        pbx = Pbx(id=_new_id(rng, used_ids), name=f"{stem}{round_suffix}")
        used_extensions: set[str] = set()
        catalogue = list(SITE_CATALOGUE)
        rng.shuffle(catalogue)
        for site_index in range(sites_per_pbx):
            site_name, offset = catalogue[site_index % len(catalogue)]
            if site_index >= len(catalogue):
                site_name = f"{site_name}{site_index // len(catalogue) + 1}"
            site = Site(
                id=_new_id(rng, used_ids), name=site_name, pbx_id=pbx.id, utc_offset_hours=offset
            )
            _populate_site(
                rng, pbx, site, queues_per_site, agents_per_queue, used_ids, used_extensions
            )
            pbx.sites.append(site)
        _add_deleted_entities(
            rng, pbx, first_pbx=pbx_index == 0, used_ids=used_ids, used_extensions=used_extensions
        )
        _resolve_transfer_targets(rng, pbx)
        result.append(pbx)
    # Ring groups and user profiles come from a generator of their own, after everything else:
    # the ids, names and extensions above are the same as before they existed.
    extras = random.Random(f"8x8-simulator-ring-groups:{seed}")
    for pbx in result:
        _add_ring_groups(extras, pbx, used_ids)
        _add_profiles(pbx)
    return Account(result)


def _populate_site(
    rng: random.Random,
    pbx: Pbx,
    site: Site,
    queues_per_site: int,
    agents_per_queue: int,
    used_ids: set[str],
    used_extensions: set[str],
) -> None:
    # Each queue owns its primary agents; its overflow members are primary agents of sibling
    # queues on the same site, so one agent's state shows in several queues, as in real life.
    overflow_count = agents_per_queue // 3
    primary_count = agents_per_queue - overflow_count
    tiers = [
        (TrafficTier.BUSY, TrafficTier.MEDIUM, TrafficTier.QUIET)[i % 3]
        for i in range(queues_per_site)
    ]
    rng.shuffle(tiers)
    queue_names = list(QUEUE_NAMES)
    rng.shuffle(queue_names)
    primaries_by_queue: list[list[Agent]] = []
    for queue_index in range(queues_per_site):
        name = queue_names[queue_index % len(queue_names)]
        if queue_index >= len(queue_names):
            name = f"{name} {queue_index // len(queue_names) + 1}"
        queue = CallQueue(
            id=_new_id(rng, used_ids),
            name=name,
            extension=_unique_extension(rng, 7000, 7999, used_extensions),
            pbx_id=pbx.id,
            site_id=site.id,
            auto_login=rng.random() < 0.3,
            traffic=_traffic(rng, tiers[queue_index], agents_per_queue),
        )
        primaries = [
            _new_agent(rng, pbx, site, used_ids, used_extensions) for _ in range(primary_count)
        ]
        pbx.agents.extend(primaries)
        primaries_by_queue.append(primaries)
        site.queues.append(queue)
    for queue_index, queue in enumerate(site.queues):
        for position, agent in enumerate(primaries_by_queue[queue_index]):
            # Disable about one member in twelve, never the first: a queue keeps an enabled agent.
            enabled = position == 0 or rng.random() >= 1 / 12
            queue.members.append(QueueMember(agent.id, QueueRole.PRIMARY, enabled))
        siblings = [
            a for i, group in enumerate(primaries_by_queue) if i != queue_index for a in group
        ]
        if len(siblings) >= overflow_count:
            overflow_agents = rng.sample(siblings, overflow_count)
        else:  # a lone queue on its site: its overflow members are dedicated agents
            overflow_agents = [
                _new_agent(rng, pbx, site, used_ids, used_extensions) for _ in range(overflow_count)
            ]
            pbx.agents.extend(overflow_agents)
        for agent in overflow_agents:
            queue.members.append(QueueMember(agent.id, QueueRole.OVERFLOW, rng.random() >= 1 / 12))


def _new_agent(
    rng: random.Random, pbx: Pbx, site: Site, used_ids: set[str], used_extensions: set[str]
) -> Agent:
    return Agent(
        id=_new_id(rng, used_ids),
        pbx_id=pbx.id,
        site_id=site.id,
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        extension=_unique_extension(rng, 1000, 6999, used_extensions),
    )


def _add_deleted_entities(
    rng: random.Random, pbx: Pbx, *, first_pbx: bool, used_ids: set[str], used_extensions: set[str]
) -> None:
    first_site = pbx.sites[0]
    first_site.queues.append(
        CallQueue(
            id=_new_id(rng, used_ids),
            name="Old Promotions",
            extension=_unique_extension(rng, 7000, 7999, used_extensions),
            pbx_id=pbx.id,
            site_id=first_site.id,
            auto_login=False,
            deleted=True,
        )
    )
    departed = _new_agent(rng, pbx, first_site, used_ids, used_extensions)
    departed.deleted = True
    pbx.agents.append(departed)
    if first_pbx:
        closed_site = Site(
            id=_new_id(rng, used_ids),
            name="ClosedOffice",
            pbx_id=pbx.id,
            utc_offset_hours=0,
            deleted=True,
        )
        closed_site.queues.append(
            CallQueue(
                id=_new_id(rng, used_ids),
                name="Closed Office Line",
                extension=_unique_extension(rng, 7000, 7999, used_extensions),
                pbx_id=pbx.id,
                site_id=closed_site.id,
                auto_login=False,
                deleted=True,
            )
        )
        pbx.sites.append(closed_site)


def _resolve_transfer_targets(rng: random.Random, pbx: Pbx) -> None:
    active = [q for site in pbx.sites if not site.deleted for q in site.queues if not q.deleted]
    for queue in active:
        traffic = queue.traffic
        assert traffic is not None
        if traffic.destination is not RoutingDestination.CALL_QUEUE:
            continue
        others = [q for q in active if q.id != queue.id]
        if others:
            target = rng.choice(others).id
            queue.traffic = _replace_traffic(
                traffic, destination=RoutingDestination.CALL_QUEUE, transfer_queue_id=target
            )
        else:  # nowhere to transfer to on a one-queue PBX
            queue.traffic = _replace_traffic(
                traffic, destination=RoutingDestination.VOICEMAIL, transfer_queue_id=None
            )


def _replace_traffic(
    traffic: QueueTraffic, *, destination: RoutingDestination, transfer_queue_id: str | None
) -> QueueTraffic:
    return replace(traffic, destination=destination, transfer_queue_id=transfer_queue_id)


def _ring_group_traffic(rng: random.Random, agents_per_queue: int) -> RingGroupTraffic:
    return RingGroupTraffic(
        peak_arrivals_per_hour=rng.uniform(8.0, 18.0) * max(agents_per_queue, 1) / 6.0,
        mean_talk_seconds=rng.uniform(90.0, 240.0),
        hold_probability=rng.uniform(0.05, 0.2),
        mean_hold_seconds=rng.uniform(20.0, 45.0),
        mean_wrap_up_seconds=rng.uniform(5.0, 15.0),
        mean_patience_seconds=rng.uniform(25.0, 60.0),
        ring_timeout_seconds=float(rng.choice((20, 25, 30))),
    )


def _add_ring_groups(rng: random.Random, pbx: Pbx, used_ids: set[str]) -> None:
    """One or two ring groups per active site, members among the site's agents; queues of the
    site that overflow to a ring group send their callers to the site's first one."""
    used_extensions = {q.extension for site in pbx.sites for q in site.queues} | {
        a.extension for a in pbx.agents
    }
    names = list(RING_GROUP_NAMES)
    rng.shuffle(names)
    for site in pbx.sites:
        if site.deleted:
            continue
        agents = [a for a in pbx.agents if a.site_id == site.id and not a.deleted]
        per_queue = max(1, len(agents) // max(1, len(site.queues)))
        for _ in range(rng.choice((1, 2))):
            index = sum(len(s.ring_groups) for s in pbx.sites)
            name = names[index % len(names)] + (
                "" if index < len(names) else f" {index // len(names) + 1}"
            )
            size = min(len(agents), rng.randint(3, 5))
            site.ring_groups.append(
                RingGroup(
                    id=_new_id(rng, used_ids),
                    name=name,
                    extension=_unique_extension(rng, 8000, 8999, used_extensions),
                    pbx_id=pbx.id,
                    site_id=site.id,
                    member_ids=[a.id for a in rng.sample(agents, size)],
                    traffic=_ring_group_traffic(rng, per_queue * 3 // 2),
                )
            )
        first = site.ring_groups[0].id
        for queue in site.queues:
            if (
                queue.traffic is not None
                and queue.traffic.destination is RoutingDestination.RING_GROUP
            ):
                queue.traffic = replace(queue.traffic, transfer_ring_group_id=first)


def _add_profiles(pbx: Pbx) -> None:
    """Extension Summary details: department = the agent's (first) primary queue, branch = site."""
    sites = {site.id: site for site in pbx.sites}
    department: dict[str, str] = {}
    for site in pbx.sites:
        for queue in site.queues:
            for member in queue.members:
                if member.role is QueueRole.PRIMARY:
                    department.setdefault(member.agent_id, queue.name)
    for agent in pbx.agents:
        handle = f"{agent.first_name}.{agent.last_name}.{agent.extension}".lower()
        agent.department = department.get(agent.id, "Operations")
        agent.branch = sites[agent.site_id].name
        agent.email = f"{handle}@{pbx.name}.example.com"
        agent.username = f"{handle}@{pbx.name}"
