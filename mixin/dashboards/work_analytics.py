"""The Work Analytics dashboard (`eightbyeight-work-analytics.json`)."""

from __future__ import annotations

from mixin.config import MixinConfig, seconds
from mixin.dashboards.agents import agent_activity_row
from mixin.dashboards.grafana import (
    TOO_FEW_CALLS,
    Dashboard,
    bad_above,
    dotted,
    fixed_colour,
)
from mixin.dashboards.layout import WORK_ANALYTICS_UID, Row, dashboard
from mixin.dashboards.panels import Query, bargauge, stat, timeseries
from mixin.dashboards.promql import (
    EXTENSION_WINDOW,
    PBX,
    QUEUE,
    RING_GROUP_WINDOW,
    SITE,
    WA_QUEUE,
    WINDOW,
    guarded,
    min_volume,
    queue_rule,
    rule_series,
    sel,
    wa_window_ratio,
)
from mixin.dashboards.service_levels import WORK_ANALYTICS, ServiceLevelView, definition
from mixin.dashboards.tables import Column, table
from mixin.dashboards.variables import scrape_variables, wa_queue_variables, window_variable

TOP_N = 10
# The window of the service-level alert, which the time series of the service level reads.
SERVICE_LEVEL_WINDOW = "15m"
# The Call Queue Metric API is asked without dates: its aggregates cover the last 24 hours.
CALL_QUEUE_WINDOW = "24h"


