"""Work Analytics' agent activity endpoints, read from the live model:
`/v2/pbxes/{pbxId}/queue-agent-activity` (per queue, every member with its queueStatus) and
`/v2/pbxes/{pbxId}/agent-activity` (per agent across its queues). Statuses and status times are
live; the interaction counts cover the calls that entered in the window (default: the last
24 hours), as call-queue-metrics' aggregates do."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .agent_activity_metrics import (
    AGENT_METRIC_NAMES,
    QUEUE_AGENT_METRIC_NAMES,
    QUEUE_STATUS_TIME,
    USER_STATUS_TIME,
    render_agent_metrics,
)
from .agent_activity_state import (
    ENGAGEMENT_ORDER,
    AgentInteractionStats,
    QueueInteractions,
    QueueStatus,
    UserStatus,
    queue_status,
    queue_status_ms,
    user_status,
    user_status_ms,
)
from .directory import Account, CallQueue, Pbx, QueueRole, Site
from .model import DAY_SECONDS, QueueingModel
from .model_state import AgentState, MemberState, QueueState
from .routing import AuthCheck, Request, Response, Router
from .work_analytics_requests import (
    WORK_ANALYTICS_PREFIX,
    BadRequest,
    WorkAnalyticsEndpoints,
    WorkAnalyticsSettings,
    boolean,
    id_list,
    name_list,
)

# startDate/endDate/intraDay* of a query -> ((start, end) or None, intra-day filter or None):
# call-queue-metrics' parser, so both endpoints read (and refuse) a window the same way.
WindowParser = Callable[
    [dict[str, str]], tuple[tuple[float, float] | None, Callable[[float], bool] | None]
]


@dataclass(frozen=True, slots=True)
class _MemberView:
    """One member of one queue at the instant of an answer."""

    member: MemberState
    queue_status: QueueStatus
    user_status: UserStatus
    stats: AgentInteractionStats


@dataclass(frozen=True, slots=True)
class _QueueView:
    site: Site
    queue: CallQueue
    state: QueueState
    members: list[_MemberView]


@dataclass(frozen=True, slots=True)
class _Query:
    user_ids: set[str] | None
    user_statuses: set[UserStatus] | None
    queue_statuses: set[QueueStatus] | None
    wanted: tuple[str, ...]
    include_summary: bool
    window: tuple[float, float] | None
    intra_day: Callable[[float], bool] | None


def _enum_set(
    label: str, raw: str | None, vocabulary: type[QueueStatus] | type[UserStatus]
) -> set[Any] | None:
    names = name_list(raw)
    if names is None:
        return None
    known = {member.value: member for member in vocabulary}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BadRequest(f"Invalid {label} Passed [{','.join(unknown)}].")
    return {known[name] for name in names}


def _interaction(agent: AgentState, queue: QueueState | None) -> dict[str, str] | None:
    """The incoming call ringing or answered by the agent (of `queue` only, unless None). The
    model knows no caller names: both fields carry the caller's number."""
    call = agent.call
    caller: object = agent.reserved_for
    if call is not None:
        caller = getattr(call, "caller", None)  # outbound calls have no caller
    journey = getattr(caller, "journey", None)
    if journey is None or (queue is not None and getattr(caller, "queue", None) is not queue):
        return None
    return {"caller": journey.external_number, "address": journey.external_number}


class AgentActivityApi(WorkAnalyticsEndpoints):
    """Handlers of the two agent activity endpoints."""

    def __init__(
        self,
        *,
        account: Account,
        model: QueueingModel,
        clock: Callable[[], float],
        settings: WorkAnalyticsSettings,
        report_window: WindowParser,
    ) -> None:
        super().__init__(account=account, clock=clock, settings=settings)
        self.model = model
        self.report_window = report_window

    def register(self, router: Router, auth: AuthCheck) -> None:
        pbx = re.escape(WORK_ANALYTICS_PREFIX) + r"/v2/pbxes/(?P<pbx_id>[^/]+)"
        router.add("GET", pbx + r"/queue-agent-activity/?", self.queue_agent_activity, auth=auth)
        router.add("GET", pbx + r"/agent-activity/?", self.agent_activity, auth=auth)

    def _parse(self, query: dict[str, str], names: tuple[str, ...], *, queue: bool) -> _Query:
        requested = name_list(query.get("metrics"))
        if requested is not None:
            unknown = [name for name in requested if name not in names]
            if unknown:
                raise BadRequest(f"Invalid Metrics Passed [{','.join(unknown)}].")
        user_statuses = _enum_set("User Statuses", query.get("userStatuses"), UserStatus)
        # /agent-activity documents no queueStatuses: ignored there, like any unknown parameter.
        queue_statuses = (
            _enum_set("Queue Statuses", query.get("queueStatuses"), QueueStatus) if queue else None
        )
        include_summary = boolean("includeSummary", query.get("includeSummary"), True)
        window, intra_day = self.report_window(query)
        return _Query(
            user_ids=id_list(query.get("userIds")),
            user_statuses=user_statuses,
            queue_statuses=queue_statuses,
            wanted=tuple(requested) if requested is not None else names,
            include_summary=include_summary,
            window=window,
            intra_day=intra_day,
        )

    def _queue_views(self, pbx: Pbx, query: dict[str, str], parsed: _Query) -> list[_QueueView]:
        """Every selected queue with all its members (filters apply later); model lock held."""
        site_ids, queue_ids = id_list(query.get("siteIds")), id_list(query.get("queueIds"))
        now = self.model.now
        start, end = parsed.window if parsed.window is not None else (now - DAY_SECONDS, now)
        views: list[_QueueView] = []
        for site in pbx.sites:
            if site.deleted or (site_ids is not None and site.id not in site_ids):
                continue
            for queue in site.queues:
                if queue.deleted or (queue_ids is not None and queue.id not in queue_ids):
                    continue
                state = self.model.runtime_queue(queue.id)
                interactions = QueueInteractions(state, now, start, end, parsed.intra_day)
                members = [
                    _MemberView(
                        member,
                        queue_status(member, state),
                        user_status(member),
                        interactions.of(member),
                    )
                    for member in state.members
                ]
                views.append(_QueueView(site, queue, state, members))
        return views

    def _start(
        self, request: Request, match: re.Match[str], names: tuple[str, ...], *, queue: bool
    ) -> tuple[Pbx, _Query] | Response:
        pbx = self.pbx(match)
        if pbx is None or pbx.deleted:
            return self.forbidden(request, unquote(match["pbx_id"]))
        try:
            return pbx, self._parse(request.query, names, queue=queue)
        except BadRequest as error:
            return self.error(request, 400, *error.messages)

    # ----------------------------------------------------------------- /queue-agent-activity
    def queue_agent_activity(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/pbxes/{pbxId}/queue-agent-activity: every selected queue (even with no agent
        left by the filters), its members in directory order, LOGGED_OUT ones included."""
        started = self._start(request, match, QUEUE_AGENT_METRIC_NAMES, queue=True)
        if isinstance(started, Response):
            return started
        pbx, parsed = started
        entries: list[dict[str, Any]] = []
        with self.model.lock:
            self.model.advance(self.clock())
            now = self.model.now
            for view in self._queue_views(pbx, request.query, parsed):
                agents: list[dict[str, Any]] = []
                listed: list[AgentInteractionStats] = []
                for item in view.members:
                    if not self._wanted(item.member.agent, item.user_status, parsed) or (
                        parsed.queue_statuses is not None
                        and item.queue_status not in parsed.queue_statuses
                    ):
                        continue
                    listed.append(item.stats)
                    agent = item.member.agent
                    entry: dict[str, Any] = {
                        "userId": agent.agent.id,
                        "agentExtension": agent.agent.extension,
                        "agentName": agent.agent.name,
                        "queueStatus": item.queue_status.value,
                        "userStatus": item.user_status.value,
                        "overflowAgent": item.member.role is QueueRole.OVERFLOW,
                    }
                    interaction = _interaction(agent, view.state)
                    if interaction is not None:
                        entry["interaction"] = interaction
                    entry["metrics"] = render_agent_metrics(
                        item.stats,
                        parsed.wanted,
                        {
                            QUEUE_STATUS_TIME: queue_status_ms(item.member, now),
                            USER_STATUS_TIME: user_status_ms(item.member, now),
                        },
                    )
                    agents.append(entry)
                queue_entry = self._queue_header(pbx, view)
                queue_entry["queueAgentActivity"] = agents
                if parsed.include_summary:
                    # The example's key (the schema says `summary`): contract of issue #18, 2.
                    queue_entry["metricsSummary"] = render_agent_metrics(
                        AgentInteractionStats.merge(listed), parsed.wanted
                    )
                entries.append(queue_entry)
        return Response.json(200, {"queuesAgentActivity": entries})

    @staticmethod
    def _queue_header(pbx: Pbx, view: _QueueView) -> dict[str, Any]:
        return {
            "pbx": pbx.name,
            "site": view.site.name,
            "queueId": view.queue.id,
            "queueExtension": view.queue.extension,
            "queueName": view.queue.name,
            "autoLogin": view.queue.auto_login,
        }

    @staticmethod
    def _wanted(agent: AgentState, status: UserStatus, parsed: _Query) -> bool:
        return (parsed.user_ids is None or agent.agent.id in parsed.user_ids) and (
            parsed.user_statuses is None or status in parsed.user_statuses
        )

    # ----------------------------------------------------------------- /agent-activity
    def agent_activity(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/pbxes/{pbxId}/agent-activity: every member of a selected queue once, its
        metrics summed over those queues. The schema's shape by default; with the setting
        `agent_activity_shape="example"` the spec example's (per queue, see README)."""
        started = self._start(request, match, AGENT_METRIC_NAMES, queue=False)
        if isinstance(started, Response):
            return started
        pbx, parsed = started
        with self.model.lock:
            self.model.advance(self.clock())
            now = self.model.now
            views = self._queue_views(pbx, request.query, parsed)
            by_agent: dict[str, list[tuple[_QueueView, _MemberView]]] = {}
            for view in views:
                for item in view.members:
                    by_agent.setdefault(item.member.agent.agent.id, []).append((view, item))
            agents: dict[str, tuple[dict[str, Any], AgentInteractionStats]] = {}
            for agent_id, memberships in by_agent.items():
                first = memberships[0][1]
                if not self._wanted(first.member.agent, first.user_status, parsed):
                    continue
                agents[agent_id] = self._agent_entry(memberships, parsed.wanted, now)
        if self.settings.agent_activity_shape == "example":
            return Response.json(200, self._example_shape(pbx, views, agents, parsed))
        body: dict[str, Any] = {"agentActivity": [entry for entry, _ in agents.values()]}
        if parsed.include_summary:
            body["summary"] = render_agent_metrics(
                AgentInteractionStats.merge(stats for _, stats in agents.values()), parsed.wanted
            )
        return Response.json(200, body)

    @staticmethod
    def _agent_entry(
        memberships: list[tuple[_QueueView, _MemberView]], wanted: tuple[str, ...], now: float
    ) -> tuple[dict[str, Any], AgentInteractionStats]:
        first = memberships[0][1]
        agent = first.member.agent
        statuses = {item.queue_status for _, item in memberships}
        stats = AgentInteractionStats.merge(item.stats for _, item in memberships)
        entry: dict[str, Any] = {
            "userId": agent.agent.id,
            "agentExtension": agent.agent.extension,
            "agentName": agent.agent.name,
            # The queues' extensions, as the spec's example shows ("1002"), not their ids.
            "loggedInQueues": [
                view.queue.extension
                for view, item in memberships
                if item.queue_status is not QueueStatus.LOGGED_OUT
            ],
            "userStatus": first.user_status.value,
            "activityStatus": next(s for s in ENGAGEMENT_ORDER if s in statuses).value,
        }
        interaction = _interaction(agent, None)
        if interaction is not None:
            entry["interaction"] = interaction
        entry["metrics"] = render_agent_metrics(
            stats, wanted, {USER_STATUS_TIME: user_status_ms(first.member, now)}
        )
        return entry, stats

    def _example_shape(
        self,
        pbx: Pbx,
        views: list[_QueueView],
        agents: dict[str, tuple[dict[str, Any], AgentInteractionStats]],
        parsed: _Query,
    ) -> dict[str, Any]:
        """The spec example's shape: one entry per queue listing its members' agent-level
        entries (so an agent of several queues appears under each: count agents by userId)."""
        entries: list[dict[str, Any]] = []
        for view in views:
            listed = [
                agents[item.member.agent.agent.id]
                for item in view.members
                if item.member.agent.agent.id in agents
            ]
            queue_entry = self._queue_header(pbx, view)
            queue_entry["agentActivity"] = [entry for entry, _ in listed]
            if parsed.include_summary:
                queue_entry["metricsSummary"] = render_agent_metrics(
                    AgentInteractionStats.merge(stats for _, stats in listed), parsed.wanted
                )
            entries.append(queue_entry)
        return {"queuesAgentActivity": entries}
