"""What /metrics shows: every collector's snapshot plus the exporter's own health metrics."""

from __future__ import annotations

import platform
from collections.abc import Iterable

from prometheus_client import (CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector,
                               disable_created_metrics)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.collectors.base import CollectorRunner, Scheduler
from exporter.sharding import Shard

# name -> (type, help); every one is labelled by `collector`. Listed once, for the page and the
# metric catalogue alike.
SELF_METRICS: dict[str, tuple[str, str]] = {
    "eightbyeight_up": (
        "gauge", "1 if the collector's last run got a valid answer from the 8x8 API, else 0."),
    "eightbyeight_collector_duration_seconds": ("gauge", "How long the collector's last run took."),
    "eightbyeight_collector_last_success_timestamp_seconds": (
        "gauge", "When the collector last succeeded, in seconds since the epoch."),
    "eightbyeight_collector_snapshot_age_seconds": (
        "gauge", "Age of the collector's last good snapshot: how old its data on this page can be."),
    "eightbyeight_collector_interval_seconds": ("gauge", "How often the collector polls the 8x8 API."),
    "eightbyeight_collector_runs": ("counter", "Runs of the collector."),
    "eightbyeight_collector_failures": ("counter", "Runs of the collector that failed."),
    # Collectors with a max_series ceiling:
    "eightbyeight_collector_series": (
        "gauge", "Series the collector exported in its last good run."),
    "eightbyeight_collector_series_limit": ("gauge", "The collector's ceiling on series (max_series)."),
    "eightbyeight_collector_series_dropped": (
        "gauge", "Series the collector left out (or folded into `_other`) in its last good run because of its ceiling."),
    # Collectors that poll call records or call legs incrementally:
    "eightbyeight_collector_records_read": ("counter", "Records read from the API, duplicates included."),
    "eightbyeight_collector_records_duplicate": (
        "counter", "Records read again by an overlapping poll and not counted again."),
    "eightbyeight_collector_records_invalid": (
        "counter", "Records left out because they lack an id or their fields are unusable."),
    "eightbyeight_collector_watermark_timestamp_seconds": (
        "gauge", "End of the last complete incremental poll, in seconds since the epoch."),
    "eightbyeight_collector_dedup_entries": ("gauge", "Record ids remembered to avoid counting twice."),
    "eightbyeight_collector_dedup_evicted": (
        "counter", "Record ids forgotten early because dedup_max_entries was reached."),
    # Contact Center collectors:
    "eightbyeight_collector_unknown_metrics": (
        "gauge", "Distinct metric keys the API sent that the exporter does not know (each logged once)."),
    "eightbyeight_collector_values_unusable": (
        "counter", "Values left out because they were not what their metric needs (a word or an array where a number belongs)."),
}
_RUNNER_METRICS = ("eightbyeight_up", "eightbyeight_collector_duration_seconds",
                   "eightbyeight_collector_last_success_timestamp_seconds",
                   "eightbyeight_collector_snapshot_age_seconds",
                   "eightbyeight_collector_interval_seconds", "eightbyeight_collector_runs",
                   "eightbyeight_collector_failures")
BUILD_INFO = ("eightbyeight_exporter_build_info", "The exporter's version, with value 1.",
              ["version", "python_version"])
SHARD_INFO = ("eightbyeight_exporter_shard_info",
              "This replica's shard (0 of 1 when not sharded), with value 1: sum over shards "
              "to see the whole account.", ["shard", "total_shards"])


def _value(name: str, runner: CollectorRunner) -> float | None:
    state = runner.state
    if name not in _RUNNER_METRICS:
        return runner.collector.self_metrics().get(name)
    return {
        "eightbyeight_up": 1.0 if state.success else 0.0,
        "eightbyeight_collector_duration_seconds": state.last_duration,
        "eightbyeight_collector_last_success_timestamp_seconds": state.last_success,
        "eightbyeight_collector_snapshot_age_seconds": runner.snapshot_age(),
        "eightbyeight_collector_interval_seconds": runner.collector.interval,
        "eightbyeight_collector_runs": float(state.runs),
        "eightbyeight_collector_failures": float(state.failures),
    }[name]


class ExporterCollector(Collector):
    """Renders the runners' snapshots; the self-metrics are built fresh on every scrape."""

    def __init__(self, scheduler: Scheduler, shard: Shard = Shard()) -> None:
        self.scheduler = scheduler
        self.shard = shard

    def collect(self) -> Iterable[Metric]:
        for name, (kind, help_text) in SELF_METRICS.items():
            family_class = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = family_class(name, help_text, labels=["collector"])
            for runner in self.scheduler.runners:
                value = _value(name, runner)
                if value is not None:
                    family.add_metric([runner.name], value)
            yield family
        name, help_text, labels = BUILD_INFO
        build = GaugeMetricFamily(name, help_text, labels=labels)
        build.add_metric([__version__, platform.python_version()], 1)
        yield build
        name, help_text, labels = SHARD_INFO
        shard = GaugeMetricFamily(name, help_text, labels=labels)
        shard.add_metric([str(self.shard.index), str(self.shard.total)], 1)
        yield shard
        yield from merge_families(
            family for runner in self.scheduler.runners
            if (snapshot := runner.serving_snapshot()) is not None
            for family in snapshot.families)


def merge_families(families: Iterable[Metric]) -> list[Metric]:
    """One family per name: collectors of the same area for several tenants (or several
    reports) each build families of the same names, and the text format allows one HELP and
    TYPE per name. Snapshots stay untouched: merged families are new objects."""
    merged: dict[str, Metric] = {}
    copies: set[str] = set()
    for family in families:
        first = merged.get(family.name)
        if first is None:
            merged[family.name] = family
            continue
        if first.type != family.type:
            continue  # cannot happen with our tables; never emit an invalid page
        if family.name not in copies:
            combined = Metric(first.name, first.documentation, first.type, first.unit)
            combined.samples = list(first.samples)
            merged[family.name], first = combined, combined
            copies.add(family.name)
        first.samples.extend(family.samples)
    return list(merged.values())


def build_registry(scheduler: Scheduler, *, process_metrics: bool = True,
                   shard: Shard = Shard()) -> CollectorRegistry:
    """A registry of our own (never the global one), with the process metrics when asked."""
    # `_created` series double the counters' size on the page and nobody graphs them.
    disable_created_metrics()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExporterCollector(scheduler, shard))
    if process_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry
