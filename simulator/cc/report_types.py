"""The historical summary report types the simulator offers: their groupings (each with the
filters it allows), their metrics, and how each metric is computed from an `Agg` cell.

`agent-interactions-summary` is exactly the guide's sample; `queue-interactions-summary` and
`agent-status-summary` are the simulator's own (the guide names the first and documents
neither's groupings): see the README.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .aggregate import Agg, average, percentage
from .facts import AgentStatus

# Dimensions a grouping name is made of ("media-and-channel-and-queue"), with their items:
# (key, label) of the name and, for entities, of the id.
DIMENSION_ITEMS: dict[str, tuple[tuple[str, str], ...]] = {
    "queue": (("queue", "Queue"), ("queueId", "Queue Id")),
    "agent": (("agent", "Agent"), ("agentId", "Agent Id")),
    "group": (("group", "Group"), ("groupId", "Group Id")),
    "media": (("media", "Media"),),
    "channel": (("channel", "Channel"),),
}
TIME_ITEMS = (("startTime", "Start Time"), ("endTime", "End Time"))


class Source(str, Enum):
    """Which facts of the model feed a report type."""

    QUEUE = "queue"  # entries, leaves, offers, completions by queue / media / channel
    AGENT_INTERACTIONS = "agent-interactions"  # offers and completions by agent (and group)
    AGENT_STATUS = "agent-status"  # status time by agent (and group)


class Kind(str, Enum):
    COUNT = "count"
    DURATION = "duration"  # whole milliseconds
    PERCENT = "percent"  # two decimals
    AVERAGE = "average"  # whole milliseconds, "0" for none


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    kind: Kind
    value: Callable[[Agg], Any]


@dataclass(frozen=True, slots=True)
class ReportType:
    type: str
    source: Source
    groupings: tuple[tuple[str, tuple[str, ...]], ...]  # (grouping name, filters)
    metrics: tuple[Metric, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "groupBy": [
                {"name": name, "filters": list(filters)} for name, filters in self.groupings
            ],
            "metrics": [metric.name for metric in self.metrics],
        }

    def filters_of(self, grouping: str) -> tuple[str, ...] | None:
        for name, filters in self.groupings:
            if name == grouping:
                return filters
        return None

    def metric(self, name: str) -> Metric | None:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        return None


def dimensions(grouping: str) -> tuple[str, ...]:
    return tuple(grouping.split("-and-"))


def _ZERO(a: Agg) -> Any:
    return 0


_S = AgentStatus


def _count(name: str, value: Callable[[Agg], Any]) -> Metric:
    return Metric(name, Kind.COUNT, value)


def _duration(name: str, value: Callable[[Agg], Any]) -> Metric:
    return Metric(name, Kind.DURATION, value)


def _percent(name: str, value: Callable[[Agg], Any]) -> Metric:
    return Metric(name, Kind.PERCENT, value)


def _average(name: str, value: Callable[[Agg], Any]) -> Metric:
    return Metric(name, Kind.AVERAGE, value)


AGENT_INTERACTIONS_SUMMARY = ReportType(
    type="agent-interactions-summary",
    source=Source.AGENT_INTERACTIONS,
    groupings=(
        ("agent", ("agent",)),
        ("agent-and-media", ("agent", "media")),
        ("agent-and-media-and-channel", ("agent", "media")),
        ("agent-and-media-and-channel-and-queue", ("agent", "media", "queue")),
        ("agent-and-media-and-queue", ("agent", "media", "queue")),
        ("group", ("group",)),
        ("group-and-agent", ("agent", "group")),
        ("group-and-agent-and-media", ("agent", "group", "media")),
        ("group-and-agent-and-media-and-channel", ("agent", "group", "media")),
        ("group-and-agent-and-media-and-channel-and-queue", ("agent", "group", "media", "queue")),
        ("group-and-agent-and-media-and-queue", ("agent", "group", "media", "queue")),
        ("group-and-media", ("group", "media")),
        ("group-and-media-and-channel", ("group", "media")),
        ("group-and-media-and-channel-and-queue", ("group", "media", "queue")),
        ("group-and-media-and-queue", ("group", "media", "queue")),
    ),
    metrics=(
        _count("abandoned", lambda a: a.offers_abandoned),
        _percent("abandonedPercentage", lambda a: percentage(a.offers_abandoned, a.offers)),
        _count("accepted", lambda a: a.offers_accepted),
        _percent("acceptedPercentage", lambda a: percentage(a.offers_accepted, a.offers)),
        _count("alerting", lambda a: a.offers),
        _average("avgBusyTime", lambda a: average(a.handling_ms + a.wrap_ms, a.completed)),
        _average("avgHandlingTime", lambda a: average(a.handling_ms, a.completed)),
        _average("avgHoldTime", lambda a: average(a.hold_ms, a.holds)),
        _average("avgSpeedToAnswer", lambda a: average(a.accepted_offering_ms, a.offers_accepted)),
        _average("avgWrapUpTime", lambda a: average(a.wrap_ms, a.completed)),
        _count("blindTransferToAgent", _ZERO),
        _count("blindTransferToQueue", _ZERO),
        _count("blindTransfersInitiated", _ZERO),
        _count("blindTransfersReceived", _ZERO),
        _duration("busyTime", lambda a: a.handling_ms + a.wrap_ms),
        _duration("handlingTime", lambda a: a.handling_ms),
        _count("hold", lambda a: a.holds),
        _duration("holdTime", lambda a: a.hold_ms),
        _duration("longestHoldTime", lambda a: a.longest_hold_ms),
        _duration("longestOfferingTime", lambda a: a.longest_offering_ms),
        _duration("offeringTime", lambda a: a.offering_ms),
        _count("presented", lambda a: a.offers),
        _count("rejectTimeout", lambda a: a.offers_timeout),
        _count("rejected", lambda a: a.offers_rejected),
        _percent("rejectedPercentage", lambda a: percentage(a.offers_rejected, a.offers)),
        _count("transfersInitiated", _ZERO),
        _percent("transfersInitiatedPercentage", lambda a: 0.0),
        _count("transfersReceived", _ZERO),
        _count("warmTransfersCompleted", _ZERO),
        _count("warmTransfersReceived", _ZERO),
        _duration("wrapUpTime", lambda a: a.wrap_ms),
    ),
)

QUEUE_INTERACTIONS_SUMMARY = ReportType(
    type="queue-interactions-summary",
    source=Source.QUEUE,
    groupings=(
        ("channel", ("media",)),
        ("media", ("media",)),
        ("media-and-channel", ("media",)),
        ("media-and-channel-and-queue", ("media", "queue")),
        ("media-and-queue", ("media", "queue")),
        ("queue", ("queue",)),
    ),
    metrics=(
        _count("abandoned", lambda a: a.abandoned),
        _percent("abandonedPercentage", lambda a: percentage(a.abandoned, a.left)),
        _count("accepted", lambda a: a.accepted),
        _count("acceptedInSla", lambda a: a.accepted_in_sla),
        _percent("acceptedInSlaPercentage", lambda a: percentage(a.accepted_in_sla, a.accepted)),
        _percent("acceptedPercentage", lambda a: percentage(a.accepted, a.left)),
        _average("avgAbandonedTime", lambda a: average(a.abandoned_wait_ms, a.total_abandoned)),
        _average("avgHandlingTime", lambda a: average(a.handling_ms, a.completed)),
        _average("avgOfferingTime", lambda a: average(a.offering_ms, a.offers)),
        _average("avgWaitTime", lambda a: average(a.accepted_wait_ms, a.accepted)),
        _average("avgWrapUpTime", lambda a: average(a.wrap_ms, a.completed)),
        _count("diverted", lambda a: a.diverted),
        _percent("divertedPercentage", lambda a: percentage(a.diverted, a.left)),
        _count("entered", lambda a: a.entered),
        _duration("handlingTime", lambda a: a.handling_ms),
        _duration("longestWaitTime", lambda a: a.longest_wait_ms),
        _count("shortAbandoned", lambda a: a.short_abandoned),
        _percent("shortAbandonedPercentage", lambda a: percentage(a.short_abandoned, a.left)),
        _count("totalAbandoned", lambda a: a.total_abandoned),
        _percent("totalAbandonedPercentage", lambda a: percentage(a.total_abandoned, a.left)),
        _duration("wrapUpTime", lambda a: a.wrap_ms),
    ),
)

_BUSY = (_S.OFFERING, _S.BUSY, _S.WRAP_UP)
AGENT_STATUS_SUMMARY = ReportType(
    type="agent-status-summary",
    source=Source.AGENT_STATUS,
    groupings=(
        ("agent", ("agent",)),
        ("group", ("group",)),
        ("group-and-agent", ("agent", "group")),
    ),
    metrics=(
        _duration("availableTime", lambda a: a.status_ms(_S.AVAILABLE)),
        _percent(
            "availableTimePercentage",
            lambda a: percentage(a.status_ms(_S.AVAILABLE), a.logged_in_ms),
        ),
        _duration("busyTime", lambda a: a.status_ms(*_BUSY)),
        _percent("busyTimePercentage", lambda a: percentage(a.status_ms(*_BUSY), a.logged_in_ms)),
        _duration("handlingTime", lambda a: a.status_ms(_S.BUSY)),
        _duration("loggedInTime", lambda a: a.logged_in_ms),
        _duration("offeringTime", lambda a: a.status_ms(_S.OFFERING)),
        _duration("onBreakTime", lambda a: a.status_ms(_S.ON_BREAK)),
        _percent(
            "onBreakTimePercentage", lambda a: percentage(a.status_ms(_S.ON_BREAK), a.logged_in_ms)
        ),
        _duration("workingOfflineTime", lambda a: a.status_ms(_S.WORKING_OFFLINE)),
        _percent(
            "workingOfflineTimePercentage",
            lambda a: percentage(a.status_ms(_S.WORKING_OFFLINE), a.logged_in_ms),
        ),
        _duration("wrapUpTime", lambda a: a.status_ms(_S.WRAP_UP)),
        _percent(
            "wrapUpTimePercentage", lambda a: percentage(a.status_ms(_S.WRAP_UP), a.logged_in_ms)
        ),
    ),
)

REPORT_TYPES: dict[str, ReportType] = {
    report_type.type: report_type
    for report_type in (
        AGENT_INTERACTIONS_SUMMARY,
        AGENT_STATUS_SUMMARY,
        QUEUE_INTERACTIONS_SUMMARY,
    )
}

_LABEL_WORDS = {"avg": "Avg", "sla": "SLA", "percentage": "%"}


def metric_label(name: str) -> str:
    """A human label from a camelCase metric name: "acceptedInSlaPercentage" -> "Accepted In SLA %"."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)
    return " ".join(_LABEL_WORDS.get(word.lower(), word[:1].upper() + word[1:]) for word in words)


def format_value(kind: Kind, value: Any) -> str:
    """Every report value is a string: counts and milliseconds as integers, percentages with
    two decimals, an average of nothing "0"."""
    if kind is Kind.PERCENT:
        return f"{float(value):.2f}"
    if value is None:
        return "0"
    return str(int(value))
