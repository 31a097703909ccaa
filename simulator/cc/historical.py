"""The Contact Center historical metrics API (v8): report types, creating a summary report,
polling its status, reading its data (JSON pages, capped at 10,000 records) or downloading it
(CSV), its links and its definition."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from ..routing import AuthCheck, Request, Response, Router
from .http import (
    REGION_PATTERN,
    CcError,
    absolute_root,
    answers,
    bad_request,
    integer_parameter,
    not_found,
    page_headers,
    page_slice,
)
from .report_definition import Report
from .report_rows import rows_csv
from .report_types import REPORT_TYPES
from .tenants import REGION_PREFIXES, CcTenant

HISTORICAL_PREFIX = "/analytics/cc/v8/historical-metrics"
MAX_DATA_PAGE_SIZE = 1000  # "Maximum page size is 1000 elements"
DATA_RECORD_CAP = 10_000  # "Data (JSON) results are capped at 10,000 records."
_NOT_ACCEPTABLE = ("xlsx", "excel", "spreadsheetml")


class ReportBackend(Protocol):
    """What the historical handlers need of `ContactCenter`: the tenant a request is for, and
    its reports."""

    @property
    def clock(self) -> Callable[[], float]: ...

    def resolve_tenant(self, request: Request, match: re.Match[str]) -> CcTenant: ...

    def root_url_fallback(self) -> str: ...

    def create_report(self, tenant: CcTenant, body: Any) -> Report: ...

    def report(self, report_id: int) -> Report | None: ...


class HistoricalApi:
    def __init__(self, cc: ReportBackend) -> None:
        self.cc = cc

    def register(self, router: Router, auth: AuthCheck) -> None:
        base = REGION_PATTERN + re.escape(HISTORICAL_PREFIX)
        report = r"/(?P<id>[^/]+)"
        router.add("GET", base + r"/report-types/?", self.report_types, auth=auth)
        router.add("GET", base + r"/report-types/(?P<type>[^/]+)/?", self.report_type, auth=auth)
        router.add("POST", base + r"/?", self.create, auth=auth)
        router.add("GET", base + report + r"/status/?", self.status, auth=auth)
        router.add("GET", base + report + r"/data/?", self.data, auth=auth)
        router.add("GET", base + report + r"/download/?", self.download, auth=auth)
        router.add("GET", base + report + r"/links/?", self.links, auth=auth)
        router.add("GET", base + report + r"/?", self.definition, auth=auth)

    # ----------------------------------------------------------------- report types
    @answers
    def report_types(self, request: Request, match: re.Match[str]) -> Response:
        self.cc.resolve_tenant(request, match)
        return Response.json(200, [REPORT_TYPES[name].to_json() for name in sorted(REPORT_TYPES)])

    @answers
    def report_type(self, request: Request, match: re.Match[str]) -> Response:
        self.cc.resolve_tenant(request, match)
        report_type = REPORT_TYPES.get(match["type"])
        if report_type is None:
            raise not_found(f"Not found: unknown report type [{match['type']}].")
        return Response.json(200, report_type.to_json())

    # ----------------------------------------------------------------- life cycle
    @answers
    def create(self, request: Request, match: re.Match[str]) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise bad_request("Bad request: the body is not valid JSON.") from None
        report = self.cc.create_report(tenant, body)
        headers = {"Link": f'<{self._base(request, tenant)}/{report.id}/status>; rel="status"'}
        return Response.json(
            200, {"id": report.id, "status": report.status(self.cc.clock())}, headers
        )

    @answers
    def status(self, request: Request, match: re.Match[str]) -> Response:
        tenant, report = self._report(request, match)
        status = report.status(self.cc.clock())
        body: dict[str, Any] = {"id": report.id, "status": status}
        headers: dict[str, str] = {}
        if status == "FAILED":
            body["reason"] = report.fail_reason
        elif status == "DONE":
            base = f"{self._base(request, tenant)}/{report.id}"
            headers["Link"] = (
                f'<{base}/data?page=0&size=100>; rel="data", <{base}/download>; rel="download"'
            )
        return Response.json(200, body, headers)

    @answers
    def data(self, request: Request, match: re.Match[str]) -> Response:
        _tenant, report = self._report(request, match)
        rows = self._done_rows(report)
        page = integer_parameter(request, "page", 0, 0)
        size = integer_parameter(request, "size", 100, 1, MAX_DATA_PAGE_SIZE)
        served = rows[:DATA_RECORD_CAP]
        headers = page_headers(
            request, absolute_root(request, self.cc.root_url_fallback()), page, size, len(served)
        )
        return Response.json(200, served[page_slice(served, page, size)], headers)

    @answers
    def download(self, request: Request, match: re.Match[str]) -> Response:
        _tenant, report = self._report(request, match)
        rows = self._done_rows(report)
        accept = (request.headers.get("Accept") or "").lower()
        if any(marker in accept for marker in _NOT_ACCEPTABLE):
            raise CcError(
                406, "Not acceptable: the simulator produces CSV downloads only (Accept: text/csv)."
            )
        filename = report.definition.title.replace('"', "'")
        return Response(
            200,
            rows_csv(report.definition, rows).encode("utf-8"),
            {
                "Content-Type": "text/csv; charset=UTF-8",
                "Content-Disposition": f'attachment; filename="{filename}.csv"',
            },
        )

    @answers
    def links(self, request: Request, match: re.Match[str]) -> Response:
        tenant, report = self._report(request, match)
        base = f"{self._base(request, tenant)}/{report.id}"
        links = [{"relation": "status", "link": f"{base}/status"}]
        if report.status(self.cc.clock()) == "DONE":
            links.append({"relation": "data", "link": f"{base}/data?page=0&size=100"})
            links.append({"relation": "download", "link": f"{base}/download"})
        return Response.json(200, links)

    @answers
    def definition(self, request: Request, match: re.Match[str]) -> Response:
        _tenant, report = self._report(request, match)
        return Response.json(
            200, report.definition.to_json(report.id, report.status(self.cc.clock()))
        )

    # ----------------------------------------------------------------- helpers
    def _base(self, request: Request, tenant: CcTenant) -> str:
        root = absolute_root(request, self.cc.root_url_fallback())
        return root + REGION_PREFIXES[tenant.region] + HISTORICAL_PREFIX

    def _report(self, request: Request, match: re.Match[str]) -> tuple[CcTenant, Report]:
        tenant = self.cc.resolve_tenant(request, match)
        raw = match["id"]
        try:
            report_id = int(raw)
        except ValueError:
            raise bad_request(
                f"Bad request: invalid report id [{raw}]: an integer is expected."
            ) from None
        report = self.cc.report(report_id)
        if report is None or report.tenant_id != tenant.id:
            raise not_found(f"Not found: report [{raw}].")
        return tenant, report

    def _done_rows(self, report: Report) -> list[dict[str, Any]]:
        status = report.status(self.cc.clock())
        if status != "DONE" or report.rows is None:
            raise bad_request(
                f"Bad request: report [{report.id}] is not ready: its status is {status}, not DONE."
            )
        return report.rows
