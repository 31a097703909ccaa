"""Contact Center metric names: the realtime keys (`name.period[.qualifier]`) of the vendor's
spec mapped to Prometheus names and units, and the naming rule for report metrics.

The realtime spec lists the keys but not their units. Durations are taken as milliseconds (as
in every other 8x8 analytics API; `contact_center.duration_unit` switches to seconds),
percentages 0..100 become ratios, counts stay as they are.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

COUNT, DURATION, RATIO, TIMESTAMP = "count", "duration", "ratio", "timestamp"
_SUFFIX = {COUNT: "", DURATION: "_seconds", RATIO: "_ratio", TIMESTAMP: "_timestamp_seconds"}


@dataclass(frozen=True)
class CcMetric:
    name: str  # the vendor's metric name (before the period)
    stem: str  # Prometheus name after the entity prefix, without the unit suffix
    kind: str
    help: str
    qualifier: str = ""  # e.g. "inQueue" for agents' per-queue figures

    @property
    def suffix(self) -> str:
        return _SUFFIX[self.kind]


def _t(rows: list[tuple[str, str, str, str]], qualifier: str = "") -> dict[str, CcMetric]:
    return {
        name: CcMetric(name, stem, kind, help_text, qualifier)
        for name, stem, kind, help_text in rows
    }


_AGENT_STATES = [
    ("availableIdle", "available_idle_agents", COUNT, "Agents available and idle."),
    ("busy", "busy_agents", COUNT, "Agents busy with an interaction."),
    ("enabled", "enabled_agents", COUNT, "Agents enabled."),
    ("handling", "handling_agents", COUNT, "Agents handling an interaction."),
    ("onBreak", "on_break_agents", COUNT, "Agents on a break."),
    ("workingOffline", "working_offline_agents", COUNT, "Agents working offline."),
    ("wrapUp", "wrap_up_agents", COUNT, "Agents in wrap-up."),
    ("eligible", "eligible_agents", COUNT, "Agents eligible to take interactions."),
]

QUEUE_METRICS = _t(
    _AGENT_STATES
    + [
        # The spec's example list spells `eligibl.rt` for queues: accepted as the same metric.
        ("eligibl", "eligible_agents", COUNT, "Agents eligible to take interactions."),
        ("busyExternal", "busy_external_agents", COUNT, "Agents busy with an external call."),
        ("busyOther", "busy_other_agents", COUNT, "Agents busy with another queue's interaction."),
        ("offering", "offering_agents", COUNT, "Agents being offered an interaction."),
        ("abandoned", "abandoned_interactions", COUNT, "Interactions abandoned in the period."),
        (
            "abandonedPercentage",
            "abandoned_interactions",
            RATIO,
            "Abandoned over entered interactions in the period.",
        ),
        (
            "accepted",
            "accepted_interactions",
            COUNT,
            "Interactions accepted by an agent in the period.",
        ),
        (
            "acceptedPercentage",
            "accepted_interactions",
            RATIO,
            "Accepted over entered interactions in the period.",
        ),
        (
            "entered",
            "entered_interactions",
            COUNT,
            "Interactions that entered the queue in the period.",
        ),
        (
            "diverted",
            "diverted_interactions",
            COUNT,
            "Interactions diverted out of the queue in the period.",
        ),
        (
            "divertedPercentage",
            "diverted_interactions",
            RATIO,
            "Diverted over entered interactions in the period.",
        ),
        (
            "shortAbandoned",
            "short_abandoned_interactions",
            COUNT,
            "Interactions abandoned within the short-abandon threshold in the period.",
        ),
        (
            "shortAbandonedPercentage",
            "short_abandoned_interactions",
            RATIO,
            "Short-abandoned over entered interactions in the period.",
        ),
        (
            "totalAbandoned",
            "total_abandoned_interactions",
            COUNT,
            "Interactions abandoned in the period, short abandons included.",
        ),
        (
            "totalAbandonedPercentage",
            "total_abandoned_interactions",
            RATIO,
            "All abandoned over entered interactions in the period.",
        ),
        (
            "interactionsWaitInQueue",
            "waiting_interactions",
            COUNT,
            "Interactions waiting in the queue now.",
        ),
        ("interactionsHandling", "handling_interactions", COUNT, "Interactions being handled now."),
        ("interactionsWrapUp", "wrap_up_interactions", COUNT, "Interactions in wrap-up now."),
        (
            "interactionsLongestWaitInQueue",
            "longest_wait_time",
            DURATION,
            "Longest wait of an interaction in the queue (rt: of those waiting now).",
        ),
        (
            "interactionsAvgWaitTime",
            "average_wait_time",
            DURATION,
            "Average wait in the queue in the period.",
        ),
        (
            "avgDivertedTime",
            "average_diverted_time",
            DURATION,
            "Average time before a diversion in the period.",
        ),
        (
            "avgHandlingTime",
            "average_handling_time",
            DURATION,
            "Average handling time in the period.",
        ),
        (
            "avgOfferingTime",
            "average_offering_time",
            DURATION,
            "Average time interactions were offered to agents in the period.",
        ),
        (
            "avgProcessingTime",
            "average_processing_time",
            DURATION,
            "Average processing time in the period.",
        ),
        ("avgWorkTime", "average_work_time", DURATION, "Average work time in the period."),
        ("avgWrapUpTime", "average_wrap_up_time", DURATION, "Average wrap-up time in the period."),
        (
            "longestOfferingTimeInQueue",
            "longest_offering_time",
            DURATION,
            "Longest offering time in the period.",
        ),
        (
            "slaPercentage",
            "service_level",
            RATIO,
            "Interactions accepted within the service-level threshold, over those that entered, in the period.",
        ),
        ("slaPercentageTarget", "service_level_target", RATIO, "The queue's service-level target."),
        (
            "slaTimeThreshold",
            "service_level_threshold",
            DURATION,
            "The queue's service-level time threshold.",
        ),
    ]
)

GROUP_METRICS = _t(_AGENT_STATES)

_AGENT_IN_QUEUE = [
    (
        "accepted",
        "accepted_interactions",
        COUNT,
        "Queue interactions the agent accepted in the period.",
    ),
    (
        "averageHandlingTime",
        "average_handling_time",
        DURATION,
        "Average handling time of queue interactions in the period.",
    ),
    (
        "averageOfferingTime",
        "average_offering_time",
        DURATION,
        "Average offering time of queue interactions in the period.",
    ),
    (
        "averageWrapUpTime",
        "average_wrap_up_time",
        DURATION,
        "Average wrap-up time of queue interactions in the period.",
    ),
    (
        "blindTransfers",
        "blind_transfers",
        COUNT,
        "Blind transfers of queue interactions in the period.",
    ),
    (
        "conferenceTime",
        "conference_time",
        DURATION,
        "Conference time of queue interactions in the period.",
    ),
    ("conferences", "conferences", COUNT, "Conferences of queue interactions in the period."),
    ("consultations", "consultations", COUNT, "Consultations on queue interactions in the period."),
    ("hold", "holds", COUNT, "Holds of queue interactions in the period."),
    (
        "longestHold",
        "longest_hold_time",
        DURATION,
        "Longest hold of a queue interaction in the period.",
    ),
    (
        "longestOffering",
        "longest_offering_time",
        DURATION,
        "Longest offering of a queue interaction in the period.",
    ),
    (
        "offered",
        "offered_interactions",
        COUNT,
        "Queue interactions offered to the agent in the period.",
    ),
    ("onHoldTime", "on_hold_time", DURATION, "Time queue interactions were on hold in the period."),
    (
        "rejectTimeout",
        "reject_timeouts",
        COUNT,
        "Queue interactions rejected by timeout in the period.",
    ),
    (
        "rejected",
        "rejected_interactions",
        COUNT,
        "Queue interactions the agent rejected in the period.",
    ),
    ("transfersReceived", "transfers_received", COUNT, "Transfers received in the period."),
    ("warmTransfers", "warm_transfers", COUNT, "Warm transfers in the period."),
]
AGENT_METRICS = _t(
    [
        ("alerting", "alerting_interactions", COUNT, "Interactions alerting the agent now."),
        ("availableTime", "available_time", DURATION, "Time available in the period."),
        (
            "availableTimePercentage",
            "available_time",
            RATIO,
            "Share of logged-in time available in the period.",
        ),
        ("busyTime", "busy_time", DURATION, "Time busy in the period."),
        ("busyTimePercentage", "busy_time", RATIO, "Share of logged-in time busy in the period."),
        (
            "directInboundTime",
            "direct_inbound_time",
            DURATION,
            "Time on direct inbound calls in the period.",
        ),
        ("directInbounds", "direct_inbound_calls", COUNT, "Direct inbound calls in the period."),
        (
            "directOutboundTime",
            "direct_outbound_time",
            DURATION,
            "Time on direct outbound calls in the period.",
        ),
        ("directOutbounds", "direct_outbound_calls", COUNT, "Direct outbound calls in the period."),
        ("handlingTime", "handling_time", DURATION, "Time handling interactions in the period."),
        (
            "handlingTimePercentage",
            "handling_time",
            RATIO,
            "Share of logged-in time handling interactions in the period.",
        ),
        ("internalCalls", "internal_calls", COUNT, "Internal calls in the period."),
        (
            "internalCallsInitiated",
            "internal_calls_initiated",
            COUNT,
            "Internal calls the agent made in the period.",
        ),
        (
            "internalCallsReceived",
            "internal_calls_received",
            COUNT,
            "Internal calls the agent received in the period.",
        ),
        (
            "internalCallsTime",
            "internal_calls_time",
            DURATION,
            "Time on internal calls in the period.",
        ),
        ("lastLogin", "last_login", TIMESTAMP, "When the agent last logged in."),
        ("lastLogout", "last_logout", TIMESTAMP, "When the agent last logged out."),
        (
            "loggedInTime",
            "logged_in_time",
            DURATION,
            "Time logged in (rt: in the current session).",
        ),
        (
            "offeringTime",
            "offering_time",
            DURATION,
            "Time interactions were offered to the agent in the period.",
        ),
        ("onBreakTime", "on_break_time", DURATION, "Time on break in the period."),
        (
            "onBreakTimePercentage",
            "on_break_time",
            RATIO,
            "Share of logged-in time on break in the period.",
        ),
        ("timeOnStatus", "time_on_status", DURATION, "Time in the current status."),
        (
            "workingOfflineTime",
            "working_offline_time",
            DURATION,
            "Time working offline in the period.",
        ),
        (
            "workingOfflineTimePercentage",
            "working_offline_time",
            RATIO,
            "Share of logged-in time working offline in the period.",
        ),
        ("wrapUpTime", "wrap_up_time", DURATION, "Time in wrap-up in the period."),
        (
            "wrapUpTimePercentage",
            "wrap_up_time",
            RATIO,
            "Share of logged-in time in wrap-up in the period.",
        ),
    ]
) | _t(_AGENT_IN_QUEUE, qualifier="inQueue")

# Agent keys whose values are words, exported as `eightbyeight_cc_agent_status_info` and
# `eightbyeight_cc_agent_line_status_info` rather than as numbers.
AGENT_STATUS_KEYS = {"status", "statusCode"}
AGENT_LINE_RE = re.compile(r"^line(\d+)(Status|TimeOnStatus)$")

TABLES = {"queues": QUEUE_METRICS, "groups": GROUP_METRICS, "agents": AGENT_METRICS}


@dataclass(frozen=True)
class MetricKey:
    name: str
    period: str
    qualifier: str


def parse_key(key: str) -> MetricKey | None:
    """`abandoned.int-15m` -> (abandoned, int-15m, ""); `accepted.today.inQueue` -> qualifier."""
    parts = key.split(".")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return MetricKey(parts[0], parts[1], ".".join(parts[2:]))


def to_number(value: Any) -> float | None:
    """A finite number from a number or a numeric string; None for null, words, arrays,
    booleans, NaN, infinities and integers beyond any float (none of them is a value)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def to_timestamp(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 timestamp (`2025-11-18T16:59:12.000Z`) or epoch ms."""
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None  # a local time without a zone is ambiguous: not guessed
        return parsed.timestamp()
    number = to_number(value)
    return None if number is None or number <= 0 else number / 1000.0


def snake(name: str) -> str:
    """`avgHandlingTime` -> `avg_handling_time`; anything outside [a-z0-9_] becomes `_`."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    text = re.sub(r"[^a-zA-Z0-9_]+", "_", text).strip("_").lower()
    return text if text and not text[0].isdigit() else f"_{text}"


# --- historical report metrics -------------------------------------------------------------

REPORT_PREFIX = "eightbyeight_cc_report_"
_REPORT_DURATION_RE = re.compile(r"(Time|Duration)$|^avgSpeedToAnswer$")


def report_metric(name: str) -> tuple[str, str]:
    """The Prometheus name and kind of a report metric: `fooPercentage` is a ratio, a name
    ending in Time or Duration (and avgSpeedToAnswer) is a duration, anything else a count."""
    if name.endswith("Percentage") and len(name) > len("Percentage"):
        return f"{REPORT_PREFIX}{snake(name[: -len('Percentage')])}_ratio", RATIO
    if _REPORT_DURATION_RE.search(name):
        return f"{REPORT_PREFIX}{snake(name)}_seconds", DURATION
    return f"{REPORT_PREFIX}{snake(name)}", COUNT


def _clock_seconds(value: Any) -> float | None:
    if isinstance(value, str):
        match = re.fullmatch(r"(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)", value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            total = float(hours) * 3600 + int(minutes) * 60 + float(seconds)
            return total if math.isfinite(total) else None  # 400 digits of hours: no value
    return None


def convert(kind: str, value: Any, duration_scale: float) -> float | None:
    """The exported value of a vendor value, None when it is unusable (null, a word, an array).

    `duration_scale` turns the API's duration unit into seconds (0.001 for milliseconds);
    `HH:MM:SS` strings are read as clock durations whatever the unit.
    """
    if kind == TIMESTAMP:
        return to_timestamp(value)
    number = to_number(value)
    if kind == DURATION:
        if number is None:
            return _clock_seconds(value)
        return number * duration_scale
    if number is None:
        return None
    return number / 100.0 if kind == RATIO else number
