"""The Contact Center dashboard (`eightbyeight-contact-center.json`)."""

from __future__ import annotations

from mixin.config import MixinConfig
from mixin.dashboards.grafana import TOO_FEW_CALLS, Dashboard, bad_above, bad_below, dotted
from mixin.dashboards.layout import CONTACT_CENTER_UID, Row, dashboard
from mixin.dashboards.panels import Query, bargauge, stat, timeseries
from mixin.dashboards.promql import (
    QUEUE,
    REPORT_COLLECTORS,
    RT,
    TENANT,
    guarded,
    min_volume,
    only_enough,
    sel,
)
from mixin.dashboards.service_levels import CONTACT_CENTER, ServiceLevelView, definition
from mixin.dashboards.tables import YES_NO, Column, raw_table, table
from mixin.dashboards.variables import (
    cc_queue_variable,
    period_variable,
    scrape_variables,
    tenant_variable,
)

# The queue metrics the panels read at `$period`: the `period` variable offers only the periods
# all of them have. (The service level is read from the recording rules, over their windows.)
PERIOD_METRICS = (
    "abandoned_interactions_ratio",
    "entered_interactions",
    "accepted_interactions",
)


# The service-level panels read the alert's window of the recording rules.
SERVICE_LEVEL_WINDOW = "15m"


