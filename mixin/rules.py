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

from mixin.config import MixinConfig, seconds

GROUP_RECORDING = "eightbyeight.recording"
GROUP_QUEUES = "eightbyeight.queues"
GROUP_EXPORTER = "eightbyeight.exporter"


def _le(value: float) -> str:
    """A bucket bound as prometheus_client writes it in `le` (20 -> "20.0")."""
    return repr(float(value))


def sel(config: MixinConfig, *matchers: str) -> str:
    """`{<selector>, <matchers>}`, or nothing when both are empty."""
    parts = [p for p in (config.selector.strip(), *matchers) if p]
    return "{" + ", ".join(parts) + "}" if parts else ""


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


def recording_rules(config: MixinConfig) -> list[dict[str, Any]]:
    calls = config.queue_calls_rate
    within = _le(config.service_level.answered_within_seconds)
    return [
        {
            "record": calls,
            "expr": Expr(
                _queue_rate(
                    config, "eightbyeight_group_calls_total", 'outcome=~"answered|abandoned"'
                )
            ),
        },
        {
            "record": config.queue_service_level,
            "expr": Expr(
                _queue_rate(
                    config,
                    "eightbyeight_group_call_wait_seconds_bucket",
                    f'outcome="answered", le="{within}"',
                )
                + f"\n/\n{calls}"
            ),
        },
        {
            "record": config.queue_abandon_ratio,
            "expr": Expr(
                _queue_rate(config, "eightbyeight_group_calls_total", 'outcome="abandoned"')
                + f"\n/\n{calls}"
            ),
        },
        {
            # The counters hold the day's calls (from local midnight of the exporter's
            # time_zone, read in full at start-up): today's figure is a plain ratio, there
            # from the first poll after a restart.
            "record": config.queue_service_level_today,
            "expr": Expr(
                _per_queue(
                    config,
                    "eightbyeight_group_call_wait_seconds_bucket",
                    f'outcome="answered", le="{within}"',
                    rate=False,
                )
                + "\n/\n"
                + _per_queue(
                    config,
                    "eightbyeight_group_calls_total",
                    'outcome=~"answered|abandoned"',
                    rate=False,
                )
            ),
        },
    ]


class Expr(str):
    """A PromQL expression: written as a YAML literal block, line breaks kept as they are."""


def _alert(
    name: str,
    expr: str,
    for_: str,
    severity: str,
    summary: str,
    description: str,
    *,
    runbooks: str,
) -> dict[str, Any]:
    """One alert, with a `runbook_url` to its section of docs/runbooks.md as published at
    `runbooks` (the section's heading is the alert's name, GitHub's anchor its lower case)."""
    annotations = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{runbooks}#{name.lower()}",
    }
    return {
        "alert": name,
        "expr": Expr(expr),
        "for": for_,
        "labels": {"severity": severity},
        "annotations": annotations,
    }


