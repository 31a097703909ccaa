"""HTTP client of the 8x8 Work Analytics APIs (customer data, call queues, historical)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from exporter.api.http import HttpClient
from exporter.api.paging import PageLoopGuard
from exporter.api.tokens import TokenCache, parse_token_answer
from exporter.core.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
)
from exporter.core.redaction import SECRETS
from exporter.core.windows import DateRange

API = "work_analytics"
TOKEN_ENDPOINT = "/v1/oauth/token"
# The customer-data API caps page size at 100 (spec: "A value between 1 and 100").
MAX_PAGE_SIZE = 100
# call-legs / call-records: `pageSize` is required, at most 7000 (spec); paging follows
# `meta.scrollId` until the documented end marker.
MAX_SCROLL_PAGE_SIZE = 7000
SCROLL_END = "No Data"
MAX_SCROLL_PAGES = 10_000
ALL_PBXES = "allpbxes"
# A bound on HAL paging, far above any real account, so a server that keeps answering `next`
# cannot hold a poller forever.
MAX_PAGES = 1000


class WorkAnalyticsClient:
    """Talks to `https://api.8x8.com/analytics/work` with the guide's token flow.

    Every data call carries both the `8x8-apikey` header and `Authorization: Bearer`; on a 401
    the token is renewed once and the call repeated.
    """

    def __init__(
        self,
        http: HttpClient,
        api_key: str,
        username: str,
        password: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self._api_key = api_key
        self._username = username
        self._password = password
        # The token request sends both; an upstream may echo them back in its error.
        SECRETS.add_credential(api_key)
        SECRETS.add_credential(password)
        self.tokens = TokenCache(self._fetch_token, clock, api=API)

    def __repr__(self) -> str:  # never show credentials
        return f"WorkAnalyticsClient(base_url={self.http.base_url!r})"

    def now(self) -> float:
        """The API's time now (its Date headers' estimate), for the windows the historical
        endpoints are asked for; the wall clock while the HTTP client has no ApiClock."""
        api_clock = self.http.api_clock
        return api_clock.now() if api_clock is not None else time.time()

    def answered_until(self) -> float | None:
        """The API's own time at its last answer (see ApiClock.answered_until)."""
        api_clock = self.http.api_clock
        return None if api_clock is None else api_clock.answered_until()

    def _fetch_token(self) -> tuple[str, float]:
        try:
            body = self.http.request(
                "POST",
                TOKEN_ENDPOINT,
                TOKEN_ENDPOINT,
                headers=lambda: {"8x8-apikey": self._api_key},
                data={"username": self._username, "password": self._password},
            )
        except BadRequestError as exc:
            # 400 here means a wrong API key (SHA001) or wrong user/password (invalid_grant).
            raise AuthenticationError(
                TOKEN_ENDPOINT, "authentication refused", status=exc.status, detail=exc.detail
            ) from None
        except ApiError as exc:
            # Already retried inside this call; raised as non-retryable so the data request
            # that needed the token does not multiply the retries.
            raise AuthenticationError(
                TOKEN_ENDPOINT, "no token", status=exc.status, detail=str(exc)
            ) from None
        return parse_token_answer(TOKEN_ENDPOINT, body)

    def get(self, endpoint: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a data endpoint; `endpoint` is the path template used in metrics and errors."""
        headers, renew = self.tokens.bearer(
            endpoint, {"8x8-apikey": self._api_key, "Accept": "application/json"}
        )
        return self.http.request(
            "GET", endpoint, path, params=params, headers=headers, on_unauthorized=renew
        )

    def iter_pages(
        self,
        endpoint: str,
        path: str,
        list_key: str | tuple[str, ...],
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Any]:
        """Every item of a HAL-paged list, to the last page. Items that are not objects are
        passed on too: the poller counts what it cannot use. A tuple of list keys: the first
        one a page holds (the vendor's schema and example disagree for some lists)."""
        keys = (list_key,) if isinstance(list_key, str) else list_key
        page = 0
        # Fingerprints of the pages read: an API that ignores `page` (or answers
        # `totalPages: 100000` with the same items) would else be asked MAX_PAGES times.
        guard = PageLoopGuard(self.http, endpoint)
        for _ in range(MAX_PAGES):
            body = self.get(endpoint, path, {"page": page, "size": min(page_size, MAX_PAGE_SIZE)})
            if not isinstance(body, Mapping):
                raise MalformedResponseError(endpoint, "page is not a JSON object")
            if not any(key in body for key in ("_embedded", "page", "_links")):
                # Not an empty page (those still say which page they are): another shape.
                raise MalformedResponseError(endpoint, "page has none of _embedded, page, _links")
            embedded = body.get("_embedded") or {}
            if not isinstance(embedded, Mapping):
                raise MalformedResponseError(endpoint, "_embedded is not an object")
            items = next((embedded[k] for k in keys if embedded.get(k) is not None), None) or []
            if not isinstance(items, list):
                raise MalformedResponseError(endpoint, f"_embedded.{'/'.join(keys)} is not a list")
            if items:
                fingerprint = hash(json.dumps(items, sort_keys=True, default=str))
                first = guard.first_seen(fingerprint, f"page {page}")
                if first is not None:
                    guard.stop(f"page {page} repeats {first}")
            yield from items
            # The vendor's own example nests `page` and `_links` inside `_embedded`: accept both.
            meta = body.get("page") or embedded.get("page") or {}
            links = body.get("_links") or embedded.get("_links") or {}
            # Page numbers that are not whole numbers are no paging information at all.
            total = whole_number(meta.get("totalPages")) if isinstance(meta, Mapping) else None
            if total is not None:
                number = whole_number(meta.get("number", page))
                if (page if number is None else number) + 1 >= total:
                    return
            elif not (isinstance(links, Mapping) and links.get("next")):
                return
            if not items:
                return
            page += 1
        raise MalformedResponseError(endpoint, f"more than {MAX_PAGES} pages")

    # --- customer data -------------------------------------------------------------------

    def pbxes(self, page_size: int = MAX_PAGE_SIZE) -> list[Any]:
        return list(self.iter_pages("/v2/pbxes/", "/v2/pbxes/", "pbxList", page_size))

    def sites(self, pbx_id: str, page_size: int = MAX_PAGE_SIZE) -> list[Any]:
        return list(
            self.iter_pages(
                "/v2/pbxes/{pbxId}/sites", f"/v2/pbxes/{_seg(pbx_id)}/sites", "siteList", page_size
            )
        )

    def queues(self, pbx_id: str, page_size: int = MAX_PAGE_SIZE) -> list[Any]:
        return list(
            self.iter_pages(
                "/v2/pbxes/{pbxId}/queues",
                f"/v2/pbxes/{_seg(pbx_id)}/queues",
                "queueList",
                page_size,
            )
        )

    def agents(self, pbx_id: str, page_size: int = MAX_PAGE_SIZE) -> list[Any]:
        # The AgentsResponsePage schema names the list `queueList`, its example `agentList`.
        return list(
            self.iter_pages(
                "/v2/pbxes/{pbxId}/agents",
                f"/v2/pbxes/{_seg(pbx_id)}/agents",
                ("agentList", "queueList"),
                page_size,
            )
        )

    # --- call queues ---------------------------------------------------------------------

    def call_queue_metrics(
        self,
        pbx_id: str,
        *,
        site_ids: Sequence[str] = (),
        queue_ids: Sequence[str] = (),
        metrics: Sequence[str] = (),
        include_summary: bool = True,
        date_range: DateRange | None = None,
    ) -> Any:
        """The Call Queue Metric API: without `date_range` the live `ongoing*` metrics plus
        last-24h aggregates, with it the aggregates over that range."""
        params = _filters(site_ids, queue_ids, metrics, include_summary)
        if date_range is not None:
            params.update(date_range.params())
        return self.get(
            "/v2/pbxes/{pbxId}/call-queue-metrics",
            f"/v2/pbxes/{_seg(pbx_id)}/call-queue-metrics",
            params,
        )

    def realtime_call_queues(
        self,
        pbx_id: str,
        *,
        site_ids: Sequence[str] = (),
        queue_ids: Sequence[str] = (),
        metrics: Sequence[str] = (),
        include_summary: bool = True,
    ) -> Any:
        """The deprecated Call Queue Realtime API of the vendor's guide (durations in ms)."""
        return self.get(
            "/v2/call-queues/real-time/pbxes/{pbxId}",
            f"/v2/call-queues/real-time/pbxes/{_seg(pbx_id)}",
            _filters(site_ids, queue_ids, metrics, include_summary),
        )

    def queue_agent_activity(
        self,
        pbx_id: str,
        *,
        site_ids: Sequence[str] = (),
        queue_ids: Sequence[str] = (),
        metrics: Sequence[str] = (),
        include_summary: bool = False,
    ) -> Any:
        """The agents of each queue without dates: their statuses now, their interaction
        metrics over the last 24 hours (durations in ms)."""
        return self.get(
            "/v2/pbxes/{pbxId}/queue-agent-activity",
            f"/v2/pbxes/{_seg(pbx_id)}/queue-agent-activity",
            _filters(site_ids, queue_ids, metrics, include_summary),
        )

    # --- historical endpoints (PBX names, local times in an IANA zone, durations in ms) ----

    @staticmethod
    def historical_params(
        pbx_names: Sequence[str], start_time: str, end_time: str, time_zone: str
    ) -> dict[str, str]:
        """The parameters every historical endpoint takes; no names means `allpbxes`."""
        return {
            "pbxId": ",".join(pbx_names) if pbx_names else ALL_PBXES,
            "startTime": start_time,
            "endTime": end_time,
            "timeZone": time_zone,
        }

    def summary(self, endpoint: str, params: Mapping[str, str]) -> list[Any]:
        """A summary endpoint (`/v1/compsum`, `/v2/rgsum-groups`, ...): a JSON list of rows,
        all of them (the poller counts rows that are not objects)."""
        body = self.get(endpoint, endpoint, params)
        if not isinstance(body, list):
            raise MalformedResponseError(endpoint, "answer is not a JSON list")
        return list(body)

    def scroll(
        self, endpoint: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[Any]]:
        """The pages of `/v2/call-legs` or `/v2/call-records`, following `scrollId` to the end.

        Yields each page's rows as it arrives, so a caller can keep what it read before a
        later page fails; rows that are not objects too, for the caller to count.
        """
        size = max(1, min(int(page_size), MAX_SCROLL_PAGE_SIZE))
        scroll_id: str | None = None
        # Every scrollId handed out: one handed out again (or never changing) is a scroll that
        # would never end.
        guard = PageLoopGuard(self.http, endpoint)
        for page in range(MAX_SCROLL_PAGES):
            query = {**params, "pageSize": size}
            if scroll_id is not None:
                query["scrollId"] = scroll_id
            body = self.get(endpoint, endpoint, query)
            if not isinstance(body, Mapping):
                raise MalformedResponseError(endpoint, "page is not a JSON object")
            meta, data = body.get("meta"), body.get("data")
            meta = {} if meta is None else meta
            if not isinstance(meta, Mapping) or not isinstance(data, list):
                raise MalformedResponseError(endpoint, "page has no meta object and data list")
            if data:
                # A scroll that hands out fresh scrollIds for the same rows loops as surely as
                # one repeating its scrollId: its pages are told apart by the records they hold.
                first = guard.first_seen(("rows", _scroll_page_fingerprint(data)), f"page {page}")
                if first is not None:
                    guard.stop(f"page {page} repeats {first}")
                yield list(data)
            next_id = meta.get("scrollId")
            if not data or not isinstance(next_id, str) or next_id in ("", SCROLL_END):
                return
            try:  # it goes back in the query string: JSON text may hold a lone surrogate
                next_id.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedResponseError(endpoint, "scrollId cannot be sent back") from None
            if guard.first_seen(next_id, f"page {page + 1}") is not None:
                guard.stop(f"scrollId repeated after {page + 1} pages")
            scroll_id = next_id
        raise MalformedResponseError(endpoint, f"more than {MAX_SCROLL_PAGES} pages")


def _scroll_page_fingerprint(rows: list[Any]) -> int:
    """The identity of a call-records or call-legs page: its records' ids and ends (cheap
    next to serialising thousands of records)."""
    return hash(
        tuple(
            (str(r.get("callId")), str(r.get("legId")), str(r.get("disconnectedTimeUTC")))
            if isinstance(r, Mapping)
            else repr(r)[:200]
            for r in rows
        )
    )


def whole_number(value: Any) -> int | None:
    """An int from a JSON number or numeric string that holds a whole number, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())  # exact, however long the id
        except ValueError:
            pass  # "12.0", "1e3", or no number at all
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _seg(value: str) -> str:
    """A path segment, percent-encoded: ids are opaque and may hold `_` or `-`, never `/`."""
    return quote(value, safe="")


def _filters(
    site_ids: Sequence[str], queue_ids: Sequence[str], metrics: Sequence[str], include_summary: bool
) -> dict[str, str]:
    params = {"includeSummary": "true" if include_summary else "false"}
    if site_ids:
        params["siteIds"] = ",".join(site_ids)
    if queue_ids:
        params["queueIds"] = ",".join(queue_ids)
    if metrics:
        params["metrics"] = ",".join(metrics)
    return params
