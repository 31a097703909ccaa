"""What /metrics shows: every poller's snapshot, assembled once per change, plus the
exporter's own health metrics, rendered when they change (or, for the few that follow the
clock, per scrape)."""

from __future__ import annotations

import functools
import threading
import zlib
from collections.abc import Callable, Iterable
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

from exporter.core.sharding import Shard
from exporter.metrics.rendering import (
    GZIP_HEADER,
    RenderedFamily,
    deflate_piece,
    family_header,
    gzip_trailer,
    sample_lines,
)
from exporter.metrics.spec import MetricSpec, counter, gauge
from exporter.pollers.base import Scheduler, Snapshot
from exporter.serving.self_metrics import AgeCollector, ExporterCollector


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
    """A poller whose `version` moves whenever its samples change."""

    @property
    def version(self) -> int: ...

    def collect(self) -> Iterable[Metric]: ...


# prometheus-client has no type hints for it.
_disable_created_metrics: Callable[[], None] = disable_created_metrics


class Exposition:
    """What /metrics serves, in three parts:

    - the pollers' snapshots, assembled into bytes once per change of any snapshot (by the
      poller's thread, right after it takes one);
    - `live`: the exporter's own metrics that change only when something happens (a reload):
      collected on each scrape, rendered again only when a value differs from the last
      rendering; and the `versioned` pollers (the runners' own metrics, the API request
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
        # The page is assembled when a snapshot is taken, in that runner's thread.
        scheduler.subscribe(self._snapshot_taken)

    def _snapshot_taken(self) -> None:
        self.refresh()

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


EXPOSITION_METRICS: tuple[MetricSpec, ...] = (
    counter(
        'eightbyeight_exporter_exposition_renders_total',
        "Times the collectors' part of /metrics was assembled: once per new snapshot (or one too old to serve); scrapes in between serve the same bytes.",
        (),
    ),
    gauge(
        'eightbyeight_exporter_exposition_series', "Series in the collectors' part of /metrics.", ()
    ),
    gauge(
        'eightbyeight_exporter_exposition_bytes',
        "Size of the collectors' part of /metrics in the text format, uncompressed.",
        (),
    ),
)


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
        for spec in EXPOSITION_METRICS:
            family_class = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
            yield family_class(spec.family_name, spec.help, value=values[spec.family_name])


def build_registry() -> CollectorRegistry:
    """The registry of the exporter's own metrics that change only when something happens
    (never the global registry): the reload state registers here."""
    # `_created` series double the counters' size on the page and nobody graphs them.
    _disable_created_metrics()
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
