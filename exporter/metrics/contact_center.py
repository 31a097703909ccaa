"""Contact Center metrics: the realtime keys (`name.period[.qualifier]`) of the vendor's spec
and the gauges they become, the agents' word-valued keys, and the naming rule for report metrics.

The realtime spec lists the keys but not their units. Durations are taken as milliseconds (as
in every other 8x8 analytics API; `contact_center.duration_unit` switches to seconds),
percentages 0..100 become ratios, counts stay as they are (see exporter/metrics/units.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from exporter.metrics.spec import MetricSpec, gauge, vendor
from exporter.metrics.units import SUFFIX, Unit


def _t(templates: list[MetricSpec], qualifier: str = "") -> dict[str, MetricSpec]:
    """By vendor name; the key (`name.<period>[.qualifier]`) says which qualifier it takes."""
    suffix = f".{qualifier}" if qualifier else ""
    return {t.key: replace(t, key=f"{t.key}.<period>{suffix}") for t in templates}


# fmt: off
_AGENT_STATES: list[MetricSpec] = [
    vendor("availableIdle", "available_idle_agents", "count", "Agents available and idle."),
    vendor("busy", "busy_agents", "count", "Agents busy with an interaction."),
    vendor("enabled", "enabled_agents", "count", "Agents enabled."),
    vendor("handling", "handling_agents", "count", "Agents handling an interaction."),
    vendor("onBreak", "on_break_agents", "count", "Agents on a break."),
    vendor("workingOffline", "working_offline_agents", "count", "Agents working offline."),
    vendor("wrapUp", "wrap_up_agents", "count", "Agents in wrap-up."),
    vendor("eligible", "eligible_agents", "count", "Agents eligible to take interactions."),
]

QUEUE_METRICS = _t([
    *_AGENT_STATES,
    # The spec's example list spells `eligibl.rt` for queues: accepted as the same metric.
    vendor("eligibl", "eligible_agents", "count", "Agents eligible to take interactions."),
    vendor("busyExternal", "busy_external_agents", "count", "Agents busy with an external call."),
    vendor("busyOther", "busy_other_agents", "count", "Agents busy with another queue's interaction."),
    vendor("offering", "offering_agents", "count", "Agents being offered an interaction."),
    vendor("abandoned", "abandoned_interactions", "count", "Interactions abandoned in the period."),
    vendor("abandonedPercentage", "abandoned_interactions", "ratio", "Abandoned over entered interactions in the period."),
    vendor("accepted", "accepted_interactions", "count", "Interactions accepted by an agent in the period."),
    vendor("acceptedPercentage", "accepted_interactions", "ratio", "Accepted over entered interactions in the period."),
    vendor("entered", "entered_interactions", "count", "Interactions that entered the queue in the period."),
    vendor("diverted", "diverted_interactions", "count", "Interactions diverted out of the queue in the period."),
    vendor("divertedPercentage", "diverted_interactions", "ratio", "Diverted over entered interactions in the period."),
    vendor("shortAbandoned", "short_abandoned_interactions", "count", "Interactions abandoned within the short-abandon threshold in the period."),
    vendor("shortAbandonedPercentage", "short_abandoned_interactions", "ratio", "Short-abandoned over entered interactions in the period."),
    vendor("totalAbandoned", "total_abandoned_interactions", "count", "Interactions abandoned in the period, short abandons included."),
    vendor("totalAbandonedPercentage", "total_abandoned_interactions", "ratio", "All abandoned over entered interactions in the period."),
    vendor("interactionsWaitInQueue", "waiting_interactions", "count", "Interactions waiting in the queue now."),
    vendor("interactionsHandling", "handling_interactions", "count", "Interactions being handled now."),
    vendor("interactionsWrapUp", "wrap_up_interactions", "count", "Interactions in wrap-up now."),
    vendor("interactionsLongestWaitInQueue", "longest_wait_time", "duration", "Longest wait of an interaction in the queue (rt: of those waiting now)."),
    vendor("interactionsAvgWaitTime", "average_wait_time", "duration", "Average wait in the queue in the period."),
    vendor("avgDivertedTime", "average_diverted_time", "duration", "Average time before a diversion in the period."),
    vendor("avgHandlingTime", "average_handling_time", "duration", "Average handling time in the period."),
    vendor("avgOfferingTime", "average_offering_time", "duration", "Average time interactions were offered to agents in the period."),
    vendor("avgProcessingTime", "average_processing_time", "duration", "Average processing time in the period."),
    vendor("avgWorkTime", "average_work_time", "duration", "Average work time in the period."),
    vendor("avgWrapUpTime", "average_wrap_up_time", "duration", "Average wrap-up time in the period."),
    vendor("longestOfferingTimeInQueue", "longest_offering_time", "duration", "Longest offering time in the period."),
    vendor("slaPercentage", "service_level", "ratio", "8x8's service level of the period: the share of interactions accepted within the queue's threshold (short abandons left out; docs/service-levels.md)."),
    vendor("slaPercentageTarget", "service_level_target", "ratio", "The queue's service-level target."),
    vendor("slaTimeThreshold", "service_level_threshold", "duration", "The queue's service-level time threshold."),
])

GROUP_METRICS = _t(_AGENT_STATES)

_AGENT_IN_QUEUE: list[MetricSpec] = [
    vendor("accepted", "accepted_interactions", "count", "Queue interactions the agent accepted in the period."),
    vendor("averageHandlingTime", "average_handling_time", "duration", "Average handling time of queue interactions in the period."),
    vendor("averageOfferingTime", "average_offering_time", "duration", "Average offering time of queue interactions in the period."),
    vendor("averageWrapUpTime", "average_wrap_up_time", "duration", "Average wrap-up time of queue interactions in the period."),
    vendor("blindTransfers", "blind_transfers", "count", "Blind transfers of queue interactions in the period."),
    vendor("conferenceTime", "conference_time", "duration", "Conference time of queue interactions in the period."),
    vendor("conferences", "conferences", "count", "Conferences of queue interactions in the period."),
    vendor("consultations", "consultations", "count", "Consultations on queue interactions in the period."),
    vendor("hold", "holds", "count", "Holds of queue interactions in the period."),
    vendor("longestHold", "longest_hold_time", "duration", "Longest hold of a queue interaction in the period."),
    vendor("longestOffering", "longest_offering_time", "duration", "Longest offering of a queue interaction in the period."),
    vendor("offered", "offered_interactions", "count", "Queue interactions offered to the agent in the period."),
    vendor("onHoldTime", "on_hold_time", "duration", "Time queue interactions were on hold in the period."),
    vendor("rejectTimeout", "reject_timeouts", "count", "Queue interactions rejected by timeout in the period."),
    vendor("rejected", "rejected_interactions", "count", "Queue interactions the agent rejected in the period."),
    vendor("transfersReceived", "transfers_received", "count", "Transfers received in the period."),
    vendor("warmTransfers", "warm_transfers", "count", "Warm transfers in the period."),
]
AGENT_METRICS = _t([
    vendor("alerting", "alerting_interactions", "count", "Interactions alerting the agent now."),
    vendor("availableTime", "available_time", "duration", "Time available in the period."),
    vendor("availableTimePercentage", "available_time", "ratio", "Share of logged-in time available in the period."),
    vendor("busyTime", "busy_time", "duration", "Time busy in the period."),
    vendor("busyTimePercentage", "busy_time", "ratio", "Share of logged-in time busy in the period."),
    vendor("directInboundTime", "direct_inbound_time", "duration", "Time on direct inbound calls in the period."),
    vendor("directInbounds", "direct_inbound_calls", "count", "Direct inbound calls in the period."),
    vendor("directOutboundTime", "direct_outbound_time", "duration", "Time on direct outbound calls in the period."),
    vendor("directOutbounds", "direct_outbound_calls", "count", "Direct outbound calls in the period."),
    vendor("handlingTime", "handling_time", "duration", "Time handling interactions in the period."),
    vendor("handlingTimePercentage", "handling_time", "ratio", "Share of logged-in time handling interactions in the period."),
    vendor("internalCalls", "internal_calls", "count", "Internal calls in the period."),
    vendor("internalCallsInitiated", "internal_calls_initiated", "count", "Internal calls the agent made in the period."),
    vendor("internalCallsReceived", "internal_calls_received", "count", "Internal calls the agent received in the period."),
    vendor("internalCallsTime", "internal_calls_time", "duration", "Time on internal calls in the period."),
    vendor("lastLogin", "last_login", "timestamp", "When the agent last logged in."),
    vendor("lastLogout", "last_logout", "timestamp", "When the agent last logged out."),
    vendor("loggedInTime", "logged_in_time", "duration", "Time logged in (rt: in the current session)."),
    vendor("offeringTime", "offering_time", "duration", "Time interactions were offered to the agent in the period."),
    vendor("onBreakTime", "on_break_time", "duration", "Time on break in the period."),
    vendor("onBreakTimePercentage", "on_break_time", "ratio", "Share of logged-in time on break in the period."),
    vendor("timeOnStatus", "time_on_status", "duration", "Time in the current status."),
    vendor("workingOfflineTime", "working_offline_time", "duration", "Time working offline in the period."),
    vendor("workingOfflineTimePercentage", "working_offline_time", "ratio", "Share of logged-in time working offline in the period."),
    vendor("wrapUpTime", "wrap_up_time", "duration", "Time in wrap-up in the period."),
    vendor("wrapUpTimePercentage", "wrap_up_time", "ratio", "Share of logged-in time in wrap-up in the period."),
]) | _t(_AGENT_IN_QUEUE, qualifier="inQueue")

# fmt: on

# Agent keys whose values are words, exported as `eightbyeight_cc_agent_status_info` and
# `eightbyeight_cc_agent_line_status_info` rather than as numbers.
AGENT_STATUS_KEYS = {"status", "statusCode"}
AGENT_LINE_RE = re.compile(r"^line(\d+)(Status|TimeOnStatus)$")

TABLES = {"queues": QUEUE_METRICS, "groups": GROUP_METRICS, "agents": AGENT_METRICS}
# kind -> (metric prefix, id label, name label)
ENTITIES = {
    "queues": ("eightbyeight_cc_queue_", "queue_id", "queue"),
    "groups": ("eightbyeight_cc_group_", "group_id", "group"),
    "agents": ("eightbyeight_cc_agent_", "agent_id", None),
}


def entity_labels(kind: str) -> tuple[str, ...]:
    _, id_label, name_label = ENTITIES[kind]
    return ("tenant", id_label, *([name_label] if name_label else []), "period")


def qualifier(spec: MetricSpec) -> str:
    """`inQueue` of `accepted.<period>.inQueue`: the part of the key after the period."""
    return ".".join(spec.key.split(".")[2:])


def vendor_name(spec: MetricSpec) -> str:
    return spec.key.split(".")[0]


# kind -> vendor name -> the family it feeds.
PLACED: dict[str, dict[str, MetricSpec]] = {
    kind: {
        name: t.under(ENTITIES[kind][0], entity_labels(kind), f"cc_{kind} (`{t.key}`)")
        for name, t in table.items()
    }
    for kind, table in TABLES.items()
}

_AGENTS = "cc_agents (`/agents`)"
AGENT_INFO = gauge(
    "eightbyeight_cc_agent_info",
    "Contact Center agent's name and group, with value 1. `agent` is empty unless "
    "contact_center.personal_data: true (names are personal data).",
    ("tenant", "agent_id", "agent", "group_id", "group"),
    _AGENTS,
)
AGENT_STATUS = gauge(
    "eightbyeight_cc_agent_status_info",
    "Contact Center agent's current status (`status.rt`, lower snake case) and "
    "status code (`statusCode.rt`), with value 1.",
    ("tenant", "agent_id", "status", "status_code"),
    _AGENTS,
)
AGENT_LINE_STATUS = gauge(
    "eightbyeight_cc_agent_line_status_info",
    "Status of the agent's phone line (`lineNStatus.rt`), with value 1.",
    ("tenant", "agent_id", "line", "status"),
    _AGENTS,
)
AGENT_LINE_TIME = gauge(
    "eightbyeight_cc_agent_line_time_on_status_seconds",
    "Time the agent's phone line has been in its status (`lineNTimeOnStatus.rt`).",
    ("tenant", "agent_id", "line"),
    _AGENTS,
)
# Report dimensions (snake case) that are a person's name: empty unless
# contact_center.personal_data (`agent_id` stays, so the rows remain told apart).
PERSONAL_REPORT_DIMENSIONS = frozenset({"agent"})
AGENT_DETAILS = (AGENT_INFO, AGENT_STATUS, AGENT_LINE_STATUS, AGENT_LINE_TIME)

REALTIME_SPECS: tuple[MetricSpec, ...] = (
    *sorted((s for placed in PLACED.values() for s in placed.values()), key=lambda s: s.name),
    *AGENT_DETAILS,
)


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


def snake(name: str) -> str:
    """`avgHandlingTime` -> `avg_handling_time`; anything outside [a-z0-9_] becomes `_`."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    text = re.sub(r"[^a-zA-Z0-9_]+", "_", text).strip("_").lower()
    return text if text and not text[0].isdigit() else f"_{text}"


# --- historical report metrics -------------------------------------------------------------

REPORT_PREFIX = "eightbyeight_cc_report_"
_REPORT_DURATION_RE = re.compile(r"(Time|Duration)$|^avgSpeedToAnswer$")
# Counts the vendor names after what happened to an interaction ("accepted"): the noun is
# added, as in the realtime tables (`accepted_interactions`).
_INTERACTION_COUNTS = frozenset(
    {
        "abandoned",
        "accepted",
        "acceptedInSla",
        "alerting",
        "diverted",
        "entered",
        "presented",
        "rejected",
        "shortAbandoned",
        "totalAbandoned",
    }
)
# Counts whose vendor name is a verb or a singular: the noun they count.
_COUNT_NOUNS = {
    "hold": "holds",
    "rejectTimeout": "reject_timeouts",
    "blindTransferToAgent": "blind_transfers_to_agent",
    "blindTransferToQueue": "blind_transfers_to_queue",
}
# Every report metric the guide's report-types sample (agent-interactions-summary) and the
# simulator's two other summaries offer; a metric outside this list follows the same rule.
KNOWN_REPORT_METRICS = (
    "abandoned", "abandonedPercentage", "accepted", "acceptedInSla", "acceptedInSlaPercentage",
    "acceptedPercentage", "alerting", "availableTime", "availableTimePercentage",
    "avgAbandonedTime", "avgBusyTime", "avgHandlingTime", "avgHoldTime", "avgOfferingTime",
    "avgSpeedToAnswer", "avgWaitTime", "avgWrapUpTime", "blindTransferToAgent",
    "blindTransferToQueue", "blindTransfersInitiated", "blindTransfersReceived", "busyTime",
    "busyTimePercentage", "diverted", "divertedPercentage", "entered", "handlingTime", "hold",
    "holdTime", "loggedInTime", "longestHoldTime", "longestOfferingTime", "longestWaitTime",
    "offeringTime", "onBreakTime", "onBreakTimePercentage", "presented", "rejectTimeout",
    "rejected", "rejectedPercentage", "shortAbandoned", "shortAbandonedPercentage",
    "totalAbandoned", "totalAbandonedPercentage", "transfersInitiated",
    "transfersInitiatedPercentage", "transfersReceived", "warmTransfersCompleted",
    "warmTransfersReceived", "workingOfflineTime", "workingOfflineTimePercentage", "wrapUpTime",
    "wrapUpTimePercentage",
)  # fmt: skip


