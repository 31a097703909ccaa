"""What the pollers need of each 8x8 API client, as Protocols.

A poller declares the narrowest one it uses, so a test hands it a small fake that answers just
those calls, checked by mypy like the real client (`WorkAnalyticsClient`,
`ContactCenterClient`), which satisfies all of them. A new poller may declare its own beside
it; the ones here are shared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from exporter.api.contact_center import ReportStatus
from exporter.core.windows import DateRange


class DirectoryApi(Protocol):
    """Work Analytics customer data: the PBXes, their sites and call queues."""

    def pbxes(self, page_size: int = ...) -> list[Any]: ...

    def sites(self, pbx_id: str, page_size: int = ...) -> list[Any]: ...

    def queues(self, pbx_id: str, page_size: int = ...) -> list[Any]: ...


class CallQueueApi(Protocol):
    """Work Analytics live queues: the Call Queue Metric API and the deprecated realtime API."""

    def now(self) -> float: ...

    def call_queue_metrics(
        self,
        pbx_id: str,
        *,
        site_ids: Sequence[str] = ...,
        queue_ids: Sequence[str] = ...,
        metrics: Sequence[str] = ...,
        include_summary: bool = ...,
        date_range: DateRange | None = ...,
    ) -> Any: ...

    def realtime_call_queues(
        self,
        pbx_id: str,
        *,
        site_ids: Sequence[str] = ...,
        queue_ids: Sequence[str] = ...,
        metrics: Sequence[str] = ...,
        include_summary: bool = ...,
    ) -> Any: ...


class SummaryApi(Protocol):
    """Work Analytics historical summaries (company, ring groups, members, extensions)."""

    def historical_params(
        self, pbx_names: Sequence[str], start_time: str, end_time: str, time_zone: str
    ) -> dict[str, str]: ...

    def summary(self, endpoint: str, params: Mapping[str, str]) -> list[Any]: ...

    def now(self) -> float:
        """The API's time now: windows are asked for in the API's clock, not the exporter's."""
        ...


class CallDetailApi(Protocol):
    """Work Analytics call records and call legs, scrolled page by page."""

    def answered_until(self) -> float | None:
        """The API's own time at its last answer, to the second above (None: unknown)."""
        ...

    def historical_params(
        self, pbx_names: Sequence[str], start_time: str, end_time: str, time_zone: str
    ) -> dict[str, str]: ...

    def scroll(
        self, endpoint: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[Any]]: ...

    def now(self) -> float:
        """The API's time now: windows are asked for in the API's clock, not the exporter's."""
        ...


class RealtimeApi(Protocol):
    """Contact Center realtime metrics (`/queues`, `/groups`, `/agents`)."""

    def realtime(
        self,
        kind: str,
        tenant: str | None,
        *,
        metrics: Sequence[str] = ...,
        page_size: int = ...,
        time_zone: str | None = ...,
    ) -> list[Any]: ...


class ReportApi(Protocol):
    """Contact Center historical reports: their types, creation, status and pages."""

    def now(self) -> float: ...

    def report_types(self, tenant: str | None) -> list[Mapping[str, Any]]: ...

    def create_report(self, tenant: str | None, definition: Mapping[str, Any]) -> ReportStatus: ...

    def report_status(self, tenant: str | None, report_id: int) -> ReportStatus: ...

    def report_pages(
        self, tenant: str | None, report_id: int, page_size: int, data_link: str | None = ...
    ) -> Iterator[tuple[list[Any], int | None]]: ...