def build_work_analytics(config: MixinConfig) -> Dashboard:
    """The day so far: PBX totals, queues, ring groups, extensions and call durations."""
    abandon = config.abandon_ratio.threshold
    wait_limit, window = config.longest_wait.threshold_seconds, config.queue_window
    pbx_window = sel(PBX, WINDOW)

    def pbx_total(metric: str) -> str:
        return f"sum(eightbyeight_pbx_{metric}{pbx_window})"

    totals = Row(
        "PBX totals ($window)",
        [
            stat("Calls", pbx_total("calls"), unit="short"),
            stat("Answered", pbx_total("answered_calls"), unit="short"),
            stat("Missed", pbx_total("missed_calls"), unit="short"),
            stat("Abandoned", pbx_total("abandoned_calls"), unit="short"),
            stat("Voicemail", pbx_total("voicemail_calls"), unit="short"),
            stat("Talk time", pbx_total("talk_time_seconds"), unit="s"),
            timeseries(
                "Calls by PBX",
                [Query(f"sum by (pbx) (eightbyeight_pbx_calls{pbx_window})", "{{pbx}}")],
                unit="short",
                description="Calls in the window, per PBX (company summary); a rolling window "
                "rises and falls, a calendar window (today) only rises.",
            ),
            timeseries(
                "Answered, missed, abandoned",
                [
                    Query(pbx_total("answered_calls"), "answered"),
                    Query(pbx_total("missed_calls"), "missed"),
                    Query(pbx_total("abandoned_calls"), "abandoned"),
                    Query(pbx_total("voicemail_calls"), "voicemail"),
                ],
                unit="short",
                description="Outcomes of the calls in the window (company summary).",
            ),
        ],
    )
    wa = sel(*WA_QUEUE, f'window="{CALL_QUEUE_WINDOW}"')

    def queue_metric(metric: str) -> str:
        return f"max by (pbx, site, queue) (eightbyeight_queue_{metric}{wa})"

    by_queue = "{{queue}} ({{site}})"
    sl_min, abandon_min = config.service_level.min_calls, config.abandon_ratio.min_calls

    def window_ratio(rule: str, min_calls: int) -> str:
        # Guarded as the alerts are: a gap where the window has fewer than `min_calls` calls.
        return wa_window_ratio(
            rule, config.queue_calls_rate, seconds(window), min_calls, keep_few=False
        )

    def api_ratio(metric: str) -> str:
        return guarded(queue_metric(metric), queue_metric("entered_calls"), abandon_min)

    # The service level of the recording rules (both products' definition), per queue, against
    # each queue's own target.
    service_level = ServiceLevelView.of(config, WORK_ANALYTICS, QUEUE)
    today_below, today_met, today_few = service_level.split("today")
    queues = Row(
        f"Call queues ({window} recording rules)",
        [
            timeseries(
                f"Service level by queue ({SERVICE_LEVEL_WINDOW}) vs target",
                [
                    Query(service_level.level(SERVICE_LEVEL_WINDOW, keep_few=False), by_queue),
                    Query(service_level.target(), "{{queue}} ({{site}}) target"),
                ],
                unit="percentunit",
                overrides=[dotted("B")],
                minimum=0,
                maximum=1,
                w=8,
                description=f"Over {SERVICE_LEVEL_WINDOW} (the alert's window): "
                f"{definition(config)}. Dotted: each queue's target, the one its alert "
                f"compares with. A gap where the window has fewer than {min_volume(sl_min)} "
                "calls, as in the alert.",
            ),
            timeseries(
                "Abandon ratio by queue",
                [Query(window_ratio(config.queue_abandon_ratio, abandon_min), by_queue)],
                unit="percentunit",
                thresholds=bad_above(abandon),
                threshold_style="dashed",
                minimum=0,
                w=8,
                description=f"Abandoned over answered + abandoned, over {window}; dashed: "
                "the AbandonRatio alert's threshold. A gap where the window has fewer than "
                f"{min_volume(abandon_min)} calls, as in the alert.",
            ),
            timeseries(
                "Answered + abandoned calls by queue",
                [Query(f"60 * {queue_rule(rule_series(config.queue_calls_rate))}", by_queue)],
                unit="cpm",
                w=8,
                description=f"Calls per minute that ended answered or abandoned, over {window}.",
            ),
            bargauge(
                "Service level today by queue",
                [
                    Query(today_below, by_queue),
                    Query(today_met, by_queue),
                    Query(today_few, by_queue),
                ],
                unit="percentunit",
                minimum=0,
                maximum=1,
                mappings=TOO_FEW_CALLS,
                overrides=[fixed_colour("A", "red"), fixed_colour("B", "green")],
                w=24,
                h=6,
                description=f"Since local midnight of the exporter's time_zone (the call "
                f"counters' day, read in full at start-up): {definition(config)}. Red: below "
                "the queue's target; green: at or above it. \"too few calls\" below "
                f"{min_volume(sl_min)} calls today.",
            ),
            table(
                f"Call queues, last {CALL_QUEUE_WINDOW}",
                [
                    Column("Entered", queue_metric("entered_calls")),
                    Column("Answered", queue_metric("accepted_calls")),
                    Column("Abandoned", queue_metric("abandoned_calls")),
                    Column("Missed", queue_metric("missed_calls")),
                    Column("Voicemail", queue_metric("voicemail_calls")),
                    Column(
                        "Answered ratio",
                        api_ratio("accepted_calls_ratio"),
                        "percentunit",
                        mappings=TOO_FEW_CALLS,
                    ),
                    Column(
                        "Abandoned ratio",
                        api_ratio("abandoned_calls_ratio"),
                        "percentunit",
                        bad_above(abandon),
                        TOO_FEW_CALLS,
                    ),
                    Column("Average wait", queue_metric("average_waiting_time_seconds"), "s"),
                    Column(
                        "Longest wait",
                        queue_metric("longest_waiting_time_seconds"),
                        "s",
                        bad_above(wait_limit),
                    ),
                    Column("Average talk", queue_metric("average_talk_time_seconds"), "s"),
                ],
                by=("pbx", "site", "queue"),
                sort_by="Entered",
                description="The Call Queue Metric API's rolling last 24 hours, per queue; the "
                f"ratios say \"too few calls\" below {min_volume(abandon_min)} entered calls.",
            ),
        ],
    )
    calls = sel(PBX)
    rate = "[$__rate_interval]"
    volume = Row(
        "Call volume (call records)",
        [
            timeseries(
                "Calls by outcome",
                [
                    Query(
                        f"60 * sum by (outcome) (rate(eightbyeight_calls_total{calls}{rate}))",
                        "{{outcome}}",
                    )
                ],
                unit="cpm",
                stack=True,
                description="Calls per minute that ended, by outcome, from the call records.",
            ),
            timeseries(
                "Calls by direction",
                [
                    Query(
                        f"60 * sum by (direction) (rate(eightbyeight_calls_total{calls}{rate}))",
                        "{{direction}}",
                    )
                ],
                unit="cpm",
                stack=True,
                description="Calls per minute that ended, by direction, from the call records.",
            ),
        ],
    )

    def quantiles(metric: str, matchers: str, by: str = "") -> list[Query]:
        return [
            Query(
                f"histogram_quantile({q}, sum by (le{by}) (rate({metric}_bucket{matchers}{rate})))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.9, 0.99)
        ]

    group_queue = sel(PBX, 'group_type="queue"', 'group=~"$queue"')
    durations = Row(
        "Wait and talk durations",
        [
            timeseries(
                "Wait of inbound calls",
                quantiles("eightbyeight_call_wait_seconds", sel(PBX, 'direction="inbound"')),
                unit="s",
                w=8,
                legend_calcs=("mean", "max"),
                description="How long inbound callers waited before an answer or giving up "
                "(quantiles of the call records' histogram).",
            ),
            timeseries(
                "Talk time of answered calls",
                quantiles("eightbyeight_call_talk_seconds", calls),
                unit="s",
                w=8,
                legend_calcs=("mean", "max"),
                description="Talk time of answered calls (quantiles of the call records' "
                "histogram).",
            ),
            timeseries(
                "Queue wait p90 by queue",
                [
                    Query(
                        "histogram_quantile(0.9, sum by (le, pbx, group) "
                        f"(rate(eightbyeight_group_call_wait_seconds_bucket{group_queue}{rate})))",
                        "{{group}} ({{pbx}})",
                    ),
                    Query(service_level.threshold(), "{{queue}} ({{pbx}}) threshold"),
                ],
                unit="s",
                w=8,
                overrides=[dotted("B")],
                description="90th percentile of the wait in each call queue, from the call legs; "
                "dotted: each queue's service-level threshold, the wait within which an "
                "answer counts as in time.",
            ),
        ],
    )
    rg = sel(PBX, SITE, RING_GROUP_WINDOW)

    def ring_group(metric: str) -> str:
        return f"max by (pbx, site, ring_group) (eightbyeight_ring_group_{metric}{rg})"

    ring_groups = Row(
        "Ring groups ($ring_group_window)",
        [
            table(
                "Ring groups",
                [
                    Column("Calls", ring_group("calls")),
                    Column("Answered", ring_group("answered_calls")),
                    Column("Missed", ring_group("missed_calls")),
                    Column("Abandoned", ring_group("abandoned_calls")),
                    Column("Voicemail", ring_group("voicemail_calls")),
                    Column("Talk time", ring_group("talk_time_seconds"), "s"),
                    Column("Average talk", ring_group("average_talk_time_seconds"), "s"),
                ],
                by=("pbx", "site", "ring_group"),
                sort_by="Calls",
                w=14,
                description="Ring group summary for the selected window.",
            ),
            timeseries(
                "Calls by ring group",
                [Query(ring_group("calls"), "{{ring_group}}")],
                unit="short",
                w=10,
                description="Calls in the window, per ring group.",
            ),
        ],
    )
    ext = sel(PBX, EXTENSION_WINDOW)

    def top(metric: str) -> str:
        return (
            f"sort_desc(topk({TOP_N}, max by (pbx, extension) "
            f"(eightbyeight_extension_{metric}{ext})))"
        )

    calls_per_ext = (
        f"sort_desc(topk({TOP_N}, "
        f"max by (pbx, extension) (eightbyeight_extension_inbound_calls{ext}) + "
        f"max by (pbx, extension) (eightbyeight_extension_outbound_calls{ext})))"
    )
    extensions = Row(
        "Extensions ($extension_window)",
        [
            bargauge(
                f"Top {TOP_N} extensions by calls",
                Query(calls_per_ext, "{{extension}}"),
                unit="short",
                w=8,
                h=9,
                minimum=0,
                description="Inbound + outbound calls in the window.",
            ),
            bargauge(
                f"Top {TOP_N} extensions by talk time",
                Query(top("talk_time_seconds"), "{{extension}}"),
                unit="s",
                w=8,
                h=9,
                minimum=0,
                description="Summed talk time in the window.",
            ),
            bargauge(
                f"Top {TOP_N} extensions by missed calls",
                Query(top("missed_calls"), "{{extension}}"),
                unit="short",
                w=8,
                h=9,
                minimum=0,
                description="Calls not answered in the window.",
            ),
        ],
    )
    windows = [
        window_variable("window", "Window (PBX totals)", "eightbyeight_pbx_calls", PBX),
        window_variable(
            "ring_group_window", "Window (ring groups)", "eightbyeight_ring_group_calls", PBX, SITE
        ),
        window_variable(
            "extension_window",
            "Window (extensions)",
            "eightbyeight_extension_inbound_calls",
            PBX,
        ),
    ]
    return dashboard(
        uid=WORK_ANALYTICS_UID,
        title="8x8 / Work Analytics",
        tags=["work-analytics"],
        description="8x8 Work Analytics: PBX totals, call queues, agents, ring groups, "
        "extensions, call volume and durations.",
        variables=[*scrape_variables(config), *wa_queue_variables(), *windows],
        rows=[totals, queues, agent_activity_row(), volume, durations, ring_groups, extensions],
        refresh="1m",
        time_from="now-6h",
    )
