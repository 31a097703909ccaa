"""HTTP client of the 8x8 Work Analytics APIs (customer data, call queues, historical)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from exporter.clients.http import HttpClient
from exporter.clients.tokens import TokenCache, parse_expires_in
from exporter.errors import (ApiError, AuthenticationError, BadRequestError,
                             MalformedResponseError)
from exporter.logs import get_logger

log = get_logger(__name__)

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
# cannot hold a collector forever.
MAX_PAGES = 1000


class WorkAnalyticsClient:
    """Talks to `https://api.8x8.com/analytics/work` with the guide's token flow.

    Every data call carries both the `8x8-apikey` header and `Authorization: Bearer`; on a 401
    the token is renewed once and the call repeated.
    """

    def __init__(self, http: HttpClient, api_key: str, username: str, password: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self._api_key = api_key
        self._username = username
        self._password = password
        self.tokens = TokenCache(self._fetch_token, clock, api=API)

    def __repr__(self) -> str:  # never show credentials
        return f"WorkAnalyticsClient(base_url={self.http.base_url!r})"

    def _fetch_token(self) -> tuple[str, float]:
        try:
            body = self.http.request(
                "POST", TOKEN_ENDPOINT, TOKEN_ENDPOINT,
                headers=lambda: {"8x8-apikey": self._api_key},
                data={"username": self._username, "password": self._password})
        except BadRequestError as exc:
            # 400 here means a wrong API key (SHA001) or wrong user/password (invalid_grant).
            raise AuthenticationError(TOKEN_ENDPOINT, "authentication refused", status=exc.status,
                                      detail=exc.detail) from None
        except ApiError as exc:
            # Already retried inside this call; raised as non-retryable so the data request
            # that needed the token does not multiply the retries.
            raise AuthenticationError(TOKEN_ENDPOINT, "no token", status=exc.status,
                                      detail=str(exc)) from None
        if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
            raise MalformedResponseError(TOKEN_ENDPOINT, "token answer has no access_token")
        try:
            lifetime = parse_expires_in(body.get("expires_in"))
        except (TypeError, ValueError):
            raise MalformedResponseError(TOKEN_ENDPOINT, "token answer has no valid expires_in") from None
        return body["access_token"], lifetime

    def get(self, endpoint: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a data endpoint; `endpoint` is the path template used in metrics and errors."""
        used: list[str] = []

        def headers() -> dict[str, str]:
            token = self.tokens.get()
            used.append(token)
            return {"8x8-apikey": self._api_key, "Authorization": f"Bearer {token}",
                    "Accept": "application/json"}

        def renew() -> bool:
            log.info("auth_token_rejected", api=API, endpoint=endpoint)
            self.tokens.invalidate(used[-1] if used else None)
            return True

        return self.http.request("GET", endpoint, path, params=params, headers=headers,
                                 on_unauthorized=renew)

    def iter_pages(self, endpoint: str, path: str, list_key: str,
                   page_size: int = MAX_PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every item of a HAL-paged list, to the last page."""
        page = 0
        for _ in range(MAX_PAGES):
            body = self.get(endpoint, path, {"page": page, "size": min(page_size, MAX_PAGE_SIZE)})
            if not isinstance(body, Mapping):
                raise MalformedResponseError(endpoint, "page is not a JSON object")
            embedded = body.get("_embedded") or {}
            if not isinstance(embedded, Mapping):
                raise MalformedResponseError(endpoint, "_embedded is not an object")
            items = embedded.get(list_key) or []
            if not isinstance(items, list):
                raise MalformedResponseError(endpoint, f"_embedded.{list_key} is not a list")
            yield from (item for item in items if isinstance(item, Mapping))
            # The vendor's own example nests `page` and `_links` inside `_embedded`: accept both.
            meta = body.get("page") or embedded.get("page") or {}
            links = body.get("_links") or embedded.get("_links") or {}
            if isinstance(meta, Mapping) and "totalPages" in meta:
                number = int(meta.get("number", page))
                if number + 1 >= int(meta["totalPages"]):
                    return
            elif not (isinstance(links, Mapping) and links.get("next")):
                return
            if not items:
                return
            page += 1
        raise MalformedResponseError(endpoint, f"more than {MAX_PAGES} pages")

    # --- customer data -------------------------------------------------------------------

    def pbxes(self, page_size: int = MAX_PAGE_SIZE) -> list[dict[str, Any]]:
        return list(self.iter_pages("/v2/pbxes/", "/v2/pbxes/", "pbxList", page_size))

    def sites(self, pbx_id: str, page_size: int = MAX_PAGE_SIZE) -> list[dict[str, Any]]:
        return list(self.iter_pages("/v2/pbxes/{pbxId}/sites", f"/v2/pbxes/{_seg(pbx_id)}/sites",
                                    "siteList", page_size))

    def queues(self, pbx_id: str, page_size: int = MAX_PAGE_SIZE) -> list[dict[str, Any]]:
        return list(self.iter_pages("/v2/pbxes/{pbxId}/queues", f"/v2/pbxes/{_seg(pbx_id)}/queues",
                                    "queueList", page_size))

    # --- call queues ---------------------------------------------------------------------

    def call_queue_metrics(self, pbx_id: str, *, site_ids: Sequence[str] = (),
                           queue_ids: Sequence[str] = (), metrics: Sequence[str] = (),
                           include_summary: bool = True) -> Any:
        """The Call Queue Metric API without dates: live `ongoing*` plus last-24h aggregates."""
        return self.get("/v2/pbxes/{pbxId}/call-queue-metrics",
                        f"/v2/pbxes/{_seg(pbx_id)}/call-queue-metrics",
                        _filters(site_ids, queue_ids, metrics, include_summary))

    def realtime_call_queues(self, pbx_id: str, *, site_ids: Sequence[str] = (),
                             queue_ids: Sequence[str] = (), metrics: Sequence[str] = (),
                             include_summary: bool = True) -> Any:
        """The deprecated Call Queue Realtime API of the vendor's guide (durations in ms)."""
        return self.get("/v2/call-queues/real-time/pbxes/{pbxId}",
                        f"/v2/call-queues/real-time/pbxes/{_seg(pbx_id)}",
                        _filters(site_ids, queue_ids, metrics, include_summary))

    # --- historical endpoints (PBX names, local times in an IANA zone, durations in ms) ----

    @staticmethod
    def historical_params(pbx_names: Sequence[str], start_time: str, end_time: str,
                          time_zone: str) -> dict[str, str]:
        """The parameters every historical endpoint takes; no names means `allpbxes`."""
        return {"pbxId": ",".join(pbx_names) if pbx_names else ALL_PBXES,
                "startTime": start_time, "endTime": end_time, "timeZone": time_zone}

    def summary(self, endpoint: str, params: Mapping[str, str]) -> list[Mapping[str, Any]]:
        """A summary endpoint (`/v1/compsum`, `/v2/rgsum-groups`, ...): a JSON list of rows."""
        body = self.get(endpoint, endpoint, params)
        if not isinstance(body, list):
            raise MalformedResponseError(endpoint, "answer is not a JSON list")
        return [row for row in body if isinstance(row, Mapping)]

    def scroll(self, endpoint: str, params: Mapping[str, Any],
               page_size: int) -> Iterator[list[Mapping[str, Any]]]:
        """The pages of `/v2/call-legs` or `/v2/call-records`, following `scrollId` to the end.

        Yields each page's rows as it arrives, so a caller can keep what it read before a
        later page fails.
        """
        size = max(1, min(int(page_size), MAX_SCROLL_PAGE_SIZE))
        scroll_id: str | None = None
        for _ in range(MAX_SCROLL_PAGES):
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
            rows = [row for row in data if isinstance(row, Mapping)]
            if rows:
                yield rows
            next_id = meta.get("scrollId")
            if not data or not isinstance(next_id, str) or next_id in ("", SCROLL_END):
                return
            scroll_id = next_id
        raise MalformedResponseError(endpoint, f"more than {MAX_SCROLL_PAGES} pages")


def _seg(value: str) -> str:
    """A path segment, percent-encoded: ids are opaque and may hold `_` or `-`, never `/`."""
    return quote(value, safe="")


def _filters(site_ids: Sequence[str], queue_ids: Sequence[str], metrics: Sequence[str],
             include_summary: bool) -> dict[str, str]:
    params = {"includeSummary": "true" if include_summary else "false"}
    if site_ids:
        params["siteIds"] = ",".join(site_ids)
    if queue_ids:
        params["queueIds"] = ",".join(queue_ids)
    if metrics:
        params["metrics"] = ",".join(metrics)
    return params
