"""The exporter's own metrics of each poller runner (up, durations, runs, series, records),
and the build and shard: collected again only when a runner finishes a run."""

from __future__ import annotations

import platform
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.core.revision import build_revision
from exporter.core.sharding import Shard
from exporter.metrics.rendering import MAX_LABEL_VALUE_BYTES
from exporter.metrics.spec import MetricSpec, counter, gauge
from exporter.pollers.base import PollerRunner, Scheduler

# The runners' own metrics, every one labelled by `collector`.
SELF_METRICS: tuple[MetricSpec, ...] = (
    gauge(
        'eightbyeight_up',
        "1 if the collector's last run got a valid answer from the 8x8 API and its data is "
        "on the page, else 0 (also while a run has gone on so long that its data went stale).",
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_duration_seconds',
        "How long the collector's last run took.",
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_last_success_timestamp_seconds',
        'When the collector last succeeded, in seconds since the epoch.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_snapshot_age_seconds',
        "Age of the collector's last good snapshot: how old its data on this page can be. "
        "Rendered at most once a second (up to 1 s old; again at once after a run).",
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_interval_seconds',
        'How often the collector polls the 8x8 API.',
        ("collector",),
    ),
    counter('eightbyeight_collector_runs_total', 'Runs of the collector.', ("collector",)),
    counter(
        'eightbyeight_collector_failures_total',
        'Runs of the collector that failed.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_series',
        'Series the collector exported in its last good run.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_series_limit',
        "The collector's ceiling on series (max_series).",
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_series_dropped',
        'Series the collector left out (or folded into `_other`) in its last good run because of its ceiling.',
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_records_read_total',
        'Records read from the API, duplicates included.',
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_records_duplicate_total',
        'Records read again by an overlapping poll and not counted again.',
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_records_invalid_total',
        'Records left out because they lack an id or their fields are unusable.',
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_records_outside_window_total',
        'Records the API answered although they ended outside the time window asked for: not '
        'counted there (the poll whose window holds them counts them).',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_records_pending',
        "Records of the collector's last poll not counted yet because their group is not known "
        'yet (the ring group summary has not listed it): read again until it is.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_counting_day_start_timestamp_seconds',
        'Start of the day the call counters hold (local midnight of time_zone); they start '
        'again from 0 a look-back after the next midnight.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_watermark_timestamp_seconds',
        'End of the last complete incremental poll, in seconds since the epoch.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_dedup_entries',
        'Record ids remembered to avoid counting twice.',
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_dedup_evicted_total',
        'Record ids forgotten early because dedup_max_entries was reached.',
        ("collector",),
    ),
    gauge(
        'eightbyeight_collector_unknown_metrics',
        'Distinct metric keys the API sent that the exporter does not know (each logged once).',
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_label_values_truncated_total',
        f'Label values cut to {MAX_LABEL_VALUE_BYTES} bytes (ending in "…[truncated <hash>]") '
        "so that a Prometheus label_value_length_limit cannot reject the whole scrape.",
        ("collector",),
    ),
    counter(
        'eightbyeight_collector_values_unusable_total',
        'Values left out because they were not what their metric needs (a word or an array where a number belongs).',
        ("collector",),
    ),
)
BUILD_INFO = gauge(
    "eightbyeight_exporter_build_info",
    "The exporter's version and the source revision it was built from (a git commit, or "
    '"unknown"), with value 1.',
    ("version", "revision", "python_version"),
)
SHARD_INFO = gauge(
    "eightbyeight_exporter_shard_info",
    "This replica's shard (0 of 1 when not sharded), with value 1: sum over shards "
    "to see the whole account.",
    ("shard", "total_shards"),
)


SHARDS = gauge(
    "eightbyeight_exporter_shards",
    "How many shards this replica splits the account's PBXes into (--total-shards; 1 when "
    "not sharded): fewer shards seen than this means some PBXes are not watched.",
)


AGE_METRIC = "eightbyeight_collector_snapshot_age_seconds"


def _values(runner: PollerRunner) -> dict[str, float | None]:
    """The runner's own metrics but the snapshot age: they change only when it runs."""
    state = runner.state
    return {
        # 0 too while a run has gone on so long that the data it should renew has left the
        # page as stale: the collector is not delivering, whatever its last run did.
        "eightbyeight_up": (
            1.0 if state.success and runner.serving_snapshot() is not None else 0.0
        ),
        "eightbyeight_collector_duration_seconds": state.last_duration,
        "eightbyeight_collector_last_success_timestamp_seconds": state.last_success,
        "eightbyeight_collector_interval_seconds": runner.poller.interval,
        "eightbyeight_collector_runs": float(state.runs),
        "eightbyeight_collector_failures": float(state.failures),
        **state.poller_metrics,
    }


class ExporterCollector(Collector):
    """The exporter's own metrics of every runner, except the snapshot ages (see AgeCollector),
    and the build and shard: they change only when a runner finishes a run, which `version`
    counts, so /metrics collects them again only then."""

    def __init__(self, scheduler: Scheduler, shard: Shard = Shard()) -> None:
        self.scheduler = scheduler
        self.shard = shard
        # Found here, not in collect(): finding it may run git, which a scrape must not wait on.
        self.revision = build_revision()

    @property
    def version(self) -> int:
        # Moves with every run, every runner added, and every runner's data going stale or
        # fresh (`eightbyeight_up`), the only change here that no run makes.
        runners = self.scheduler.runners
        return hash(
            (
                len(runners),
                *(runner.version for runner in runners),
                *(runner.serving_snapshot() is None for runner in runners),
            )
        )

    def collect(self) -> Iterable[Metric]:
        values = [(runner.name, _values(runner)) for runner in self.scheduler.runners]
        for spec in SELF_METRICS:
            if spec.name == AGE_METRIC:
                continue
            family_class = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
            family = family_class(spec.family_name, spec.help, labels=list(spec.labels))
            for runner_name, runner_values in values:
                value = runner_values.get(spec.family_name)
                if value is not None:
                    family.add_metric([runner_name], value)
            yield family
        build = GaugeMetricFamily(BUILD_INFO.name, BUILD_INFO.help, labels=list(BUILD_INFO.labels))
        build.add_metric([__version__, self.revision, platform.python_version()], 1)
        yield build
        shard = GaugeMetricFamily(SHARD_INFO.name, SHARD_INFO.help, labels=list(SHARD_INFO.labels))
        shard.add_metric([str(self.shard.index), str(self.shard.total)], 1)
        yield shard
        yield GaugeMetricFamily(SHARDS.name, SHARDS.help, value=self.shard.total)


class AgeCollector(Collector):
    """The snapshot ages: they change by the second, so they are rendered with the other
    figures of the clock, at most once a second (exposition.CLOCK_PART_SECONDS)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterable[Metric]:
        spec = next(spec for spec in SELF_METRICS if spec.name == AGE_METRIC)
        family = GaugeMetricFamily(AGE_METRIC, spec.help, labels=list(spec.labels))
        for runner in self.scheduler.runners:
            age = runner.snapshot_age()
            if age is not None:
                family.add_metric([runner.name], age)
        yield family
