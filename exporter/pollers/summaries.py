"""Rolling-window summaries from the Work Analytics historical endpoints.

One poller per endpoint; each asks for every configured window on every run, with the PBX
names batched into one comma-separated `pbxId` (or `allpbxes` when every PBX is watched), so
the number of requests does not grow with the number of PBXes:

    eightbyeight_pbx_answered_calls{pbx="acmecorp",window="today"} 2204.0
    eightbyeight_ring_group_missed_calls{extension="2001",pbx="acmecorp",ring_group="Billing",site="West",window="1h"} 1.0
    eightbyeight_ring_group_member_talk_time_seconds{extension="1001",pbx="acmecorp",ring_group="Billing",ring_group_extension="2001",window="today"} 431.0
    eightbyeight_extension_inbound_calls{extension="8885",pbx="acmecorp",window="today"} 1.0
    eightbyeight_extension_info{branch="East Coast",department="Marketing",email="",extension="8885",first_name="",...} 1.0

The user's names and e-mail are empty unless work_analytics.personal_data is on. Durations
are converted from milliseconds to seconds and percentages to ratios (see
exporter/metrics/summaries.py). Counts here are gauges: a window's count goes down as old calls leave it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from exporter.api.protocols import SummaryApi
from exporter.config import Selection
from exporter.core.bounded_map import bounded_map
from exporter.core.errors import CollectionError
from exporter.core.logs import get_logger
from exporter.core.windows import WIRE_TIME_ZONE, ResolvedWindow, Window, resolve
from exporter.metrics.rendering import Family
from exporter.metrics.spec import FamilySet, MetricSpec
from exporter.metrics.summaries import (
    COMPANY,
    EXTENSION_INFO,
    EXTENSIONS,
    EXTSUM_INFO_KEYS,
    EXTSUM_PERSONAL_KEYS,
    RING_GROUP_MEMBERS,
    RING_GROUPS,
    SPECS,
    Shape,
)
from exporter.metrics.units import convert_number, why_unusable
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.discovery import DirectorySource, pbx_batches
from exporter.pollers.limits import SeriesBudget
from exporter.pollers.ring_group_sources import RingGroup, RingGroupSource

log = get_logger(__name__)
__all__ = [
    "SPECS",
    "CompanySummaryPoller",
    "ExtensionPoller",
    "RingGroupMemberPoller",
    "RingGroupPoller",
]


def text(row: Mapping[str, Any], key: str) -> str:
    return label_text(row.get(key))


class SummaryPoller(Poller):
    """Polls one summary endpoint for each window; subclasses say what a row's labels are."""

    shape: Shape
    invalid: LeftOut
    unusable: LeftOut
    # A window's rows may serve another window of the run that resolves to the same span.
    rows_reusable = True

    def __init__(
        self,
        client: SummaryApi,
        directory: DirectorySource,
        *,
        interval: float,
        windows: Sequence[Window],
        time_zone: str,
        select: Selection = Selection(),
        max_series: int = 20_000,
        all_pbxes: bool = True,
        pbx_batch_size: int = 50,
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
        self._clamp_warned: set[str] = set()
        self.exported: set[tuple[str, ...]] = set()  # row labels with series in the last run
        self.invalid = LeftOut(self.name)  # rows left out
        self.unusable = LeftOut(self.name)  # values of numeric keys that are not numbers

    # --- requests ---------------------------------------------------------------------------

    def resolve(self, window: Window) -> ResolvedWindow:
        resolved = resolve(window, self.client.now(), self.zone)
        if resolved.clamped and window.name not in self._clamp_warned:
            self._clamp_warned.add(window.name)
            log.warning(
                "window_clamped_to_retention",
                collector=self.name,
                window=window.name,
                start_time=resolved.start_time,
            )
        return resolved

    def fetch(self, resolved: ResolvedWindow, pbx_names: list[str]) -> list[Any]:
        params = self.client.historical_params(
            pbx_names, resolved.start_time, resolved.end_time, WIRE_TIME_ZONE
        )
        return self.client.summary(self.shape.endpoint, params)

    def rows(self, resolved: ResolvedWindow) -> Iterable[Any]:
        for batch in pbx_batches(self.directory, self.all_pbxes, self.pbx_batch_size):
            yield from self.fetch(resolved, batch)

    # --- rows to series ---------------------------------------------------------------------

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        raise NotImplementedError

    def keeps(self, row: Mapping[str, Any], labels: tuple[str, ...]) -> bool:
        """The include/exclude patterns, matched against the row's name and extension."""
        return self.select.keeps(*labels[1:])

    def collect(self) -> Sequence[Family]:
        families = FamilySet(
            f" Polled from {self.shape.endpoint} (how often: eightbyeight_collector_interval_seconds)."
        )
        budget = SeriesBudget(self.name, self.max_series)
        self.exported = set()
        resolved_windows = [self.resolve(window) for window in self.windows]
        spans = Counter((r.start_time, r.end_time) for r in resolved_windows)
        answers: dict[tuple[str, str], list[Any]] = {}  # windows that resolve alike ask once
        for resolved in resolved_windows:
            window, span = resolved.window, (resolved.start_time, resolved.end_time)
            cached = answers.get(span)
            rows: Iterable[Any] = self.rows(resolved) if cached is None else cached
            if cached is None and spans[span] > 1 and self.rows_reusable:
                rows = answers[span] = list(rows)  # today and this_week on a Monday
            selected: dict[tuple[str, ...], list[tuple[MetricSpec, float]]] = {}
            for row in rows:
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
                self.on_listed(labels)
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
                series = (*labels, window.name)  # one tuple for the row's tens of families
                for spec, value in values:
                    families.add(spec, series, value)
        extra = list(self.extra_families())
        self.series = budget.finish(self.series)
        return (*families, *extra)

    def values(self, row: Mapping[str, Any]) -> list[tuple[MetricSpec, float]]:
        out: dict[str, tuple[MetricSpec, float]] = {}
        spec_of = self.shape.spec_of
        for key, raw in row.items():
            spec = spec_of(key)
            if spec is None or raw is None:  # null is "no value", not an error
                continue
            # A clock text is no value here: the summaries answer numbers only.
            number = convert_number(spec.unit, raw, "milliseconds")
            if number is None:
                self.unusable.add("summary_value_unusable", key, type=why_unusable(raw))
                continue
            out.setdefault(spec.name, (spec, number))
        return list(out.values())

    def on_row(self, row: Mapping[str, Any], labels: tuple[str, ...], window: Window) -> None:
        """Hook: a kept row was read."""

    def on_listed(self, labels: tuple[str, ...]) -> None:
        """Hook: a row with its identity was read, kept by `select` or not."""

    def extra_families(self) -> Iterable[Family]:
        return ()


class CompanySummaryPoller(SummaryPoller):
    name = COMPANY.poller
    shape = COMPANY

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return (text(row, "pbxId"),)

    def keeps(self, row: Mapping[str, Any], labels: tuple[str, ...]) -> bool:
        return True  # one row per PBX: PBXes are chosen with `pbxes`


class RingGroupPoller(SummaryPoller):
    """Ring group summaries; also the list of ring groups other pollers look up."""

    name = RING_GROUPS.poller
    shape = RING_GROUPS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen: dict[tuple[str, str], RingGroup] = {}
        self._listed: dict[tuple[str, str], RingGroup] = {}
        self.groups: Mapping[tuple[str, str], RingGroup] = {}  # (pbx name, extension)
        # Every ring group, `select` or not: the call counters count a ring group's legs
        # whatever this summary exports.
        self.listed: Mapping[tuple[str, str], RingGroup] = {}
        self.listed_until: float | None = None

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return (text(row, "pbxId"), text(row, "site"), text(row, "name"), text(row, "extension"))

    def on_row(self, row: Mapping[str, Any], labels: tuple[str, ...], window: Window) -> None:
        pbx, site, name, extension = labels
        self._seen[(pbx, extension)] = RingGroup(pbx, site, name, extension)

    def on_listed(self, labels: tuple[str, ...]) -> None:
        pbx, site, name, extension = labels
        self._listed[(pbx, extension)] = RingGroup(pbx, site, name, extension)

    def collect(self) -> Sequence[Family]:
        self._seen, self._listed = {}, {}
        asked = self.client.now()
        families = super().collect()
        self.groups = dict(self._seen)  # swapped whole: readers never see a half-built map
        self.listed = dict(self._listed)
        self.listed_until = asked
        return families


class RingGroupMemberPoller(SummaryPoller):
    """Members of the configured ring groups (or of every ring group the summary lists)."""

    name = RING_GROUP_MEMBERS.poller
    shape = RING_GROUP_MEMBERS
    rows_reusable = False  # a row's group is the one being read (`_current`)

    def __init__(
        self,
        *args: Any,
        ring_groups: RingGroupSource,
        refs: Sequence[str] = (),
        concurrency: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ring_groups = ring_groups
        self.refs = set(refs)
        self.concurrency = concurrency
        self._current: RingGroup | None = None

    def targets(self) -> list[RingGroup]:
        groups = sorted(self.ring_groups.groups.values(), key=lambda g: (g.pbx, g.extension))
        if self.refs:
            groups = [g for g in groups if g.name in self.refs or g.extension in self.refs]
        return groups

    def rows(self, resolved: ResolvedWindow) -> Iterable[Any]:
        targets = self.targets()
        if not targets and not self.ring_groups.groups:
            raise CollectionError(
                "no ring group is known yet (the ring_groups collector lists them)"
            )

        def ask(group: RingGroup) -> tuple[RingGroup, list[Any]]:
            params = self.client.historical_params(
                [group.pbx], resolved.start_time, resolved.end_time, WIRE_TIME_ZONE
            )
            params["extId"] = group.extension
            return group, self.client.summary(self.shape.endpoint, params)

        # One request per ring group (the API takes one extId), a few at once; each takes its
        # token from the API's budget in its own thread. The answers come back in the
        # targets' order, so the run reads the same rows in the same order as one by one.
        answers = bounded_map(ask, targets, self.concurrency, f"poller-{self.name}")
        for group, rows in answers:
            self._current = group
            yield from rows

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        group = self._current
        assert group is not None
        return (group.pbx, group.name, group.extension, text(row, "extension"))


class ExtensionPoller(SummaryPoller):
    """Extension summaries; the user's details go in one `_info` series per extension.

    Without `personal_data` the person's labels (EXTSUM_PERSONAL_KEYS) are exported empty, not
    left out: Prometheus reads an empty label as an absent one, so no name reaches the TSDB,
    while the family keeps one label set whatever the switch (the catalogue, and a query's
    `group_left(first_name, last_name)`, work either way: the names are just empty)."""

    name = EXTENSIONS.poller
    shape = EXTENSIONS

    def __init__(self, *args: Any, personal_data: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.personal_data = personal_data
        self._info: dict[tuple[str, ...], tuple[str, ...]] = {}

    def row_labels(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        return (text(row, "PbxId"), text(row, "Extension"))

    def keeps(self, row: Mapping[str, Any], labels: tuple[str, ...]) -> bool:
        name = f"{text(row, 'FirstName')} {text(row, 'LastName')}".strip()
        return self.select.keeps(labels[1], name)

    def on_row(self, row: Mapping[str, Any], labels: tuple[str, ...], window: Window) -> None:
        self._info[labels] = tuple(
            text(row, key) if self.personal_data or key not in EXTSUM_PERSONAL_KEYS else ""
            for key in EXTSUM_INFO_KEYS
        )

    def collect(self) -> Sequence[Family]:
        self._info = {}
        return super().collect()

    def extra_families(self) -> Iterable[Family]:
        family = EXTENSION_INFO.gauge(
            f" Polled from {EXTENSIONS.endpoint} (how often: eightbyeight_collector_interval_seconds)."
        )
        for key in sorted(self._info.keys() & self.exported):
            family.add_metric([*key, *self._info[key]], 1.0)
        yield family
