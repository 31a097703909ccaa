"""The live Work Analytics endpoints of agents and calls: `/v2/pbxes/{pbxId}/agent-activity`
(both answer shapes of the vendor's documents) and `/v2/pbxes/{pbxId}/calls` (cursor paging),
on the Work Analytics client's `get()`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from exporter.api.paging import PageLoopGuard
from exporter.api.work_analytics import WorkAnalyticsClient, whole_number
from exporter.core.errors import MalformedResponseError
from exporter.metrics.units import to_number, to_timestamp

AGENT_ACTIVITY = "/v2/pbxes/{pbxId}/agent-activity"
CALLS = "/v2/pbxes/{pbxId}/calls"
# The simulator answers 400 above this (issue #18, point 4); the spec names no maximum.
MAX_CALLS_PAGE_SIZE = 1000
# Sorted newest first, so the read can stop at the first call older than it looks for.
SORTING = {"sortingField": "startTime", "sortingDirection": "DESC"}
# Epoch milliseconds below this are before March 1973: such a time is in seconds.
_SECONDS_BELOW = 1e11


def call_time(value: Any) -> float | None:
    """Epoch seconds of a `/calls` time: the spec's int64 epoch milliseconds, also sent as a
    numeric string; a value under 1e11 is taken as epoch seconds (1e11 ms is March 1973);
    ISO 8601 text with a zone. None for 0 (not reached), negative or unusable values."""
    number = to_number(value)
    if number is None:
        return to_timestamp(value) if isinstance(value, str) else None
    if number <= 0:
        return None
    return number if number < _SECONDS_BELOW else number / 1000.0


def time_in_seconds(value: Any) -> bool:
    """Whether a `/calls` time is in seconds rather than the documented milliseconds."""
    number = to_number(value)
    return number is not None and 0 < number < _SECONDS_BELOW


def agent_rows(body: Any) -> list[Any]:
    """The agents of an `/agent-activity` answer, in either shape (issue #18, point 2): the
    schema's `{"agentActivity": [...], "summary": {...}}`, or the example's
    `{"queuesAgentActivity": [{..., "agentActivity": [...], "metricsSummary": {...}}]}`, where an
    agent is listed once per queue it is in (the caller keeps the first). Items that are not
    objects are passed on for the caller to count. Summaries are not read: the exporter counts
    the agents itself."""
    if isinstance(body, Mapping):
        agents = body.get("agentActivity")
        if isinstance(agents, list):
            return list(agents)
        queues = body.get("queuesAgentActivity")
        if isinstance(queues, list):
            rows: list[Any] = []
            for queue in queues:
                listed = queue.get("agentActivity") if isinstance(queue, Mapping) else queue
                if isinstance(listed, list):
                    rows.extend(listed)
                elif listed is not None:  # a queue without agents may say null
                    rows.append(listed)  # neither a list nor an object: counted by the caller
            return rows
    raise MalformedResponseError(
        AGENT_ACTIVITY, "answer has neither an agentActivity nor a queuesAgentActivity list"
    )


class CallPages:
    """The pages of `/calls` for one PBX, newest call first, each yielded as it arrives.

    The read ends after a short page (the last one), after a page whose oldest call started
    before `started_after` (older calls are not looked for), or after `max_pages` pages
    (`stopped_by` says which); a page or cursor seen twice raises PagingLoopError (counted).
    The stop at `started_after` is safe only while the server sorts newest first, as asked:
    a page out of that order (within itself or after the previous one) turns it off for the
    rest of the read (`unsorted`), which then goes to a short page or `max_pages`.
    """

    def __init__(
        self,
        client: WorkAnalyticsClient,
        pbx_id: str,
        *,
        page_size: int,
        max_pages: int,
        started_after: float | None = None,
    ) -> None:
        self.client = client
        self.pbx_id = pbx_id
        self.page_size = max(1, min(int(page_size), MAX_CALLS_PAGE_SIZE))
        self.max_pages = max(1, int(max_pages))
        self.started_after = started_after  # epoch seconds
        self.pages = 0
        self.stopped_by = ""  # "last_page", "max_call_age" or "max_pages" once read to its end
        self.unsorted = False  # a page came out of newest-first order

    def __iter__(self) -> Iterator[list[Any]]:
        guard = PageLoopGuard(self.client.http, CALLS)
        path = f"/v2/pbxes/{quote(self.pbx_id, safe='')}/calls"
        cursor: dict[str, str] = {}
        previous: float | None = None  # the start of the previous page's last call
        while True:
            query: dict[str, Any] = {"limit": self.page_size, **SORTING, **cursor}
            calls = page_calls(self.client.get(CALLS, path, query))
            label = f"page {self.pages}"
            self.pages += 1
            if calls:
                # A server that ignores the cursor answers the first page again and again.
                first = guard.first_seen(("page", _fingerprint(calls)), label)
                if first is not None:
                    guard.stop(f"{label} repeats {first}")
            starts = _starts(calls)
            # Only a full page decides anything (a short one ends the read): only its order
            # matters.
            out_of_order = any(a < b for a, b in zip([previous, *starts], starts) if a is not None)
            if len(calls) >= self.page_size and out_of_order:
                self.unsorted = True
            previous = starts[-1] if starts else previous
            yield calls
            if len(calls) < self.page_size:
                self.stopped_by = "last_page"
                return
            if not self.unsorted and self._older_than_wanted(starts):
                self.stopped_by = "max_call_age"
                return
            if self.pages >= self.max_pages:
                self.stopped_by = "max_pages"
                return
            cursor = next_cursor(calls[-1])
            first = guard.first_seen(("cursor", *cursor.values()), label)
            if first is not None:
                guard.stop(f"the cursor after {label} was already sent after {first}")

    def _older_than_wanted(self, starts: Sequence[float]) -> bool:
        return self.started_after is not None and bool(starts) and starts[-1] < self.started_after


def _starts(calls: Sequence[Any]) -> list[float]:
    """The start times of a page's calls that have one, in the page's order."""
    return [
        started
        for call in calls
        if isinstance(call, Mapping) and (started := call_time(call.get("startTime"))) is not None
    ]


def page_calls(body: Any) -> list[Any]:
    """The calls of one `/calls` page; items that are not objects are passed on for the
    caller to count."""
    if not isinstance(body, Mapping) or not isinstance(body.get("calls"), list):
        raise MalformedResponseError(CALLS, "page has no calls list")
    return list(body["calls"])


def next_cursor(last: Any) -> dict[str, str]:
    """`startingAfter` and `latestSortingValue` from the last call of a full page (issue #18,
    point 4: plain query parameters, the sorting value as text)."""
    call_id = last.get("callId") if isinstance(last, Mapping) else None
    started = whole_number(last.get("startTime")) if isinstance(last, Mapping) else None
    if isinstance(call_id, int) and not isinstance(call_id, bool):
        call_id = str(call_id)
    if not isinstance(call_id, str) or not call_id or started is None:
        raise MalformedResponseError(
            CALLS, "the last call of a full page has no callId or startTime: cannot page on"
        )
    try:  # it goes back in the query string: JSON text may hold a lone surrogate
        call_id.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedResponseError(CALLS, "callId cannot be sent back") from None
    return {"startingAfter": call_id, "latestSortingValue": str(started)}


def _fingerprint(calls: list[Any]) -> int:
    return hash(
        tuple(
            str(call.get("callId")) if isinstance(call, Mapping) else repr(call)[:200]
            for call in calls
        )
    )


class LiveApi:
    """The live endpoints of agents and calls, on a Work Analytics client."""

    def __init__(self, client: WorkAnalyticsClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"LiveApi({self.client!r})"

    def now(self) -> float:
        """The API's time (its Date headers' estimate): ages and windows are measured in it."""
        return self.client.now()

    @staticmethod
    def call_time(value: Any) -> float | None:
        return call_time(value)

    @staticmethod
    def time_in_seconds(value: Any) -> bool:
        return time_in_seconds(value)

    def agent_activity(self, pbx_id: str, *, metrics: Sequence[str] = ()) -> list[Any]:
        """Every agent of the PBX over the last 24 hours (no dates), without the queue
        summaries (not exported)."""
        params = {"includeSummary": "false"}
        if metrics:
            params["metrics"] = ",".join(metrics)
        body = self.client.get(
            AGENT_ACTIVITY, f"/v2/pbxes/{quote(pbx_id, safe='')}/agent-activity", params
        )
        return agent_rows(body)

    def calls(
        self,
        pbx_id: str,
        *,
        page_size: int,
        max_pages: int,
        started_after: float | None = None,
    ) -> CallPages:
        return CallPages(
            self.client,
            pbx_id,
            page_size=page_size,
            max_pages=max_pages,
            started_after=started_after,
        )
