"""The agents of the call queues (`/v2/pbxes/{pbxId}/queue-agent-activity`): the status words
and each vendor interaction metric with the gauge it becomes.

Issue #18's contract: every metric ending in `Time` is in milliseconds (the spec's example has
`userStatusTime: 2579000` for about 43 minutes); percentages are 0..100. The interaction
metrics are counts and times over the API's window (the last 24 hours without dates), so
gauges, not counters.
"""

from __future__ import annotations

from exporter.metrics.call_queues import QUEUE_LABELS
from exporter.metrics.interactions import (
    INTERACTION_ALIASES,
    INTERACTION_TEMPLATES,
    OTHER,
    QUEUE_STATUSES,
    USER_STATUSES,
)
from exporter.metrics.spec import MetricSpec, gauge, vendor

__all__ = ["OTHER", "QUEUE_STATUSES", "USER_STATUSES"]  # read from here by the poller

SOURCE = "queue_agents"
LOGGED_OUT = "LOGGED_OUT"
ROLES = ("primary", "overflow")

AGENT_LABELS = (*QUEUE_LABELS, "agent_id")
AGENT_PREFIX = "eightbyeight_queue_agent_"

# The two status times of an agent in a queue, then the interaction table both agent
# endpoints share (exporter/metrics/interactions.py).
# fmt: off
_INTERACTIONS: tuple[MetricSpec, ...] = (
    vendor("queueStatusTime", "status_time", "duration", "Time the agent has been in its current queue status."),
    vendor("userStatusTime", "user_status_time", "duration", "Time the agent has been in its current user status."),
    *INTERACTION_TEMPLATES,
)
# fmt: on
ALIASES = INTERACTION_ALIASES

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
