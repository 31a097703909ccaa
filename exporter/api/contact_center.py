"""HTTP client of the 8x8 Contact Center analytics APIs: OAuth client credentials, the realtime
metrics (v5) and the asynchronous historical summary reports (v8), per region and tenant."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from exporter.api.http import Answer, HttpClient
from exporter.api.paging import PageLoopGuard, page_identity
from exporter.api.tokens import TokenCache, parse_token_answer
from exporter.api.work_analytics import whole_number
from exporter.config.regions import TOKEN_PATH
from exporter.core.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
)
from exporter.core.redaction import SECRETS

API = "contact_center"
TENANT_HEADER = "X-Tenant-Info"
# Realtime pages: the spec's default is 100; report data pages are capped at 1000 (guide).
MAX_REALTIME_PAGE_SIZE = 1000
MAX_REPORT_PAGE_SIZE = 1000
# The guide: "Data (JSON) results are capped at 10,000 records."
REPORT_RECORD_CAP = 10_000
MAX_PAGES = 1000
# A realtime page seen this often in one read stops it (see `realtime`).
REPEATS_OF_A_LIVE_PAGE = 3
# The report types change with the vendor's releases, not between two reports: one answer
# per tenant serves the start-up check and every report poller for this long.
REPORT_TYPES_MAX_AGE = 3600.0
# The guide's 400 messages for multi-tenant accounts.
TENANT_MISSING = "X-Tenant-Info header is missing"
TENANT_INVALID = "Invalid value for X-Tenant-Info header"

_LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel=(?:"([^"]*)"|([^";,\s]+))')


def parse_links(header: str | None) -> dict[str, str]:
    """`<url>; rel="next", <url>; rel="data"` -> {"next": url, "data": url}; a link with
    several relations (`rel="next last"`) counts for each."""
    return {
        rel: url
        for url, quoted, bare in _LINK_RE.findall(header or "")
        for rel in (quoted or bare).split()
    }


class TenantError(ApiError):
    """The vendor refused the tenant: missing for a multi-tenant account, or not known."""


@dataclass(frozen=True)
class ReportStatus:
    id: int
    status: str  # QUEUED, IN_PROGRESS, DONE, FAILED (or whatever the vendor adds)
    reason: str | None
    links: Mapping[str, str]


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(str(headers.get(name, "")).strip())
    except ValueError:
        return None


class _TypesRequest:
    """One report-types request in flight for a tenant: its callers wait for it and share its
    outcome, answer or error, instead of sending requests of their own one after another."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._types: list[Mapping[str, Any]] = []
        self._error: BaseException | None = None

    def finish(self, types: list[Mapping[str, Any]] | None, error: BaseException | None) -> None:
        self._types = types if types is not None else []  # [] only with an error
        self._error = error
        self._done.set()

    def wait(self) -> list[Mapping[str, Any]]:
        # Not bounded here: the caller that sends the request always calls `finish` (in a
        # `finally`), and the request itself is bounded by the HTTP client's timeouts and retries.
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._types


class _TenantTypes:
    """A tenant's cached report types and the request for them in flight, if any."""

    def __init__(self) -> None:
        # Held only to read or change this entry, never during the request.
        self.lock = threading.Lock()
        self.cached: tuple[float, list[Mapping[str, Any]]] | None = None
        self.in_flight: _TypesRequest | None = None