def queue_alerts(config: MixinConfig) -> list[dict[str, Any]]:
    period = config.cc_period
    at = sel(config, f'period="{period}"')
    live, everything = sel(config, 'period="rt"'), sel(config)
    window_seconds = seconds(config.queue_window)
    sl, wait, abandon = config.service_level, config.longest_wait, config.abandon_ratio
    # Contact Center figures of one period, the `period` label dropped so that they match
    # the queue's target (period `today`) and each other.
    cc_volume = f"max without (period) (eightbyeight_cc_queue_entered_interactions{at})"
    cc_level = f"max without (period) (eightbyeight_cc_queue_service_level_ratio{at})"
    cc_target = (
        f"max without (period) (eightbyeight_cc_queue_service_level_target_ratio{everything})"
    )
    cc_abandon = f"max without (period) (eightbyeight_cc_queue_abandoned_interactions_ratio{at})"
    # A queue with no agent logged in (queue-agent-activity): waiting callers there need
    # someone to log in, not to finish a call. NoAgentAvailable keeps firing in that case too
    # (a queue flapping between "nobody logged in" and "all busy" must still page, and so must
    # one whose queue-agent-activity fails); Alertmanager's inhibit rule
    # (mixin/alertmanager.example.yml) keeps the more precise page alone.
    nobody_logged_in = (
        f"(sum by (pbx, queue_id) (eightbyeight_queue_logged_in_agents{everything}) == 0)"
    )
    return [
        _alert(
            "EightByEightQueueServiceLevelLow",
            # Work Analytics: from the call counters. Contact Center: the vendor's own figure,
            # against the queue's target as configured in 8x8 (the default where it has none).
            f"(\n  {config.queue_service_level} < {sl.target:g}\n"
            f"  and on(pbx, queue, extension) {config.queue_calls_rate} * {window_seconds:g}"
            f" >= {sl.min_calls}\n)\nor\n"
            f"(\n  (\n    {cc_level}\n      < {cc_target}\n    or\n"
            f"    {cc_level} < {sl.target:g}\n      unless {cc_target}\n  )\n"
            f"  and {cc_volume} >= {sl.min_calls}\n)",
            sl.for_,
            "warning",
            "Queue {{ $labels.queue }} is below its service level",
            "{{ $value | humanizePercentage }} of the calls of queue {{ $labels.queue }} "
            f"({{{{ $labels.pbx }}}}{{{{ $labels.tenant }}}}) were answered within "
            f"{sl.answered_within_seconds:g}s over the last {config.queue_window} "
            f"(Contact Center: {period}); the target is {sl.target:.0%} or the queue's own.",
            runbooks=config.runbooks,
        ),
        _alert(
            "EightByEightQueueLongestWaitHigh",
            f"eightbyeight_queue_ongoing_longest_waiting_time_seconds{everything} > "
            f"{wait.threshold_seconds:g}\nor\n"
            f"eightbyeight_cc_queue_longest_wait_time_seconds{live} > "
            f"{wait.threshold_seconds:g}",
            wait.for_,
            "warning",
            "A caller has waited long in queue {{ $labels.queue }}",
            "The longest waiting caller of queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}) has waited {{ $value | humanizeDuration }}, "
            f"more than {wait.threshold_seconds:g}s.",
            runbooks=config.runbooks,
        ),
        _alert(
            "EightByEightQueueNoAgentLoggedIn",
            f"eightbyeight_queue_ongoing_waiting_calls{everything} > 0\n"
            f"and on(pbx, queue_id) {nobody_logged_in}",
            config.no_agent_logged_in.for_,
            "critical",
            "Callers wait in queue {{ $labels.queue }} and no agent is logged in",
            "{{ $value }} callers wait in queue {{ $labels.queue }} ({{ $labels.pbx }}) and "
            "none of its agents is logged in to it: nobody will answer until someone logs in.",
            runbooks=config.runbooks,
        ),
        _alert(
            "EightByEightQueueNoAgentAvailable",
            f"(\n  eightbyeight_queue_ongoing_waiting_calls{everything} > 0\n"
            f"  and on(pbx, queue_id) eightbyeight_queue_available_agents{everything} == 0\n)"
            f"\nor\n(\n  eightbyeight_cc_queue_waiting_interactions{live} > 0\n"
            f"  and on(tenant, queue_id) eightbyeight_cc_queue_available_idle_agents{live}"
            f" == 0\n)",
            config.no_agent_available.for_,
            "critical",
            "Callers wait in queue {{ $labels.queue }} and no agent is available",
            "{{ $value }} callers wait in queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}) and none of its agents is available.",
            runbooks=config.runbooks,
        ),
        _alert(
            "EightByEightQueueAbandonRatioHigh",
            f"(\n  {config.queue_abandon_ratio} > {abandon.threshold:g}\n"
            f"  and on(pbx, queue, extension) {config.queue_calls_rate} * {window_seconds:g}"
            f" >= {abandon.min_calls}\n)\nor\n"
            f"(\n  {cc_abandon} > {abandon.threshold:g}\n"
            f"  and {cc_volume} >= {abandon.min_calls}\n)",
            abandon.for_,
            "warning",
            "Many callers abandon queue {{ $labels.queue }}",
            "{{ $value | humanizePercentage }} of the calls of queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}) were abandoned over the last "
            f"{config.queue_window} (Contact Center: {period}), more than "
            f"{abandon.threshold:.0%}.",
            runbooks=config.runbooks,
        ),
    ]


def exporter_alerts(config: MixinConfig) -> list[dict[str, Any]]:
    everything = sel(config)
    token_requests = sel(config, 'endpoint=~".*oauth.*token"')
    errors = config.api_errors
    stale = config.data_stale
    skew = config.api_clock_skew
    return [
        _alert(
            "EightByEightExporterDown",
            f"up{everything} == 0",
            config.exporter_down.for_,
            "critical",
            "The 8x8 exporter cannot be scraped",
            "Prometheus has not scraped {{ $labels.instance }} ({{ $labels.job }}) "
            f"successfully for {config.exporter_down.for_}: no 8x8 data is collected.",
            runbooks=config.runbooks,
        ),
        _alert(
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
        _alert(
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
        _alert(
            "EightByEightAuthenticationFailing",
            f"sum by (job, instance, api) (\n  increase(eightbyeight_api_request_failures_total"
            f"{token_requests}[{errors.window}])\n) > 0",
            config.authentication_failing.for_,
            "critical",
            "The exporter cannot authenticate to the 8x8 {{ $labels.api }} API",
            "Token requests of {{ $labels.instance }} to the {{ $labels.api }} API have failed "
            f"for {config.authentication_failing.for_}: check the credentials (API key, "
            "username and password, or the Contact Center client id and secret).",
            runbooks=config.runbooks,
        ),
        _alert(
            "EightByEightApiErrorsHigh",
            f"sum by (job, instance, api) (rate(eightbyeight_api_request_failures_total"
            f"{everything}[{errors.window}]))\n/\nsum by (job, instance, api) "
            f"(rate(eightbyeight_api_requests_total{everything}[{errors.window}]))\n"
            f"> {errors.ratio:g}",
            errors.for_,
            "warning",
            "Many requests to the 8x8 {{ $labels.api }} API fail",
            "{{ $value | humanizePercentage }} of the requests of {{ $labels.instance }} to the "
            f"{{{{ $labels.api }}}} API failed over the last {errors.window}.",
            runbooks=config.runbooks,
        ),
        _alert(
            "EightByEightSeriesLimitReached",
            f"eightbyeight_collector_series_dropped{everything} > 0",
            config.series_limit.for_,
            "warning",
            "Collector {{ $labels.collector }} drops series at its max_series ceiling",
            "Collector {{ $labels.collector }} of {{ $labels.instance }} left out "
            "{{ $value }} series: raise its max_series or narrow it with select.",
            runbooks=config.runbooks,
        ),
        _alert(
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
        _alert(
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
