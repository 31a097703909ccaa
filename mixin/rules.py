"""Recording and alerting rules of the exporter, built from the mixin's settings.

Alerts are named `EightByEight...` (CamelCase, one prefix) and carry `severity`, `summary` and
`description`. Where both products have the same notion (a queue's service level, its longest
wait, callers with no agent), one alert covers Work Analytics queues (labels `pbx`, `site`,
`queue`) and Contact Center queues (labels `tenant`, `queue`): a supervisor is paged for a queue,
whichever 8x8 product serves it.
"""

from __future__ import annotations

from typing import Any

import yaml

from mixin.config import MixinConfig
from mixin.expressions import WA_QUEUE_INFO, Expr, alert, queue_labels, sel
from mixin.queue_alerts import queue_alerts
from mixin.service_levels import recording_rules as service_level_rules

GROUP_RECORDING = "eightbyeight.recording"
GROUP_QUEUES = "eightbyeight.queues"
GROUP_EXPORTER = "eightbyeight.exporter"


def _per_queue(config: MixinConfig, metric: str, matchers: str, rate: bool) -> str:
    """A queue call counter (its per-second rate over `queue_window`, or its value: the calls
    of the day so far), summed per queue, the `group` label renamed `queue` so the result joins
    the queue dashboards' variables.

    Replicas of one exporter (a Prometheus HA pair's two targets, a shard hand-over) export
    equal counters, so each outcome is taken once (`max` across the targets) before the
    outcomes are added: sums would count every call once per replica. Shards own disjoint
    PBXes, so `max` keeps every shard's queues."""
    selector = sel(config, 'group_type="queue"', matchers)
    series = f"{metric}{selector}"
    if rate:
        series = f"rate({series}[{config.queue_window}])"
    return (
        "sum by (pbx, queue, extension) (max by (pbx, queue, extension, outcome) ("
        f'label_replace({series}, "queue", "$1", "group", "(.*)")))'
    )


def _queue_rate(config: MixinConfig, metric: str, matchers: str) -> str:
    return _per_queue(config, metric, matchers, rate=True)


def _labelled(config: MixinConfig, expr: str) -> Expr:
    """A per-queue figure of the call counters (labels pbx, queue, extension) with the
    queue's `site`, `queue_id` and `team` from `eightbyeight_queue_info`: two queues of one
    name on one PBX (two sites) are two series, and an alert on one is routed by its team."""
    return Expr(
        queue_labels(
            config,
            expr,
            WA_QUEUE_INFO,
            ("pbx", "queue", "extension"),
            ("site", "queue_id", "team"),
        )
    )


def recording_rules(config: MixinConfig) -> list[dict[str, Any]]:
    ended = ("eightbyeight_group_calls_total", 'outcome=~"answered|abandoned"')
    abandoned = ("eightbyeight_group_calls_total", 'outcome="abandoned"')
    # The ratios divide the per-queue sums before the join: one join per rule.
    over = "\n/ on(pbx, queue, extension)\n"
    return [
        {"record": config.queue_calls_rate, "expr": _labelled(config, _queue_rate(config, *ended))},
        {
            "record": config.queue_abandon_ratio,
            "expr": _labelled(
                config, _queue_rate(config, *abandoned) + over + _queue_rate(config, *ended)
            ),
        },
        *service_level_rules(config),
    ]


