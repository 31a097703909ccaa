"""Rolling-window summaries from the Work Analytics historical endpoints.

One collector per endpoint; each asks for every configured window on every run, with the PBX
names batched into one comma-separated `pbxId` (or `allpbxes` when every PBX is watched), so
the number of requests does not grow with the number of PBXes:

    eightbyeight_pbx_answered_calls{pbx="acmecorp",window="today"} 2204.0
    eightbyeight_ring_group_missed_calls{extension="2001",pbx="acmecorp",ring_group="Billing",site="West",window="1h"} 1.0
    eightbyeight_ring_group_member_talk_time_seconds{extension="1001",pbx="acmecorp",ring_group="Billing",ring_group_extension="2001",window="today"} 431.0
    eightbyeight_extension_inbound_calls{extension="8885",pbx="acmecorp",window="today"} 1.0
    eightbyeight_extension_info{branch="East Coast",department="Marketing",email="...",extension="8885",first_name="Alice",...} 1.0

Durations are converted from milliseconds to seconds and percentages to ratios (see
summary_tables). Counts here are gauges: a window's count goes down as old calls leave it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config.model import Selection
from exporter.core.errors import CollectionError
from exporter.core.logs import get_logger
from exporter.core.windows import ResolvedWindow, Window, resolve
from exporter.metrics.cc_tables import to_number
from exporter.metrics.rendering import Family, GaugeFamily
from exporter.metrics.summary_tables import (
    COMPSUM_KEYS,
    EXTSUM_INFO_KEYS,
    EXTSUM_KEYS,
    RGSUM_KEYS,
    SummaryMetric,
    fold,
    lookup,
)
from exporter.pollers.base import LeftOut, SnapshotCollector, label_text
from exporter.pollers.discovery import Directory, pbx_batches
from exporter.pollers.limits import SeriesBudget

log = get_logger(__name__)


@dataclass(frozen=True)
class Shape:
    """What one endpoint's rows become."""

    endpoint: str
    prefix: str
    labels: tuple[str, ...]  # without `window`
    keys: tuple[str, ...]  # the numeric keys of the vendor's schema (for the catalogue)
    identity: tuple[str, ...]  # labels a row must have: without them it cannot be told apart
    pbx_key: str = "pbxId"

    def metric_name(self, metric: SummaryMetric) -> str:
        return self.prefix + metric.stem + metric.suffix


COMPANY = Shape("/v1/compsum", "eightbyeight_pbx_", ("pbx",), COMPSUM_KEYS, ("pbx",))
# A ring group is known by its PBX and extension (the members' `extId`, the call legs' `lra`).
RING_GROUPS = Shape(
    "/v2/rgsum-groups",
    "eightbyeight_ring_group_",
    ("pbx", "site", "ring_group", "extension"),
    RGSUM_KEYS,
    ("pbx", "extension"),
)
RING_GROUP_MEMBERS = Shape(
    "/v2/rgsum-members",
    "eightbyeight_ring_group_member_",
    ("pbx", "ring_group", "ring_group_extension", "extension"),
    tuple(k for k in RGSUM_KEYS if k != "totalMembers"),
    ("extension",),
)
EXTENSIONS = Shape(
    "/v2/extsum",
    "eightbyeight_extension_",
    ("pbx", "extension"),
    EXTSUM_KEYS,
    ("pbx", "extension"),
    pbx_key="PbxId",
)
EXTENSION_INFO = (
    "eightbyeight_extension_info",
    "An extension seen in the extension summary, with its user's details.",
    ("pbx", "extension", *EXTSUM_INFO_KEYS.values()),
)
SHAPES = (COMPANY, RING_GROUPS, RING_GROUP_MEMBERS, EXTENSIONS)


def text(row: Mapping[str, Any], key: str) -> str:
    return label_text(row.get(key))


@dataclass(frozen=True)
class RingGroup:
    pbx: str  # PBX name
    site: str
    name: str
    extension: str


class Families:
    """Gauge families of one run, created on first use, in a stable order."""

    def __init__(self, help_suffix: str) -> None:
        self.help_suffix = help_suffix
        self._families: dict[str, GaugeFamily] = {}

    def add(
        self, name: str, help_text: str, labels: Sequence[str], values: Sequence[str], value: float
    ) -> None:
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = GaugeFamily(
                name, help_text + self.help_suffix, labels=list(labels)
            )
        family.add_metric(list(values), value)

    def __iter__(self) -> Iterator[Family]:
        return iter(self._families.values())


