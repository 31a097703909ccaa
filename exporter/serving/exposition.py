"""What /metrics shows: every collector's snapshot, assembled once per change, plus the
exporter's own health metrics, rendered when they change (or, for the few that follow the
clock, per scrape)."""

from __future__ import annotations

import functools
import platform
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.core.sharding import Shard
from exporter.metrics.rendering import (
    GZIP_HEADER,
    RenderedFamily,
    deflate_piece,
    family_header,
    gzip_trailer,
    sample_lines,
)
from exporter.pollers.base import CollectorRunner, Scheduler, Snapshot

# name -> (type, help); every one is labelled by `collector`. Listed once, for the page and the
# metric catalogue alike.
SELF_METRICS: dict[str, tuple[str, str]] = {
    "eightbyeight_up": (
        "gauge",
        "1 if the collector's last run got a valid answer from the 8x8 API, else 0.",
    ),
    "eightbyeight_collector_duration_seconds": ("gauge", "How long the collector's last run took."),
    "eightbyeight_collector_last_success_timestamp_seconds": (
        "gauge",
        "When the collector last succeeded, in seconds since the epoch.",
    ),
    "eightbyeight_collector_snapshot_age_seconds": (
        "gauge",
        "Age of the collector's last good snapshot: how old its data on this page can be.",
    ),
    "eightbyeight_collector_interval_seconds": (
        "gauge",
        "How often the collector polls the 8x8 API.",
    ),
    "eightbyeight_collector_runs": ("counter", "Runs of the collector."),
    "eightbyeight_collector_failures": ("counter", "Runs of the collector that failed."),
    # Collectors with a max_series ceiling:
    "eightbyeight_collector_series": (
        "gauge",
        "Series the collector exported in its last good run.",
    ),
    "eightbyeight_collector_series_limit": (
        "gauge",
        "The collector's ceiling on series (max_series).",
    ),
    "eightbyeight_collector_series_dropped": (
        "gauge",
        "Series the collector left out (or folded into `_other`) in its last good run because of its ceiling.",
    ),
    # Collectors that poll call records or call legs incrementally:
    "eightbyeight_collector_records_read": (
        "counter",
        "Records read from the API, duplicates included.",
    ),
    "eightbyeight_collector_records_duplicate": (
        "counter",
        "Records read again by an overlapping poll and not counted again.",
    ),
    "eightbyeight_collector_records_invalid": (
        "counter",
        "Records left out because they lack an id or their fields are unusable.",
    ),
    "eightbyeight_collector_watermark_timestamp_seconds": (
        "gauge",
        "End of the last complete incremental poll, in seconds since the epoch.",
    ),
    "eightbyeight_collector_dedup_entries": (
        "gauge",
        "Record ids remembered to avoid counting twice.",
    ),
    "eightbyeight_collector_dedup_evicted": (
        "counter",
        "Record ids forgotten early because dedup_max_entries was reached.",
    ),
    # Contact Center collectors:
    "eightbyeight_collector_unknown_metrics": (
        "gauge",
        "Distinct metric keys the API sent that the exporter does not know (each logged once).",
    ),
    "eightbyeight_collector_values_unusable": (
        "counter",
        "Values left out because they were not what their metric needs (a word or an array where a number belongs).",
    ),
}
BUILD_INFO = (
    "eightbyeight_exporter_build_info",
    "The exporter's version, with value 1.",
    ["version", "python_version"],
)
SHARD_INFO = (
    "eightbyeight_exporter_shard_info",
    "This replica's shard (0 of 1 when not sharded), with value 1: sum over shards "
    "to see the whole account.",
    ["shard", "total_shards"],
)


AGE_METRIC = "eightbyeight_collector_snapshot_age_seconds"


def _values(runner: CollectorRunner) -> dict[str, float | None]:
    """The runner's own metrics but the snapshot age: they change only when it runs."""
    state = runner.state
    return {
        "eightbyeight_up": 1.0 if state.success else 0.0,
        "eightbyeight_collector_duration_seconds": state.last_duration,
        "eightbyeight_collector_last_success_timestamp_seconds": state.last_success,
        "eightbyeight_collector_interval_seconds": runner.collector.interval,
        "eightbyeight_collector_runs": float(state.runs),
        "eightbyeight_collector_failures": float(state.failures),
        **runner.collector.self_metrics(),
    }


class ExporterCollector(Collector):
    """The exporter's own metrics of every runner, except the snapshot ages (see AgeCollector),
    and the build and shard: they change only when a runner finishes a run, which `version`
    counts, so /metrics collects them again only then."""

    def __init__(self, scheduler: Scheduler, shard: Shard = Shard()) -> None:
        self.scheduler = scheduler
        self.shard = shard

    @property
    def version(self) -> int:
        # Both terms only grow (runners are added while the exporter is built, and their
        # versions count runs), so the sum moves whenever either does.
        return sum(runner.version for runner in self.scheduler.runners) + len(
            self.scheduler.runners
        )

    def collect(self) -> Iterable[Metric]:
        values = [(runner.name, _values(runner)) for runner in self.scheduler.runners]
        for name, (kind, help_text) in SELF_METRICS.items():
            if name == AGE_METRIC:
                continue
            family_class = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = family_class(name, help_text, labels=["collector"])
            for runner_name, runner_values in values:
                value = runner_values.get(name)
                if value is not None:
                    family.add_metric([runner_name], value)
            yield family
        name, help_text, labels = BUILD_INFO
        build = GaugeMetricFamily(name, help_text, labels=labels)
        build.add_metric([__version__, platform.python_version()], 1)
        yield build
        name, help_text, labels = SHARD_INFO
        shard = GaugeMetricFamily(name, help_text, labels=labels)
        shard.add_metric([str(self.shard.index), str(self.shard.total)], 1)
        yield shard


