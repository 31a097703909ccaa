"""Metric names of the two call-queue APIs and their rendering from raw queue statistics
(deprecated realtime API in ms; the current API's duration unit is a parameter)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum

from .stats import CallWindowStats, LiveQueueStats

MetricValue = int | float


class DurationUnit(str, Enum):
    """Unit of the duration metrics of the Call Queue Metric API.

    The vendor's guide says seconds, but the spec's example looks like milliseconds: the
    simulator serves either (seconds by default) so clients can be tested both ways.
    """

    SECONDS = "seconds"
    MILLISECONDS = "milliseconds"


def duration(milliseconds: int, unit: DurationUnit) -> MetricValue:
    """A total or a longest duration: integer ms, or seconds with millisecond precision."""
    return milliseconds if unit is DurationUnit.MILLISECONDS else milliseconds / 1000


def average(total_ms: int, count: int, unit: DurationUnit) -> float:
    """An average duration, 0.0 when there is nothing to average."""
    if count <= 0:
        return 0.0
    if unit is DurationUnit.MILLISECONDS:
        # The guide's example floors averages to whole ms and prints them as floats:
        # summary avgWaitingTime 24836.0 for 99345 ms over 4 waiting calls (24836.25).
        return float(total_ms // count)
    return round(total_ms / count / 1000, 3)


def percentage(part: int, whole: int) -> float:
    """0..100 with two decimals; 0.0 when nothing entered (as the spec defines diverted %)."""
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


_LiveRenderer = Callable[[LiveQueueStats, DurationUnit], MetricValue]
_WindowRenderer = Callable[[CallWindowStats, DurationUnit], MetricValue]

# The live ("ongoing") metrics of the Call Queue Metric API, in the spec's table order.
ONGOING_METRICS: dict[str, _LiveRenderer] = {
    "ongoingAvailableAgents": lambda s, u: s.available_agents,
    "ongoingAvgHandlingTime": lambda s, u: average(s.handling_total_ms, s.handling_calls, u),
    "ongoingAvgTalkingTime": lambda s, u: average(s.talking_total_ms, s.talking_calls, u),
    "ongoingAvgWaitingTime": lambda s, u: average(s.waiting_total_ms, s.waiting_calls, u),
    "ongoingEligibleAgents": lambda s, u: s.eligible_primary_agents + s.eligible_overflow_agents,
    "ongoingEligibleOverflowAgents": lambda s, u: s.eligible_overflow_agents,
    "ongoingEligiblePrimaryAgents": lambda s, u: s.eligible_primary_agents,
    "ongoingEnabledOverflowAgents": lambda s, u: s.enabled_overflow_agents,
    "ongoingEnabledPrimaryAgents": lambda s, u: s.enabled_primary_agents,
    "ongoingHandlingCalls": lambda s, u: s.handling_calls,
    "ongoingLoggedOutAndDndAgents": lambda s, u: (
        s.logged_out_dnd_primary_agents + s.logged_out_dnd_overflow_agents
    ),
    "ongoingLoggedOutAndDndOverflowAgents": lambda s, u: s.logged_out_dnd_overflow_agents,
    "ongoingLongestHandlingTime": lambda s, u: duration(s.handling_longest_ms, u),
    "ongoingLongestOnHoldTime": lambda s, u: duration(s.on_hold_longest_ms, u),
    "ongoingLongestTalkingTime": lambda s, u: duration(s.talking_longest_ms, u),
    "ongoingLongestWaitingTime": lambda s, u: duration(s.waiting_longest_ms, u),
    "ongoingOnHoldCalls": lambda s, u: s.on_hold_calls,
    "ongoingOnHoldTime": lambda s, u: duration(s.on_hold_total_ms, u),
    "ongoingOverflowAgents": lambda s, u: s.overflow_agents,
    "ongoingOverflowWrappingUpAgents": lambda s, u: s.wrapping_up_overflow_agents,
    "ongoingPrimaryWrappingUpAgents": lambda s, u: s.wrapping_up_primary_agents,
    "ongoingTalkingCalls": lambda s, u: s.talking_calls,
    "ongoingTalkingTime": lambda s, u: duration(s.talking_total_ms, u),
    "ongoingTotalCalls": lambda s, u: s.waiting_calls + s.handling_calls,
    "ongoingTotalHandlingTime": lambda s, u: duration(s.handling_total_ms, u),
    "ongoingWaitingCalls": lambda s, u: s.waiting_calls,
    "ongoingWaitingTime": lambda s, u: duration(s.waiting_total_ms, u),
    "ongoingWrappingUpAgents": lambda s, u: (
        s.wrapping_up_primary_agents + s.wrapping_up_overflow_agents
    ),
    # Only in the spec's example response, not in its table of allowed values.
    "ongoingTotalAgents": lambda s, u: s.primary_agents + s.overflow_agents,
}

# The aggregate metrics of the Call Queue Metric API (last 24 h, or the requested dates).
WINDOW_METRICS: dict[str, _WindowRenderer] = {
    "abandonedInWaitingCalls": lambda s, u: s.abandoned,
    "abandonedInWaitingCallsPercentage": lambda s, u: percentage(s.abandoned, s.entered),
    "acceptedCalls": lambda s, u: s.accepted,
    "acceptedCallsPercentage": lambda s, u: percentage(s.accepted, s.entered),
    "activeCalls": lambda s, u: s.active,
    # "after ringing begins": ringing in the queue starts when the caller enters it.
    "averageAnswerTime": lambda s, u: average(s.answer_total_ms, s.accepted, u),
    "averageHandlingTime": lambda s, u: average(s.handling_total_ms, s.handled_calls, u),
    "averageOnHoldTime": lambda s, u: average(s.hold_total_ms, s.handled_calls, u),
    "averageTalkTime": lambda s, u: average(s.talk_total_ms, s.handled_calls, u),
    # "alerting duration": ringing at the agent who answered.
    "averageTimeToAnswer": lambda s, u: average(s.alerting_total_ms, s.accepted, u),
    "averageWaitingTime": lambda s, u: average(s.waiting_total_ms, s.waited_calls, u),
    "completedCalls": lambda s, u: s.completed,
    "diverted": lambda s, u: s.diverted,
    "divertedCallsPercentage": lambda s, u: percentage(s.diverted, s.entered),
    "enteredCalls": lambda s, u: s.entered,
    "forwardedToVoiceMail": lambda s, u: s.voicemail,
    "longestHandlingTime": lambda s, u: duration(s.handling_longest_ms, u),
    "longestOnHoldTime": lambda s, u: duration(s.hold_longest_ms, u),
    "longestTalkTime": lambda s, u: duration(s.talk_longest_ms, u),
    "longestWaitingTime": lambda s, u: duration(s.waiting_longest_ms, u),
    "totalHandlingTime": lambda s, u: duration(s.handling_total_ms, u),
    "totalOnHoldTime": lambda s, u: duration(s.hold_total_ms, u),
    "totalTalkTime": lambda s, u: duration(s.talk_total_ms, u),
    "totalWaitingTime": lambda s, u: duration(s.waiting_total_ms, u),
    "transferredToCallQueue": lambda s, u: s.transferred_to_call_queue,
    "transferredToCallQueuePercentage": lambda s, u: percentage(
        s.transferred_to_call_queue, s.entered
    ),
    "transferredToExternalNumber": lambda s, u: s.transferred_to_external_number,
    "transferredToRingGroup": lambda s, u: s.transferred_to_ring_group,
    "transferredToRingGroupPercentage": lambda s, u: percentage(
        s.transferred_to_ring_group, s.entered
    ),
    # Only in the spec's example response, not in its table of allowed values.
    "missedCalls": lambda s, u: s.missed,
    "missedCallsPercentage": lambda s, u: percentage(s.missed, s.entered),
}

# Every metric name the Call Queue Metric API accepts, in a stable order.
CALL_QUEUE_METRIC_NAMES: tuple[str, ...] = tuple(sorted({*ONGOING_METRICS, *WINDOW_METRICS}))

# The deprecated realtime API (guide table): each metric is the "ongoing" one of the new API,
# always in milliseconds.
REALTIME_TO_ONGOING: dict[str, str] = {
    "availableAgents": "ongoingAvailableAgents",
    "avgHandlingTime": "ongoingAvgHandlingTime",
    "avgTalkingTime": "ongoingAvgTalkingTime",
    "avgWaitingTime": "ongoingAvgWaitingTime",
    "eligibleAgents": "ongoingEligibleAgents",
    "eligibleOverflowAgents": "ongoingEligibleOverflowAgents",
    "eligiblePrimaryAgents": "ongoingEligiblePrimaryAgents",
    "enabledOverflowAgents": "ongoingEnabledOverflowAgents",
    "enabledPrimaryAgents": "ongoingEnabledPrimaryAgents",
    "handlingCalls": "ongoingHandlingCalls",
    "loggedOutAndDndAgents": "ongoingLoggedOutAndDndAgents",
    "loggedOutAndDndOverflowAgents": "ongoingLoggedOutAndDndOverflowAgents",
    "longestHandlingTime": "ongoingLongestHandlingTime",
    "longestOnHoldTime": "ongoingLongestOnHoldTime",
    "longestTalkingTime": "ongoingLongestTalkingTime",
    "longestWaitingTime": "ongoingLongestWaitingTime",
    "onHoldCalls": "ongoingOnHoldCalls",
    "onHoldTime": "ongoingOnHoldTime",
    "overflowAgents": "ongoingOverflowAgents",
    "overflowWrappingUpAgents": "ongoingOverflowWrappingUpAgents",
    "primaryWrappingUpAgents": "ongoingPrimaryWrappingUpAgents",
    "talkingCalls": "ongoingTalkingCalls",
    "talkingTime": "ongoingTalkingTime",
    "totalCalls": "ongoingTotalCalls",
    "totalHandlingTime": "ongoingTotalHandlingTime",
    "waitingCalls": "ongoingWaitingCalls",
    "waitingTime": "ongoingWaitingTime",
    "wrappingUpAgents": "ongoingWrappingUpAgents",
}
REALTIME_METRIC_NAMES: tuple[str, ...] = tuple(REALTIME_TO_ONGOING)


def render_call_queue_metrics(
    live: LiveQueueStats | None,
    window: CallWindowStats,
    unit: DurationUnit,
    names: Iterable[str] | None = None,
) -> dict[str, MetricValue]:
    """Metrics of the Call Queue Metric API; live ones only when `live` is given (no dates)."""
    wanted = CALL_QUEUE_METRIC_NAMES if names is None else tuple(names)
    rendered: dict[str, MetricValue] = {}
    for name in wanted:
        if name in WINDOW_METRICS:
            rendered[name] = WINDOW_METRICS[name](window, unit)
        elif live is not None and name in ONGOING_METRICS:
            rendered[name] = ONGOING_METRICS[name](live, unit)
    return rendered


def render_realtime_metrics(
    live: LiveQueueStats, names: Iterable[str] | None = None
) -> dict[str, MetricValue]:
    """Metrics of the deprecated realtime API, durations in milliseconds."""
    wanted = REALTIME_METRIC_NAMES if names is None else tuple(names)
    return {
        name: ONGOING_METRICS[REALTIME_TO_ONGOING[name]](live, DurationUnit.MILLISECONDS)
        for name in wanted
    }


def unknown_metric_names(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    allowed_set = set(allowed)
    return [name for name in requested if name not in allowed_set]
