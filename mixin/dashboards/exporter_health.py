"""The exporter's own health dashboard (`eightbyeight-exporter.json`)."""

from __future__ import annotations

from mixin.config import MixinConfig
from mixin.dashboards.grafana import Dashboard, bad_above, steps
from mixin.dashboards.layout import Row, dashboard
from mixin.dashboards.panels import Query, bargauge, stat, timeseries
from mixin.dashboards.promql import sel
from mixin.dashboards.tables import UP_DOWN, Column, raw_table, table
from mixin.dashboards.variables import scrape_variables, variable


def build_exporter_health(config: MixinConfig) -> Dashboard:
    """Is the exporter itself healthy: collectors, data age, the 8x8 APIs, series ceilings."""
    c = sel('collector=~"$collector"')
    rate = "[$__rate_interval]"
    stale = config.data_stale.intervals

    def per_collector(metric: str) -> str:
        return f"max by (collector) (eightbyeight_{metric}{c})"

    def every_collector(metric: str) -> str:
        return f"max by (collector) (eightbyeight_{metric}{sel()})"

    age_ratio = (
        "max by (collector) (eightbyeight_collector_snapshot_age_seconds"
        f"{c} / eightbyeight_collector_interval_seconds{c})"
    )
    collectors = Row(
        "Collectors",
        [
            stat("Collectors up", f"sum(eightbyeight_up{c})", unit="none", w=4),
            stat(
                "Collectors failing",
                f"count(eightbyeight_up{c} == 0) or vector(0)",
                unit="none",
                thresholds=bad_above(1),
                w=4,
            ),
            stat(
                "Oldest data, in intervals",
                f"max({age_ratio})",
                unit="none",
                thresholds=bad_above(stale),
                decimals=1,
                w=4,
                description="The stalest collector's data age over its polling interval; red "
                "from the DataStale alert's threshold.",
            ),
            stat(
                "Series dropped",
                f"sum(eightbyeight_collector_series_dropped{c}) or vector(0)",
                unit="none",
                thresholds=bad_above(1),
                w=4,
                description="Series left out or folded into `_other` because of max_series "
                "(0 for collectors without a ceiling, such as discovery).",
            ),
            stat(
                "Exporter version",
                Query(f"eightbyeight_exporter_build_info{sel()}", "{{version}}"),
                unit="none",
                text_mode="name",
                graph=False,
                w=8,
            ),
            table(
                "Collectors",
                [
                    Column("Status", per_collector("up"), "none", mappings=UP_DOWN),
                    Column("Data age", per_collector("collector_snapshot_age_seconds"), "s"),
                    Column("Interval", per_collector("collector_interval_seconds"), "s"),
                    Column("Run time", per_collector("collector_duration_seconds"), "s"),
                    Column(
                        "Last success",
                        f"1000 * {per_collector('collector_last_success_timestamp_seconds')}",
                        "dateTimeFromNow",
                    ),
                    Column("Series", per_collector("collector_series")),
                    Column("Series limit", per_collector("collector_series_limit")),
                    Column(
                        "Dropped",
                        per_collector("collector_series_dropped"),
                        thresholds=bad_above(1),
                    ),
                ],
                by=("collector",),
                h=10,
                description="Each collector's last run.",
            ),
            timeseries(
                "Collector success",
                [Query(per_collector("up"), "{{collector}}")],
                unit="none",
                minimum=0,
                maximum=1,
                interpolation="stepAfter",
                w=8,
                description="1 when the collector's last run got a valid answer.",
            ),
            timeseries(
                "Data age",
                [Query(per_collector("collector_snapshot_age_seconds"), "{{collector}}")],
                unit="s",
                w=8,
                description="Age of each collector's last good snapshot.",
            ),
            timeseries(
                "Data age / interval",
                [Query(age_ratio, "{{collector}}")],
                unit="none",
                thresholds=bad_above(stale),
                threshold_style="dashed",
                w=8,
                description="Data age in polling intervals; dashed: the DataStale alert's "
                "threshold.",
            ),
            timeseries(
                "Collection duration",
                [Query(per_collector("collector_duration_seconds"), "{{collector}}")],
                unit="s",
            ),
            timeseries(
                "Collector failures",
                [
                    Query(
                        f"60 * sum by (collector) (rate(eightbyeight_collector_failures_total{c}{rate}))",
                        "{{collector}}",
                    )
                ],
                unit="cpm",
                description="Failed runs per minute.",
            ),
        ],
    )
    api = sel()
    requests = f"rate(eightbyeight_api_requests_total{api}{rate})"
    failures = f"rate(eightbyeight_api_request_failures_total{api}{rate})"
    token = sel('endpoint=~".*oauth.*token"')
    latency = "eightbyeight_api_request_duration_seconds_bucket"
    apis = Row(
        "8x8 APIs",
        [
            timeseries(
                "Requests by endpoint",
                [Query(f"sum by (api, endpoint) ({requests})", "{{api}} {{endpoint}}")],
                unit="reqps",
                description="HTTP requests to the 8x8 APIs, retries included.",
            ),
            timeseries(
                "Failures by endpoint",
                # Per code from an endpoint's first failure on; 0 per endpoint before it.
                [
                    Query(
                        f"sum by (api, endpoint, code) ({failures})"
                        f" or 0 * sum by (api, endpoint) ({requests})",
                        "{{api}} {{endpoint}} {{code}}",
                    )
                ],
                unit="reqps",
                description="Requests with no answer (code `transport`), a status other than "
                "2xx (the status), or a 2xx answer that could not be used (`malformed`); 0 "
                "(without a code) for an endpoint that has not failed.",
            ),
            timeseries(
                "Failure ratio by API",
                # The failures' series exist from the first failure on (their `code` is known
                # only then): `or` the requests times 0 shows 0 before it, not "no data".
                [
                    Query(
                        f"(sum by (api) ({failures}) or 0 * sum by (api) ({requests}))"
                        f" / sum by (api) ({requests})",
                        "{{api}}",
                    )
                ],
                unit="percentunit",
                thresholds=bad_above(config.api_errors.ratio),
                threshold_style="dashed",
                minimum=0,
                w=8,
                description="Dashed: the ApiErrors alert's threshold.",
            ),
            timeseries(
                "Latency by API",
                [
                    Query(
                        f"histogram_quantile({q}, sum by (le, api) (rate({latency}{api}{rate})))",
                        f"{{{{api}}}} p{round(q * 100)}",
                    )
                    for q in (0.5, 0.9, 0.99)
                ],
                unit="s",
                w=8,
                description="Quantiles of the time the 8x8 APIs took to answer.",
            ),
            timeseries(
                "Token requests",
                [
                    Query(
                        "3600 * sum by (api, endpoint) "
                        f"(rate(eightbyeight_api_requests_total{token}{rate}))",
                        "{{api}} {{endpoint}}",
                    )
                ],
                unit="short",
                w=8,
                description="OAuth token requests per hour: 8x8's token lasts 1800 s and is "
                "renewed a minute early, so about two an hour per API; many more mean tokens are "
                "being refused or lost.",
            ),
            timeseries(
                "Latency p90 by endpoint",
                [
                    Query(
                        "histogram_quantile(0.9, sum by (le, api, endpoint) "
                        f"(rate({latency}{api}{rate})))",
                        "{{api}} {{endpoint}}",
                    )
                ],
                unit="s",
                w=24,
                legend_calcs=("mean", "max"),
            ),
        ],
    )
    # Each of these metrics comes from some collectors only (a ceiling, records, keys to
    # check): filtered by $collector they would be empty for the others, so they show every
    # collector that has them.
    every = sel()
    quality = Row(
        "Series and data quality (every collector that counts them)",
        [
            bargauge(
                "Series used of limit",
                Query(
                    f"max by (collector) (eightbyeight_collector_series{every} / "
                    f"(eightbyeight_collector_series_limit{every} > 0))",
                    "{{collector}}",
                ),
                unit="percentunit",
                thresholds=steps(("green", None), ("orange", 0.8), ("red", 1)),
                minimum=0,
                maximum=1,
                w=8,
                h=9,
                description="Series exported over the collector's max_series ceiling.",
            ),
            timeseries(
                "Series",
                [Query(every_collector("collector_series"), "{{collector}}")],
                unit="short",
                w=8,
                h=9,
            ),
            timeseries(
                "Series dropped",
                [Query(every_collector("collector_series_dropped"), "{{collector}}")],
                unit="short",
                w=8,
                h=9,
                thresholds=bad_above(1),
                threshold_style="dashed",
            ),
            timeseries(
                "Unknown metric keys",
                [Query(every_collector("collector_unknown_metrics"), "{{collector}}")],
                unit="short",
                w=8,
                description="Metric keys 8x8 sent that the exporter does not know (logged "
                "once each): a new API field, worth a look.",
            ),
            timeseries(
                "Unusable values",
                [
                    Query(
                        "60 * sum by (collector) "
                        f"(rate(eightbyeight_collector_values_unusable_total{every}{rate}))",
                        "{{collector}}",
                    )
                ],
                unit="cpm",
                w=8,
                description="Values per minute left out because they were not a number.",
            ),
            timeseries(
                "Invalid and duplicate records",
                [
                    Query(
                        "60 * sum by (collector) "
                        f"(rate(eightbyeight_collector_records_invalid_total{every}{rate}))",
                        "{{collector}} invalid",
                    ),
                    Query(
                        "60 * sum by (collector) "
                        f"(rate(eightbyeight_collector_records_duplicate_total{every}{rate}))",
                        "{{collector}} duplicate",
                    ),
                ],
                unit="cpm",
                w=8,
                description="Records per minute left out (no id, unusable fields) or read again "
                "by an overlapping poll.",
            ),
            raw_table(
                "Build",
                f"eightbyeight_exporter_build_info{sel()}",
                value=None,
                unit="none",
                hide=(),
                h=5,
                description="The exporter's version on each target.",
            ),
        ],
    )
    collector_variable = variable(
        "collector", "Collector", f"label_values(eightbyeight_up{sel()}, collector)"
    )
    return dashboard(
        uid="eightbyeight-exporter",
        title="8x8 / Exporter health",
        tags=["exporter"],
        description="Health of the 8x8 exporter: collectors, data age, API requests, failures "
        "and latency, series ceilings and data quality.",
        variables=[*scrape_variables(config), collector_variable],
        rows=[collectors, apis, quality],
        refresh="1m",
        time_from="now-6h",
    )
