"""The Work Analytics agent tables: the interaction metrics of `/agent-activity` and
`/queue-agent-activity` (one template per vendor key, placed by each poller under its prefix),
and the status vocabularies of agents and live calls.

Units (issue #18, point 1): every agent metric ending in `Time` is in milliseconds (the spec's
example: userStatusTime 2579000 for about 43 minutes); percentages are 0..100. Both are converted
by `units.convert` (to seconds and ratios). The status times (userStatusTime, queueStatusTime)
are not in this table: each poller exports them under a name of its own.
"""

from __future__ import annotations

from exporter.metrics.spec import MetricSpec, vendor

# fmt: off
INTERACTION_TEMPLATES: tuple[MetricSpec, ...] = (
    vendor("enteredInteractions", "entered_interactions", "count", "Interactions offered to the agent over the API's window (last 24 h)."),
    vendor("acceptedInteractions", "accepted_interactions", "count", "Interactions the agent accepted over the API's window (last 24 h)."),
    vendor("rejectedInteractions", "rejected_interactions", "count", "Interactions the agent rejected over the API's window (last 24 h)."),
    vendor("missedInteractions", "missed_interactions", "count", "Interactions the agent missed over the API's window (last 24 h)."),
    vendor("acceptedInteractionsPercentage", "accepted_interactions", "ratio", "Accepted over offered interactions, over the API's window (last 24 h)."),
    vendor("rejectedInteractionsPercentage", "rejected_interactions", "ratio", "Rejected over offered interactions, over the API's window (last 24 h)."),
    vendor("missedInteractionsPercentage", "missed_interactions", "ratio", "Missed over offered interactions, over the API's window (last 24 h)."),
    vendor("totalInteractionTime", "total_interaction_time", "duration", "Time spent on interactions over the API's window (last 24 h)."),
    vendor("averageTalkingInteractionsTime", "average_talking_interaction_time", "duration", "Average talking time of interactions over the API's window (last 24 h)."),
    vendor("averageOnHoldInteractionsTime", "average_on_hold_interaction_time", "duration", "Average hold time of interactions over the API's window (last 24 h)."),
    vendor("averageWrapUpTime", "average_wrap_up_time", "duration", "Average wrap-up time of interactions over the API's window (last 24 h)."),
    vendor("agentAverageTimeToAnswer", "average_time_to_answer", "duration", "Average time the agent took to answer after alerting began, over the API's window (absent when no interaction was answered)."),
    vendor("ongoingHandlingInteractions", "ongoing_handling_interactions", "count", "Interactions the agent is handling now."),
    vendor("ongoingTalkingInteractions", "ongoing_talking_interactions", "count", "Interactions the agent is talking in now."),
    vendor("ongoingOnHoldInteractions", "ongoing_on_hold_interactions", "count", "Interactions of the agent on hold now."),
    vendor("ongoingWrapUpInteractions", "ongoing_wrap_up_interactions", "count", "Interactions the agent is wrapping up now."),
    vendor("ongoingTotalHandlingInteractionsTime", "ongoing_handling_interaction_time", "duration", "Summed handling time of the interactions the agent is handling now."),
    vendor("ongoingTalkingInteractionsTime", "ongoing_talking_interaction_time", "duration", "Summed talking time of the interactions the agent is talking in now."),
    vendor("ongoingOnHoldInteractionsTime", "ongoing_on_hold_interaction_time", "duration", "Summed hold time of the agent's interactions on hold now."),
    vendor("ongoingWrapUpInteractionsTime", "ongoing_wrap_up_interaction_time", "duration", "Summed wrap-up time of the interactions the agent is wrapping up now."),
    vendor("ongoingAvgHandlingInteractionsTime", "ongoing_average_handling_interaction_time", "duration", "Average handling time of the interactions the agent is handling now."),
    vendor("ongoingAvgTalkingInteractionsTime", "ongoing_average_talking_interaction_time", "duration", "Average talking time of the interactions the agent is talking in now."),
)
# fmt: on
INTERACTION_METRICS: dict[str, MetricSpec] = {t.key: t for t in INTERACTION_TEMPLATES}
# The metrics parameter's table says `ongoingTotalHandlingInteractionsTime`, the spec's answer
# examples send `ongoingHandlingInteractionsTime`: read both as one metric.
INTERACTION_ALIASES: dict[str, str] = {
    "ongoingHandlingInteractionsTime": "ongoingTotalHandlingInteractionsTime"
}
# Keys the `metrics` parameter of the agent endpoints accepts besides the table.
USER_STATUS_TIME = "userStatusTime"
QUEUE_STATUS_TIME = "queueStatusTime"

# Issue #18, point 3: the vendor's words, exported in lower snake case; anything else is `other`.
USER_STATUSES: tuple[str, ...] = (
    "AVAILABLE",
    "BUSY",
    "DND",
    "AWAY",
    "AUTO_AWAY",
    "OFFLINE",
    "ON_CALL",
    "INVISIBLE",
)
QUEUE_STATUSES: tuple[str, ...] = (
    "AVAILABLE_IDLE",
    "HANDLING",
    "ALERTING",
    "PAUSE",
    "WRAP_UP",
    "BUSY_OTHER",
    "DND",
    "LOGGED_OUT",
)
# The spec's examples show NEW and AVAILABLE_IDLE; the vocabulary is open (issue #18, point 3).
ACTIVITY_STATUSES: tuple[str, ...] = (*QUEUE_STATUSES, "NEW")
# Calls in progress in `/calls` (issue #18, point 5): the detailed call record's words.
LIVE_CALL_STATUSES: tuple[str, ...] = ("WAITING", "ALERTING", "TALKING", "ON_HOLD")
# The vendor's `labels` of a call spell the hold state `ONHOLD`: read as ON_HOLD.
LIVE_CALL_STATUS_ALIASES: dict[str, str] = {"ONHOLD": "ON_HOLD"}
OTHER = "other"


def status_label(word: str) -> str:
    """The exported label value of a vendor status word: `AVAILABLE_IDLE` -> `available_idle`."""
    return word.lower()
