"""The 8x8 Work Analytics endpoints under /analytics/work: OAuth token, Customer Data (HAL
pages), the call-queue metrics API and its deprecated realtime predecessor."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import quote, unquote

from . import vendor_errors
from .auth import TokenCheck, TokenStore
from .directory import Account, Agent, CallQueue, Pbx, Site
from .metrics import (
    CALL_QUEUE_METRIC_NAMES,
    REALTIME_METRIC_NAMES,
    WINDOW_METRICS,
    DurationUnit,
    MetricValue,
    render_call_queue_metrics,
    render_realtime_metrics,
    unknown_metric_names,
)
from .model import DAY_SECONDS, QueueingModel
from .routing import Request, Response, Router
from .stats import CallWindowStats, LiveQueueStats

WORK_ANALYTICS_PREFIX = "/analytics/work"
MAX_PAGE_SIZE = 100  # "A value between 1 and 100 is supported." (Customer Data spec)


class BadRequest(Exception):
    """A query the vendor would refuse with 400 ErrorResponse."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True, slots=True)
class WorkAnalyticsSettings:
    """Credentials and the vendor-conflict choices of the Work Analytics endpoints."""

    api_key: str
    username: str
    password: str
    page_size_default: int
    cq_duration_unit: DurationUnit
    # The Customer Data spec disagrees with itself on these two names; the schema wins by default.
    agents_list_key: str = "queueList"  # AgentsResponsePage schema; its example says "agentList"
    queue_extension_key: str = "extensionNumber"  # CallQueue schema; its examples say "extension"
    # The Call Queue Metric API spec says "diverted", a guide "divertedCalls".
    diverted_metric_name: str = "diverted"
    # QueueMetrics.extension is a string in the schema and a number in the spec's example.
    cq_extension_type: str = "string"

    def metric_aliases(self) -> dict[str, str]:
        """Served metric name -> the simulator's (spec) name, for names that are renamed."""
        return (
            {}
            if self.diverted_metric_name == "diverted"
            else {self.diverted_metric_name: "diverted"}
        )


@dataclass(frozen=True, slots=True)
class _SelectedQueue:
    pbx: Pbx
    site: Site
    queue: CallQueue


def _id_list(value: str | None) -> set[str] | None:
    if value is None:
        return None
    ids = {part.strip() for part in value.split(",") if part.strip()}
    return ids or None


def _name_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names: list[str] = []
    for part in value.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names or None


def _boolean(name: str, value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BadRequest(f"Invalid value [{value}] for parameter [{name}]: expected true or false.")


def _instant(name: str, value: str) -> float:
    text = value.strip()
    # An unencoded "+" of an offset arrives as a space ("...T00:00:00 02:00"): restore it.
    text = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"Invalid {name} [{value}]: expected an ISO 8601 date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # no offset: read as UTC
    return moment.timestamp()


def _second_of_day_utc(name: str, value: str) -> int:
    text = re.sub(r"^(\d{2}:\d{2}(?::\d{2})?) (\d{2}:?\d{2})$", r"\1+\2", value.strip())
    try:
        moment = time.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"Invalid {name} [{value}]: expected an ISO 8601 time such as 08:00:00-0700."
        ) from None
    offset = moment.utcoffset()
    offset_seconds = int(offset.total_seconds()) if offset is not None else 0
    return (moment.hour * 3600 + moment.minute * 60 + moment.second - offset_seconds) % 86_400


class WorkAnalyticsApi:
    """Handlers of the Work Analytics API (base URL https://api.8x8.com/analytics/work)."""

    def __init__(
        self,
        *,
        account: Account,
        model: QueueingModel,
        tokens: TokenStore,
        clock: Callable[[], float],
        settings: WorkAnalyticsSettings,
        root_url: Callable[[Request], str],
    ) -> None:
        self.account = account
        self.model = model
        self.tokens = tokens
        self.clock = clock
        self.settings = settings
        self._root_url = root_url

    def register(self, router: Router) -> None:
        base = re.escape(WORK_ANALYTICS_PREFIX)
        pbx = r"/v2/pbxes/(?P<pbx_id>[^/]+)"
        auth = self.authenticate
        router.add("POST", base + r"/v1/oauth/token", self.issue_token)
        router.add("GET", base + r"/v2/pbxes/?", self.list_pbxes, auth=auth)
        router.add("GET", base + pbx + r"/sites/?", self.list_sites, auth=auth)
        router.add(
            "GET",
            base + pbx + r"/sites/(?P<site_id>[^/]+)/queues/?",
            self.list_site_queues,
            auth=auth,
        )
        router.add("GET", base + pbx + r"/queues/?", self.list_pbx_queues, auth=auth)
        router.add("GET", base + pbx + r"/agents/?", self.list_agents, auth=auth)
        router.add("GET", base + pbx + r"/call-queue-metrics/?", self.call_queue_metrics, auth=auth)
        router.add(
            "GET",
            base + r"/v2/call-queues/real-time/pbxes/(?P<pbx_id>[^/]+)/?",
            self.realtime_call_queues,
            auth=auth,
        )

    # ----------------------------------------------------------------- auth
    def issue_token(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("8x8-apikey") != self.settings.api_key:
            return vendor_errors.invalid_api_key()
        form = request.form()
        if (
            form.get("username") != self.settings.username
            or form.get("password") != self.settings.password
        ):
            return vendor_errors.invalid_grant()
        token = self.tokens.issue(self.settings.username, self.clock())
        # expires_in is an integer here; the Contact Center token API sends a string instead.
        return Response.json(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": self.tokens.ttl_seconds},
        )

    def authenticate(self, request: Request) -> Response | None:
        """Both headers are required: the API key first (400), then the bearer token (401)."""
        if request.headers.get("8x8-apikey") != self.settings.api_key:
            return vendor_errors.invalid_api_key()
        scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return vendor_errors.token_unreadable()
        check = self.tokens.check(token, self.clock())
        if check is TokenCheck.UNKNOWN:
            return vendor_errors.token_unreadable()
        if check is TokenCheck.EXPIRED:
            return vendor_errors.token_expired(token)
        return None

    # ----------------------------------------------------------------- helpers
    def _error(self, request: Request, status: int, *messages: str) -> Response:
        return vendor_errors.error_response(status, list(messages), request.path, self.clock())

    def _pbx(self, match: re.Match[str]) -> Pbx | None:
        return self.account.pbx(unquote(match["pbx_id"]))

    def _forbidden(self, request: Request, pbx_id: str) -> Response:
        return self._error(
            request,
            403,
            f"user [{self.settings.username}] does not have access to pbxId [{pbx_id}] to make this request.",
        )

    # ----------------------------------------------------------------- customer data
    def list_pbxes(self, request: Request, match: re.Match[str]) -> Response:
        return self._paged(
            request,
            self.account.pbxes,
            "pbxList",
            self._pbx_json,
            {"name": lambda p: p.name.lower()},
        )

    def list_sites(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self._pbx(match)
        if pbx is None:
            return self._error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        return self._paged(
            request, pbx.sites, "siteList", self._site_json, {"name": lambda s: s.name.lower()}
        )

    def list_site_queues(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self._pbx(match)
        if pbx is None:
            return self._error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        site_id = unquote(match["site_id"])
        site = next((s for s in pbx.sites if s.id == site_id), None)
        if site is None:
            return self._error(request, 404, f"Site [{site_id}] not found for pbx [{pbx.id}].")
        return self._paged(
            request, site.queues, "queueList", self._queue_json, self._queue_sort_keys()
        )

    def list_pbx_queues(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self._pbx(match)
        if pbx is None:
            return self._error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        queues = [queue for site in pbx.sites for queue in site.queues]
        return self._paged(request, queues, "queueList", self._queue_json, self._queue_sort_keys())

    def list_agents(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self._pbx(match)
        if pbx is None:
            return self._error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        sort_keys: dict[str, Callable[[Any], Any]] = {
            "name": lambda a: (a.first_name.lower(), a.last_name.lower()),
            "firstName": lambda a: a.first_name.lower(),
            "lastName": lambda a: a.last_name.lower(),
            "extension": lambda a: int(a.extension),
        }
        return self._paged(
            request, pbx.agents, self.settings.agents_list_key, self._agent_json, sort_keys
        )

    def _queue_sort_keys(self) -> dict[str, Callable[[Any], Any]]:
        # "Queues can be sorted also by extension."
        return {
            "name": lambda q: q.name.lower(),
            "extension": lambda q: int(q.extension),
            "extensionNumber": lambda q: int(q.extension),
        }

    @staticmethod
    def _pbx_json(pbx: Pbx) -> dict[str, Any]:
        return {"id": pbx.id, "name": pbx.name, "deleted": pbx.deleted}

    @staticmethod
    def _site_json(site: Site) -> dict[str, Any]:
        return {"id": site.id, "pbxId": site.pbx_id, "name": site.name, "deleted": site.deleted}

    def _queue_json(self, queue: CallQueue) -> dict[str, Any]:
        return {
            "id": queue.id,
            "pbxId": queue.pbx_id,
            "siteId": queue.site_id,
            self.settings.queue_extension_key: queue.extension,
            "name": queue.name,
            "deleted": queue.deleted,
        }

    @staticmethod
    def _agent_json(agent: Agent) -> dict[str, Any]:
        return {
            "id": agent.id,
            "pbxId": agent.pbx_id,
            "siteId": agent.site_id,
            "firstName": agent.first_name,
            "lastName": agent.last_name,
            "extension": agent.extension,
            "deleted": agent.deleted,
        }

    def _paged(
        self,
        request: Request,
        items: list[Any],
        list_key: str,
        to_json: Callable[[Any], dict[str, Any]],
        sort_keys: dict[str, Callable[[Any], Any]],
    ) -> Response:
        """A Spring-HATEOAS style page: _embedded list, _links, page metadata."""
        try:
            page = self._int_param(request, "page", 0, minimum=0)
            size = self._int_param(
                request, "size", self.settings.page_size_default, minimum=1, maximum=MAX_PAGE_SIZE
            )
            sort = request.query.get("sort") or None
            ordered = self._sorted(items, sort, sort_keys)
        except BadRequest as error:
            return self._error(request, 400, *error.messages)
        total = len(ordered)
        total_pages = math.ceil(total / size)
        chunk = ordered[page * size : (page + 1) * size]
        base = self._root_url(request) + request.path

        def href(number: int) -> dict[str, str]:
            query = f"page={number}&size={size}" + (
                f"&sort={quote(sort, safe=',')}" if sort else ""
            )
            return {"href": f"{base}?{query}"}

        links: dict[str, dict[str, str]] = {"first": href(0)}
        if page > 0:
            links["prev"] = href(min(page - 1, max(total_pages - 1, 0)))
        links["self"] = href(page)
        if page + 1 < total_pages:
            links["next"] = href(page + 1)
        links["last"] = href(max(total_pages - 1, 0))
        return Response.json(
            200,
            {
                "_embedded": {list_key: [to_json(item) for item in chunk]},
                "_links": links,
                "page": {
                    "size": size,
                    "totalElements": total,
                    "totalPages": total_pages,
                    "number": page,
                },
            },
        )

    @staticmethod
    def _int_param(
        request: Request, name: str, default: int, *, minimum: int, maximum: int | None = None
    ) -> int:
        raw = request.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(
                f"Invalid value [{raw}] for parameter [{name}]: expected an integer."
            ) from None
        if value < minimum:
            raise BadRequest(f"Parameter [{name}] must be greater than or equal to {minimum}.")
        if maximum is not None and value > maximum:
            raise BadRequest(f"Parameter [{name}] must be less than or equal to {maximum}.")
        return value

    @staticmethod
    def _sorted(
        items: list[Any], sort: str | None, sort_keys: dict[str, Callable[[Any], Any]]
    ) -> list[Any]:
        if not sort:
            return list(items)
        field, _, direction = sort.partition(",")
        field = field.strip()
        direction = direction.strip().upper() or "ASC"
        if field not in sort_keys:
            raise BadRequest(
                f"Invalid sort property [{field}]; supported: {', '.join(sorted(sort_keys))}."
            )
        if direction not in ("ASC", "DESC"):
            raise BadRequest(f"Invalid sort direction [{direction}]; supported: ASC, DESC.")
        return sorted(items, key=sort_keys[field], reverse=direction == "DESC")

    # ----------------------------------------------------------------- call-queue metrics
    def _selected_queues(
        self, pbx: Pbx, site_ids: set[str] | None, queue_ids: set[str] | None
    ) -> list[_SelectedQueue]:
        # Deleted sites and queues are never reported: the model does not run them.
        return [
            _SelectedQueue(pbx, site, queue)
            for site in pbx.sites
            if not site.deleted and (site_ids is None or site.id in site_ids)
            for queue in site.queues
            if not queue.deleted and (queue_ids is None or queue.id in queue_ids)
        ]

    def call_queue_metrics(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/pbxes/{pbxId}/call-queue-metrics (the current Call Queue Metric API)."""
        pbx = self._pbx(match)
        if pbx is None or pbx.deleted:
            return self._forbidden(request, unquote(match["pbx_id"]))
        query = request.query
        unit = self.settings.cq_duration_unit
        aliases = self.settings.metric_aliases()
        # Served name -> the simulator's own (spec) metric name.
        served_names = {
            **{name: name for name in CALL_QUEUE_METRIC_NAMES if name not in aliases.values()},
            **aliases,
        }
        try:
            requested = _name_list(query.get("metrics"))
            if requested is not None:
                unknown = unknown_metric_names(requested, served_names)
                if unknown:
                    raise BadRequest(f"Invalid Metrics Passed [{','.join(unknown)}].")
            include_summary = _boolean("includeSummary", query.get("includeSummary"), True)
            window, entered_filter = self._report_window(query)
        except BadRequest as error:
            return self._error(request, 400, *error.messages)
        wanted = (
            tuple(served_names[name] for name in requested)
            if requested is not None
            else CALL_QUEUE_METRIC_NAMES
        )
        if window is not None:
            # A date range asks for a report: the ongoing (live) metrics do not apply to it.
            wanted = tuple(name for name in wanted if name in WINDOW_METRICS)
        renamed = {internal: served for served, internal in aliases.items()}

        def served(metrics: dict[str, MetricValue]) -> dict[str, MetricValue]:
            return (
                {renamed.get(name, name): value for name, value in metrics.items()}
                if renamed
                else metrics
            )

        extension_as_number = self.settings.cq_extension_type == "integer"
        selected = self._selected_queues(
            pbx, _id_list(query.get("siteIds")), _id_list(query.get("queueIds"))
        )
        live_parts: list[LiveQueueStats] = []
        window_parts: list[CallWindowStats] = []
        call_queues: list[dict[str, Any]] = []
        with self.model.lock:
            self.model.advance(self.clock())
            now = self.model.now
            start, end = window if window is not None else (now - DAY_SECONDS, now)
            for item in selected:
                live = self.model.live_stats(item.queue.id) if window is None else None
                aggregates = self.model.window_stats(
                    item.queue.id, start, end, entered_filter=entered_filter
                )
                if live is not None:
                    live_parts.append(live)
                window_parts.append(aggregates)
                call_queues.append(
                    {
                        "pbx": item.pbx.name,
                        "site": item.site.name,
                        "id": item.queue.id,
                        "name": item.queue.name,
                        "autoLogin": item.queue.auto_login,
                        # A string by the QueueMetrics schema; a number in the spec's example.
                        "extension": int(item.queue.extension)
                        if extension_as_number
                        else item.queue.extension,
                        "metrics": served(
                            render_call_queue_metrics(live, aggregates, unit, wanted)
                        ),
                    }
                )
        body: dict[str, Any] = {"callQueues": call_queues}
        if include_summary:
            summary_live = LiveQueueStats.merge(live_parts) if window is None else None
            body["metricsSummary"] = served(
                render_call_queue_metrics(
                    summary_live, CallWindowStats.merge(window_parts), unit, wanted
                )
            )
        return Response.json(200, body)

    def _report_window(
        self, query: dict[str, str]
    ) -> tuple[tuple[float, float] | None, Callable[[float], bool] | None]:
        start_raw, end_raw = query.get("startDate") or None, query.get("endDate") or None
        intra_start_raw, intra_end_raw = (
            query.get("intraDayStart") or None,
            query.get("intraDayEnd") or None,
        )
        if (start_raw is None) != (end_raw is None):
            raise BadRequest(
                "If startDate is entered, endDate is required as well."
                if start_raw is not None
                else "If endDate is entered, startDate is required as well."
            )
        if (intra_start_raw is None) != (intra_end_raw is None):
            raise BadRequest("intraDayStart and intraDayEnd must be passed together.")
        if start_raw is None or end_raw is None:
            if intra_start_raw is not None:
                raise BadRequest(
                    "intraDayStart/intraDayEnd can only be passed with startDate/endDate."
                )
            return None, None
        start, end = _instant("startDate", start_raw), _instant("endDate", end_raw)
        if start >= end:
            raise BadRequest("startDate must be before endDate.")
        if intra_start_raw is None or intra_end_raw is None:
            return (start, end), None
        day_start = _second_of_day_utc("intraDayStart", intra_start_raw)
        day_end = _second_of_day_utc("intraDayEnd", intra_end_raw)

        def within_intra_day(entered_at: float) -> bool:
            second = int(entered_at) % 86_400
            if day_start <= day_end:
                return day_start <= second < day_end
            return second >= day_start or second < day_end  # the range spans midnight (in UTC)

        return (start, end), within_intra_day

    # ----------------------------------------------------------------- deprecated realtime API
    def realtime_call_queues(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/call-queues/real-time/pbxes/{pbxId} (deprecated; durations in ms; no queue id)."""
        pbx = self._pbx(match)
        if pbx is None or pbx.deleted:
            return self._forbidden(request, unquote(match["pbx_id"]))
        query = request.query
        try:
            names = _name_list(query.get("metrics"))
            if names is not None:
                unknown = unknown_metric_names(names, REALTIME_METRIC_NAMES)
                if unknown:
                    raise BadRequest(f"Invalid Metrics Passed [{','.join(unknown)}].")
            include_summary = _boolean("includeSummary", query.get("includeSummary"), True)
            selected = self._sorted_for_realtime(
                self._selected_queues(
                    pbx, _id_list(query.get("siteIds")), _id_list(query.get("queueIds"))
                ),
                query.get("sort") or None,
            )
        except BadRequest as error:
            return self._error(request, 400, *error.messages)
        wanted = tuple(names) if names is not None else REALTIME_METRIC_NAMES
        parts: list[LiveQueueStats] = []
        call_queues: list[dict[str, Any]] = []
        with self.model.lock:
            self.model.advance(self.clock())
            for item in selected:
                live = self.model.live_stats(item.queue.id)
                parts.append(live)
                call_queues.append(
                    {
                        "name": item.queue.name,
                        "extension": item.queue.extension,
                        "pbx": item.pbx.name,
                        "site": item.site.name,
                        "metrics": render_realtime_metrics(live, wanted),
                    }
                )
        body: dict[str, Any] = {"callQueues": call_queues}
        if include_summary:
            body["metricsSummary"] = render_realtime_metrics(LiveQueueStats.merge(parts), wanted)
        return Response.json(200, body)

    @staticmethod
    def _sorted_for_realtime(
        selected: list[_SelectedQueue], sort: str | None
    ) -> list[_SelectedQueue]:
        """The guide: "Sorting strategy: by site, name or extensions, ascending(asc) or descending(desc)"."""
        if not sort:
            return selected
        field, _, direction = sort.partition(",")
        field = field.strip().lower()
        direction = direction.strip().lower() or "asc"
        keys: dict[str, Callable[[_SelectedQueue], Any]] = {
            "site": lambda item: (item.site.name.lower(), item.queue.name.lower()),
            "name": lambda item: item.queue.name.lower(),
            "extension": lambda item: int(item.queue.extension),
            "extensions": lambda item: int(item.queue.extension),
        }
        if field not in keys:
            raise BadRequest(f"Invalid sort property [{field}]; supported: site, name, extension.")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction [{direction}]; supported: asc, desc.")
        return sorted(selected, key=keys[field], reverse=direction == "desc")