class AgeCollector(Collector):
    """The snapshot ages: they change by the second, so they are rendered on every scrape."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(AGE_METRIC, SELF_METRICS[AGE_METRIC][1], labels=["collector"])
        for runner in self.scheduler.runners:
            age = runner.snapshot_age()
            if age is not None:
                family.add_metric([runner.name], age)
        yield family


@dataclass(frozen=True)
class DataPart:
    """The snapshots' share of /metrics in one format: the text and the same deflated in
    pieces, with the length the gzip trailer needs. Built once per snapshot change."""

    snapshots: tuple[Snapshot | None, ...]
    plain: list[bytes]
    deflated: list[bytes]
    length: int
    series: int

    @functools.cached_property
    def crc(self) -> int:
        """CRC-32 of the text, for the gzip trailer: computed at the first gzip answer in this
        format (a few ms per 10 MB), not for formats nobody asks for. Racing scrapes at worst
        compute it twice."""
        crc = 0
        for piece in self.plain:
            crc = zlib.crc32(piece, crc)
        return crc


@dataclass(frozen=True)
class LivePart:
    """The `live` registry's text in one format, the samples it was rendered from, and the
    same text deflated (a piece that continues the data part's stream)."""

    samples: list[Any]
    versions: tuple[int, ...]
    text: bytes
    deflated: bytes


class Versioned(Protocol):
    """A collector whose `version` moves whenever its samples change."""

    version: int

    def collect(self) -> Iterable[Metric]: ...


class Exposition:
    """What /metrics serves, in three parts:

    - the collectors' snapshots, assembled into bytes once per change of any snapshot (by the
      collector's thread, right after it takes one);
    - `live`: the exporter's own metrics that change only when something happens (a reload):
      collected on each scrape, rendered again only when a value differs from the last
      rendering; and the `versioned` collectors (the runners' own metrics, the API request
      counters: hundreds of samples; the exposition's own figures), not even collected unless
      their version moved;
    - `per_scrape`: the few that change with the clock (snapshot ages, request budgets, the
      process), rendered on each scrape.

    A scrape therefore renders no data sample and compresses only the per-scrape part: the
    other parts' gzip pieces are made once and stitched into one gzip member.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        live: CollectorRegistry | None = None,
        per_scrape: CollectorRegistry | None = None,
        *,
        shard: Shard = Shard(),
    ) -> None:
        self.scheduler = scheduler
        self.live = live if live is not None else CollectorRegistry(auto_describe=False)
        self.per_scrape = (
            per_scrape if per_scrape is not None else CollectorRegistry(auto_describe=False)
        )
        self.renders = 0
        self._lock = threading.Lock()
        self._parts: tuple[DataPart, DataPart] | None = None
        self._live: dict[bool, LivePart] = {}
        self._versioned: list[Versioned] = [
            ExporterCollector(scheduler, shard),
            _ExpositionCollector(self),
        ]
        # (name, type, help, unit, openmetrics) -> (header, deflated header): headers outlive
        # snapshots, so they are compressed once.
        self._headers: dict[tuple[str, str, str, str, bool], tuple[bytes, bytes]] = {}
        self.per_scrape.register(AgeCollector(scheduler))

    def _snapshots(self) -> tuple[Snapshot | None, ...]:
        return tuple(runner.serving_snapshot() for runner in self.scheduler.runners)

    def refresh(self) -> tuple[DataPart, DataPart]:
        """The data parts (text format, OpenMetrics) of the snapshots served now; rebuilt only
        when one of them changed (a new snapshot, or an old one too stale to serve)."""
        snapshots = self._snapshots()
        parts = self._parts
        if parts is not None and _same(parts[0].snapshots, snapshots):
            return parts
        with self._lock:
            snapshots = self._snapshots()
            parts = self._parts
            if parts is None or not _same(parts[0].snapshots, snapshots):
                parts = (self._build(snapshots, False), self._build(snapshots, True))
                self._parts = parts
                self.renders += 1
            return parts

    def _header(self, family: RenderedFamily, openmetrics: bool) -> tuple[bytes, bytes]:
        key = (family.name, family.type, family.documentation, family.unit, openmetrics)
        header = self._headers.get(key)
        if header is None:
            if len(self._headers) > 20_000:  # help texts that keep changing: start over
                self._headers.clear()
            text = family.header(openmetrics)
            header = self._headers[key] = (text, deflate_piece(text))
        return header

    def _build(self, snapshots: tuple[Snapshot | None, ...], openmetrics: bool) -> DataPart:
        # Collectors of one area for several tenants (or reports) make families of the same
        # names; the formats allow one HELP and TYPE per name, and its samples together.
        groups: dict[str, list[RenderedFamily]] = {}
        for snapshot in snapshots:
            for family in snapshot.families if snapshot is not None else ():
                group = groups.setdefault(family.name, [])
                if group and group[0].type != family.type:
                    continue  # cannot happen with our tables; never emit an invalid page
                group.append(family)
        plain: list[bytes] = []
        deflated: list[bytes] = []
        for group in groups.values():
            header, header_deflated = self._header(group[0], openmetrics)
            plain.append(header)
            deflated.append(header_deflated)
            for family in group:
                plain.append(family.samples)
                deflated.append(family.deflated)
        return DataPart(
            snapshots,
            plain,
            deflated,
            sum(len(piece) for piece in plain),
            sum(family.series for group in groups.values() for family in group),
        )

    def add_versioned(self, collector: Versioned) -> None:
        self._versioned.append(collector)

    def _live_part(self, openmetrics: bool) -> LivePart:
        # Versions first: a change while we collect shows now, and renders again next time.
        versions = tuple(collector.version for collector in self._versioned)
        families = list(self.live.collect())
        samples = [family.samples for family in families]
        cached = self._live.get(openmetrics)
        if cached is not None and cached.versions == versions and cached.samples == samples:
            return cached
        families += [family for collector in self._versioned for family in collector.collect()]
        text = _text(families, openmetrics)
        part = self._live[openmetrics] = LivePart(samples, versions, text, deflate_piece(text))
        return part

    def answer(self, *, openmetrics: bool, gzip: bool) -> list[bytes]:
        """The page as pieces to write in order: data, live and per-scrape parts (and `# EOF`)."""
        data = self.refresh()[1 if openmetrics else 0]
        live = self._live_part(openmetrics)
        tail = _text(list(self.per_scrape.collect()), openmetrics)
        if openmetrics:
            tail += b"# EOF\n"
        if not gzip:
            return [*data.plain, live.text, tail]
        crc = zlib.crc32(tail, zlib.crc32(live.text, data.crc))
        return [
            GZIP_HEADER,
            *data.deflated,
            live.deflated,
            deflate_piece(tail, final=True),
            gzip_trailer(crc, data.length + len(live.text) + len(tail)),
        ]

    def render(self, *, openmetrics: bool = False) -> bytes:
        """The whole page as one text (for --once and tests)."""
        return b"".join(self.answer(openmetrics=openmetrics, gzip=False))


def _text(families: list[Metric], openmetrics: bool) -> bytes:
    return b"".join(
        family_header(f.name, f.type, f.documentation, f.unit, openmetrics) + sample_lines(f)[0]
        for f in families
    )


def _same(a: tuple[Snapshot | None, ...], b: tuple[Snapshot | None, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


EXPOSITION_METRICS: dict[str, tuple[str, str]] = {
    "eightbyeight_exporter_exposition_renders": (
        "counter",
        "Times the collectors' part of /metrics was assembled: once per new snapshot "
        "(or one too old to serve); scrapes in between serve the same bytes.",
    ),
    "eightbyeight_exporter_exposition_series": (
        "gauge",
        "Series in the collectors' part of /metrics.",
    ),
    "eightbyeight_exporter_exposition_bytes": (
        "gauge",
        "Size of the collectors' part of /metrics in the text format, uncompressed.",
    ),
}


class _ExpositionCollector(Collector):
    """The exposition's own figures: they change only when the data part is assembled again."""

    def __init__(self, exposition: Exposition) -> None:
        self.exposition = exposition

    @property
    def version(self) -> int:
        return self.exposition.renders

    def collect(self) -> Iterable[Metric]:
        text = self.exposition.refresh()[0]
        values = {
            "eightbyeight_exporter_exposition_renders": float(self.exposition.renders),
            "eightbyeight_exporter_exposition_series": float(text.series),
            "eightbyeight_exporter_exposition_bytes": float(text.length),
        }
        for name, (kind, help_text) in EXPOSITION_METRICS.items():
            family_class = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            yield family_class(name, help_text, value=values[name])


def build_registry() -> CollectorRegistry:
    """The registry of the exporter's own metrics that change only when something happens
    (never the global registry): the reload state registers here."""
    # `_created` series double the counters' size on the page and nobody graphs them.
    disable_created_metrics()
    return CollectorRegistry(auto_describe=False)


def build_per_scrape_registry(*, process_metrics: bool = True) -> CollectorRegistry:
    """The registry of what changes with the clock: the process metrics when asked (the
    exposition adds the snapshot ages)."""
    registry = CollectorRegistry(auto_describe=False)
    if process_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry
