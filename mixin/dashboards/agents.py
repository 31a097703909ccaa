"""Work Analytics agents and live calls: the panels of the wallboard and of the Work Analytics
dashboard fed by queue-agent-activity, agent-activity and the aggregated calls.

An agent's status is a state set (one series per status, 1 for the current one); a table cell
shows one number, so the status becomes a code (each status series times its code, summed per
agent) that a value mapping turns back into a coloured word.
"""

from __future__ import annotations

from collections.abc import Sequence

from mixin.dashboards.grafana import Json, bad_below
from mixin.dashboards.layout import Row
from mixin.dashboards.panels import Query, bargauge, timeseries
from mixin.dashboards.promql import PBX, WA_QUEUE, sel
from mixin.dashboards.tables import Column, table

# queue-agent-activity's queueStatus, in the exporter's words: (status, title, colour).
QUEUE_STATUSES: tuple[tuple[str, str, str], ...] = (
    ("available_idle", "Available", "green"),
    ("alerting", "Ringing", "yellow"),
    ("handling", "Handling", "blue"),
    ("wrap_up", "Wrap-up", "orange"),
    ("busy_other", "Busy elsewhere", "purple"),
    ("pause", "Pause", "light-orange"),
    ("dnd", "Do not disturb", "red"),
    ("logged_out", "Logged out", "text"),
    ("other", "Other", "text"),
)
# agent-activity's userStatus.
USER_STATUSES: tuple[tuple[str, str, str], ...] = (
    ("available", "Available", "green"),
    ("on_call", "On a call", "blue"),
    ("busy", "Busy", "purple"),
    ("away", "Away", "light-orange"),
    ("auto_away", "Away (auto)", "light-orange"),
    ("dnd", "Do not disturb", "red"),
    ("invisible", "Invisible", "text"),
    ("offline", "Offline", "text"),
    ("other", "Other", "text"),
)
LIVE_CALL_STATUSES = ("waiting", "alerting", "talking", "on_hold")


def status_mapping(statuses: Sequence[tuple[str, str, str]]) -> tuple[Json, ...]:
    """Codes 1.. to the statuses' titles and colours."""
    options = {
        str(code): {"color": colour, "index": code - 1, "text": title}
        for code, (_, title, colour) in enumerate(statuses, start=1)
    }
    return ({"options": options, "type": "value"},)


def status_code(metric: str, label: str, by: str, matchers: str, statuses: Sequence[str]) -> str:
    """The code of each agent's current status, from the state set `metric`.

    Per target first (each status series times its code, summed: only the current status is
    1), then one target's code per agent (`max`): replicas of an HA pair poll a moment apart
    and may disagree, and adding their statuses up would make a code neither reported."""
    terms = [
        f'{metric}{{{matchers}, {label}="{status}"}} * {code}'
        for code, status in enumerate(statuses, start=1)
    ]
    per_target = f"sum by (instance, {by}) (\n    " + "\n    or ".join(terms) + "\n  )"
    return f"max by ({by}) (\n  {per_target}\n)"


