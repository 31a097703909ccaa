"""Agents of each PBX by status from `/v2/pbxes/{pbxId}/agent-activity`, and per agent (only
with `per_agent: true`) their status, its time and the interaction metrics of the last 24 h.

Exposition (polled every 30 s by default; durations in seconds, percentages as ratios):

    eightbyeight_agents{pbx="acme-main",user_status="on_call"} 1.0
    eightbyeight_agents_by_activity_status{activity_status="available_idle",pbx="acme-main"} 1.0
    eightbyeight_agent_status{agent_id="user_1",pbx="acme-main",user_status="on_call"} 1.0
    eightbyeight_agent_status_time_seconds{agent_id="user_1",pbx="acme-main"} 2579.0
    eightbyeight_agent_logged_in_queues{agent_id="user_1",pbx="acme-main"} 2.0
    eightbyeight_agent_ongoing_talking_interactions{agent_id="user_1",pbx="acme-main"} 1.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from exporter.core.errors import CollectionError
from exporter.metrics.interactions import (
    ACTIVITY_STATUSES,
    INTERACTION_ALIASES,
    INTERACTION_METRICS,
    OTHER,
    USER_STATUS_TIME,
    USER_STATUSES,
    status_label,
)
from exporter.metrics.rendering import Family
from exporter.metrics.spec import FamilySet, MetricSpec, gauge
from exporter.metrics.units import convert, why_unusable
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.discovery import DirectorySource
from exporter.pollers.limits import SeriesBudget

ENDPOINT = "/v2/pbxes/{pbxId}/agent-activity"
SOURCE = "agent_activity"
AGENT_LABELS = ("pbx", "agent_id")

AGENTS = gauge(
    "eightbyeight_agents",
    "Agents of the PBX by userStatus (the vendor's word in lower snake case; every known "
    "status at 0 when none; unknown ones as other).",
    ("pbx", "user_status"),
    SOURCE,
)
AGENTS_BY_ACTIVITY = gauge(
    "eightbyeight_agents_by_activity_status",
    "Agents of the PBX by activityStatus (every known status at 0 when none; unknown ones as "
    "other).",
    ("pbx", "activity_status"),
    SOURCE,
)
AGENT_STATUS = gauge(
    "eightbyeight_agent_status",
    "The agent's userStatus as a state set: 1 for the current status, 0 for the others "
    "(per_agent: true only).",
    ("pbx", "agent_id", "user_status"),
    SOURCE,
)
AGENT_STATUS_TIME = MetricSpec(
    "eightbyeight_agent_status_time_seconds",
    "gauge",
    "Time the agent has been in its current userStatus (userStatusTime; per_agent: true only).",
    AGENT_LABELS,
    unit="duration",
    key=USER_STATUS_TIME,
    source=SOURCE,
)
AGENT_LOGGED_IN_QUEUES = gauge(
    "eightbyeight_agent_logged_in_queues",
    "Call queues the agent is logged in to (loggedInQueues; per_agent: true only).",
    AGENT_LABELS,
    SOURCE,
)
# Vendor key -> the per-agent family of the interaction table.
AGENT_INTERACTIONS: dict[str, MetricSpec] = {
    key: template.under(
        "eightbyeight_agent_",
        AGENT_LABELS,
        f"{SOURCE} (`{key}`)",
        template.help + " Per agent, per_agent: true only.",
    )
    for key, template in INTERACTION_METRICS.items()
}
SPECS: tuple[MetricSpec, ...] = (
    AGENTS,
    AGENTS_BY_ACTIVITY,
    AGENT_STATUS,
    AGENT_STATUS_TIME,
    AGENT_LOGGED_IN_QUEUES,
    *AGENT_INTERACTIONS.values(),
)
__all__ = ["SPECS", "AgentActivityPoller"]


class AgentActivityApi(Protocol):
    """What the poller needs of the API: see `exporter.api.live.LiveApi`."""

    def agent_activity(self, pbx_id: str, *, metrics: Sequence[str] = ()) -> list[Any]: ...


class AgentActivityPoller(Poller):
    """Agents by userStatus and activityStatus per PBX, one request per PBX and poll; per
    agent only when asked for, within `max_series`."""

    name = "agent_activity"
    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: AgentActivityApi,
        directory: DirectorySource,
        *,
        interval: float,
        per_agent: bool = False,
        max_series: int = 20_000,
        metrics: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.directory = directory
        self.interval = interval
        self.per_agent = per_agent
        self.max_series = max_series
        self.metrics = list(metrics)
        self.invalid = LeftOut(self.name)  # agent rows left out
        self.unusable = LeftOut(self.name)  # values left out, status words not known

    def collect(self) -> Sequence[Family]:
        directory = self.directory.directory
        if directory is None:
            raise CollectionError("the PBX directory has not been discovered yet")
        families = FamilySet(
            f" Polled from {ENDPOINT} (how often: eightbyeight_collector_interval_seconds)."
        )
        budget = SeriesBudget(self.name, self.max_series)
        for pbx in directory.pbxes:
            users = dict.fromkeys(map(status_label, USER_STATUSES), 0)
            activities = dict.fromkeys(map(status_label, ACTIVITY_STATUSES), 0)
            seen: set[str] = set()
            for row in self.client.agent_activity(pbx.id, metrics=self.metrics):
                agent_id = self._agent_id(row, pbx.name)
                # The example's shape lists an agent once per queue: the first one counts.
                if agent_id is None or agent_id in seen:
                    continue
                seen.add(agent_id)
                user = self._status(row, "userStatus", USER_STATUSES)
                activity = self._status(row, "activityStatus", ACTIVITY_STATUSES)
                if user is not None:
                    users[user] = users.get(user, 0) + 1
                if activity is not None:
                    activities[activity] = activities.get(activity, 0) + 1
                if self.per_agent:
                    self._agent(families, budget, pbx.name, agent_id, row, user)
            for status, count in users.items():
                families.add(AGENTS, (pbx.name, status), count)
            for status, count in activities.items():
                families.add(AGENTS_BY_ACTIVITY, (pbx.name, status), count)
        self.series = budget.finish(self.series)
        return tuple(families)

    def _agent_id(self, row: Any, pbx: str) -> str | None:
        if not isinstance(row, Mapping):
            self.invalid.add("agent_activity_invalid", "agent item not an object", pbx=pbx)
            return None
        agent_id = label_text(row.get("userId"))
        if not agent_id:
            self.invalid.add("agent_activity_invalid", "no userId", pbx=pbx)
            return None
        return agent_id

    def _status(self, row: Mapping[str, Any], key: str, known: tuple[str, ...]) -> str | None:
        """The label of a status word: known, `other` (logged once per key), or None when
        the agent has none (the spec's own example leaves out a userStatus)."""
        raw = row.get(key)
        if raw is None:
            return None
        word = raw.strip().upper() if isinstance(raw, str) else ""
        if word in known:
            return status_label(word)
        self.unusable.add("agent_status_unknown", key, value=label_text(raw)[:64])
        return OTHER

    def _agent(
        self,
        families: FamilySet,
        budget: SeriesBudget,
        pbx: str,
        agent_id: str,
        row: Mapping[str, Any],
        user: str | None,
    ) -> None:
        """One agent's series, all or none (so an agent is never half exported)."""
        labels = (pbx, agent_id)
        samples: list[tuple[MetricSpec, tuple[str, ...], float]] = []
        if user is not None:
            states = [*map(status_label, USER_STATUSES)] + ([OTHER] if user == OTHER else [])
            samples += [(AGENT_STATUS, (*labels, s), float(s == user)) for s in states]
        queues = row.get("loggedInQueues")
        if isinstance(queues, list):
            samples.append((AGENT_LOGGED_IN_QUEUES, labels, float(len(queues))))
        metrics = row.get("metrics")
        if isinstance(metrics, Mapping):
            samples += self._metrics(metrics, labels)
        elif metrics is not None:
            self.unusable.add("agent_value_unusable", "metrics not an object")
        if budget.take(len(samples)):
            for spec, sample_labels, value in samples:
                families.add(spec, sample_labels, value)

    def _metrics(
        self, metrics: Mapping[str, Any], labels: tuple[str, ...]
    ) -> list[tuple[MetricSpec, tuple[str, ...], float]]:
        samples: list[tuple[MetricSpec, tuple[str, ...], float]] = []
        done: set[str] = set()
        for key, raw in metrics.items():
            key = INTERACTION_ALIASES.get(key, key)
            spec = AGENT_STATUS_TIME if key == USER_STATUS_TIME else AGENT_INTERACTIONS.get(key)
            # A metric newer than this exporter is ignored; null is "no value" (the spec:
            # agentAverageTimeToAnswer is null when the agent answered nothing).
            if spec is None or key in done or raw is None:
                continue
            # Issue #18, point 1: agent durations are milliseconds.
            value = convert(spec.unit, raw, "milliseconds")
            if value is None:
                self.unusable.add("agent_value_unusable", key, type=why_unusable(raw))
                continue
            done.add(key)
            samples.append((spec, labels, value))
        return samples
