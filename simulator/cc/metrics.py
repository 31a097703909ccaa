"""The values of every realtime (v5) metric key (metric_keys.py) for queues, agent groups and
agents at one moment.

Value types: counts are integers, durations integer milliseconds, percentages numbers 0..100
with two decimals, averages of nothing null, `slaPercentageTarget.today` and
`slaTimeThreshold.today` numeric strings, agent statuses strings, logins ISO 8601 timestamps or
null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from .aggregate import Agg, average, percentage
from .facts import AgentStatus
from .metric_keys import AGENT_METRIC_KEYS, GROUP_METRIC_KEYS, known_keys
from .model import AgentSnapshot, TenantModel
from .tenants import CcTenant
from .timestamps import iso_utc, local_midnight, ms

# The trailing windows ending now, by period (`today` starts at the local midnight instead).
_WINDOWS = {
    "int-15m": 900.0,
    "int-30m": 1800.0,
    "int-1h": 3600.0,
    "int-4h": 4 * 3600.0,
    "int-8h": 8 * 3600.0,
    "int-12h": 12 * 3600.0,
}

# Queue metrics over a window, by name.
_QUEUE_PERIOD: dict[str, Callable[[Agg], Any]] = {
    "abandoned": lambda a: a.abandoned,
    "abandonedPercentage": lambda a: percentage(a.abandoned, a.left),
    "accepted": lambda a: a.accepted,
    "acceptedPercentage": lambda a: percentage(a.accepted, a.left),
    "avgDivertedTime": lambda a: average(a.diverted_wait_ms, a.diverted),
    "avgHandlingTime": lambda a: average(a.handling_ms, a.completed),
    "avgOfferingTime": lambda a: average(a.offering_ms, a.offers),
    "avgProcessingTime": lambda a: average(a.handling_ms + a.wrap_ms, a.completed),
    "avgWorkTime": lambda a: average(
        a.completed_offering_ms + a.handling_ms + a.wrap_ms, a.completed
    ),
    "avgWrapUpTime": lambda a: average(a.wrap_ms, a.completed),
    "diverted": lambda a: a.diverted,
    "divertedPercentage": lambda a: percentage(a.diverted, a.left),
    "entered": lambda a: a.entered,
    "interactionsAvgWaitTime": lambda a: average(a.accepted_wait_ms, a.accepted),
    "longestOfferingTimeInQueue": lambda a: a.longest_offering_ms,
    "shortAbandoned": lambda a: a.short_abandoned,
    "shortAbandonedPercentage": lambda a: percentage(a.short_abandoned, a.left),
    "slaPercentage": lambda a: sla_percentage(a),
    "totalAbandoned": lambda a: a.total_abandoned,
    "totalAbandonedPercentage": lambda a: percentage(a.total_abandoned, a.left),
}

# Agents occupied by interactions: busyTime counts these statuses, handlingTime only Busy.
BUSY_STATUSES = (AgentStatus.OFFERING, AgentStatus.BUSY, AgentStatus.WRAP_UP)

# Agent metrics over a window, by name (".inQueue" ones and status-time ones alike).
_S = AgentStatus
_AGENT_PERIOD: dict[str, Callable[[Agg], Any]] = {
    "accepted": lambda a: a.offers_accepted,
    "averageHandlingTime": lambda a: average(a.handling_ms, a.completed),
    "averageOfferingTime": lambda a: average(a.offering_ms, a.offers),
    "averageWrapUpTime": lambda a: average(a.wrap_ms, a.completed),
    "hold": lambda a: a.holds,
    "longestHold": lambda a: a.longest_hold_ms,
    "longestOffering": lambda a: a.longest_offering_ms,
    "offered": lambda a: a.offers,
    "onHoldTime": lambda a: a.hold_ms,
    "rejectTimeout": lambda a: a.offers_timeout,
    "rejected": lambda a: a.offers_rejected,
    "availableTime": lambda a: a.status_ms(_S.AVAILABLE),
    "busyTime": lambda a: a.status_ms(*BUSY_STATUSES),
    "handlingTime": lambda a: a.status_ms(_S.BUSY),
    "loggedInTime": lambda a: a.logged_in_ms,
    "offeringTime": lambda a: a.status_ms(_S.OFFERING),
    "onBreakTime": lambda a: a.status_ms(_S.ON_BREAK),
    "workingOfflineTime": lambda a: a.status_ms(_S.WORKING_OFFLINE),
    "wrapUpTime": lambda a: a.status_ms(_S.WRAP_UP),
    "availableTimePercentage": lambda a: percentage(a.status_ms(_S.AVAILABLE), a.logged_in_ms),
    "busyTimePercentage": lambda a: percentage(a.status_ms(*BUSY_STATUSES), a.logged_in_ms),
    "handlingTimePercentage": lambda a: percentage(a.status_ms(_S.BUSY), a.logged_in_ms),
    "onBreakTimePercentage": lambda a: percentage(a.status_ms(_S.ON_BREAK), a.logged_in_ms),
    "workingOfflineTimePercentage": lambda a: percentage(
        a.status_ms(_S.WORKING_OFFLINE), a.logged_in_ms
    ),
    "wrapUpTimePercentage": lambda a: percentage(a.status_ms(_S.WRAP_UP), a.logged_in_ms),
}
# Not modelled (no transfers, conferences, direct or internal calls): always 0.
_AGENT_ZERO = frozenset(
    {
        "blindTransfers",
        "conferenceTime",
        "conferences",
        "consultations",
        "transfersReceived",
        "warmTransfers",
        "directInboundTime",
        "directInbounds",
        "directOutboundTime",
        "directOutbounds",
        "internalCalls",
        "internalCallsInitiated",
        "internalCallsReceived",
        "internalCallsTime",
    }
)


def sla_percentage(agg: Agg) -> float:
    """Accepted within the threshold / (accepted + abandoned + diverted), short abandons left
    out; 100 when nothing counts (no interaction missed the service level)."""
    return percentage(agg.accepted_in_sla, agg.sla_base) if agg.sla_base else 100.0


class RealtimeView:
    """Every realtime value of one tenant at one moment (`model.now`); windows are computed
    once per view, for all entities at once. Build it with the model's lock held."""

    def __init__(self, model: TenantModel, zone: ZoneInfo) -> None:
        self.model = model
        self.tenant: CcTenant = model.tenant
        self.now = now = model.now
        self.today_start = local_midnight(now, zone)
        self.snapshots: dict[str, AgentSnapshot] = model.agent_snapshots()
        self._queue_aggs: dict[str, dict[str, Agg]] = {}
        self._agent_aggs: dict[str, dict[str, Agg]] = {}
        self._sla_aggs: dict[str, dict[str, Agg]] = {}

    def _start(self, period: str) -> float:
        return self.today_start if period == "today" else self.now - _WINDOWS[period]

    # ----------------------------------------------------------------- windows
    def queue_aggs(self, period: str) -> dict[str, Agg]:
        aggs = self._queue_aggs.get(period)
        if aggs is None:
            model, start, now = self.model, self._start(period), self.now
            aggs = {q.id: Agg() for q in self.tenant.queues}
            for entry in model.entries.window(start, now, include_end=True):
                aggs[entry.queue].add_entry(entry)
            for leave in model.leaves.window(start, now, include_end=True):
                aggs[leave.queue].add_leave(leave)
            for offer in model.offers.window(start, now, include_end=True):
                aggs[offer.queue].add_offer(offer)
            for completion in model.completions.window(start, now, include_end=True):
                aggs[completion.queue].add_completion(completion)
            self._queue_aggs[period] = aggs
        return aggs

    def sla_aggs(self, period: str) -> dict[str, Agg]:
        """Leaves only: enough for the SLA windows of 1 to 12 hours."""
        if period in self._queue_aggs:
            return self._queue_aggs[period]
        aggs = self._sla_aggs.get(period)
        if aggs is None:
            aggs = {q.id: Agg() for q in self.tenant.queues}
            for leave in self.model.leaves.window(self._start(period), self.now, include_end=True):
                aggs[leave.queue].add_leave(leave)
            self._sla_aggs[period] = aggs
        return aggs

    def agent_aggs(self, period: str) -> dict[str, Agg]:
        aggs = self._agent_aggs.get(period)
        if aggs is None:
            model, start, now = self.model, self._start(period), self.now
            aggs = {a.id: Agg() for a in self.tenant.agents}
            for offer in model.offers.window(start, now, include_end=True):
                aggs[offer.agent].add_offer(offer)
            for completion in model.completions.window(start, now, include_end=True):
                aggs[completion.agent].add_completion(completion)
            for agent_id, agg in aggs.items():
                agg.add_status_seconds(model.status_seconds(agent_id, start, now))
            self._agent_aggs[period] = aggs
        return aggs

    # ----------------------------------------------------------------- entities
    def queue_values(self, queue_id: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        config = self.tenant.queue_by_id[queue_id]
        enabled = [self.snapshots[agent_id] for agent_id in self.model.enabled_agent_ids(queue_id)]
        everyone = self.snapshots.values()
        waiting = self.model.waiting(queue_id)
        longest_now = max((ms(self.now) - ms(w.entered) for w in waiting), default=0)
        status_count = _counter(enabled)
        rt: dict[str, Any] = {
            "availableIdle": status_count(AgentStatus.AVAILABLE),
            "busy": status_count(AgentStatus.BUSY),
            "busyExternal": 0,
            "busyOther": sum(
                1 for s in enabled if s.status is AgentStatus.BUSY and s.queue_id != queue_id
            ),
            "eligible": sum(
                1
                for s in enabled
                if s.status not in (AgentStatus.WORKING_OFFLINE, AgentStatus.LOGGED_OUT)
            ),
            "enabled": len(enabled),
            "handling": sum(
                1 for s in everyone if s.status is AgentStatus.BUSY and s.queue_id == queue_id
            ),
            "interactionsWaitInQueue": len(waiting),
            "interactionsLongestWaitInQueue": longest_now,
            "offering": status_count(AgentStatus.OFFERING),
            "onBreak": status_count(AgentStatus.ON_BREAK),
            "workingOffline": status_count(AgentStatus.WORKING_OFFLINE),
            "wrapUp": status_count(AgentStatus.WRAP_UP),
            "interactionsWrapUp": sum(
                1 for s in everyone if s.status is AgentStatus.WRAP_UP and s.queue_id == queue_id
            ),
        }
        rt["interactionsHandling"] = rt["handling"]
        values: dict[str, Any] = {}
        for key in keys if keys is not None else known_keys("queues"):
            name, period = key.split(".", 1)
            if period == "rt":
                values[key] = rt[name]
            elif name == "slaPercentageTarget":
                values[key] = str(config.sla_target_percent)
            elif name == "slaTimeThreshold":
                values[key] = str(config.sla_threshold_seconds * 1000)
            elif name == "slaPercentage":
                values[key] = sla_percentage(self.sla_aggs(period)[queue_id])
            elif name == "interactionsLongestWaitInQueue":
                values[key] = max(self.queue_aggs(period)[queue_id].longest_wait_ms, longest_now)
            else:
                values[key] = _QUEUE_PERIOD[name](self.queue_aggs(period)[queue_id])
        return values

    def group_values(self, group_id: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        members = [
            self.snapshots[agent_id] for agent_id in self.tenant.group_by_id[group_id].agent_ids
        ]
        status_count = _counter(members)
        rt = {
            "availableIdle": status_count(AgentStatus.AVAILABLE),
            "eligible": sum(
                1
                for s in members
                if s.status not in (AgentStatus.WORKING_OFFLINE, AgentStatus.LOGGED_OUT)
            ),
            "enabled": len(members),
            "handling": status_count(AgentStatus.BUSY),
            "onBreak": status_count(AgentStatus.ON_BREAK),
            "workingOffline": status_count(AgentStatus.WORKING_OFFLINE),
            "wrapUp": status_count(AgentStatus.WRAP_UP),
        }
        return {
            key: rt[key.split(".", 1)[0]]
            for key in (keys if keys is not None else GROUP_METRIC_KEYS)
        }

    def agent_values(self, agent_id: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        snapshot = self.snapshots[agent_id]
        now = self.now
        logged_in = snapshot.status is not AgentStatus.LOGGED_OUT
        login_ms = (
            ms(now) - ms(snapshot.last_login)
            if logged_in and snapshot.last_login is not None
            else 0
        )
        rt: dict[str, Any] = {
            "alerting": 1 if snapshot.status is AgentStatus.OFFERING else 0,
            "lastLogin": iso_utc(snapshot.last_login) if snapshot.last_login is not None else None,
            "lastLogout": iso_utc(snapshot.last_logout)
            if snapshot.last_logout is not None
            else None,
            "line1Status": snapshot.line_status,
            "line1TimeOnStatus": ms(now) - ms(snapshot.line_since),
            "line2Status": "Idle",
            "line2TimeOnStatus": login_ms,
            "loggedInTime": login_ms,
            "status": snapshot.status.value,
            "statusCode": snapshot.status_code,
            "timeOnStatus": ms(now) - ms(snapshot.since),
        }
        values: dict[str, Any] = {}
        for key in keys if keys is not None else AGENT_METRIC_KEYS:
            parts = key.split(".")
            name, period = parts[0], parts[1]
            if period == "rt":
                values[key] = rt[name]
            elif name in _AGENT_ZERO:
                values[key] = 0
            else:
                values[key] = _AGENT_PERIOD[name](self.agent_aggs(period)[agent_id])
        return values

    def values(
        self, kind: str, entity_id: str, keys: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        if kind == "queues":
            return self.queue_values(entity_id, keys)
        if kind == "groups":
            return self.group_values(entity_id, keys)
        return self.agent_values(entity_id, keys)


def _counter(snapshots: Any) -> Callable[[AgentStatus], int]:
    counts: dict[AgentStatus, int] = {}
    for snapshot in snapshots:
        counts[snapshot.status] = counts.get(snapshot.status, 0) + 1
    return lambda status: counts.get(status, 0)
