"""The Work Analytics call-queue metrics: each vendor key and the gauge it becomes.

Two APIs, two tables, because they use the same key for different things: in the deprecated
realtime API `longestWaitingTime` is about calls waiting now, in the Call Queue Metric API it is
the longest wait of the last 24 hours (its live twin is `ongoingLongestWaitingTime`). Each
template becomes two families: per queue, and the API's own summary of all queues of a PBX.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from exporter.metrics.spec import MetricSpec, vendor
from exporter.metrics.units import Unit

ApiChoice = Literal["call_queue_metrics", "realtime"]

QUEUE_LABELS = ("pbx", "site", "queue", "extension", "queue_id")
QUEUE_PREFIX = "eightbyeight_queue_"
SUMMARY_PREFIX = "eightbyeight_pbx_queues_"
# The Call Queue Metric API without dates aggregates over the last 24 hours.
CALL_QUEUE_METRICS_WINDOW = "24h"


def _window(key: str, stem: str, unit: Unit, help_text: str) -> MetricSpec:
    """An aggregate over a window: carries the `window` label."""
    return replace(vendor(key, stem, unit, help_text), labels=("window",))


# fmt: off
# Live metrics, keyed by the deprecated realtime API's names (guide: durations in ms).
_LIVE: tuple[MetricSpec, ...] = (
    vendor("waitingCalls", "ongoing_waiting_calls", "count", "Calls waiting in the queue now."),
    vendor("talkingCalls", "ongoing_talking_calls", "count", "Queue calls in conversation now."),
    vendor("onHoldCalls", "ongoing_on_hold_calls", "count", "Queue calls on hold now."),
    vendor("handlingCalls", "ongoing_handling_calls", "count", "Queue calls being handled by agents now."),
    vendor("totalCalls", "ongoing_calls", "count", "Calls in progress in the queue now."),
    vendor("waitingTime", "ongoing_waiting_time", "duration", "Summed waiting time of the calls waiting now."),
    vendor("talkingTime", "ongoing_talking_time", "duration", "Summed talking time of the calls in conversation now."),
    vendor("onHoldTime", "ongoing_on_hold_time", "duration", "Summed hold time of the calls on hold now."),
    vendor("totalHandlingTime", "ongoing_handling_time", "duration", "Summed handling time of the calls in progress now."),
    vendor("avgWaitingTime", "ongoing_average_waiting_time", "duration", "Average waiting time of the calls waiting now."),
    vendor("avgTalkingTime", "ongoing_average_talking_time", "duration", "Average talking time of the calls in conversation now."),
    vendor("avgHandlingTime", "ongoing_average_handling_time", "duration", "Average handling time of the calls in progress now."),
    vendor("longestWaitingTime", "ongoing_longest_waiting_time", "duration", "Waiting time of the caller who has waited longest, among the calls waiting now."),
    vendor("longestTalkingTime", "ongoing_longest_talking_time", "duration", "Longest talking time among the calls in conversation now."),
    vendor("longestHandlingTime", "ongoing_longest_handling_time", "duration", "Longest handling time among the calls in progress now."),
    vendor("longestOnHoldTime", "ongoing_longest_on_hold_time", "duration", "Longest hold time among the calls on hold now."),
    vendor("availableAgents", "available_agents", "count", "Agents assigned to the queue, logged in and Available."),
    vendor("eligibleAgents", "eligible_agents", "count", "Primary and overflow agents in Available, Busy, Away or Appear Offline."),
    vendor("eligiblePrimaryAgents", "eligible_primary_agents", "count", "Primary agents in Available, Busy, Away or Appear Offline."),
    vendor("eligibleOverflowAgents", "eligible_overflow_agents", "count", "Overflow agents in Available, Busy, Away or Appear Offline."),
    vendor("enabledPrimaryAgents", "enabled_primary_agents", "count", "Enabled primary agents."),
    vendor("enabledOverflowAgents", "enabled_overflow_agents", "count", "Enabled overflow agents."),
    vendor("loggedOutAndDndAgents", "logged_out_or_dnd_agents", "count", "Primary and overflow agents Offline, Logged out or in Do Not Disturb."),
    vendor("loggedOutAndDndOverflowAgents", "logged_out_or_dnd_overflow_agents", "count", "Overflow agents Offline, Logged out or in Do Not Disturb."),
    vendor("overflowAgents", "overflow_agents", "count", "Overflow agents assigned to the queue, whatever their status."),
    vendor("wrappingUpAgents", "wrapping_up_agents", "count", "Primary and overflow agents in Wrap-up."),
    vendor("primaryWrappingUpAgents", "wrapping_up_primary_agents", "count", "Primary agents in Wrap-up."),
    vendor("overflowWrappingUpAgents", "wrapping_up_overflow_agents", "count", "Overflow agents in Wrap-up."),
)

_AGGREGATES: tuple[MetricSpec, ...] = (
    _window("enteredCalls", "entered_calls", "count", "Calls that entered the queue in the window."),
    _window("acceptedCalls", "accepted_calls", "count", "Calls answered by the queue's agents in the window."),
    _window("missedCalls", "missed_calls", "count", "Calls offered to agents and not answered in the window."),
    _window("abandonedInWaitingCalls", "abandoned_calls", "count", "Callers who hung up while waiting, in the window."),
    _window("forwardedToVoiceMail", "voicemail_calls", "count", "Calls forwarded to voicemail in the window."),
    _window("diverted", "diverted_calls", "count", "Calls routed elsewhere by the system without ever being offered to an agent, in the window."),
    _window("transferredToCallQueue", "transferred_to_queue_calls", "count", "Calls transferred to a call queue in the window."),
    _window("transferredToRingGroup", "transferred_to_ring_group_calls", "count", "Calls transferred to a ring group in the window."),
    _window("transferredToExternalNumber", "transferred_to_external_calls", "count", "Calls transferred to an external number in the window."),
    _window("activeCalls", "active_calls", "count", "Calls still active at the end of the window."),
    _window("completedCalls", "completed_calls", "count", "Calls completed in the window."),
    _window("acceptedCallsPercentage", "accepted_calls", "ratio", "Answered calls over entered calls in the window."),
    _window("missedCallsPercentage", "missed_calls", "ratio", "Missed calls over entered calls in the window."),
    _window("abandonedInWaitingCallsPercentage", "abandoned_calls", "ratio", "Abandoned calls over entered calls in the window."),
    _window("divertedCallsPercentage", "diverted_calls", "ratio", "Diverted calls over entered calls in the window."),
    _window("transferredToCallQueuePercentage", "transferred_to_queue_calls", "ratio", "Calls transferred to a call queue over entered calls in the window."),
    _window("transferredToRingGroupPercentage", "transferred_to_ring_group_calls", "ratio", "Calls transferred to a ring group over entered calls in the window."),
    _window("averageAnswerTime", "average_answer_time", "duration", "Average time to answer a call after ringing began, in the window."),
    _window("averageTimeToAnswer", "average_time_to_answer", "duration", "Average time agents took to answer (alerting duration), in the window."),
    _window("averageHandlingTime", "average_handling_time", "duration", "Average handling time in the window."),
    _window("averageOnHoldTime", "average_on_hold_time", "duration", "Average hold time of finished calls in the window."),
    _window("averageTalkTime", "average_talk_time", "duration", "Average talk time in the window."),
    _window("averageWaitingTime", "average_waiting_time", "duration", "Average waiting time in the window."),
    _window("longestHandlingTime", "longest_handling_time", "duration", "Longest handling time in the window."),
    _window("longestOnHoldTime", "longest_on_hold_time", "duration", "Longest hold time of finished calls in the window."),
    _window("longestTalkTime", "longest_talk_time", "duration", "Longest talk time in the window."),
    _window("longestWaitingTime", "longest_waiting_time", "duration", "Longest waiting time in the window."),
    _window("totalHandlingTime", "handling_time", "duration", "Summed handling time in the window."),
    _window("totalOnHoldTime", "on_hold_time", "duration", "Summed hold time in the window."),
    _window("totalTalkTime", "talk_time", "duration", "Summed talk time in the window."),
    _window("totalWaitingTime", "waiting_time", "duration", "Summed waiting time in the window."),
)
_TOTAL_AGENTS = vendor("ongoingTotalAgents", "agents", "count", "Agents assigned to the queue, whatever their status.")
# fmt: on


def _ongoing(template: MetricSpec) -> MetricSpec:
    return replace(template, key="ongoing" + template.key[0].upper() + template.key[1:])


# Templates by vendor key, per API.
REALTIME_METRICS: dict[str, MetricSpec] = {m.key: m for m in _LIVE}
CALL_QUEUE_METRICS: dict[str, MetricSpec] = {
    **{m.key: m for m in map(_ongoing, _LIVE)},
    _TOTAL_AGENTS.key: _TOTAL_AGENTS,
    **{m.key: m for m in _AGGREGATES},
}
TEMPLATES: dict[ApiChoice, dict[str, MetricSpec]] = {
    "call_queue_metrics": CALL_QUEUE_METRICS,
    "realtime": REALTIME_METRICS,
}
# The vendor's guide writes `divertedCalls` where the spec writes `diverted`: read both.
CALL_QUEUE_METRICS_ALIASES: dict[str, str] = {"divertedCalls": "diverted"}

REALTIME_KEYS = frozenset(REALTIME_METRICS)
CALL_QUEUE_METRICS_KEYS = frozenset(CALL_QUEUE_METRICS) | frozenset(CALL_QUEUE_METRICS_ALIASES)


def queue_spec(template: MetricSpec, api: ApiChoice) -> MetricSpec:
    source = "call_queues" if api == "call_queue_metrics" else "call_queues, api realtime"
    return template.under(QUEUE_PREFIX, QUEUE_LABELS, f"{source} (`{template.key}`)")


def summary_spec(template: MetricSpec, api: ApiChoice) -> MetricSpec:
    help_text = "All queues of the PBX, as summarised by the API: " + (
        template.help[0].lower() + template.help[1:]
    )
    source = "call_queues" if api == "call_queue_metrics" else "call_queues, api realtime"
    return template.under(SUMMARY_PREFIX, ("pbx",), f"{source} (`{template.key}`)", help_text)


# Per API: vendor key -> (per-queue spec, per-PBX summary spec).
PLACED: dict[ApiChoice, dict[str, tuple[MetricSpec, MetricSpec]]] = {
    api: {key: (queue_spec(t, api), summary_spec(t, api)) for key, t in table.items()}
    for api, table in TEMPLATES.items()
}
# Every family of both APIs, by name (a name both APIs make is listed with both sources).
SPECS: tuple[MetricSpec, ...] = tuple(
    sorted(
        (spec for placed in PLACED.values() for pair in placed.values() for spec in pair),
        key=lambda spec: spec.name,
    )
)
# Keys of the aggregates over a window (the ones a date range applies to), aliases included.
CALL_QUEUE_METRICS_AGGREGATE_KEYS = frozenset(
    key
    for key in CALL_QUEUE_METRICS_KEYS
    if "window" in CALL_QUEUE_METRICS[CALL_QUEUE_METRICS_ALIASES.get(key, key)].labels
)
