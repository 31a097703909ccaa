"""The live queues wallboard (`eightbyeight-wallboard.json`)."""

from __future__ import annotations

from mixin.config import MixinConfig, seconds
from mixin.dashboards.agents import queue_agent_rows
from mixin.dashboards.grafana import (
    TOO_FEW_CALLS,
    Dashboard,
    bad_above,
    bad_below,
    fixed_colour,
    json_number,
)
from mixin.dashboards.layout import (
    Row,
    contact_center_links,
    dashboard,
    from_cell,
    from_series,
    work_analytics_links,
)
from mixin.dashboards.panels import Query, bargauge, stat
from mixin.dashboards.promql import (
    RT,
    TENANT,
    WA_QUEUE,
    cc_levels,
    cc_target,
    lowest,
    min_volume,
    sel,
    wa_window_ratio,
)
from mixin.dashboards.tables import Column, table
from mixin.dashboards.variables import (
    cc_queue_variable,
    scrape_variables,
    tenant_variable,
    wa_queue_variables,
)


def build_wallboard(config: MixinConfig) -> Dashboard:
    """What a supervisor watches on a wall screen: who waits, how long, who can answer."""
    target, wait_limit = config.service_level.target, config.longest_wait.threshold_seconds
    wa = sel(*WA_QUEUE)
    by_queue = "{{queue}} ({{site}})"
    window, sl_min = config.queue_window, config.service_level.min_calls
    # The service level of each queue with enough calls in the window, as the alert guards it;
    # "too few calls" for the others.
    sl_rule = wa_window_ratio(
        config.queue_service_level,
        config.queue_calls_rate,
        seconds(window),
        sl_min,
        keep_few=True,
    )
    wa_links = work_analytics_links(from_series)
    wa_table_links = work_analytics_links(from_cell)
    waiting = f"max by (pbx, site, queue) (eightbyeight_queue_ongoing_waiting_calls{wa})"
    longest = (
        f"max by (pbx, site, queue) (eightbyeight_queue_ongoing_longest_waiting_time_seconds{wa})"
    )
    available = f"max by (pbx, site, queue) (eightbyeight_queue_available_agents{wa})"
    wa_row = Row(
        "Work Analytics call queues",
        [
            stat(
                "Calls waiting",
                f"sum({waiting})",
                unit="short",
                description="Calls waiting now in the selected call queues.",
            ),
            stat(
                "Longest wait",
                f"max({longest})",
                unit="s",
                thresholds=bad_above(wait_limit),
                description="The longest current wait among the selected queues; red from the "
                "LongestWait alert's threshold.",
            ),
            stat(
                "Available agents",
                f"sum({available})",
                unit="short",
                thresholds=bad_below(1),
                description="Agents logged in and Available in the selected queues (an agent in "
                "two queues counts twice).",
            ),
            stat(
                f"Lowest service level ({window})",
                lowest(sl_rule),
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
                mappings=TOO_FEW_CALLS,
                w=6,
                description=f"The worst queue's service level over {window}: calls answered "
                f"within {json_number(config.service_level.answered_within_seconds)} s over "
                f"answered + abandoned (recording rule); red below the target. Queues with "
                f"fewer than {min_volume(sl_min)} calls in the window are left out, as the "
                "alert leaves them out; \"too few calls\" when every queue has so few.",
            ),
            stat(
                "Queues with callers waiting",
                f"count({waiting} > 0) or vector(0)",
                unit="none",
                w=6,
                description="How many of the selected queues have at least one caller waiting.",
            ),
            bargauge(
                "Calls waiting by queue",
                Query(waiting, by_queue),
                unit="short",
                minimum=0,
                description="Calls waiting now, per queue.",
                links=wa_links,
            ),
            bargauge(
                "Longest wait by queue",
                Query(longest, by_queue),
                unit="s",
                thresholds=bad_above(wait_limit),
                minimum=0,
                description="The current longest wait per queue; red from the alert's threshold.",
                links=wa_links,
            ),
            bargauge(
                "Available agents by queue",
                Query(available, by_queue),
                unit="short",
                thresholds=bad_below(1),
                minimum=0,
                description="Agents logged in and Available, per queue; red when none.",
                links=wa_links,
            ),
            bargauge(
                f"Service level by queue ({window})",
                Query(sl_rule, by_queue),
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
                mappings=TOO_FEW_CALLS,
                links=wa_links,
                description="Answered within the service-level time over answered + "
                f"abandoned, from the call legs (recording rule); \"too few calls\" below "
                f"{min_volume(sl_min)} calls in the window, where the alert stays silent too.",
            ),
            table(
                "Call queues now",
                [
                    Column("Waiting", waiting),
                    Column("Longest wait", longest, "s", bad_above(wait_limit)),
                    Column("Available agents", available, thresholds=bad_below(1)),
                    Column(
                        "Agents in conversation",
                        f"max by (pbx, site, queue) (eightbyeight_queue_ongoing_talking_calls{wa})",
                    ),
                    Column(
                        "Eligible agents",
                        f"max by (pbx, site, queue) (eightbyeight_queue_eligible_agents{wa})",
                    ),
                    Column(
                        "Service level", sl_rule, "percentunit", bad_below(target), TOO_FEW_CALLS
                    ),
                ],
                by=("pbx", "site", "queue"),
                sort_by="Waiting",
                h=9,
                links=wa_table_links,
                description="Every selected call queue now; service level over "
                f"{window} from the recording rule.",
            ),
        ],
    )
    cc_rt = sel(TENANT, 'queue=~"$cc_queue"', RT)
    cc_period = sel(TENANT, 'queue=~"$cc_queue"', f'period="{config.cc_period}"')
    by_cc = "{{queue}} ({{tenant}})"
    cc_waiting = f"max by (tenant, queue) (eightbyeight_cc_queue_waiting_interactions{cc_rt})"
    cc_longest = f"max by (tenant, queue) (eightbyeight_cc_queue_longest_wait_time_seconds{cc_rt})"
    cc_available = f"max by (tenant, queue) (eightbyeight_cc_queue_available_idle_agents{cc_rt})"
    cc_sl = f"max by (tenant, queue) (eightbyeight_cc_queue_service_level_ratio{cc_period})"
    cc_entered = f"max by (tenant, queue) (eightbyeight_cc_queue_entered_interactions{cc_period})"
    cc_today = sel(TENANT, 'queue=~"$cc_queue"', 'period="today"')
    cc_own_target = (
        f"max by (tenant, queue) (eightbyeight_cc_queue_service_level_target_ratio{cc_today})"
    )
    cc_goal = cc_target(cc_sl, cc_own_target, target)
    cc_below, cc_met, cc_few = cc_levels(cc_sl, cc_entered, cc_goal, sl_min)
    cc_links = contact_center_links(from_series)
    cc_row = Row(
        "Contact Center queues",
        [
            stat(
                "Interactions waiting",
                f"sum({cc_waiting})",
                unit="short",
                description="Interactions waiting now in the selected Contact Center queues.",
            ),
            stat(
                "Longest wait",
                f"max({cc_longest})",
                unit="s",
                thresholds=bad_above(wait_limit),
                description="The longest current wait among the selected Contact Center queues.",
            ),
            stat(
                "Available agents",
                f"sum({cc_available})",
                unit="short",
                thresholds=bad_below(1),
                description="Agents available and idle in the selected queues.",
            ),
            stat(
                f"Queues below their target ({config.cc_period})",
                f"count({cc_below}) or vector(0)",
                unit="none",
                thresholds=bad_above(1),
                w=6,
                description="Queues whose service level over the period the alerts read is "
                "below the queue's own target (set in 8x8; the mixin's target where there is "
                f"none), among those with {min_volume(sl_min)} interactions or more.",
            ),
            stat(
                "Queues with interactions waiting",
                f"count({cc_waiting} > 0) or vector(0)",
                unit="none",
                w=6,
                description="How many of the selected queues have an interaction waiting.",
            ),
            bargauge(
                "Interactions waiting by queue",
                Query(cc_waiting, by_cc),
                unit="short",
                minimum=0,
                description="Interactions waiting now, per queue.",
                links=cc_links,
            ),
            bargauge(
                "Longest wait by queue",
                Query(cc_longest, by_cc),
                unit="s",
                thresholds=bad_above(wait_limit),
                minimum=0,
                description="The longest wait of the interactions waiting now, per queue.",
                links=cc_links,
            ),
            bargauge(
                "Available agents by queue",
                Query(cc_available, by_cc),
                unit="short",
                thresholds=bad_below(1),
                minimum=0,
                description="Agents available and idle, per queue; red when none.",
                links=cc_links,
            ),
            bargauge(
                f"Service level by queue ({config.cc_period})",
                [
                    Query(cc_below, by_cc),
                    Query(cc_met, by_cc),
                    Query(cc_few, by_cc),
                ],
                unit="percentunit",
                minimum=0,
                maximum=1,
                mappings=TOO_FEW_CALLS,
                overrides=[fixed_colour("A", "red"), fixed_colour("B", "green")],
                links=cc_links,
                description="Interactions accepted within the queue's service-level time "
                "over those that entered. Red: below the queue's own target (the mixin's "
                "target where 8x8 has none); green: at or above it. \"too few calls\" below "
                f"{min_volume(sl_min)} interactions (an idle queue, which 8x8 reports as "
                "100 %).",
            ),
        ],
    )
    return dashboard(
        uid="eightbyeight-wallboard",
        title="8x8 / Live queues",
        tags=["wallboard"],
        description="Live call-queue wallboard for supervisors: calls waiting, longest wait, "
        "available agents and service level, for Work Analytics call queues and "
        "Contact Center queues; Work Analytics agents by status and calls in progress.",
        variables=[
            *scrape_variables(config),
            *wa_queue_variables(),
            tenant_variable(),
            cc_queue_variable("cc_queue", "CC queue"),
        ],
        rows=[wa_row, *queue_agent_rows(wa_table_links), cc_row],
        refresh="30s",
        time_from="now-1h",
    )