class ContactCenterClient:
    """Talks to the Contact Center analytics APIs of one region for one API client.

    Every call carries `Authorization: Bearer` (one token for every tenant of the client, reused
    until shortly before it expires, renewed once on a 401) and, for a tenant, `X-Tenant-Info`.
    """

    def __init__(
        self,
        token_http: HttpClient,
        realtime_http: HttpClient,
        historical_http: HttpClient,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_http = token_http
        self.realtime_http = realtime_http
        self.historical_http = historical_http
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        # The Basic header is the pair's base64, which holds no base64 of the secret alone.
        SECRETS.add_credential(client_secret)
        SECRETS.add_credential(f"{client_id}:{client_secret}")
        self.tokens = TokenCache(self._fetch_token, clock, api=API)
        self._clock = clock
        # Guards only the creation of a tenant's entry, never a request: tenants do not wait
        # on each other.
        self._types_lock = threading.Lock()
        self._report_types: dict[str | None, _TenantTypes] = {}

    def __repr__(self) -> str:  # never show credentials
        return f"ContactCenterClient(realtime={self.realtime_http.base_url!r})"

    def now(self) -> float:
        """The API's time now (its Date headers' estimate: the three hosts share one
        ApiClock), for report windows; the wall clock while the HTTP client has no ApiClock."""
        api_clock = self.historical_http.api_clock
        return api_clock.now() if api_clock is not None else time.time()

    def close(self) -> None:
        for http in (self.token_http, self.realtime_http, self.historical_http):
            http.close()

    # --- auth ---------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, float]:
        try:
            # token_http's base URL is the token endpoint itself (configurable on its own).
            body = self.token_http.request(
                "POST",
                TOKEN_PATH,
                "",
                headers=lambda: {
                    "Authorization": f"Basic {self._basic}",
                    "Accept": "application/json",
                },
                data={"grant_type": "client_credentials"},
            )
        except ApiError as exc:
            # 400/401 here: wrong client id or secret. Raised as non-retryable so the data
            # request that needed the token does not multiply the retries.
            message = "authentication refused" if exc.status in (400, 401) else "no token"
            raise AuthenticationError(
                TOKEN_PATH, message, status=exc.status, detail=exc.detail
            ) from None
        return parse_token_answer(TOKEN_PATH, body)

    def _call(
        self,
        http: HttpClient,
        method: str,
        endpoint: str,
        path: str,
        tenant: str | None,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
    ) -> Answer:
        extra = {"Accept": "application/json"}
        if tenant is not None:
            extra[TENANT_HEADER] = tenant
        headers, renew = self.tokens.bearer(endpoint, extra)

        try:
            return http.exchange(
                method,
                endpoint,
                path,
                params=params,
                json_body=json_body,
                headers=headers,
                on_unauthorized=renew,
            )
        except BadRequestError as exc:
            detail = exc.detail or ""
            if TENANT_MISSING in detail:
                raise TenantError(
                    endpoint,
                    "the account is multi-tenant: list its tenant ids in contact_center.tenants",
                    status=400,
                    detail=detail,
                ) from None
            if TENANT_INVALID in detail:
                raise TenantError(
                    endpoint,
                    f"tenant {tenant!r} is not known in this region "
                    "(check contact_center.tenants and region)",
                    status=400,
                    detail=detail,
                ) from None
            raise

    @staticmethod
    def _data_path(report_id: int, link: str | None, size: int) -> str:
        """The data path of a report with a Link's query (its page and whatever else the
        vendor puts there) and our page size. Only the query of the link is used, and the
        request goes to the configured historical URL: the bearer token never follows a link
        to another host, and a link written without the region prefix still works."""
        try:
            link_query = urlsplit(link).query if link else ""
        except ValueError:  # e.g. `http://[bad/`: not a URL at all
            raise MalformedResponseError(
                "/historical-metrics/{id}/data", "a Link that is not a URL"
            ) from None
        query = [(k, v) for k, v in parse_qsl(link_query, keep_blank_values=True) if k != "size"]
        if not any(k == "page" for k, _ in query):
            query.insert(0, ("page", "0"))
        return f"/{quote(str(report_id), safe='')}/data?{urlencode([*query, ('size', str(size))])}"

    # --- realtime v5 --------------------------------------------------------------------

    def realtime(
        self,
        kind: str,
        tenant: str | None,
        *,
        metrics: Sequence[str] = (),
        page_size: int = 100,
        time_zone: str | None = None,
    ) -> list[Any]:
        """Every item of `/queues`, `/groups` or `/agents`, page by page to the last one
        (items that are not objects too: the poller counts them).

        Paging follows the `X-Total-Pages` header, else a `Link: rel="next"`, else (the spec
        documents no paging headers) goes on while pages come back full. It stops on an empty
        page. A single object where the spec's `/queues` and `/groups` schemas allow one is
        read as a page of one.
        """
        endpoint = f"/realtime-metrics/{kind}"
        size = max(1, min(int(page_size), MAX_REALTIME_PAGE_SIZE))
        items: list[Any] = []
        # A server that ignores `page` would else be asked MAX_PAGES times a poll, spending
        # the Contact Center budget every other poller shares. A page seen a third time stops
        # the read: seen twice, it may be a live list that shifted by a page between requests.
        guard = PageLoopGuard(self.realtime_http, endpoint)
        for page in range(MAX_PAGES):
            params: list[tuple[str, str]] = [("page", str(page)), ("size", str(size))]
            params += [("metrics", m) for m in metrics]  # the spec's `explode: true` form
            if time_zone:
                params.append(("timezone", time_zone))
            answer = self._call(
                self.realtime_http, "GET", endpoint, f"/{kind}", tenant, params=params
            )
            body = answer.body
            if isinstance(body, Mapping):
                # The spec's single-object form is one queue or group: it has an id.
                if "id" not in body:
                    raise MalformedResponseError(
                        endpoint, "answer is neither a list nor an object with an id"
                    )
                body = [body]
            if not isinstance(body, list):
                raise MalformedResponseError(endpoint, "answer is not a JSON list")
            rows = [row for row in body if isinstance(row, Mapping)]
            if rows:
                identity = page_identity(rows)
                first = guard.first_seen(identity, f"page {page}")
                seen = guard.times_seen(identity)
                if seen >= REPEATS_OF_A_LIVE_PAGE:
                    guard.stop(f"page {page} repeats {first}, {seen} times in all")
            items.extend(body)
            total_pages = _header_int(answer.headers, "X-Total-Pages")
            if not rows:
                return items
            if total_pages is not None:
                if page + 1 >= total_pages:
                    return items
            elif "next" not in parse_links(answer.headers.get("Link")) and len(body) < size:
                return items
        raise MalformedResponseError(endpoint, f"more than {MAX_PAGES} pages")

    # --- historical reports v8 ----------------------------------------------------------

    def report_types(self, tenant: str | None) -> list[Mapping[str, Any]]:
        """The tenant's report types, asked once per REPORT_TYPES_MAX_AGE: the start-up check
        and every report poller of the tenant read the same answer. Callers that come while
        the tenant's request is in flight take its outcome, its error too (else each would make
        its own full retry cycle after it); a failure is not kept for later callers."""
        with self._types_lock:
            entry = self._report_types.setdefault(tenant, _TenantTypes())
        with entry.lock:
            if entry.cached is not None and self._clock() - entry.cached[0] < REPORT_TYPES_MAX_AGE:
                return entry.cached[1]
            request = entry.in_flight
            leader = request is None
            if request is None:
                request = entry.in_flight = _TypesRequest()
        if not leader:
            return request.wait()
        types: list[Mapping[str, Any]] | None = None
        error: BaseException | None = None
        try:
            types = self._fetch_report_types(tenant)
            return types
        except BaseException as exc:  # every waiter must be released, whatever ended the call
            error = exc
            raise
        finally:
            with entry.lock:
                if types is not None:
                    entry.cached = (self._clock(), types)
                entry.in_flight = None
            request.finish(types, error)

    def _fetch_report_types(self, tenant: str | None) -> list[Mapping[str, Any]]:
        answer = self._call(
            self.historical_http, "GET", "/historical-metrics/report-types", "/report-types", tenant
        )
        if not isinstance(answer.body, list):
            raise MalformedResponseError(
                "/historical-metrics/report-types", "answer is not a JSON list"
            )
        return [row for row in answer.body if isinstance(row, Mapping)]

    def create_report(self, tenant: str | None, definition: Mapping[str, Any]) -> ReportStatus:
        answer = self._call(
            self.historical_http, "POST", "/historical-metrics", "", tenant, json_body=definition
        )
        return self._status(answer, "/historical-metrics")

    def report_status(self, tenant: str | None, report_id: int) -> ReportStatus:
        endpoint = "/historical-metrics/{id}/status"
        answer = self._call(self.historical_http, "GET", endpoint, f"/{report_id}/status", tenant)
        return self._status(answer, endpoint)

    @staticmethod
    def _status(answer: Answer, endpoint: str) -> ReportStatus:
        body = answer.body
        if not isinstance(body, Mapping) or not isinstance(body.get("status"), str):
            raise MalformedResponseError(endpoint, "answer has no status")
        report_id = whole_number(body.get("id"))
        if report_id is None:
            raise MalformedResponseError(endpoint, "answer has no report id")
        reason = body.get("reason")
        return ReportStatus(
            report_id,
            body["status"],
            reason if isinstance(reason, str) else None,
            parse_links(answer.headers.get("Link")),
        )

    def report_pages(
        self, tenant: str | None, report_id: int, page_size: int, data_link: str | None = None
    ) -> Iterator[tuple[list[Any], int | None]]:
        """The rows of a DONE report, page by page through `Link: rel="next"`, each with
        `X-Total-Elements` (None when absent). Rows that are not objects are passed on too,
        for the poller to count."""
        endpoint = "/historical-metrics/{id}/data"
        size = max(1, min(int(page_size), MAX_REPORT_PAGE_SIZE))
        path = self._data_path(report_id, data_link, size)  # the status answer's own link
        # Every path asked so far: a "next" link back to any of them (A -> B -> A, not only
        # A -> A) is a loop that would else run MAX_PAGES times.
        guard = PageLoopGuard(self.historical_http, endpoint)
        guard.first_seen(path, "the first page")
        for _ in range(MAX_PAGES):
            answer = self._call(self.historical_http, "GET", endpoint, path, tenant)
            body = answer.body
            if not isinstance(body, list):
                raise MalformedResponseError(endpoint, "answer is not a JSON list")
            # Looked at before the page goes out: the consumer owns the list from then on.
            has_rows = any(isinstance(row, Mapping) for row in body)
            yield body, _header_int(answer.headers, "X-Total-Elements")
            following = parse_links(answer.headers.get("Link")).get("next")
            if not has_rows or not following:
                return
            path = self._data_path(report_id, following, size)
            if guard.first_seen(path, "a later page") is not None:
                guard.stop("the next page's link is a page already read")
        raise MalformedResponseError(endpoint, f"more than {MAX_PAGES} pages")
