"""What /metrics shows: every poller's snapshot, assembled once per change, plus the
exporter's own health metrics, rendered when they change (or, for the few that follow the
clock, at most once a second)."""

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
from exporter.serving.segments import Layout, LayoutCache, Segment, SegmentCache
from exporter.serving.self_metrics import AgeCollector, ExporterCollector


@dataclass
class DataPart:
    """The snapshots' share of /metrics in one format, built once per snapshot change: the
    text in pieces (headers and each family's sample lines, never joined: the page would then
    exist twice), the same cut into `segments` (runs of pieces from snapshots that share no
    family name with the others), and, once gzip was asked for in this format, each segment
    deflated (`deflated`)."""

    snapshots: tuple[Snapshot | None, ...]
    plain: list[bytes]
    segments: list[Segment]
    length: int
    series: int
    deflated: list[bytes] | None = None

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
    """The `live` registry's text in one format, and the samples and versions it was
    rendered from."""

    samples: list[Any]
    versions: tuple[int, ...]
    text: bytes


@dataclass(frozen=True)
class ClockPart:
    """The figures that follow the clock (snapshot ages, budgets, process) as rendered at
    `rendered_at`, and the live part and them deflated together: the gzip member's end."""

    data_id: int  # the data part's id(): for freshness only
    live: LivePart  # held, compared by identity: `deflated` holds its text
    rendered_at: float
    text: bytes
    deflated: bytes


# Figures that follow the clock are rendered at most once per this many seconds of the
# scheduler's clock: with 8 scrapers at once, each rendering the process metrics, ages and
# budgets and compressing them was most of a gzip answer's cost. A scrape sees them at most
# this old (their HELP says so); a new snapshot or a finished run renders them at once.
CLOCK_PART_SECONDS = 1.0


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
      process), rendered by a scrape at most once per CLOCK_PART_SECONDS.

    A scrape renders no data sample and compresses only the small live and clock parts, at
    most once a second. The data part is deflated per segment (the families of a snapshot, or
    of the snapshots sharing family names: one poller for several tenants), each ending on a
    sync flush so segments concatenate into one deflate stream: a new snapshot recompresses
    only its own, and the answer is within a few per cent of the whole page gzipped at once.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        live: CollectorRegistry | None = None,
        per_scrape: CollectorRegistry | None = None,
        *,
        shard: Shard = Shard(),
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.live = live if live is not None else CollectorRegistry(auto_describe=False)
        self.per_scrape = (
            per_scrape if per_scrape is not None else CollectorRegistry(auto_describe=False)
        )
        self.renders = 0
        # The scheduler's: a fake clock moved by a test moves the ages at once.
        self._clock = clock if clock is not None else scheduler.wall_clock
        self._lock = threading.Lock()
        self._parts: tuple[DataPart, DataPart] | None = None
        self._live: dict[bool, LivePart] = {}
        self._clock_parts: dict[bool, ClockPart] = {}
        # Formats (openmetrics or not) a gzip answer was asked in: their segments are deflated
        # with each new data part, in the poller's thread, never by a scrape but the first.
        self._gzip_formats: set[bool] = set()
        # Per format, the deflated segments of the data part served now.
        self._segments = {False: SegmentCache(), True: SegmentCache()}
        self._versioned: list[Versioned] = [
            ExporterCollector(scheduler, shard),
            _ExpositionCollector(self),
        ]
        # (name, type, help, unit) -> the text and OpenMetrics headers: headers outlive
        # snapshots, and one object per header keeps a segment's pieces the same objects from
        # build to build.
        self._headers: dict[tuple[str, str, str, str], tuple[bytes, bytes]] = {}
        # The layout of each set of snapshots sharing names: only a changed set is laid out.
        self._layouts = LayoutCache()
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
                parts = self._build(snapshots)
                for part, openmetrics in zip(parts, (False, True)):
                    if openmetrics in self._gzip_formats:
                        self._deflate(part, openmetrics)
                self._parts = parts
                self.renders += 1
            return parts

    def _deflate(self, part: DataPart, openmetrics: bool) -> None:
        part.deflated = self._segments[openmetrics].deflate(part.segments)

    def _deflated(self, part: DataPart, openmetrics: bool) -> list[bytes]:
        deflated = part.deflated
        if deflated is None:
            with self._lock:  # the first gzip answer in this format: compressed once
                self._gzip_formats.add(openmetrics)
                if part.deflated is None:
                    self._deflate(part, openmetrics)
                deflated = part.deflated
        assert deflated is not None
        return deflated

    def _headers_of(self, family: RenderedFamily) -> tuple[bytes, bytes]:
        """The family's header in the text format and in OpenMetrics."""
        key = (family.name, family.type, family.documentation, family.unit)
        headers = self._headers.get(key)
        if headers is None:
            if len(self._headers) > 20_000:  # help texts that keep changing: start over
                self._headers.clear()
            headers = self._headers[key] = (family.header(False), family.header(True))
        return headers

    def _build(self, snapshots: tuple[Snapshot | None, ...]) -> tuple[DataPart, DataPart]:
        text, openmetrics = self._layouts.layout(snapshots, self._headers_of)
        return _data_part(snapshots, text), _data_part(snapshots, openmetrics)

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
        part = self._live[openmetrics] = LivePart(samples, versions, text)
        return part

    def _clock_part(self, data: DataPart, live: LivePart, openmetrics: bool) -> ClockPart:
        """The per-scrape figures, rendered again once CLOCK_PART_SECONDS have passed, or at
        once when the data part or the runs (live versions) changed: a run's budget use and a
        new snapshot's age of 0 show on the next scrape."""
        # Identities, not values: a new part is a new object. The data part is not held (it
        # may be the old page): should its id be reused, the figures are still at most
        # CLOCK_PART_SECONDS old. The live part is held, its text being in `deflated`.
        now = self._clock()
        cached = self._clock_parts.get(openmetrics)
        if (
            cached is not None
            and cached.data_id == id(data)
            and cached.live is live
            and 0.0 <= now - cached.rendered_at < CLOCK_PART_SECONDS
        ):
            return cached
        text = _text(list(self.per_scrape.collect()), openmetrics)
        if openmetrics:
            text += b"# EOF\n"
        # Racing scrapes may both render; either result is as fresh.
        # With the live part, not alone: a small page would be 12% over a whole-page gzip.
        part = self._clock_parts[openmetrics] = ClockPart(
            id(data), live, now, text, deflate_piece(live.text + text, final=True)
        )
        return part

    def answer(self, *, openmetrics: bool, gzip: bool) -> list[bytes]:
        """The page as pieces to write in order: data, live and per-scrape parts (and `# EOF`)."""
        data = self.refresh()[1 if openmetrics else 0]
        live = self._live_part(openmetrics)
        tail = self._clock_part(data, live, openmetrics)
        if not gzip:
            return [*data.plain, live.text, tail.text]
        deflated = self._deflated(data, openmetrics)
        crc = zlib.crc32(tail.text, zlib.crc32(live.text, data.crc))
        return [
            GZIP_HEADER,
            *deflated,
            tail.deflated,
            gzip_trailer(crc, data.length + len(live.text) + len(tail.text)),
        ]

    def render(self, *, openmetrics: bool = False) -> bytes:
        """The whole page as one text (for --once and tests)."""
        return b"".join(self.answer(openmetrics=openmetrics, gzip=False))


def _data_part(snapshots: tuple[Snapshot | None, ...], laid: Layout) -> DataPart:
    return DataPart(snapshots, laid.plain, laid.segments, laid.length, laid.series)


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
