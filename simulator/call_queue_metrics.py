"""The call-queue metrics endpoints of Work Analytics: the current Call Queue Metric API
(`/v2/pbxes/{pbxId}/call-queue-metrics`, live and over a date range) and its deprecated realtime
predecessor (`/v2/call-queues/real-time/pbxes/{pbxId}`), both read from the live model."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import unquote

from .directory import Account, CallQueue, Pbx, Site
from .metrics import (
    CALL_QUEUE_METRIC_NAMES,
    REALTIME_METRIC_NAMES,
    WINDOW_METRICS,
    MetricValue,
    render_call_queue_metrics,
    render_realtime_metrics,
    unknown_metric_names,
)
from .model import DAY_SECONDS, QueueingModel
from .routing import AuthCheck, Request, Response, Router
from .stats import CallWindowStats, LiveQueueStats
from .work_analytics_requests import (
    WORK_ANALYTICS_PREFIX,
    BadRequest,
    WorkAnalyticsEndpoints,
    WorkAnalyticsSettings,
    boolean,
    id_list,
    name_list,
)


@dataclass(frozen=True, slots=True)
class _SelectedQueue:
    pbx: Pbx
    site: Site
    queue: CallQueue


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


class CallQueueMetricsApi(WorkAnalyticsEndpoints):
    """Handlers of the call-queue metrics, current and deprecated."""

    def __init__(
        self,
        *,
        account: Account,
        model: QueueingModel,
        clock: Callable[[], float],
        settings: WorkAnalyticsSettings,
    ) -> None:
        super().__init__(account=account, clock=clock, settings=settings)
        self.model = model

    def register(self, router: Router, auth: AuthCheck) -> None:
        base = re.escape(WORK_ANALYTICS_PREFIX)
        pbx = r"/v2/pbxes/(?P<pbx_id>[^/]+)"
        router.add("GET", base + pbx + r"/call-queue-metrics/?", self.call_queue_metrics, auth=auth)
        router.add(
            "GET",
            base + r"/v2/call-queues/real-time/pbxes/(?P<pbx_id>[^/]+)/?",
            self.realtime_call_queues,
            auth=auth,
        )

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
        pbx = self.pbx(match)
        if pbx is None or pbx.deleted:
            return self.forbidden(request, unquote(match["pbx_id"]))
        query = request.query
        unit = self.settings.cq_duration_unit
        aliases = self.settings.metric_aliases()
        # Served name -> the simulator's own (spec) metric name.
        served_names = {
            **{name: name for name in CALL_QUEUE_METRIC_NAMES if name not in aliases.values()},
            **aliases,
        }
        try:
            requested = name_list(query.get("metrics"))
            if requested is not None:
                unknown = unknown_metric_names(requested, served_names)
                if unknown:
                    raise BadRequest(f"Invalid Metrics Passed [{','.join(unknown)}].")
            include_summary = boolean("includeSummary", query.get("includeSummary"), True)
            window, entered_filter = self.report_window(query)
        except BadRequest as error:
            return self.error(request, 400, *error.messages)
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
            pbx, id_list(query.get("siteIds")), id_list(query.get("queueIds"))
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

    @staticmethod
    def report_window(
        query: dict[str, str],
    ) -> tuple[tuple[float, float] | None, Callable[[float], bool] | None]:
        """startDate/endDate (+ intraDayStart/intraDayEnd): the window and an entry-time filter,
        (None, None) without dates. Also read by /calls (aggregated_calls.py)."""
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
        pbx = self.pbx(match)
        if pbx is None or pbx.deleted:
            return self.forbidden(request, unquote(match["pbx_id"]))
        query = request.query
        try:
            names = name_list(query.get("metrics"))
            if names is not None:
                unknown = unknown_metric_names(names, REALTIME_METRIC_NAMES)
                if unknown:
                    raise BadRequest(f"Invalid Metrics Passed [{','.join(unknown)}].")
            include_summary = boolean("includeSummary", query.get("includeSummary"), True)
            selected = self._sorted_for_realtime(
                self._selected_queues(
                    pbx, id_list(query.get("siteIds")), id_list(query.get("queueIds"))
                ),
                query.get("sort") or None,
            )
        except BadRequest as error:
            return self.error(request, 400, *error.messages)
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
