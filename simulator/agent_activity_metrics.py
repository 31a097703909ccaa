"""The metrics of Work Analytics' agent activity endpoints (`/queue-agent-activity`,
`/agent-activity`), rendered from `AgentInteractionStats`. Every duration is integer
milliseconds (the contract of issue #18, point 1: the spec's example has userStatusTime 2579000
for ~43 minutes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .agent_activity_state import AgentInteractionStats
from .metrics import MetricValue, percentage

# The status times are per agent: rendered by the handlers, never summed into a summary.
QUEUE_STATUS_TIME = "queueStatusTime"
USER_STATUS_TIME = "userStatusTime"


def _average_ms(total_ms: int, count: int) -> int:
    return total_ms // count if count > 0 else 0


_Renderer = Callable[[AgentInteractionStats], MetricValue | None]

# The names of the spec's `metrics` tables; the example says `ongoingHandlingInteractionsTime`
# where both tables say `ongoingTotalHandlingInteractionsTime`: the tables' name is served.
INTERACTION_METRICS: dict[str, _Renderer] = {
    "acceptedInteractions": lambda s: s.accepted,
    "acceptedInteractionsPercentage": lambda s: percentage(s.accepted, s.entered),
    # null when the agent answered nothing in the window (the spec's words)
    "agentAverageTimeToAnswer": lambda s: (
        s.alerting_total_ms // s.accepted if s.accepted > 0 else None
    ),
    "averageOnHoldInteractionsTime": lambda s: _average_ms(s.hold_total_ms, s.handled),
    "averageTalkingInteractionsTime": lambda s: _average_ms(s.talk_total_ms, s.handled),
    "averageWrapUpTime": lambda s: _average_ms(s.wrap_up_total_ms, s.handled),
    "enteredInteractions": lambda s: s.entered,
    "missedInteractions": lambda s: s.missed,
    "missedInteractionsPercentage": lambda s: percentage(s.missed, s.entered),
    "ongoingAvgHandlingInteractionsTime": lambda s: _average_ms(
        s.ongoing_handling_ms, s.ongoing_handling
    ),
    "ongoingAvgTalkingInteractionsTime": lambda s: _average_ms(
        s.ongoing_talking_ms, s.ongoing_talking
    ),
    "ongoingHandlingInteractions": lambda s: s.ongoing_handling,
    "ongoingOnHoldInteractions": lambda s: s.ongoing_on_hold,
    "ongoingOnHoldInteractionsTime": lambda s: s.ongoing_on_hold_ms,
    "ongoingTalkingInteractions": lambda s: s.ongoing_talking,
    "ongoingTalkingInteractionsTime": lambda s: s.ongoing_talking_ms,
    "ongoingTotalHandlingInteractionsTime": lambda s: s.ongoing_handling_ms,
    "ongoingWrapUpInteractions": lambda s: s.ongoing_wrap_up,
    "ongoingWrapUpInteractionsTime": lambda s: s.ongoing_wrap_up_ms,
    "rejectedInteractions": lambda s: s.rejected,
    "rejectedInteractionsPercentage": lambda s: percentage(s.rejected, s.entered),
    # The handling (talk + hold) of the agent's answered calls finished in the window.
    "totalInteractionTime": lambda s: s.talk_total_ms + s.hold_total_ms,
}

QUEUE_AGENT_METRIC_NAMES: tuple[str, ...] = tuple(
    sorted([*INTERACTION_METRICS, QUEUE_STATUS_TIME, USER_STATUS_TIME])
)
AGENT_METRIC_NAMES: tuple[str, ...] = tuple(sorted([*INTERACTION_METRICS, USER_STATUS_TIME]))


def render_agent_metrics(
    stats: AgentInteractionStats,
    wanted: Iterable[str],
    status_times: dict[str, int] | None = None,
) -> dict[str, MetricValue | None]:
    """The `wanted` metrics in that order; the status times come from `status_times` (a
    summary has none: they are left out of it)."""
    rendered: dict[str, MetricValue | None] = {}
    for name in wanted:
        if name in INTERACTION_METRICS:
            rendered[name] = INTERACTION_METRICS[name](stats)
        elif status_times is not None and name in status_times:
            rendered[name] = status_times[name]
    return rendered