def queue_agent_rows(links: Sequence[Json] = ()) -> list[Row]:
    """The wallboard's agents: by status per queue, and each agent's status; `links` open a
    row's queue elsewhere."""
    wa = sel(*WA_QUEUE)
    matchers = wa[1:-1]
    by_queue = "pbx, site, queue"

    def agents(status: str) -> str:
        metric = "eightbyeight_queue_agents_by_queue_status"
        return f'max by ({by_queue}) ({metric}{{{matchers}, queue_status="{status}"}})'

    logged_in = (
        f"sum by ({by_queue}) (max by ({by_queue}, role) (eightbyeight_queue_logged_in_agents{wa}))"
    )
    per_agent = "pbx, site, queue, agent_id"
    code = status_code(
        "eightbyeight_queue_agent_status",
        "queue_status",
        per_agent,
        matchers,
        [status for status, _, _ in QUEUE_STATUSES],
    )
    live = sel(*WA_QUEUE)[1:-1]

    def live_calls(status: str) -> str:
        return f'max by ({by_queue}) (eightbyeight_queue_live_calls{{{live}, status="{status}"}})'

    return [
        Row(
            "Work Analytics agents and calls in progress",
            [
                table(
                    "Agents by status",
                    [
                        Column("Logged in", logged_in, thresholds=bad_below(1)),
                        *(
                            Column(title, agents(status))
                            for status, title, _ in QUEUE_STATUSES
                            if status != "other"
                        ),
                    ],
                    by=("pbx", "site", "queue"),
                    sort_by="Logged in",
                    h=9,
                    links=links,
                    description="Agents of each queue by their status in it "
                    "(queue-agent-activity): they add up to the queue's agents. Logged in: "
                    "primary and overflow agents not logged out; red when none.",
                ),
                table(
                    "Calls in progress by status",
                    [
                        *(
                            Column(status.replace("_", " ").capitalize(), live_calls(status))
                            for status in LIVE_CALL_STATUSES
                        ),
                        Column(
                            "Oldest waiting",
                            f'max by ({by_queue}) (eightbyeight_queue_live_call_longest_seconds'
                            f'{{{live}, status="waiting"}})',
                            "s",
                        ),
                    ],
                    by=("pbx", "site", "queue"),
                    sort_by="Waiting",
                    h=9,
                    links=links,
                    description="Calls of each queue in progress now, by status, from the "
                    "aggregated calls (`/calls`); the oldest waiting call's age.",
                ),
                table(
                    "Agents",
                    [
                        Column("Status", code, mappings=status_mapping(QUEUE_STATUSES)),
                        Column(
                            "Time in status",
                            f"max by ({per_agent}) "
                            f"(eightbyeight_queue_agent_status_time_seconds{wa})",
                            "s",
                        ),
                        Column(
                            "Calls accepted (24h)",
                            f"max by ({per_agent}) "
                            f"(eightbyeight_queue_agent_accepted_interactions{wa})",
                        ),
                    ],
                    by=("pbx", "site", "queue", "agent_id"),
                    sort_by="Time in status",
                    h=10,
                    links=links,
                    description="Each agent of the selected queues: status in the queue, time "
                    "in it, and calls accepted over the API's last 24 hours. Needs "
                    "`work_analytics.queue_agents.per_agent: true` (off by default).",
                ),
            ],
        )
    ]


def agent_activity_row() -> Row:
    """The Work Analytics dashboard's agent view: the PBX's agents by status, and each one."""
    pbx = sel(PBX)
    matchers = pbx[1:-1]
    by_pbx = "pbx"
    per_agent = "pbx, agent_id"
    code = status_code(
        "eightbyeight_agent_status",
        "user_status",
        per_agent,
        matchers,
        [status for status, _, _ in USER_STATUSES],
    )
    return Row(
        "Agents",
        [
            timeseries(
                "Agents by status",
                [
                    Query(
                        f"sum by (user_status) (max by ({by_pbx}, user_status) "
                        f"(eightbyeight_agents{pbx}))",
                        "{{user_status}}",
                    )
                ],
                unit="short",
                w=12,
                description="Agents of the selected PBXes by their status (agent-activity).",
            ),
            bargauge(
                "Agents by activity",
                Query(
                    f"sum by (activity_status) (max by ({by_pbx}, activity_status) "
                    f"(eightbyeight_agents_by_activity_status{pbx}))",
                    "{{activity_status}}",
                ),
                unit="short",
                w=12,
                minimum=0,
                description="Agents by their activity across their queues (agent-activity).",
            ),
            table(
                "Agents",
                [
                    Column("Status", code, mappings=status_mapping(USER_STATUSES)),
                    Column(
                        "Time in status",
                        f"max by ({per_agent}) (eightbyeight_agent_status_time_seconds{pbx})",
                        "s",
                    ),
                    Column(
                        "Queues logged in",
                        f"max by ({per_agent}) (eightbyeight_agent_logged_in_queues{pbx})",
                    ),
                    Column(
                        "Calls accepted (24h)",
                        f"max by ({per_agent}) (eightbyeight_agent_accepted_interactions{pbx})",
                    ),
                ],
                by=("pbx", "agent_id"),
                sort_by="Time in status",
                h=10,
                description="Each agent of the selected PBXes: status, time in it, queues "
                "logged in to and calls accepted over the API's last 24 hours. Needs "
                "`work_analytics.agent_activity.per_agent: true` (off by default).",
            ),
        ],
    )