class SummaryCollector(SnapshotCollector):
    """Polls one summary endpoint for each window; subclasses say what a row's labels are."""

    shape: Shape
    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: WorkAnalyticsClient,
        directory: Callable[[], Directory | None],
        *,
        interval: float,
        windows: Sequence[Window],
        time_zone: str,
        select: Selection = Selection(),
        max_series: int = 20_000,
        all_pbxes: bool = True,
        pbx_batch_size: int = 50,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.directory = directory
        self.interval = interval
        self.windows = list(windows)
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        self.select = select
        self.max_series = max_series
        self.all_pbxes = all_pbxes
        self.pbx_batch_size = pbx_batch_size
        self.clock = clock
        self._clamp_warned: set[str] = set()
        self._keys = {fold(key) for key in self.shape.keys}
        self.exported: set[tuple[str, ...]] = set()  # row labels with series in the last run
        self.invalid = LeftOut(self.name)  # rows left out
        self.unusable = LeftOut(self.name)  # values of numeric keys that are not numbers

    # --- requests ---------------------------------------------------------------------------

    def resolve(self, window: Window) -> ResolvedWindow:
        resolved = resolve(window, self.clock(), self.zone)
        if resolved.clamped and window.name not in self._clamp_warned:
            self._clamp_warned.add(window.name)
            log.warning(
                "window_clamped_to_retention",
                collector=self.name,
                window=window.name,
                start_time=resolved.start_time,
            )
        return resolved

    def fetch(self, resolved: ResolvedWindow, pbx_names: list[str]) -> list[Mapping[str, Any]]:
        params = self.client.historical_params(
            pbx_names, resolved.start_time, resolved.end_time, self.time_zone
        )
        return self.client.summary(self.shape.endpoint, params)

    def rows(self, resolved: ResolvedWindow) -> Iterable[Mapping[str, Any]]:
        for batch in pbx_batches(self.directory, self.all_pbxes, self.pbx_batch_size):
            yield from self.fetch(resolved, batch)

    # --- rows to series ---------------------------------------------------------------------

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        raise NotImplementedError

    def keeps(self, row: Mapping[str, Any], labels: tuple[str, ...]) -> bool:
        """The include/exclude patterns, matched against the row's name and extension."""
        return self.select.keeps(*labels[1:])

    def collect(self) -> Sequence[Family]:
        families = Families(f" Polled from {self.shape.endpoint} every {self.interval:g}s.")
        budget = SeriesBudget(self.name, self.max_series)
        self.exported = set()
        for window in self.windows:
            resolved = self.resolve(window)
            selected: dict[tuple[str, ...], list[tuple[SummaryMetric, float]]] = {}
            for row in self.rows(resolved):
                if not isinstance(row, Mapping):
                    self.invalid.add("summary_row_invalid", "row not an object", window=window.name)
                    continue
                labels = self.row_labels(row)
                missing = [
                    name
                    for name, value in zip(self.shape.labels, labels)
                    if name in self.shape.identity and not value
                ]
                if missing:
                    self.invalid.add(
                        "summary_row_invalid",
                        f"row without {missing[0]}",
                        window=window.name,
                        fields=sorted(map(str, row))[:20],
                    )
                    continue
                if not self.keeps(row, labels):
                    continue
                if labels in selected:
                    self.invalid.add(
                        "summary_duplicate_row",
                        "row listed twice",
                        labels=list(labels),
                        window=window.name,
                    )
                    continue
                self.on_row(row, labels, window)
                selected[labels] = self.values(row)
            # Sorted, so a ceiling keeps the same series from one run to the next.
            for labels in sorted(selected):
                values = selected[labels]
                if not budget.take(len(values)):
                    continue
                self.exported.add(labels)
                for metric, value in values:
                    families.add(
                        self.shape.metric_name(metric),
                        metric.help,
                        (*self.shape.labels, "window"),
                        (*labels, window.name),
                        value,
                    )
        extra = list(self.extra_families())
        self.series = budget.finish(self.series)
        return (*families, *extra)

    def values(self, row: Mapping[str, Any]) -> list[tuple[SummaryMetric, float]]:
        out: dict[str, tuple[SummaryMetric, float]] = {}
        for key, raw in row.items():
            metric = lookup(key) if fold(key) in self._keys else None
            if metric is None or raw is None:  # null is "no value", not an error
                continue
            number = to_number(raw)
            if number is None:
                self.unusable.add("summary_value_unusable", key, type=type(raw).__name__)
                continue
            name = self.shape.metric_name(metric)
            if metric.kind == "duration":
                number /= 1000.0
            elif metric.kind == "percent":
                number /= 100.0
            out.setdefault(name, (metric, number))
        return list(out.values())

    def on_row(self, row: Mapping[str, Any], labels: tuple[str, ...], window: Window) -> None:
        """Hook: a kept row was read."""

    def extra_families(self) -> Iterable[Family]:
        return ()


