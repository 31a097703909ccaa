"""`GET /v2/pbxes/{pbxId}/calls` of Work Analytics (the spec's "Get Aggregated Calls"): the
passages of calls through call queues and ring groups whose start is in the window, completed
or in progress, from the live model (the items themselves: aggregated_call_views.py).

Paging and sorting (contract of issue #18, point 4): the spec's `paging` and `sorting` query
objects arrive exploded as plain parameters `limit`, `startingAfter`, `latestSortingValue`,
`sortingField` and `sortingDirection`. The cursor is a value, not a position: the next page
holds the calls after (sortingField value, callId) = (latestSortingValue, startingAfter) in the
order asked, ties broken by callId in the same direction. So a page never depends on how the
list changed since the previous one: sorted by callId or startTime (which never change for a
call) a traversal sees every call of the window once, whatever completes meanwhile (calls that
start during it come first in DESC order, so are not seen; last in ASC order, so are).
stopTime (0 until the call completes) and handlingDuration (growing while a call is handled)
only ever increase: in ASC order a call already seen may come again after moving past the
cursor, none is lost; in DESC order none comes twice, and one not yet seen that moves ahead of
the cursor is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .aggregated_call_index import CompletedPassageIndex, Passage, choose_page
from .aggregated_call_views import AggregatedCallBuilder, CallView
from .call_queue_metrics import CallQueueMetricsApi
from .calls import ms
from .directory import Account
from .metrics import unknown_metric_names
from .model import DAY_SECONDS, QueueingModel
from .routing import AuthCheck, Request, Response, Router
from .work_analytics_requests import (
    WORK_ANALYTICS_PREFIX,
    BadRequest,
    WorkAnalyticsEndpoints,
    WorkAnalyticsSettings,
    id_list,
    name_list,
)

DEFAULT_LIMIT = 20  # the Paging schema's example; the spec gives no default
MAX_LIMIT = 1000  # the simulator's cap (the spec only says minimum 1)
SORTING_FIELDS = ("callId", "startTime", "stopTime", "handlingDuration")
SORTING_DIRECTIONS = ("ASC", "DESC")
DEFAULT_SORTING = ("callId", "ASC")  # both objects are "required" by the spec, defaults unknown

# The spec's table of the `metrics` parameter. The answer has no metrics: the names are checked
# (an unknown one is the vendor's 400, as for call-queue-metrics) and change nothing.
AGGREGATED_CALLS_METRIC_NAMES: tuple[str, ...] = tuple(
    """
    abandonedInHandlingCalls abandonedInHandlingCallsPercentage abandonedInWaitingCalls
    abandonedInWaitingCallsPercentage acceptedCalls activeCalls averageHandlingTime
    averageOnHoldTime averageTalkTime averageWaitingTime enteredCalls forwardedToVoiceMail
    completedCalls longestHandlingTime longestOnHoldTime longestTalkTime longestWaitingTime
    missedCalls missedCallsPercentage rejectedCalls rejectedCallsPercentage totalHandlingTime
    totalOnHoldTime totalTalkTime totalWaitingTime transferredToCallQueue
    transferredToExternalNumber transferredToRingGroup ongoingAvailableAgents
    ongoingAvgHandlingTime ongoingAvgTalkingTime ongoingAvgWaitingTime ongoingEligibleAgents
    ongoingEligibleOverflowAgents ongoingEligiblePrimaryAgents ongoingEnabledOverflowAgents
    ongoingEnabledPrimaryAgents ongoingHandlingCalls ongoingLoggedOutAndDndAgents
    ongoingLoggedOutAndDndOverflowAgents ongoingLongestHandlingTime ongoingLongestOnHoldTime
    ongoingLongestTalkingTime ongoingLongestWaitingTime ongoingOnHoldCalls ongoingOnHoldTime
    ongoingOverflowAgents ongoingOverflowWrappingUpAgents ongoingPrimaryWrappingUpAgents
    ongoingTalkingCalls ongoingTalkingTime ongoingTotalAgents ongoingTotalCalls
    ongoingTotalHandlingTime ongoingWaitingCalls ongoingWaitingTime ongoingWrappingUpAgents
    """.split()
)

SortValue = str | int | float


def _sort_value(field: str, body: dict[str, Any]) -> SortValue:
    value: SortValue = body[field]
    return value


def _parse_sort_value(field: str, text: str) -> SortValue:
    """latestSortingValue as the last item's value was written (JSON number text)."""
    try:
        if field in ("startTime", "stopTime"):
            return int(text.strip())
        if field == "handlingDuration":
            return float(text.strip())
    except ValueError:
        raise BadRequest(
            f"Invalid latestSortingValue [{text}] for sortingField [{field}]."
        ) from None
    return text


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The paging and sorting parameters of one request."""

    limit: int
    field: str
    descending: bool
    cursor: tuple[SortValue, str] | None  # (sorting value, callId) of the previous page's last

    @classmethod
    def parse(cls, query: dict[str, str]) -> PageRequest:
        limit_text = query.get("limit")
        if limit_text is None or limit_text == "":
            limit = DEFAULT_LIMIT
        else:
            try:
                limit = int(limit_text.strip())
            except ValueError:
                raise BadRequest(f"Invalid limit [{limit_text}]: expected an integer.") from None
            if not 1 <= limit <= MAX_LIMIT:
                raise BadRequest(
                    f"Invalid limit [{limit_text}]: must be between 1 and {MAX_LIMIT}."
                )
        field = query.get("sortingField") or DEFAULT_SORTING[0]
        if field not in SORTING_FIELDS:
            raise BadRequest(
                f"Invalid sortingField [{field}]; supported: {', '.join(SORTING_FIELDS)}."
            )
        # The Sorting schema also lists `sortingDirectionValue` (the enum): read as an alias.
        direction = (
            query.get("sortingDirection")
            or query.get("sortingDirectionValue")
            or DEFAULT_SORTING[1]
        )
        if direction not in SORTING_DIRECTIONS:
            raise BadRequest(f"Invalid sortingDirection [{direction}]; supported: ASC, DESC.")
        after = query.get("startingAfter") or None
        latest = query.get("latestSortingValue") or None
        cursor: tuple[SortValue, str] | None = None
        if field == "callId":
            if after is not None:
                cursor = (after, after)
            elif latest is not None:
                raise BadRequest("latestSortingValue needs startingAfter (the last callId).")
        elif after is not None or latest is not None:
            if after is None or latest is None:
                raise BadRequest(
                    f"startingAfter and latestSortingValue go together when sorting by {field}."
                )
            cursor = (_parse_sort_value(field, latest), after)
        return cls(limit, field, direction == "DESC", cursor)

    def page(self, views: list[CallView]) -> list[dict[str, Any]]:
        """The calls after the cursor in the order asked, at most `limit` of them."""
        field = self.field

        def key(view: CallView) -> tuple[SortValue, str]:
            return (_sort_value(field, view.body), view.body["callId"])

        ordered = sorted(views, key=key, reverse=self.descending)
        cursor = self.cursor
        if cursor is not None:
            if self.descending:
                ordered = [view for view in ordered if key(view) < cursor]
            else:
                ordered = [view for view in ordered if key(view) > cursor]
        return [view.body for view in ordered[: self.limit]]


class AggregatedCallsApi(WorkAnalyticsEndpoints):
    """Handler of GET /v2/pbxes/{pbxId}/calls."""

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
        self.completed = CompletedPassageIndex(account)
        # The reference: every view of the window built again for each page, as before the
        # index (tests compare the two answers request by request).
        self.rebuild_every_page = False

    def register(self, router: Router, auth: AuthCheck) -> None:
        pattern = re.escape(WORK_ANALYTICS_PREFIX) + r"/v2/pbxes/(?P<pbx_id>[^/]+)/calls/?"
        router.add("GET", pattern, self.aggregated_calls, auth=auth)

    def aggregated_calls(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self.pbx(match)
        if pbx is None or pbx.deleted:
            return self.forbidden(request, unquote(match["pbx_id"]))
        query = request.query
        try:
            requested = name_list(query.get("metrics"))
            if requested is not None:
                unknown = unknown_metric_names(requested, AGGREGATED_CALLS_METRIC_NAMES)
                if unknown:
                    raise BadRequest(f"Invalid Metrics Passed [{','.join(unknown)}].")
            window, entered_filter = CallQueueMetricsApi.report_window(query)
            paging = PageRequest.parse(query)
        except BadRequest as error:
            return self.error(request, 400, *error.messages)
        site_ids, queue_ids = id_list(query.get("siteIds")), id_list(query.get("queueIds"))
        with self.model.lock:
            self.model.advance(self.clock())
            if window is None:
                # The last 24 hours, up to now included: a call that entered at this very
                # instant is already among call-queue-metrics' ongoing calls.
                start_ms, end_ms = ms(self.model.now - DAY_SECONDS), None
            else:
                start_ms, end_ms = ms(window[0]), ms(window[1])
            builder = AggregatedCallBuilder(self.account, self.model, pbx.id)
            if self.rebuild_every_page:
                passages: list[Passage] = list(builder.views(start_ms, end_ms))
            else:
                span = builder.completed_span(start_ms)
                completed = self.completed.passages(
                    self.model.book, pbx.id, ms(span[0]), ms(span[1])
                )
                # The index's passages are immutable: the window's filter and the page
                # need no lock. The live ones are views of this instant.
                passages = [
                    passage
                    for passage in completed
                    if start_ms <= passage.started_ms
                    and (end_ms is None or passage.started_ms < end_ms)
                ]
                passages += builder.live_views(start_ms, end_ms)
        chosen = [
            passage
            for passage in passages
            if (site_ids is None or passage.site_id in site_ids)
            # queueIds names call queues: ring group passages are left out when it is given.
            and (queue_ids is None or passage.queue_id in queue_ids)
            and (entered_filter is None or entered_filter(passage.started_ms / 1000.0))
        ]
        if self.rebuild_every_page:
            views = [passage for passage in chosen if isinstance(passage, CallView)]
            return Response.json(200, {"calls": paging.page(views)})
        bodies = choose_page(chosen, paging.field, paging.descending, paging.cursor, paging.limit)
        return Response.json(200, {"calls": bodies})
