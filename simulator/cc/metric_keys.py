"""The realtime (v5) metric catalogue, copied from the spec's `metrics` parameter examples: every
key served for queues, agent groups and agents, in order, and the aliases accepted for them.

Keys are `name.period[.qualifier]`: periods `rt` (now), `int-15m`, `int-30m` (and for
`slaPercentage` also `int-1h`, `int-4h`, `int-8h`, `int-12h`) are the trailing windows ending
now; `today` starts at the local midnight of the requested time zone (see metrics.py).
"""

from __future__ import annotations

# The spec's example lists, in its order. Its queue list says `eligibl.rt`: a typo of the
# groups' `eligible.rt`, which is what is served (the misspelling is accepted as an alias).
QUEUE_METRIC_KEYS: tuple[str, ...] = (
    "abandoned.int-15m",
    "abandoned.int-30m",
    "abandoned.today",
    "abandonedPercentage.int-15m",
    "abandonedPercentage.int-30m",
    "abandonedPercentage.today",
    "accepted.int-15m",
    "accepted.int-30m",
    "accepted.today",
    "acceptedPercentage.int-15m",
    "acceptedPercentage.int-30m",
    "acceptedPercentage.today",
    "availableIdle.rt",
    "avgDivertedTime.int-15m",
    "avgDivertedTime.int-30m",
    "avgDivertedTime.today",
    "avgHandlingTime.int-15m",
    "avgHandlingTime.int-30m",
    "avgHandlingTime.today",
    "avgOfferingTime.int-15m",
    "avgOfferingTime.int-30m",
    "avgOfferingTime.today",
    "avgProcessingTime.int-15m",
    "avgProcessingTime.int-30m",
    "avgProcessingTime.today",
    "avgWorkTime.int-15m",
    "avgWorkTime.int-30m",
    "avgWorkTime.today",
    "avgWrapUpTime.int-15m",
    "avgWrapUpTime.int-30m",
    "avgWrapUpTime.today",
    "busy.rt",
    "busyExternal.rt",
    "busyOther.rt",
    "diverted.int-15m",
    "diverted.int-30m",
    "diverted.today",
    "divertedPercentage.int-15m",
    "divertedPercentage.int-30m",
    "divertedPercentage.today",
    "eligible.rt",
    "enabled.rt",
    "entered.int-15m",
    "entered.int-30m",
    "entered.today",
    "handling.rt",
    "interactionsAvgWaitTime.int-15m",
    "interactionsAvgWaitTime.int-30m",
    "interactionsAvgWaitTime.today",
    "interactionsHandling.rt",
    "interactionsLongestWaitInQueue.int-15m",
    "interactionsLongestWaitInQueue.int-30m",
    "interactionsLongestWaitInQueue.rt",
    "interactionsLongestWaitInQueue.today",
    "interactionsWaitInQueue.rt",
    "interactionsWrapUp.rt",
    "longestOfferingTimeInQueue.int-15m",
    "longestOfferingTimeInQueue.int-30m",
    "longestOfferingTimeInQueue.today",
    "offering.rt",
    "onBreak.rt",
    "shortAbandoned.int-15m",
    "shortAbandoned.int-30m",
    "shortAbandoned.today",
    "shortAbandonedPercentage.int-15m",
    "shortAbandonedPercentage.int-30m",
    "shortAbandonedPercentage.today",
    "slaPercentage.int-12h",
    "slaPercentage.int-15m",
    "slaPercentage.int-1h",
    "slaPercentage.int-30m",
    "slaPercentage.int-4h",
    "slaPercentage.int-8h",
    "slaPercentage.today",
    "slaPercentageTarget.today",
    "slaTimeThreshold.today",
    "totalAbandoned.int-15m",
    "totalAbandoned.int-30m",
    "totalAbandoned.today",
    "totalAbandonedPercentage.int-15m",
    "totalAbandonedPercentage.int-30m",
    "totalAbandonedPercentage.today",
    "workingOffline.rt",
    "wrapUp.rt",
)
QUEUE_ALIASES = {"eligibl.rt": "eligible.rt"}

GROUP_METRIC_KEYS: tuple[str, ...] = (
    "availableIdle.rt",
    "eligible.rt",
    "enabled.rt",
    "handling.rt",
    "onBreak.rt",
    "workingOffline.rt",
    "wrapUp.rt",
)

_AGENT_PERIODS = ("int-15m", "int-30m", "today")
_AGENT_IN_QUEUE = (
    "accepted",
    "averageHandlingTime",
    "averageOfferingTime",
    "averageWrapUpTime",
    "blindTransfers",
    "conferenceTime",
    "conferences",
    "consultations",
    "hold",
    "longestHold",
    "longestOffering",
    "offered",
    "onHoldTime",
    "rejectTimeout",
    "rejected",
    "transfersReceived",
    "warmTransfers",
)
_AGENT_PLAIN = (
    "availableTime",
    "availableTimePercentage",
    "busyTime",
    "busyTimePercentage",
    "directInboundTime",
    "directInbounds",
    "directOutboundTime",
    "directOutbounds",
    "handlingTime",
    "handlingTimePercentage",
    "internalCalls",
    "internalCallsInitiated",
    "internalCallsReceived",
    "internalCallsTime",
    "loggedInTime",
    "offeringTime",
    "onBreakTime",
    "onBreakTimePercentage",
    "workingOfflineTime",
    "workingOfflineTimePercentage",
    "wrapUpTime",
    "wrapUpTimePercentage",
)
_AGENT_RT = (
    "alerting.rt",
    "lastLogin.rt",
    "lastLogout.rt",
    "line1Status.rt",
    "line1TimeOnStatus.rt",
    "line2Status.rt",
    "line2TimeOnStatus.rt",
    "loggedInTime.rt",
    "status.rt",
    "statusCode.rt",
    "timeOnStatus.rt",
)
# The spec's /agents list (alphabetical, as the spec has it).
AGENT_METRIC_KEYS: tuple[str, ...] = tuple(
    sorted(
        [f"{name}.{period}.inQueue" for name in _AGENT_IN_QUEUE for period in _AGENT_PERIODS]
        + [f"{name}.{period}" for name in _AGENT_PLAIN for period in _AGENT_PERIODS]
        + list(_AGENT_RT)
    )
)

KINDS = ("queues", "groups", "agents")


def known_keys(kind: str) -> tuple[str, ...]:
    """Every key served for `kind` without a `metrics` filter, in order."""
    if kind == "queues":
        return QUEUE_METRIC_KEYS
    if kind == "groups":
        return GROUP_METRIC_KEYS
    return AGENT_METRIC_KEYS


def resolve_key(kind: str, key: str) -> str | None:
    """The served key a requested one stands for (aliases), or None when unknown."""
    if kind == "queues":
        key = QUEUE_ALIASES.get(key, key)
    return key if key in _KEY_SETS[kind] else None


_KEY_SETS = {kind: frozenset(known_keys(kind)) for kind in KINDS}