class CompanySummaryCollector(SummaryCollector):
    name = "company_summary"
    shape = COMPANY

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return (text(row, "pbxId"),)

    def keeps(self, row: Mapping[str, Any], labels: tuple[str, ...]) -> bool:
        return True  # one row per PBX: PBXes are chosen with `pbxes`


class RingGroupCollector(SummaryCollector):
    """Ring group summaries; also the list of ring groups other collectors look up."""

    name = "ring_groups"
    shape = RING_GROUPS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: dict[tuple[str, str], RingGroup] = {}
        self.groups: Mapping[tuple[str, str], RingGroup] = {}  # (pbx name, extension)

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return (text(row, "pbxId"), text(row, "site"), text(row, "name"), text(row, "extension"))

    def on_row(self, row: Mapping[str, Any], labels: tuple[str, ...], window: Window) -> None:
        pbx, site, name, extension = labels
        self._seen[(pbx, extension)] = RingGroup(pbx, site, name, extension)

    def collect(self) -> Sequence[Family]:
        self._seen = {}
        families = super().collect()
        self.groups = dict(self._seen)  # swapped whole: readers never see a half-built map
        return families


class RingGroupMemberCollector(SummaryCollector):
    """Members of the configured ring groups (or of every ring group the summary lists)."""

    name = "ring_group_members"
    shape = RING_GROUP_MEMBERS

    def __init__(
        self,
        *args: Any,
        ring_groups: Callable[[], Mapping[tuple[str, str], RingGroup]],
        refs: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ring_groups = ring_groups
        self.refs = set(refs)
        self._current: RingGroup | None = None

    def targets(self) -> list[RingGroup]:
        groups = sorted(self.ring_groups().values(), key=lambda g: (g.pbx, g.extension))
        if self.refs:
            groups = [g for g in groups if g.name in self.refs or g.extension in self.refs]
        return groups

    def rows(self, resolved: ResolvedWindow) -> Iterable[Mapping[str, Any]]:
        targets = self.targets()
        if not targets and not self.ring_groups():
            raise CollectionError(
                "no ring group is known yet (the ring_groups collector lists them)"
            )
        for group in targets:
            params = self.client.historical_params(
                [group.pbx], resolved.start_time, resolved.end_time, self.time_zone
            )
            params["extId"] = group.extension
            self._current = group
            yield from self.client.summary(self.shape.endpoint, params)

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        group = self._current
        assert group is not None
        return (group.pbx, group.name, group.extension, text(row, "extension"))


class ExtensionCollector(SummaryCollector):
    """Extension summaries; the user's details go in one `_info` series per extension."""

    name = "extensions"
    shape = EXTENSIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._info: dict[tuple[str, str], tuple[str, ...]] = {}

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return (text(row, "PbxId"), text(row, "Extension"))

    def keeps(self, row: Mapping[str, Any], labels: tuple[str, ...]) -> bool:
        name = f"{text(row, 'FirstName')} {text(row, 'LastName')}".strip()
        return self.select.keeps(labels[1], name)

    def on_row(self, row: Mapping[str, Any], labels: tuple[str, ...], window: Window) -> None:
        self._info[labels] = tuple(text(row, key) for key in EXTSUM_INFO_KEYS)

    def collect(self) -> Sequence[Family]:
        self._info = {}
        return super().collect()

    def extra_families(self) -> Iterable[Family]:
        name, help_text, labels = EXTENSION_INFO
        family = GaugeFamily(
            name,
            help_text + f" Polled from {EXTENSIONS.endpoint} every {self.interval:g}s.",
            labels=list(labels),
        )
        for key in sorted(self._info.keys() & self.exported):
            family.add_metric([*key, *self._info[key]], 1.0)
        yield family