def report_metric(name: str) -> tuple[str, Unit]:
    """The `<metric>` part of a report family's name, and the value's unit: `fooPercentage`
    is a ratio (`..._ratio`), a name ending in Time or Duration (and avgSpeedToAnswer) a
    duration (`..._seconds`), anything else a count, named by what it counts
    (`accepted` -> `accepted_interactions`, `hold` -> `holds`); `avg` is spelled `average`."""
    unit: Unit = "count"
    stem = name
    if name.endswith("Percentage") and len(name) > len("Percentage"):
        unit, stem = "ratio", name[: -len("Percentage")]
    elif _REPORT_DURATION_RE.search(name):
        unit = "duration"
    words = snake(stem)
    if words.startswith("avg_"):
        words = "average_" + words.removeprefix("avg_")
    if unit != "duration":
        if stem in _COUNT_NOUNS:
            words = _COUNT_NOUNS[stem]
        elif stem in _INTERACTION_COUNTS:
            words += "_interactions"
    return words + SUFFIX[unit], unit


def report_subject(group_by: str, granularity: str) -> str:
    """The `<subject>` part of a report family's name: every dimension its rows are labelled
    by, so that one name always has one label set. The grouping's dimensions in the vendor's
    order (`media-and-queue` -> `media_queue`), then `interval` when a granularity splits the
    rows by `interval_start`."""
    dimensions = [snake(dimension) for dimension in group_by.split("-and-")]
    if granularity != "none":
        dimensions.append("interval")
    return "_".join(dimensions)


def report_family(subject: str, name: str) -> tuple[str, Unit]:
    """The family a report metric feeds: `eightbyeight_cc_report_<subject>_<metric>`."""
    metric, unit = report_metric(name)
    return f"{REPORT_PREFIX}{subject}_{metric}", unit
