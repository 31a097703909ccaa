"""The agents of each call queue from `/v2/pbxes/{pbxId}/queue-agent-activity`: how many are
in each status, and (with `per_agent`) each agent's status and interaction metrics.

Exposition (polled every 30 s by default; durations in seconds, percentages as ratios):

    eightbyeight_queue_agents_by_queue_status{extension="6509967",pbx="acme-main",queue="Support",queue_id="X10000",queue_status="handling",site="SanJose"} 1.0
    eightbyeight_queue_agents_by_user_status{...,user_status="on_call"} 1.0
    eightbyeight_queue_logged_in_agents{...,role="primary"} 2.0
    eightbyeight_queue_agent_status{...,agent_id="user_1",queue_status="handling"} 1.0
    eightbyeight_queue_agent_user_status_time_seconds{...,agent_id="user_1"} 2579.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from exporter.config import Selection
from exporter.core.errors import CollectionError, MalformedResponseError
from exporter.metrics.queue_agents import (
    AGENT_OVERFLOW,
    AGENT_STATUS,
    ALIASES,
    LOGGED_OUT,
    OTHER,
    PER_AGENT,
    QUEUE_AGENTS,
    QUEUE_AGENTS_BY_USER_STATUS,
    QUEUE_LOGGED_IN_AGENTS,
    QUEUE_STATUSES,
    ROLES,
    SPECS,
    USER_STATUSES,
)
from exporter.metrics.rendering import Family
from exporter.metrics.spec import FamilySet
from exporter.metrics.units import convert, why_unusable
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.discovery import Directory, DirectorySource, Pbx
from exporter.pollers.limits import SeriesBudget

__all__ = ["SPECS", "AgentRow", "QueueAgentApi", "QueueAgentPoller", "status_word"]
ENDPOINT = "/v2/pbxes/{pbxId}/queue-agent-activity"
# Series of one queue's counts: every status word and `other`, twice, and the two roles.
QUEUE_SERIES = len(QUEUE_STATUSES) + len(USER_STATUSES) + 2 + len(ROLES)


class QueueAgentApi(Protocol):
    """What the poller needs of the Work Analytics client."""

    def queue_agent_activity(
        self,
        pbx_id: str,
        *,
        site_ids: Sequence[str] = ...,
        queue_ids: Sequence[str] = ...,
        metrics: Sequence[str] = ...,
        include_summary: bool = ...,
    ) -> Any: ...


def status_word(value: Any, known: Sequence[str]) -> str | None:
    """The label value of a vendor status word (`AVAILABLE_IDLE` -> `available_idle`), None
    for a word not in `known` (and for null, numbers, objects)."""
    if not isinstance(value, str):
        return None
    word = value.strip().upper()
    return word.lower() if word in known else None


@dataclass(frozen=True)
class AgentRow:
    """One agent of one queue as the answer gives it; statuses as label values."""

    agent_id: str
    queue_status: str
    user_status: str
    overflow: bool
    metrics: Mapping[str, Any]


@dataclass
class QueueAgents:
    labels: tuple[str, ...]  # QUEUE_LABELS
    agents: list[AgentRow] = field(default_factory=list)


class QueueAgentPoller(Poller):
    """Agents per queue and status for every watched PBX: one request per PBX and poll."""

    name = "queue_agents"
    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: QueueAgentApi,
        directory: DirectorySource,
        *,
        interval: float,
        sites: Sequence[str] = (),
        queues: Sequence[str] = (),
        metrics: Sequence[str] = (),
        include_summary: bool = False,
        per_agent: bool = False,
        select: Selection = Selection(),
        max_series: int = 20_000,
    ) -> None:
        self.client = client
        self.directory = directory
        self.interval = interval
        self.site_refs = list(sites)
        self.queue_refs = list(queues)
        self.metrics = list(metrics)
        # The API's summary is not read: the counts are summed here from the agents.
        self.include_summary = include_summary
        self.per_agent = per_agent
        self.select = select
        self.max_series = max_series
        self.invalid = LeftOut(self.name)  # queue entries and agent rows left out
        self.unusable = LeftOut(self.name)  # unknown status words, values that are no numbers

    def collect(self) -> Sequence[Family]:
        directory = self.directory.directory
        if directory is None:
            raise CollectionError("the PBX directory has not been discovered yet")
        found: list[QueueAgents] = []
        for pbx in directory.pbxes:
            filters = directory.filter_ids(pbx.id, self.site_refs, self.queue_refs)
            if filters is None:
                continue
            site_ids, queue_ids = filters
            body = self.client.queue_agent_activity(
                pbx.id,
                site_ids=site_ids,
                queue_ids=queue_ids,
                metrics=self.metrics,
                include_summary=self.include_summary,
            )
            found.extend(self._read(directory, pbx, body, site_ids, queue_ids))
        families = FamilySet(
            f" Polled from {ENDPOINT} (how often: eightbyeight_collector_interval_seconds)."
        )
        budget = SeriesBudget(self.name, self.max_series)
        # The counts of every queue first: per-agent series never crowd them out.
        kept = [queue for queue in found if budget.take(QUEUE_SERIES)]
        for queue in kept:
            self._add_counts(families, queue)
        if self.per_agent:
            for queue in kept:
                for agent in queue.agents:
                    self._add_agent(families, budget, queue.labels, agent)
        self.series = budget.finish(self.series)
        return tuple(families)

    def _read(
        self, directory: Directory, pbx: Pbx, body: Any, site_ids: list[str], queue_ids: list[str]
    ) -> list[QueueAgents]:
        # A missing list is another shape, not "no queues": fail, keep the last data.
        if not isinstance(body, Mapping) or not isinstance(body.get("queuesAgentActivity"), list):
            raise MalformedResponseError(ENDPOINT, "answer has no queuesAgentActivity list")
        queues: dict[tuple[str, ...], QueueAgents] = {}
        unplaced: set[str] = set()  # directory queues an unidentified entry may be
        for item in body["queuesAgentActivity"]:
            labels = self._queue_labels(directory, pbx, item, unplaced)
            if labels is None:
                continue
            if labels in queues:
                self.invalid.add("queue_agents_invalid", "queue listed twice", pbx=pbx.name)
                continue
            if self.select.keeps(labels[2], labels[3], labels[4]):
                queues[labels] = QueueAgents(labels, self._agents(pbx, item))
        # A queue of the directory the answer leaves out has no agents (the filters apply).
        listed = {labels[4] for labels in queues}
        for queue in directory.queues_of(pbx.id):
            if queue.id in listed or (site_ids and queue.site_id not in site_ids):
                continue
            if queue.id in unplaced:
                # Its agents may be in the entry left out: no zeros that would say that
                # nobody is logged in to it (and page someone).
                continue
            if queue_ids and queue.id not in queue_ids:
                continue
            labels = (pbx.name, directory.site_name(queue.site_id), queue.name, queue.extension)
            labels = (*labels, queue.id)
            if labels not in queues and self.select.keeps(labels[2], labels[3], labels[4]):
                queues[labels] = QueueAgents(labels)
        return list(queues.values())

    def _queue_labels(
        self, directory: Directory, pbx: Pbx, item: Any, unplaced: set[str]
    ) -> tuple[str, ...] | None:
        """QUEUE_LABELS of an answer's queue, as call_queues makes them: the answer's own
        name, extension and site, the directory's site when the answer has none. An entry
        without queueId that the directory cannot tell apart (two queues of one name) is left
        out, and the queues it may be go to `unplaced`."""
        if not isinstance(item, Mapping):
            self.invalid.add("queue_agents_invalid", "queue entry not an object", pbx=pbx.name)
            return None
        name = label_text(item.get("queueName"))
        extension = label_text(item.get("queueExtension"))
        queue_id = label_text(item.get("queueId"))
        site = label_text(item.get("site"))
        if not (name or extension or queue_id):
            self.invalid.add("queue_agents_invalid", "no id, name or extension", pbx=pbx.name)
            return None
        if not queue_id:
            known = directory.find_queue(pbx.id, name=name, extension=extension)
            if known is None and site:
                same = [
                    q
                    for q in directory.queues_of(pbx.id)
                    if q.name == name and directory.site_name(q.site_id) == site
                ]
                known = same[0] if len(same) == 1 else None
            if known is None:
                self.invalid.add("queue_agents_invalid", "queue not identified", pbx=pbx.name)
                unplaced.update(
                    q.id
                    for q in directory.queues_of(pbx.id)
                    if q.name == name or (extension and q.extension == extension)
                )
                return None
            queue_id = known.id
        known_queue = directory.queues.get(queue_id)
        if known_queue is not None:  # what the answer leaves out, from the directory
            site = site or directory.site_name(known_queue.site_id)
            name = name or known_queue.name
            extension = extension or known_queue.extension
        return (pbx.name, site, name, extension, queue_id)

    def _agents(self, pbx: Pbx, item: Mapping[str, Any]) -> list[AgentRow]:
        rows = item.get("queueAgentActivity")
        if rows is None:  # null: no agents
            return []
        if not isinstance(rows, list):
            self.invalid.add("queue_agents_invalid", "queueAgentActivity not a list", pbx=pbx.name)
            return []
        agents: list[AgentRow] = []
        seen: set[str] = set()
        for row in rows:
            agent = self._agent(pbx, row)
            if agent is None:
                continue
            if agent.agent_id and agent.agent_id in seen:
                self.invalid.add("queue_agents_invalid", "agent listed twice", pbx=pbx.name)
                continue
            seen.add(agent.agent_id)
            agents.append(agent)
        return agents

    def _agent(self, pbx: Pbx, row: Any) -> AgentRow | None:
        if not isinstance(row, Mapping):
            self.invalid.add("queue_agents_invalid", "agent row not an object", pbx=pbx.name)
            return None
        metrics = row.get("metrics")
        if metrics is not None and not isinstance(metrics, Mapping):
            self.invalid.add("queue_agents_invalid", "metrics not an object", pbx=pbx.name)
            metrics = None
        # Only `true` (or "true") is an overflow agent; anything else counts as primary.
        overflow = row.get("overflowAgent")
        return AgentRow(
            agent_id=label_text(row.get("userId")),
            queue_status=self._status(row, "queueStatus", QUEUE_STATUSES),
            user_status=self._status(row, "userStatus", USER_STATUSES),
            overflow=overflow is True or (isinstance(overflow, str) and overflow.lower() == "true"),
            metrics=metrics or {},
        )

    def _status(self, row: Mapping[str, Any], key: str, known: Sequence[str]) -> str:
        word = status_word(row.get(key), known)
        if word is not None:
            return word
        # Logged once per key in the poller's life (not per word: the words an API may send
        # are unbounded), counted every time.
        self.unusable.add("queue_agents_status_unknown", key, value=label_text(row.get(key))[:64])
        return OTHER

    def _add_counts(self, families: FamilySet, queue: QueueAgents) -> None:
        by_queue_status = dict.fromkeys([w.lower() for w in QUEUE_STATUSES] + [OTHER], 0)
        by_user_status = dict.fromkeys([w.lower() for w in USER_STATUSES] + [OTHER], 0)
        logged_in = dict.fromkeys(ROLES, 0)
        for agent in queue.agents:
            by_queue_status[agent.queue_status] += 1
            by_user_status[agent.user_status] += 1
            if agent.queue_status != LOGGED_OUT.lower():
                logged_in["overflow" if agent.overflow else "primary"] += 1
        for spec, counts in (
            (QUEUE_AGENTS, by_queue_status),
            (QUEUE_AGENTS_BY_USER_STATUS, by_user_status),
            (QUEUE_LOGGED_IN_AGENTS, logged_in),
        ):
            for word, count in counts.items():
                families.add(spec, [*queue.labels, word], count)

    def _add_agent(
        self, families: FamilySet, budget: SeriesBudget, labels: tuple[str, ...], agent: AgentRow
    ) -> None:
        if not agent.agent_id:
            self.invalid.add("queue_agents_invalid", "agent without userId", pbx=labels[0])
            return
        values = []
        done: set[str] = set()
        for raw_key, raw in agent.metrics.items():
            key = ALIASES.get(raw_key, raw_key)
            spec = PER_AGENT.get(key)
            # A metric newer than this exporter is ignored; null is "no value" (an average
            # over no interactions), not an error.
            if spec is None or key in done or raw is None:
                continue
            # Issue #18: every agent duration is in ms.
            value = convert(spec.unit, raw, "milliseconds")
            if value is None:
                self.unusable.add("queue_agents_value_unusable", key, type=why_unusable(raw))
                continue
            done.add(key)
            values.append((spec, value))
        states = [w.lower() for w in QUEUE_STATUSES] + [OTHER]
        if not budget.take(len(states) + 1 + len(values)):
            return
        agent_labels = [*labels, agent.agent_id]
        for state in states:
            families.add(AGENT_STATUS, [*agent_labels, state], float(state == agent.queue_status))
        families.add(AGENT_OVERFLOW, agent_labels, float(agent.overflow))
        for spec, value in values:
            families.add(spec, agent_labels, value)
