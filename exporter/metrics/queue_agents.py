"""The agents of the call queues (`/v2/pbxes/{pbxId}/queue-agent-activity`): the status words
and each vendor interaction metric with the gauge it becomes.

Issue #18's contract: every metric ending in `Time` is in milliseconds (the spec's example has
`userStatusTime: 2579000` for about 43 minutes); percentages are 0..100. The interaction
metrics are counts and times over the API's window (the last 24 hours without dates), so
gauges, not counters.
"""

from __future__ import annotations

from exporter.metrics.call_queues import QUEUE_LABELS
from exporter.metrics.spec import MetricSpec, gauge, vendor

SOURCE = "queue_agents"
# The spec's enums of the `queueStatuses` and `userStatuses` filters: exported in lower snake
# case, every one at 0 when no agent is in it; any other word is counted as OTHER.
QUEUE_STATUSES = (
    "AVAILABLE_IDLE",
    "HANDLING",
    "ALERTING",
    "PAUSE",
    "WRAP_UP",
    "BUSY_OTHER",
    "DND",
    "LOGGED_OUT",
)
USER_STATUSES = ("AVAILABLE", "BUSY", "DND", "AWAY", "AUTO_AWAY", "OFFLINE", "ON_CALL", "INVISIBLE")
OTHER = "other"
LOGGED_OUT = "LOGGED_OUT"
ROLES = ("primary", "overflow")

AGENT_LABELS = (*QUEUE_LABELS, "agent_id")
AGENT_PREFIX = "eightbyeight_queue_agent_"

# fmt: off
_INTERACTIONS: tuple[MetricSpec, ...] = (
    vendor("queueStatusTime", "status_time", "duration", "Time the agent has been in its current queue status."),
    vendor("userStatusTime", "user_status_time", "duration", "Time the agent has been in its current user status."),
    vendor("enteredInteractions", "entered_interactions", "count", "Interactions offered to the agent by the queue in the last 24 hours."),
    vendor("acceptedInteractions", "accepted_interactions", "count", "Interactions the agent accepted in the last 24 hours."),
    vendor("missedInteractions", "missed_interactions", "count", "Interactions the agent missed in the last 24 hours."),
    vendor("rejectedInteractions", "rejected_interactions", "count", "Interactions the agent rejected in the last 24 hours."),
    vendor("acceptedInteractionsPercentage", "accepted_interactions", "ratio", "Accepted over entered interactions in the last 24 hours."),
    vendor("missedInteractionsPercentage", "missed_interactions", "ratio", "Missed over entered interactions in the last 24 hours."),
    vendor("rejectedInteractionsPercentage", "rejected_interactions", "ratio", "Rejected over entered interactions in the last 24 hours."),
    vendor("totalInteractionTime", "total_interaction_time", "duration", "Time the agent spent on interactions in the last 24 hours."),
    vendor("averageTalkingInteractionsTime", "average_talking_interactions_time", "duration", "Average talking time of the agent's interactions in the last 24 hours."),
    vendor("averageOnHoldInteractionsTime", "average_on_hold_interactions_time", "duration", "Average hold time of the agent's interactions in the last 24 hours."),
    vendor("averageWrapUpTime", "average_wrap_up_time", "duration", "Average wrap-up time of the agent's interactions in the last 24 hours."),
    vendor("agentAverageTimeToAnswer", "average_time_to_answer", "duration", "Average time the agent took to answer after alerting began, in the last 24 hours (absent when it answered none)."),
    vendor("ongoingHandlingInteractions", "ongoing_handling_interactions", "count", "Interactions the agent is handling now."),
    vendor("ongoingTalkingInteractions", "ongoing_talking_interactions", "count", "Interactions of the agent in conversation now."),
    vendor("ongoingOnHoldInteractions", "ongoing_on_hold_interactions", "count", "Interactions of the agent on hold now."),
    vendor("ongoingWrapUpInteractions", "ongoing_wrap_up_interactions", "count", "Interactions of the agent in wrap-up now."),
    vendor("ongoingTotalHandlingInteractionsTime", "ongoing_handling_interactions_time", "duration", "Summed handling time of the interactions the agent is handling now."),
    vendor("ongoingTalkingInteractionsTime", "ongoing_talking_interactions_time", "duration", "Summed talking time of the agent's interactions in conversation now."),
    vendor("ongoingOnHoldInteractionsTime", "ongoing_on_hold_interactions_time", "duration", "Summed hold time of the agent's interactions on hold now."),
    vendor("ongoingWrapUpInteractionsTime", "ongoing_wrap_up_interactions_time", "duration", "Summed wrap-up time of the agent's interactions in wrap-up now."),
    vendor("ongoingAvgTalkingInteractionsTime", "ongoing_average_talking_interactions_time", "duration", "Average talking time of the agent's interactions in conversation now."),
    vendor("ongoingAvgHandlingInteractionsTime", "ongoing_average_handling_interactions_time", "duration", "Average handling time of the interactions the agent is handling now."),
)
# fmt: on

# The `metrics` parameter lists `ongoingTotalHandlingInteractionsTime`, the spec's example
# answers `ongoingHandlingInteractionsTime`: one metric, read under both names.
ALIASES: dict[str, str] = {
    "ongoingHandlingInteractionsTime": "ongoingTotalHandlingInteractionsTime"
}

# Vendor key -> the per-agent family it fills.
PER_AGENT: dict[str, MetricSpec] = {
    t.key: t.under(AGENT_PREFIX, AGENT_LABELS, f"{SOURCE} (`{t.key}`)") for t in _INTERACTIONS
}
# What the `metrics` setting may name.
METRIC_KEYS = frozenset(PER_AGENT) | frozenset(ALIASES)

QUEUE_AGENTS = gauge(
    "eightbyeight_queue_agents_by_queue_status",
    "Agents of the queue by their queue status (lower-case vendor words; other: a word this "
    "exporter does not know).",
    (*QUEUE_LABELS, "queue_status"),
    SOURCE,
)
QUEUE_AGENTS_BY_USER_STATUS = gauge(
    "eightbyeight_queue_agents_by_user_status",
    "Agents of the queue by their user status (lower-case vendor words; other: a word this "
    "exporter does not know).",
    (*QUEUE_LABELS, "user_status"),
    SOURCE,
)
QUEUE_LOGGED_IN_AGENTS = gauge(
    "eightbyeight_queue_logged_in_agents",
    "Agents of the queue whose queue status is not logged_out, as primary or overflow agents.",
    (*QUEUE_LABELS, "role"),
    SOURCE,
)
AGENT_STATUS = gauge(
    "eightbyeight_queue_agent_status",
    "The agent's queue status, as a state set: 1 for the current status, 0 for the others.",
    (*AGENT_LABELS, "queue_status"),
    SOURCE,
)
AGENT_OVERFLOW = gauge(
    "eightbyeight_queue_agent_overflow",
    "1 when the agent is an overflow agent of the queue, else 0.",
    AGENT_LABELS,
    SOURCE,
)
SPECS: tuple[MetricSpec, ...] = (
    QUEUE_AGENTS,
    QUEUE_AGENTS_BY_USER_STATUS,
    QUEUE_LOGGED_IN_AGENTS,
    AGENT_STATUS,
    AGENT_OVERFLOW,
    *PER_AGENT.values(),
)