def build_contact_center(config: MixinConfig) -> Dashboard:
    """Contact Center queues now and over time, agent groups, agents and the reports."""
    abandon = config.abandon_ratio.threshold
    wait_limit = config.longest_wait.threshold_seconds
    rt = sel(TENANT, QUEUE, RT)
    per = sel(TENANT, QUEUE, 'period=~"$period"')

    def queue(metric: str, matchers: str) -> str:
        return f"max by (tenant, queue) (eightbyeight_cc_queue_{metric}{matchers})"

    waiting, longest = queue("waiting_interactions", rt), queue("longest_wait_time_seconds", rt)
    idle, handling = queue("available_idle_agents", rt), queue("handling_interactions", rt)
    abandoned = queue("abandoned_interactions_ratio", per)
    entered = queue("entered_interactions", per)
    sl_min, abandon_min = config.service_level.min_calls, config.abandon_ratio.min_calls
    # The service level of the recording rules (both products' definition), over the alert's
    # window, against each queue's own target: Grafana's thresholds are one list per column, so
    # the comparison is made in PromQL (a margin column, a count of queues below).
    window = SERVICE_LEVEL_WINDOW
    service_level = ServiceLevelView.of(config, CONTACT_CENTER, QUEUE)
    table_view = ServiceLevelView.of(config, CONTACT_CENTER, QUEUE, by=("tenant", "queue"))
    abandoned_shown = guarded(abandoned, entered, abandon_min)
    by_queue = "{{queue}} ({{tenant}})"
    now = Row(
        "Queues now",
        [
            stat("Interactions waiting", f"sum({waiting})", unit="short"),
            stat(
                "Longest wait",
                f"max({longest})",
                unit="s",
                thresholds=bad_above(wait_limit),
                description="The longest wait among the interactions waiting now.",
            ),
            stat("Available idle agents", f"sum({idle})", unit="short", thresholds=bad_below(1)),
            stat(
                "Interactions handled",
                f"sum({handling})",
                unit="short",
                description="Interactions being handled now.",
            ),
            stat(
                f"Queues below their target ({window})",
                service_level.below_target_count(window),
                unit="none",
                thresholds=bad_above(1),
                description=f"Queues whose service level over {window} (the alert's window) "
                "is below the queue's own target (the mixin's fallback_target where 8x8 has "
                f"none), among those with {min_volume(sl_min)} interactions or more in the "
                "window.",
            ),
            stat(
                "Highest abandoned ratio ($period)",
                f"max({abandoned_shown})",
                unit="percentunit",
                thresholds=bad_above(abandon),
                mappings=TOO_FEW_CALLS,
                minimum=0,
                maximum=1,
                description="The highest abandoned ratio among the queues with "
                f"{min_volume(abandon_min)} interactions or more in the period; \"too few "
                "calls\" when none has so many.",
            ),
            table(
                "Queues",
                [
                    Column("Waiting", waiting),
                    Column("Longest wait", longest, "s", bad_above(wait_limit)),
                    Column("Available idle agents", idle, thresholds=bad_below(1)),
                    Column("Handling", handling),
                    Column("Entered ($period)", entered),
                    Column("Accepted ($period)", queue("accepted_interactions", per)),
                    Column(
                        f"Service level ({window})",
                        table_view.level(window, keep_few=True),
                        "percentunit",
                        mappings=TOO_FEW_CALLS,
                    ),
                    Column("Target", table_view.target(), "percentunit"),
                    Column(
                        f"Margin to target ({window})",
                        table_view.margin(window),
                        "percentunit",
                        bad_below(0),
                        TOO_FEW_CALLS,
                    ),
                    Column("Threshold", table_view.threshold(), "s"),
                    Column(
                        "Abandoned ratio",
                        abandoned_shown,
                        "percentunit",
                        bad_above(abandon),
                        TOO_FEW_CALLS,
                    ),
                ],
                by=("tenant", "queue"),
                sort_by="Waiting",
                description="Live values (period rt), the counts and abandoned ratio of the "
                f"selected period, and the service level over {window} (the alert's window): "
                f"{definition(config)}. The target is each queue's own, set in 8x8 (the "
                "mixin's fallback_target where it has none); the margin, service level minus "
                "target, is red below 0: a fixed colour on the service level would contradict "
                "the queues whose target differs. Ratios say \"too few calls\" below "
                f"{min_volume(min(sl_min, abandon_min))} interactions (an idle queue reads "
                "100 % at 8x8).",
            ),
        ],
    )
    over_time = Row(
        "Queues over time",
        [
            timeseries("Interactions waiting", [Query(waiting, by_queue)], unit="short", w=8),
            timeseries(
                "Longest wait",
                [Query(longest, by_queue)],
                unit="s",
                w=8,
                thresholds=bad_above(wait_limit),
                threshold_style="dashed",
                description="Dashed: the LongestWait alert's threshold.",
            ),
            timeseries("Available idle agents", [Query(idle, by_queue)], unit="short", w=8),
            timeseries(
                f"Service level ({window}) vs target",
                [
                    Query(service_level.level(window, keep_few=False), by_queue),
                    Query(service_level.target(), "{{queue}} ({{tenant}}) target"),
                ],
                unit="percentunit",
                minimum=0,
                maximum=1,
                overrides=[dotted("B")],
                description=f"Service level per queue over {window}: {definition(config)}. "
                f"A gap where fewer than {min_volume(sl_min)} interactions were counted, as in "
                "the alert; dotted: each queue's own target from 8x8 (the mixin's "
                "fallback_target where it has none), the one its alert compares with.",
            ),
            timeseries(
                "Abandoned ratio ($period)",
                [Query(only_enough(abandoned, entered, abandon_min), by_queue)],
                unit="percentunit",
                thresholds=bad_above(abandon),
                threshold_style="dashed",
                minimum=0,
                description="Dashed: the AbandonRatio alert's threshold. A gap where fewer than "
                f"{min_volume(abandon_min)} interactions entered, as in the alert.",
            ),
        ],
    )
    group_rt = sel(TENANT, RT)
    # The spec's group metrics (no `busy` for groups, unlike queues).
    states = (
        ("available_idle", "Available idle"),
        ("handling", "Handling"),
        ("wrap_up", "Wrap-up"),
        ("on_break", "On break"),
        ("working_offline", "Working offline"),
    )

    def group(state: str) -> str:
        return f"max by (tenant, group) (eightbyeight_cc_group_{state}_agents{group_rt})"

    groups = Row(
        "Agent groups",
        [
            timeseries(
                "Agents by state",
                [
                    Query(f"sum(eightbyeight_cc_group_{state}_agents{group_rt})", label)
                    for state, label in states
                ],
                unit="short",
                w=10,
                description="Agents of the selected tenants' groups, by state (an agent in two "
                "groups counts twice).",
            ),
            table(
                "Agent groups now",
                [
                    Column("Enabled", group("enabled")),
                    Column("Eligible", group("eligible")),
                    *(Column(label, group(state)) for state, label in states),
                ],
                by=("tenant", "group"),
                w=14,
                sort_by="Eligible",
            ),
        ],
    )
    status = f"count by (status) (eightbyeight_cc_agent_status_info{sel(TENANT)})"
    agents = Row(
        "Agents",
        [
            bargauge(
                "Agents by status",
                Query(status, "{{status}}"),
                unit="short",
                w=8,
                minimum=0,
                description="Agents per current status (status.rt).",
            ),
            timeseries(
                "Agents by status over time",
                [Query(status, "{{status}}")],
                unit="short",
                w=16,
                stack=True,
            ),
        ],
    )
    report = sel(TENANT)

    def meta(metric: str) -> str:
        return f"max by (tenant, report) (eightbyeight_cc_report_{metric}{report})"

    reports = Row(
        "Reports",
        [
            table(
                "Reports",
                [
                    Column("Rows", meta("rows")),
                    Column("Truncated", meta("truncated"), "none", mappings=YES_NO),
                    Column("Generation time", meta("generation_seconds"), "s"),
                    Column("Status polls", meta("status_polls")),
                    Column(
                        "Range end",
                        f"1000 * {meta('range_end_timestamp_seconds')}",
                        "dateTimeFromNow",
                    ),
                ],
                by=("tenant", "report"),
                w=12,
                h=7,
                sort_by="Rows",
                description="Each configured report's last good result: truncated means 8x8's "
                "cap of 10,000 records was reached and rows are missing.",
            ),
            bargauge(
                "Report data age",
                Query(
                    "max by (collector) (eightbyeight_collector_snapshot_age_seconds"
                    f"{sel(REPORT_COLLECTORS)})",
                    "{{collector}}",
                ),
                unit="s",
                w=12,
                h=7,
                minimum=0,
                description="Age of each report collector's last good result.",
            ),
            timeseries(
                "Report generation time",
                [Query(meta("generation_seconds"), "{{report}} ({{tenant}})")],
                unit="s",
                w=12,
                description="How long 8x8 took to generate each report.",
            ),
            timeseries(
                "Report rows", [Query(meta("rows"), "{{report}} ({{tenant}})")], unit="short", w=12
            ),
            raw_table(
                "Accepted interactions (reports)",
                f"eightbyeight_cc_report_queue_accepted_interactions{sel(TENANT, QUEUE)}",
                value="Accepted",
                unit="short",
                h=9,
                description="The `accepted` metric of every configured report, one row per "
                "report row (its dimensions as columns).",
            ),
        ],
    )
    return dashboard(
        uid=CONTACT_CENTER_UID,
        title="8x8 / Contact Center",
        tags=["contact-center"],
        description="8x8 Contact Center: realtime queues, agent groups, agents and the "
        "configured historical reports.",
        variables=[
            *scrape_variables(config),
            tenant_variable(),
            cc_queue_variable("queue", "Queue"),
            period_variable(config, [f"eightbyeight_cc_queue_{m}" for m in PERIOD_METRICS]),
        ],
        rows=[now, over_time, groups, agents, reports],
        refresh="1m",
        time_from="now-6h",
    )