def exporter_alerts(config: MixinConfig) -> list[dict[str, Any]]:
    everything = sel(config)
    token_requests = sel(config, 'endpoint=~".*oauth.*token"')
    errors = config.api_errors
    stale = config.data_stale
    skew = config.api_clock_skew
    return [
        alert(
            "EightByEightExporterDown",
            f"up{everything} == 0",
            config.exporter_down.for_,
            "critical",
            "The 8x8 exporter cannot be scraped",
            "Prometheus has not scraped {{ $labels.instance }} ({{ $labels.job }}) "
            f"successfully for {config.exporter_down.for_}: no 8x8 data is collected.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightExporterMissing",
            # A shard's pod that does not exist (unschedulable, a failed roll) has no `up`
            # series, so ExporterDown cannot fire for it: the shards seen are counted against
            # what the replicas say the account is split into, and no target at all is absent.
            f"count by (job) (max by (job, shard) (eightbyeight_exporter_shard_info{everything}))"
            f"\n< max by (job) (eightbyeight_exporter_shards{everything})\nor absent(up{everything})",
            config.exporter_missing.for_,
            "critical",
            "Part of the 8x8 account is not watched: an exporter shard is missing",
            "Prometheus scrapes fewer shards of {{ $labels.job }} than the account is split "
            f"into, or no target of it at all, for {config.exporter_missing.for_}: the PBXes "
            "of the missing shards are not collected and their queue alerts cannot fire.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightCollectorFailing",
            f"eightbyeight_up{everything} == 0",
            config.collector_failing.for_,
            "warning",
            "Collector {{ $labels.collector }} fails",
            "Collector {{ $labels.collector }} of {{ $labels.instance }} has failed for "
            f"{config.collector_failing.for_}; its last good data is served while it is fresh. "
            "The exporter's log (event collector_run_failed) says why.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightDataStale",
            f"eightbyeight_collector_snapshot_age_seconds{everything}\n  > {stale.intervals:g} * "
            f"eightbyeight_collector_interval_seconds{everything}",
            stale.for_,
            "warning",
            "Data of collector {{ $labels.collector }} is stale",
            "The last good data of collector {{ $labels.collector }} on {{ $labels.instance }} "
            "is {{ $value | humanizeDuration }} old, more than "
            f"{stale.intervals:g} collection intervals.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightAuthenticationFailing",
            # Token requests failed and none succeeded over the window: "some failure in the
            # window", held for `for`, paged 10 minutes after a one-minute blip had passed.
            f"sum by (job, instance, api) (\n  increase(eightbyeight_api_request_failures_total"
            f"{token_requests}[{errors.window}])\n) > 0\n"
            f"unless on (job, instance, api)\n(\n  sum by (job, instance, api) "
            f"(increase(eightbyeight_api_requests_total{token_requests}[{errors.window}]))\n"
            f"  - sum by (job, instance, api) (increase(eightbyeight_api_request_failures_total"
            f"{token_requests}[{errors.window}]))\n  >= 0.5\n)",
            config.authentication_failing.for_,
            "critical",
            "The exporter cannot authenticate to the 8x8 {{ $labels.api }} API",
            "Token requests of {{ $labels.instance }} to the {{ $labels.api }} API have failed "
            f"for {config.authentication_failing.for_}: check the credentials (API key, "
            "username and password, or the Contact Center client id and secret).",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightApiErrorsHigh",
            f"sum by (job, instance, api) (rate(eightbyeight_api_request_failures_total"
            f"{everything}[{errors.window}]))\n/\nsum by (job, instance, api) "
            f"(rate(eightbyeight_api_requests_total{everything}[{errors.window}]))\n"
            f"> {errors.ratio:g}\n"
            # A volume guard: two failures out of five requests (a quiet API, a restart) are
            # not an outage.
            f"and sum by (job, instance, api) "
            f"(increase(eightbyeight_api_requests_total{everything}[{errors.window}]))\n"
            f">= {errors.min_requests}",
            errors.for_,
            "warning",
            "Many requests to the 8x8 {{ $labels.api }} API fail",
            "{{ $value | humanizePercentage }} of the requests of {{ $labels.instance }} to the "
            f"{{{{ $labels.api }}}} API failed over the last {errors.window}.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightSeriesLimitReached",
            f"eightbyeight_collector_series_dropped{everything} > 0",
            config.series_limit.for_,
            "warning",
            "Collector {{ $labels.collector }} drops series at its max_series ceiling",
            "Collector {{ $labels.collector }} of {{ $labels.instance }} left out "
            "{{ $value }} series: raise its max_series or narrow it with select.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightApiClockSkewed",
            # Both sides, not abs(): $value keeps its sign (the API ahead or behind).
            f"eightbyeight_api_clock_skew_seconds{everything} > {skew.threshold_seconds:g}\n"
            f"or\neightbyeight_api_clock_skew_seconds{everything} < "
            f"-{skew.threshold_seconds:g}",
            skew.for_,
            "warning",
            "The clocks of the 8x8 {{ $labels.api }} API and the exporter disagree",
            "The 8x8 {{ $labels.api }} API's clock minus the clock of {{ $labels.instance }} "
            "is {{ $value | printf \"%.0f\" }} s, more than "
            f"{skew.threshold_seconds:g} s either way: NTP is broken on one side. Call windows "
            "follow the API's clock, so no call is missed, but the exporter's own timestamps "
            "and logs are off.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightCallQueueDurationUnitMismatch",
            f"eightbyeight_call_queue_api_duration_unit_mismatch{everything} == 1",
            config.duration_unit_mismatch.for_,
            "warning",
            "The Call Queue Metric API's durations are not in the configured unit",
            "The Call Queue Metric API of PBX {{ $labels.pbx }} answers durations in another "
            "unit than work_analytics.call_queues.duration_unit says: every wait and talk time "
            "of its queues is off by 1000, and so are the wait alerts.",
            runbooks=config.runbooks,
        ),
    ]


def rule_groups(config: MixinConfig) -> dict[str, Any]:
    return {
        "groups": [
            {"name": GROUP_RECORDING, "rules": recording_rules(config)},
            {"name": GROUP_QUEUES, "rules": queue_alerts(config)},
            {"name": GROUP_EXPORTER, "rules": exporter_alerts(config)},
        ]
    }


class _Dumper(yaml.SafeDumper):
    """Expressions as literal blocks, so the rules file reads like a hand-written one."""


def _expr(dumper: yaml.SafeDumper, value: Expr) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


_Dumper.add_representer(Expr, _expr)

HEADER = (
    "# Generated by `python -m mixin` from mixin/config.yaml: change the\n"
    "# thresholds there and regenerate, rather than editing this file.\n"
)


def render_rules(config: MixinConfig) -> str:
    return HEADER + yaml.dump(
        rule_groups(config), Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True
    )
