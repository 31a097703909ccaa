"""The live queues wallboard (`eightbyeight-wallboard.json`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from mixin.config import MixinConfig
from mixin.dashboards.agents import queue_agent_rows
from mixin.dashboards.grafana import TOO_FEW_CALLS, Dashboard, Panel, bad_above, bad_below
from mixin.dashboards.layout import (
    CONTACT_CENTER_UID,
    WORK_ANALYTICS_UID,
    Row,
    contact_center_links,
    dashboard,
    from_cell,
    from_series,
    queue_detail_links,
    work_analytics_links,
)
from mixin.dashboards.panels import Query, bargauge, stat
from mixin.dashboards.promql import QUEUE, RT, TENANT, WA_QUEUE, min_volume, sel
from mixin.dashboards.service_levels import (
    CONTACT_CENTER,
    QUEUE_KEY,
    WORK_ANALYTICS,
    ServiceLevelView,
    definition,
)
from mixin.dashboards.tables import Column, table
from mixin.dashboards.variables import (
    cc_queue_variable,
    scrape_variables,
    tenant_variable,
    wa_queue_variables,
)

CC_QUEUE = 'queue=~"$cc_queue"'
# The window of the service-level alert, which the "below their target" counts read.
ALERT_WINDOW = "15m"
# The label that names a service-level row's detail dashboard (hidden in the table).
DETAIL = "dashboard"


def service_level_table(config: MixinConfig) -> Panel:
    """One table of the service level of both products' queues, over 15m, 1h and today. Each
    window's cell is the service level minus the queue's own target (Grafana colours a cell by
    its column's thresholds, which cannot follow a target per queue): red below 0, green at or
    above it; the target and threshold beside them."""
    views = (
        (ServiceLevelView.of(config, WORK_ANALYTICS, QUEUE), WORK_ANALYTICS_UID),
        (ServiceLevelView.of(config, CONTACT_CENTER, CC_QUEUE), CONTACT_CENTER_UID),
    )

    def either(expr_of: Callable[[ServiceLevelView], str]) -> str:
        # Each product's rows name their detail dashboard, for the one data link of the rows.
        return "\nor\n".join(
            f'label_replace({expr_of(view)}, "{DETAIL}", "{uid}", "", "")' for view, uid in views
        )

    columns = [
        Column(
            f"{name} vs target",
            either(partial(ServiceLevelView.margin, window=window)),
            "percentunit",
            bad_below(0),
            TOO_FEW_CALLS,
        )
        for window, name in (("15m", "15m"), ("1h", "1h"), ("today", "Today"))
    ]
    columns += [
        Column("Target", either(ServiceLevelView.target), "percentunit"),
        Column("Threshold", either(ServiceLevelView.threshold), "s"),
    ]
    sl_min = min_volume(config.service_level.min_calls)
    return table(
        "Service level",
        columns,
        by=(*QUEUE_KEY, DETAIL),
        hidden=(DETAIL,),
        sort_by=None,
        h=9,
        links=queue_detail_links(DETAIL),
        description=f"The service level of every selected queue of both products: "
        f"{definition(config)}. Each window's cell is the service level minus the queue's "
        "target: red below 0 (the queue is below its target), green at or above; \"too few "
        f"calls\" below {sl_min} calls in the window, where the alert stays silent too. Contact "
        "Center queues have no 1h cell: 8x8 gives only its ratio for the last hour, no count "
        "to guard it with. Filtered by the Work Analytics variables (PBX, site, queue) and the "
        "Contact Center ones (tenant, CC queue).",
    )


def build_wallboard(config: MixinConfig) -> Dashboard:
    """What a supervisor watches on a wall screen: who waits, how long, who can answer."""
    wait_limit = config.longest_wait.threshold_seconds
    wa = sel(*WA_QUEUE)
    by_queue = "{{queue}} ({{site}})"
    sl_min = config.service_level.min_calls
    wa_sl = ServiceLevelView.of(config, WORK_ANALYTICS, QUEUE)
    cc_sl = ServiceLevelView.of(config, CONTACT_CENTER, CC_QUEUE)
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
                f"Queues below their target ({ALERT_WINDOW})",
                wa_sl.below_target_count(ALERT_WINDOW),
                unit="none",
                thresholds=bad_above(1),
                w=6,
                description=f"Queues whose service level over {ALERT_WINDOW} (the alert's "
                "window) is below the queue's own target, among those with "
                f"{min_volume(sl_min)} calls or more in the window.",
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
                w=8,
                unit="short",
                minimum=0,
                description="Calls waiting now, per queue.",
                links=wa_links,
            ),
            bargauge(
                "Longest wait by queue",
                Query(longest, by_queue),
                w=8,
                unit="s",
                thresholds=bad_above(wait_limit),
                minimum=0,
                description="The current longest wait per queue; red from the alert's threshold.",
                links=wa_links,
            ),
            bargauge(
                "Available agents by queue",
                Query(available, by_queue),
                w=8,
                unit="short",
                thresholds=bad_below(1),
                minimum=0,
                description="Agents logged in and Available, per queue; red when none.",
                links=wa_links,
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
                ],
                by=("pbx", "site", "queue"),
                sort_by="Waiting",
                h=9,
                links=wa_table_links,
                description="Every selected call queue now (service levels: the table "
                "\"Service level\").",
            ),
        ],
    )
    cc_rt = sel(TENANT, CC_QUEUE, RT)
    by_cc = "{{queue}} ({{tenant}})"
    cc_waiting = f"max by (tenant, queue) (eightbyeight_cc_queue_waiting_interactions{cc_rt})"
    cc_longest = f"max by (tenant, queue) (eightbyeight_cc_queue_longest_wait_time_seconds{cc_rt})"
    cc_available = f"max by (tenant, queue) (eightbyeight_cc_queue_available_idle_agents{cc_rt})"
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
                f"Queues below their target ({ALERT_WINDOW})",
                cc_sl.below_target_count(ALERT_WINDOW),
                unit="none",
                thresholds=bad_above(1),
                w=6,
                description=f"Queues whose service level over {ALERT_WINDOW} (the alert's "
                "window) is below the queue's own target (set in 8x8; the mixin's "
                f"fallback_target where there is none), among those with {min_volume(sl_min)} "
                "interactions or more in the window.",
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
                w=8,
                unit="short",
                minimum=0,
                description="Interactions waiting now, per queue.",
                links=cc_links,
            ),
            bargauge(
                "Longest wait by queue",
                Query(cc_longest, by_cc),
                w=8,
                unit="s",
                thresholds=bad_above(wait_limit),
                minimum=0,
                description="The longest wait of the interactions waiting now, per queue.",
                links=cc_links,
            ),
            bargauge(
                "Available agents by queue",
                Query(cc_available, by_cc),
                w=8,
                unit="short",
                thresholds=bad_below(1),
                minimum=0,
                description="Agents available and idle, per queue; red when none.",
                links=cc_links,
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
        rows=[
            Row("Service level (both products)", [service_level_table(config)]),
            wa_row,
            *queue_agent_rows(wa_table_links),
            cc_row,
        ],
        refresh="30s",
        time_from="now-1h",
    )
