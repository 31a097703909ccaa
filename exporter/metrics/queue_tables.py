"""The vendor's call-queue metric keys and the Prometheus metrics they become.

Two tables, one per API, because the two APIs use the same key for different things: in the
deprecated realtime API `longestWaitingTime` is about calls waiting now, in the Call Queue Metric
API it is the longest wait of the last 24 hours (its live twin is `ongoingLongestWaitingTime`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "duration", "percent"]


@dataclass(frozen=True)
class QueueMetric:
    """One vendor key and the gauge it feeds."""

    key: str
    name: str  # without the `eightbyeight_queue_` / `eightbyeight_pbx_queues_` prefix
    kind: Kind
    help: str
    windowed: bool = False  # an aggregate over a window (carries the `window` label)

    @property
    def unit_suffix(self) -> str:
        return {"count": "", "duration": "_seconds", "percent": "_ratio"}[self.kind]


def _live(key: str, name: str, kind: Kind, help: str) -> QueueMetric:
    return QueueMetric(key, name, kind, help)


# Live metrics, keyed by the deprecated realtime API's names (guide: durations in ms).
_LIVE: tuple[QueueMetric, ...] = (
    _live("waitingCalls", "ongoing_waiting_calls", "count", "Calls waiting in the queue now."),
    _live("talkingCalls", "ongoing_talking_calls", "count", "Queue calls in conversation now."),
    _live("onHoldCalls", "ongoing_on_hold_calls", "count", "Queue calls on hold now."),
    _live(
        "handlingCalls",
        "ongoing_handling_calls",
        "count",
        "Queue calls being handled by agents now.",
    ),
    _live("totalCalls", "ongoing_calls", "count", "Calls in progress in the queue now."),
    _live(
        "waitingTime",
        "ongoing_waiting_time",
        "duration",
        "Summed waiting time of the calls waiting now.",
    ),
    _live(
        "talkingTime",
        "ongoing_talking_time",
        "duration",
        "Summed talking time of the calls in conversation now.",
    ),
    _live(
        "onHoldTime",
        "ongoing_on_hold_time",
        "duration",
        "Summed hold time of the calls on hold now.",
    ),
    _live(
        "totalHandlingTime",
        "ongoing_handling_time",
        "duration",
        "Summed handling time of the calls in progress now.",
    ),
    _live(
        "avgWaitingTime",
        "ongoing_average_waiting_time",
        "duration",
        "Average waiting time of the calls waiting now.",
    ),
    _live(
        "avgTalkingTime",
        "ongoing_average_talking_time",
        "duration",
        "Average talking time of the calls in conversation now.",
    ),
    _live(
        "avgHandlingTime",
        "ongoing_average_handling_time",
        "duration",
        "Average handling time of the calls in progress now.",
    ),
    _live(
        "longestWaitingTime",
        "ongoing_longest_waiting_time",
        "duration",
        "Waiting time of the caller who has waited longest, among the calls waiting now.",
    ),
    _live(
        "longestTalkingTime",
        "ongoing_longest_talking_time",
        "duration",
        "Longest talking time among the calls in conversation now.",
    ),
    _live(
        "longestHandlingTime",
        "ongoing_longest_handling_time",
        "duration",
        "Longest handling time among the calls in progress now.",
    ),
    _live(
        "longestOnHoldTime",
        "ongoing_longest_on_hold_time",
        "duration",
        "Longest hold time among the calls on hold now.",
    ),
    _live(
        "availableAgents",
        "available_agents",
        "count",
        "Agents assigned to the queue, logged in and Available.",
    ),
    _live(
        "eligibleAgents",
        "eligible_agents",
        "count",
        "Primary and overflow agents in Available, Busy, Away or Appear Offline.",
    ),
    _live(
        "eligiblePrimaryAgents",
        "eligible_primary_agents",
        "count",
        "Primary agents in Available, Busy, Away or Appear Offline.",
    ),
    _live(
        "eligibleOverflowAgents",
        "eligible_overflow_agents",
        "count",
        "Overflow agents in Available, Busy, Away or Appear Offline.",
    ),
    _live("enabledPrimaryAgents", "enabled_primary_agents", "count", "Enabled primary agents."),
    _live("enabledOverflowAgents", "enabled_overflow_agents", "count", "Enabled overflow agents."),
    _live(
        "loggedOutAndDndAgents",
        "logged_out_or_dnd_agents",
        "count",
        "Primary and overflow agents Offline, Logged out or in Do Not Disturb.",
    ),
    _live(
        "loggedOutAndDndOverflowAgents",
        "logged_out_or_dnd_overflow_agents",
        "count",
        "Overflow agents Offline, Logged out or in Do Not Disturb.",
    ),
    _live(
        "overflowAgents",
        "overflow_agents",
        "count",
        "Overflow agents assigned to the queue, whatever their status.",
    ),
    _live(
        "wrappingUpAgents", "wrapping_up_agents", "count", "Primary and overflow agents in Wrap-up."
    ),
    _live(
        "primaryWrappingUpAgents",
        "wrapping_up_primary_agents",
        "count",
        "Primary agents in Wrap-up.",
    ),
    _live(
        "overflowWrappingUpAgents",
        "wrapping_up_overflow_agents",
        "count",
        "Overflow agents in Wrap-up.",
    ),
)

REALTIME_METRICS: dict[str, QueueMetric] = {m.key: m for m in _LIVE}


def _ongoing(metric: QueueMetric) -> QueueMetric:
    key = "ongoing" + metric.key[0].upper() + metric.key[1:]
    return QueueMetric(key, metric.name, metric.kind, metric.help)


def _window(key: str, name: str, kind: Kind, help: str) -> QueueMetric:
    return QueueMetric(key, name, kind, help, windowed=True)


_AGGREGATES: tuple[QueueMetric, ...] = (
    _window(
        "enteredCalls", "entered_calls", "count", "Calls that entered the queue in the window."
    ),
    _window(
        "acceptedCalls",
        "accepted_calls",
        "count",
        "Calls answered by the queue's agents in the window.",
    ),
    _window(
        "missedCalls",
        "missed_calls",
        "count",
        "Calls offered to agents and not answered in the window.",
    ),
    _window(
        "abandonedInWaitingCalls",
        "abandoned_calls",
        "count",
        "Callers who hung up while waiting, in the window.",
    ),
    _window(
        "forwardedToVoiceMail",
        "voicemail_calls",
        "count",
        "Calls forwarded to voicemail in the window.",
    ),
    _window(
        "diverted",
        "diverted_calls",
        "count",
        "Calls routed elsewhere by the system without ever being offered to an agent, in the window.",
    ),
    _window(
        "transferredToCallQueue",
        "transferred_to_queue_calls",
        "count",
        "Calls transferred to a call queue in the window.",
    ),
    _window(
        "transferredToRingGroup",
        "transferred_to_ring_group_calls",
        "count",
        "Calls transferred to a ring group in the window.",
    ),
    _window(
        "transferredToExternalNumber",
        "transferred_to_external_calls",
        "count",
        "Calls transferred to an external number in the window.",
    ),
    _window("activeCalls", "active_calls", "count", "Calls still active at the end of the window."),
    _window("completedCalls", "completed_calls", "count", "Calls completed in the window."),
    _window(
        "acceptedCallsPercentage",
        "accepted_calls",
        "percent",
        "Answered calls over entered calls in the window.",
    ),
    _window(
        "missedCallsPercentage",
        "missed_calls",
        "percent",
        "Missed calls over entered calls in the window.",
    ),
    _window(
        "abandonedInWaitingCallsPercentage",
        "abandoned_calls",
        "percent",
        "Abandoned calls over entered calls in the window.",
    ),
    _window(
        "divertedCallsPercentage",
        "diverted_calls",
        "percent",
        "Diverted calls over entered calls in the window.",
    ),
    _window(
        "transferredToCallQueuePercentage",
        "transferred_to_queue_calls",
        "percent",
        "Calls transferred to a call queue over entered calls in the window.",
    ),
    _window(
        "transferredToRingGroupPercentage",
        "transferred_to_ring_group_calls",
        "percent",
        "Calls transferred to a ring group over entered calls in the window.",
    ),
    _window(
        "averageAnswerTime",
        "average_answer_time",
        "duration",
        "Average time to answer a call after ringing began, in the window.",
    ),
    _window(
        "averageTimeToAnswer",
        "average_time_to_answer",
        "duration",
        "Average time agents took to answer (alerting duration), in the window.",
    ),
    _window(
        "averageHandlingTime",
        "average_handling_time",
        "duration",
        "Average handling time in the window.",
    ),
    _window(
        "averageOnHoldTime",
        "average_on_hold_time",
        "duration",
        "Average hold time of finished calls in the window.",
    ),
    _window("averageTalkTime", "average_talk_time", "duration", "Average talk time in the window."),
    _window(
        "averageWaitingTime",
        "average_waiting_time",
        "duration",
        "Average waiting time in the window.",
    ),
    _window(
        "longestHandlingTime",
        "longest_handling_time",
        "duration",
        "Longest handling time in the window.",
    ),
    _window(
        "longestOnHoldTime",
        "longest_on_hold_time",
        "duration",
        "Longest hold time of finished calls in the window.",
    ),
    _window("longestTalkTime", "longest_talk_time", "duration", "Longest talk time in the window."),
    _window(
        "longestWaitingTime",
        "longest_waiting_time",
        "duration",
        "Longest waiting time in the window.",
    ),
    _window(
        "totalHandlingTime", "handling_time", "duration", "Summed handling time in the window."
    ),
    _window("totalOnHoldTime", "on_hold_time", "duration", "Summed hold time in the window."),
    _window("totalTalkTime", "talk_time", "duration", "Summed talk time in the window."),
    _window("totalWaitingTime", "waiting_time", "duration", "Summed waiting time in the window."),
)

CALL_QUEUE_METRICS: dict[str, QueueMetric] = {
    **{m.key: m for m in map(_ongoing, _LIVE)},
    "ongoingTotalAgents": _live(
        "ongoingTotalAgents",
        "agents",
        "count",
        "Agents assigned to the queue, whatever their status.",
    ),
    **{m.key: m for m in _AGGREGATES},
}
# The vendor's guide writes `divertedCalls` where the spec writes `diverted`: read both.
CALL_QUEUE_METRICS_ALIASES: dict[str, str] = {"divertedCalls": "diverted"}

REALTIME_KEYS = frozenset(REALTIME_METRICS)
CALL_QUEUE_METRICS_KEYS = frozenset(CALL_QUEUE_METRICS) | frozenset(CALL_QUEUE_METRICS_ALIASES)

# The Call Queue Metric API without dates aggregates over the last 24 hours.
CALL_QUEUE_METRICS_WINDOW = "24h"
