"""What /metrics shows: every collector's snapshot plus the exporter's own health metrics."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.collectors.base import Scheduler


class ExporterCollector(Collector):
    """Renders the runners' snapshots; the self-metrics are built fresh on every scrape."""

    def __init__(self, scheduler: Scheduler, wall_clock: Callable[[], float] = time.time) -> None:
        self.scheduler = scheduler
        self._wall = wall_clock

    def collect(self) -> Iterable[Metric]:
        now = self._wall()
        up = GaugeMetricFamily("eightbyeight_up",
                               "1 if the collector's last run got a valid answer from the 8x8 API, else 0.",
                               labels=["collector"])
        duration = GaugeMetricFamily("eightbyeight_collector_duration_seconds",
                                     "How long the collector's last run took.", labels=["collector"])
        last_success = GaugeMetricFamily(
            "eightbyeight_collector_last_success_timestamp_seconds",
            "When the collector last succeeded, in seconds since the epoch.", labels=["collector"])
        age = GaugeMetricFamily(
            "eightbyeight_collector_snapshot_age_seconds",
            "Age of the last good snapshot of the collector: how old its data on this page can be.",
            labels=["collector"])
        interval = GaugeMetricFamily("eightbyeight_collector_interval_seconds",
                                     "How often the collector polls the 8x8 API.", labels=["collector"])
        runs = CounterMetricFamily("eightbyeight_collector_runs", "Runs of the collector.",
                                   labels=["collector"])
        failures = CounterMetricFamily("eightbyeight_collector_failures",
                                       "Runs of the collector that failed.", labels=["collector"])
        data: list[Metric] = []
        for runner in self.scheduler.runners:
            state = runner.state
            name = [runner.name]
            up.add_metric(name, 1.0 if state.success else 0.0)
            interval.add_metric(name, runner.collector.interval)
            runs.add_metric(name, state.runs)
            failures.add_metric(name, state.failures)
            if state.last_duration is not None:
                duration.add_metric(name, state.last_duration)
            if state.last_success is not None:
                last_success.add_metric(name, state.last_success)
            if state.snapshot is not None:
                age.add_metric(name, max(0.0, now - state.snapshot.created))
            snapshot = runner.serving_snapshot()
            if snapshot is not None:
                data.extend(snapshot.families)
        build = GaugeMetricFamily("eightbyeight_exporter_build_info",
                                  "The exporter's version, with value 1.",
                                  labels=["version", "python_version"])
        build.add_metric([__version__, platform.python_version()], 1)
        yield from (up, duration, last_success, age, interval, runs, failures, build)
        yield from data


def build_registry(scheduler: Scheduler, *, process_metrics: bool = True) -> CollectorRegistry:
    """A registry of our own (never the global one), with the process metrics when asked."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExporterCollector(scheduler))
    if process_metrics:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry
