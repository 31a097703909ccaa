"""PBX, site and queue discovery from the customer-data API: opaque ids to names.

Exposition (polled every 10 minutes by default):

    eightbyeight_pbx_info{pbx="acme-main",pbx_id="rXp_ceLVQs6RYjUp1Iqqwa"} 1.0
    eightbyeight_site_info{pbx="acme-main",site="SanJose",site_id="vcXZjfBOT2yWxhUQHzwqwe"} 1.0
    eightbyeight_queue_info{extension="3971028",pbx="acme-main",queue="Support",queue_id="ZOT7...",site="SanJose",team="support"} 1.0

`team` is the queue's team as work_analytics.teams maps it (empty when no rule matches and
no default_team is set): the mixin's rules join it onto every queue alert, for routing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from exporter.api.protocols import DirectoryApi
from exporter.config import QueueServiceLevels, QueueTeams
from exporter.core.errors import CollectionError, MalformedResponseError
from exporter.core.logs import get_logger
from exporter.core.sharding import Shard
from exporter.metrics.rendering import Family, format_value
from exporter.metrics.spec import gauge
from exporter.pollers.base import LeftOut, Poller, label_text

log = get_logger(__name__)


# name -> (help, labels), for the page and the metric catalogue alike.
PBX_INFO = gauge(
    "eightbyeight_pbx_info", "A PBX the exporter watches.", ("pbx", "pbx_id"), "discovery"
)
SITE_INFO = gauge(
    "eightbyeight_site_info", "A site of a watched PBX.", ("pbx", "site", "site_id"), "discovery"
)
QUEUE_INFO = gauge(
    "eightbyeight_queue_info",
    "A call queue of a watched PBX, with its team (work_analytics.teams).",
    ("pbx", "site", "queue", "extension", "queue_id", "team"),
    "discovery",
)
# The queue's objective (work_analytics.service_levels): the mixin's service-level rules
# divide by its target, and take the calls answered in time from the wait histogram's bucket
# whose `le` is the threshold's (the exporter adds that bucket), joined on `le`. The label is
# `wait_bucket_le`, not `le`: `le` belongs to histograms (promtool check metrics refuses it).
QUEUE_SL_THRESHOLD = gauge(
    "eightbyeight_queue_service_level_threshold_seconds",
    "A call queue's service-level threshold (work_analytics.service_levels): calls answered "
    "within it count as answered in time. `wait_bucket_le` is the `le` of the "
    "eightbyeight_group_call_wait_seconds bucket that counts them.",
    ("pbx", "queue", "extension", "queue_id", "wait_bucket_le"),
    "discovery",
)
QUEUE_SL_TARGET = gauge(
    "eightbyeight_queue_service_level_target_ratio",
    "A call queue's service-level target (work_analytics.service_levels): the share of calls "
    "that should be answered within its threshold.",
    ("pbx", "queue", "extension", "queue_id"),
    "discovery",
)
SPECS = (PBX_INFO, SITE_INFO, QUEUE_INFO, QUEUE_SL_THRESHOLD, QUEUE_SL_TARGET)


@dataclass(frozen=True)
class Pbx:
    id: str
    name: str


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    pbx_id: str


@dataclass(frozen=True)
class Queue:
    id: str
    name: str
    extension: str
    site_id: str
    pbx_id: str


@dataclass(frozen=True)
class Directory:
    """The account's PBXes, sites and queues as discovered; immutable, swapped whole."""

    pbxes: tuple[Pbx, ...] = ()
    sites: Mapping[str, Site] = field(default_factory=dict)  # by site id
    queues: Mapping[str, Queue] = field(default_factory=dict)  # by queue id

    def sites_of(self, pbx_id: str) -> list[Site]:
        return [s for s in self.sites.values() if s.pbx_id == pbx_id]

    def queues_of(self, pbx_id: str) -> list[Queue]:
        return [q for q in self.queues.values() if q.pbx_id == pbx_id]

    def site_name(self, site_id: str) -> str:
        site = self.sites.get(site_id)
        return site.name if site else ""

    def filter_ids(
        self, pbx_id: str, site_refs: Sequence[str], queue_refs: Sequence[str]
    ) -> tuple[list[str], list[str]] | None:
        """siteIds and queueIds of a poller's `sites` / `queues` filters (names or ids; queues
        also by extension) for one PBX; None when filters are set and match nothing here."""
        site_ids = [s.id for s in self.sites_of(pbx_id) if s.id in site_refs or s.name in site_refs]
        queue_ids = [
            q.id for q in self.queues_of(pbx_id) if {q.id, q.name, q.extension} & set(queue_refs)
        ]
        if (site_refs and not site_ids) or (queue_refs and not queue_ids):
            return None
        return site_ids, queue_ids

    def find_queue(self, pbx_id: str, *, name: str, extension: str) -> Queue | None:
        """The queue the deprecated realtime API means (it gives no id): by extension, then name."""
        candidates = self.queues_of(pbx_id)
        for queue in candidates:
            if extension and queue.extension == extension:
                return queue
        matches = [q for q in candidates if q.name == name]
        return matches[0] if len(matches) == 1 else None


def _text(item: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = item.get(key)
        if value is not None and not isinstance(value, (Mapping, list)):
            return label_text(value)
    return ""


def _deleted(item: Mapping[str, Any]) -> bool:
    """The schema's boolean `deleted`; the strings "true" and "false" are read as such, so a
    PBX, site or queue sent with `"deleted": "false"` is not dropped as deleted."""
    value = item.get("deleted")
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def select(refs: Sequence[str], pbxes: Sequence[Pbx]) -> tuple[list[Pbx], list[str]]:
    """PBXes named by id or name in `refs` (all when empty), and the refs that matched none."""
    if not refs:
        return list(pbxes), []
    chosen: list[Pbx] = []
    unknown: list[str] = []
    for ref in refs:
        match = [p for p in pbxes if ref in (p.id, p.name)]
        if not match:
            unknown.append(ref)
        for pbx in match:
            if pbx not in chosen:
                chosen.append(pbx)
    return chosen, unknown


class DirectorySource(Protocol):
    """Where a poller finds the PBX directory: the discovery poller (its last good answer, or
    None before the first), or a fixed one."""

    @property
    def directory(self) -> Directory | None: ...


@dataclass(frozen=True)
class FixedDirectory:
    """A directory that does not change: for a poller run on its own (tests, tools)."""

    directory: Directory | None


def pbx_batches(source: DirectorySource, all_pbxes: bool, size: int) -> list[list[str]]:
    """PBX names per request of the historical endpoints: `[[]]` (= `allpbxes`) when every PBX
    is watched, else the discovered ones in comma-list batches of `size`."""
    if all_pbxes:
        return [[]]
    found = source.directory
    if found is None:
        raise CollectionError("the PBX directory has not been discovered yet")
    names = sorted(p.name for p in found.pbxes)
    return [names[i : i + size] for i in range(0, len(names), size)]


class DiscoveryPoller(Poller):
    """Refreshes the `Directory` and exports it as `_info` metrics."""

    name = "discovery"
    invalid: LeftOut

    def __init__(
        self,
        client: DirectoryApi,
        *,
        interval: float,
        pbx_refs: Sequence[str],
        page_size: int = 100,
        shard: Shard = Shard(),
        teams: QueueTeams = QueueTeams(),
        service_levels: QueueServiceLevels = QueueServiceLevels(),
    ) -> None:
        self.client = client
        self.shard = shard
        self.teams = teams
        self.service_levels = service_levels
        self.interval = interval
        self.pbx_refs = list(pbx_refs)
        self.page_size = page_size
        self._lock = threading.Lock()
        self._directory: Directory | None = None
        self.invalid = LeftOut(self.name)

    @property
    def directory(self) -> Directory | None:
        """The last directory discovered, or None before the first success."""
        with self._lock:
            return self._directory

    def discover(self) -> Directory:
        pbxes: list[Pbx] = []
        for item in self.client.pbxes(self.page_size):
            if not isinstance(item, Mapping):
                raise MalformedResponseError("/v2/pbxes/", "a PBX that is not an object")
            if _deleted(item):
                continue
            pbx = Pbx(id=_text(item, "id"), name=_text(item, "name"))
            if not pbx.id or not pbx.name:
                raise MalformedResponseError("/v2/pbxes/", "a PBX without id or name")
            # Listed twice (paging over a changing list), or one name for two ids: the other
            # pollers ask by id and label by name, so each must be there once.
            if any(p.id == pbx.id or p.name == pbx.name for p in pbxes):
                self.invalid.add(
                    "discovery_record_invalid", "PBX listed twice", pbx=pbx.name, pbx_id=pbx.id
                )
                continue
            pbxes.append(pbx)
        chosen, unknown = select(self.pbx_refs, pbxes)
        if unknown:
            log.warning(
                "discovery_pbx_not_found", pbxes=unknown, known=[p.name for p in pbxes][:50]
            )
        # The shard's own PBXes only: every other poller works from this directory.
        chosen = [p for p in chosen if self.shard.owns_pbx(p.id)]
        sites: dict[str, Site] = {}
        queues: dict[str, Queue] = {}
        for pbx in chosen:
            for item in self.client.sites(pbx.id, self.page_size):
                if not self._usable(item, "site", pbx):
                    continue
                site = Site(id=_text(item, "id"), name=_text(item, "name"), pbx_id=pbx.id)
                sites[site.id] = site
            for item in self.client.queues(pbx.id, self.page_size):
                if not self._usable(item, "queue", pbx):
                    continue
                # The schema names the field `extensionNumber`, the vendor's examples `extension`.
                queue = Queue(
                    id=_text(item, "id"),
                    name=_text(item, "name"),
                    extension=_text(item, "extensionNumber", "extension"),
                    site_id=_text(item, "siteId"),
                    pbx_id=pbx.id,
                )
                queues[queue.id] = queue
        return Directory(pbxes=tuple(chosen), sites=sites, queues=queues)

    def _usable(self, item: Any, what: str, pbx: Pbx) -> bool:
        """False for a deleted site or queue (left out on purpose) and for one the directory
        cannot hold (counted and logged)."""
        if not isinstance(item, Mapping):
            self.invalid.add(
                "discovery_record_invalid", f"{what} that is not an object", pbx=pbx.name
            )
            return False
        if _deleted(item):
            return False
        if not _text(item, "id"):
            self.invalid.add(
                "discovery_record_invalid",
                f"{what} without id",
                pbx=pbx.name,
                name=_text(item, "name"),
            )
            return False
        return True

    def collect(self) -> Sequence[Family]:
        directory = self.discover()
        with self._lock:
            self._directory = directory
        names = {p.id: p.name for p in directory.pbxes}
        polled = " Polled from the customer-data API (how often: eightbyeight_collector_interval_seconds)."
        families = {spec.name: spec.gauge(polled) for spec in SPECS}
        for pbx in directory.pbxes:
            families[PBX_INFO.name].add_metric([pbx.name, pbx.id], 1)
        for site in directory.sites.values():
            families[SITE_INFO.name].add_metric([names[site.pbx_id], site.name, site.id], 1)
        for queue in directory.queues.values():
            pbx_name, keys = names[queue.pbx_id], (queue.name, queue.extension, queue.id)
            families[QUEUE_INFO.name].add_metric(
                [
                    pbx_name,
                    directory.site_name(queue.site_id),
                    queue.name,
                    queue.extension,
                    queue.id,
                    self.teams.team_of(*keys),
                ],
                1,
            )
            objective = self.service_levels.of(*keys)
            labels = [pbx_name, queue.name, queue.extension, queue.id]
            families[QUEUE_SL_TARGET.name].add_metric(labels, objective.target)
            threshold = objective.threshold_seconds
            families[QUEUE_SL_THRESHOLD.name].add_metric(
                [*labels, format_value(threshold)], threshold
            )
        return tuple(families.values())
