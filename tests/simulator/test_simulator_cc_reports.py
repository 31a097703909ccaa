"""Simulator, Contact Center historical summary reports (v8): report types, create validation, the
QUEUED -> IN_PROGRESS -> DONE / FAILED life cycle on a fake clock, data pages, totals, the 10,000 cap,
the CSV download, and agreement with the realtime metrics."""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from simulator import Simulator
from simulator.cc.timestamps import local_midnight
from tests.support.clock import FakeClock
from tests.support.simulator import START_TIME, CcClient
from tests.support.vendor_docs import cc_guide_report_type_sample

if TYPE_CHECKING:
    from tests.support.simulator import ClockFactory
    from tests.support.vendor_docs import VendorSchemas

SALES = "acme-sales"
SUPPORT = "acme-support"
NY = ZoneInfo("America/New_York")


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def definition(**overrides: Any) -> dict[str, Any]:
    """A valid queue report: today in New York (midnight to START_TIME) by queue."""
    body: dict[str, Any] = {
        "type": "queue-interactions-summary",
        "title": "Queues today (NY) - v1.0 *draft*",
        "dateRange": {"start": iso(local_midnight(START_TIME, NY)), "end": iso(START_TIME)},
        "granularity": "none",
        "groupBy": {"name": "queue", "filters": []},
        "timezone": "America/New_York",
    }
    body.update(overrides)
    return body


def items_of(row: dict[str, Any]) -> dict[str, Any]:
    return {item["key"]: item["value"] for item in row["items"]}


def values_of(item: dict[str, Any]) -> dict[str, Any]:
    return {metric["key"]: metric["value"] for metric in item["metrics"]}


class Reports:
    """Create a report, wait for it on the fake clock, read every page."""

    def __init__(self, api: CcClient, clock: FakeClock) -> None:
        self.api, self.clock = api, clock

    def create(self, tenant: str, body: dict[str, Any]) -> int:
        response = self.api.create_report(tenant, body)
        assert response.status_code == 200, response.text
        return int(response.json()["id"])

    def wait(self, tenant: str, report_id: int) -> dict[str, Any]:
        for _ in range(20):
            status = self.api.historical(tenant, f"/{report_id}/status").json()
            if status["status"] not in ("QUEUED", "IN_PROGRESS"):
                return status
            self.clock.advance(1)
        raise AssertionError("the report never finished")

    def rows(self, tenant: str, body: dict[str, Any], size: int = 1000) -> list[dict[str, Any]]:
        report_id = self.create(tenant, body)
        assert self.wait(tenant, report_id)["status"] == "DONE"
        return self.pages(tenant, report_id, size)

    def pages(self, tenant: str, report_id: int, size: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        url: str | None = (
            self.api.historical_url(tenant, f"/{report_id}/data") + f"?page=0&size={size}"
        )
        for _ in range(100):
            if url is None:
                return rows
            response = self.api.get(url, tenant)
            assert response.status_code == 200, response.text
            rows += response.json()
            links = re.findall(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
            url = links[0] if links else None
        raise AssertionError("too many pages")


@pytest.fixture
def api(sim: Simulator, make_cc_client: Callable[[Simulator], CcClient]) -> CcClient:
    return make_cc_client(sim)


@pytest.fixture
def reports(api: CcClient, fake_clock: FakeClock) -> Reports:
    return Reports(api, fake_clock)


# ----------------------------------------------------------------- report types
def test_report_types_match_the_spec_and_the_guide(
    api: CcClient, vendor_schemas: VendorSchemas
) -> None:
    response = api.historical(SALES, "/report-types")
    assert response.status_code == 200
    types = response.json()
    vendor_schemas.check(
        vendor_schemas.cc_historical_validator(
            "ApiReportTypeListResponse", strict=("ApiReportTypeResponse", "FilterResponse")
        ),
        types,
    )
    by_name = {t["type"]: t for t in types}
    assert set(by_name) == {
        "agent-interactions-summary",
        "agent-status-summary",
        "queue-interactions-summary",
    }
    assert by_name["agent-interactions-summary"] == cc_guide_report_type_sample()
    queue = by_name["queue-interactions-summary"]
    groupings = {g["name"]: g["filters"] for g in queue["groupBy"]}
    assert {"queue", "media-and-queue", "media-and-channel-and-queue", "channel"} <= set(groupings)
    assert groupings["media-and-channel-and-queue"] == ["media", "queue"] and groupings[
        "queue"
    ] == ["queue"]
    assert {
        "entered",
        "accepted",
        "acceptedPercentage",
        "acceptedInSla",
        "acceptedInSlaPercentage",
        "abandoned",
        "abandonedPercentage",
        "totalAbandoned",
        "totalAbandonedPercentage",
        "shortAbandoned",
        "avgWaitTime",
        "longestWaitTime",
        "avgHandlingTime",
        "handlingTime",
    } <= set(queue["metrics"])
    status = by_name["agent-status-summary"]
    assert [g["name"] for g in status["groupBy"]] == ["agent", "group", "group-and-agent"]
    assert {
        "loggedInTime",
        "availableTime",
        "busyTime",
        "onBreakTime",
        "wrapUpTime",
        "workingOfflineTime",
    } <= set(status["metrics"])


def test_one_report_type_and_an_unknown_one(api: CcClient, vendor_schemas: VendorSchemas) -> None:
    one = api.historical(SALES, "/report-types/agent-interactions-summary").json()
    vendor_schemas.check(vendor_schemas.cc_historical_validator("ApiReportTypeResponse"), one)
    assert one == cc_guide_report_type_sample()
    response = api.historical(SALES, "/report-types/agent-status-by-status-code-2")
    assert response.status_code == 404
    assert (
        response.json()["status"] == 404
        and "agent-status-by-status-code-2" in response.json()["message"]
    )


# ----------------------------------------------------------------- create
def _without(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.pop(key)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        node = body
        *parents, last = path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value

    return apply


_MIDNIGHT = local_midnight(START_TIME, NY)
INVALID_DEFINITIONS = [
    ("missing type", _without("type"), "type is required"),
    ("unknown type", _set("type", "script-paths"), "unknown report type [script-paths]"),
    ("missing title", _without("title"), "title is required"),
    ("title with a slash", _set("title", "Queues/today"), "invalid title"),
    ("title with a colon", _set("title", "Queues: today"), "invalid title"),
    ("missing granularity", _without("granularity"), "granularity is required"),
    ("unknown granularity", _set("granularity", "fortnight"), "invalid granularity [fortnight]"),
    ("missing grouping", _without("groupBy"), "groupBy.name is required"),
    (
        "grouping of another type",
        _set("groupBy.name", "group-and-agent"),
        "grouping [group-and-agent] is not offered",
    ),
    (
        "filter not offered",
        _set("groupBy.filters", [{"name": "agent", "values": ["ag1"]}]),
        "filter [agent] is not offered",
    ),
    (
        "channel is not a filter",
        _set("groupBy.filters", [{"name": "channel", "values": ["x"]}]),
        "filter [channel]",
    ),
    (
        "filter values not strings",
        _set("groupBy.filters", [{"name": "queue", "values": [103]}]),
        "array of strings",
    ),
    (
        "unknown metric",
        _set("metrics", ["accepted", "acceptedInSLA"]),
        "unknown metric [acceptedInSLA]",
    ),
    (
        "agent metric on a queue report",
        _set("metrics", ["presented"]),
        "unknown metric [presented]",
    ),
    ("missing dateRange", _without("dateRange"), "dateRange is required"),
    (
        "missing start",
        _set("dateRange", {"end": "2024-03-05T15:00:00.000Z"}),
        "dateRange.start is required",
    ),
    (
        "space instead of T",
        _set("dateRange.start", "2024-03-05 05:00:00.000Z"),
        "invalid dateRange.start",
    ),
    ("no zone", _set("dateRange.end", "2024-03-05T15:00:00.000"), "invalid dateRange.end"),
    ("not a date", _set("dateRange.end", "2024-02-30T15:00:00.000Z"), "invalid dateRange.end"),
    (
        "start after end",
        _set("dateRange.start", "2024-03-05T16:00:00.000Z"),
        "must be before dateRange.end",
    ),
    ("start equals end", _set("dateRange.start", iso(START_TIME)), "must be before dateRange.end"),
    (
        "15m over 8 days",
        lambda b: (
            b.update(granularity="15m"),
            b["dateRange"].update(start=iso(START_TIME - 8 * 86400)),
        ),
        "granularity [15m] is not allowed",
    ),
    ("week within a week", _set("granularity", "week"), "granularity [week] is not allowed"),
    (
        "day over 40 days",
        lambda b: (
            b.update(granularity="day"),
            b["dateRange"].update(start=iso(START_TIME - 40 * 86400)),
        ),
        "granularity [day] is not allowed",
    ),
    (
        "month over 20 days",
        lambda b: (
            b.update(granularity="month"),
            b["dateRange"].update(start=iso(START_TIME - 20 * 86400)),
        ),
        "granularity [month] is not allowed",
    ),
    (
        "intra-day without seconds",
        _set("intraDayTimeRange", {"start": "08:30", "end": "17:00:00"}),
        "invalid intraDayTimeRange.start",
    ),
    (
        "intra-day hour 24",
        _set("intraDayTimeRange", {"start": "08:30:00", "end": "24:00:00"}),
        "invalid intraDayTimeRange.end",
    ),
    (
        "intra-day 10 minutes",
        _set("intraDayTimeRange", {"start": "08:30:00", "end": "08:40:00"}),
        "at least 15 minutes",
    ),
    (
        "intra-day across midnight, 10 minutes",
        _set("intraDayTimeRange", {"start": "23:55:00", "end": "00:05:00"}),
        "at least 15 minutes",
    ),
    (
        "intra-day missing end",
        _set("intraDayTimeRange", {"start": "08:30:00"}),
        "invalid intraDayTimeRange.end",
    ),
    (
        "unknown time zone",
        _set("timezone", "Europe/Atlantis"),
        "unknown timezone [Europe/Atlantis]",
    ),
    (
        "subtotal not a boolean",
        _set("includeSubTotal", "yes"),
        "includeSubTotal must be true or false",
    ),
]


@pytest.mark.parametrize(
    ("case", "mutate", "message"), INVALID_DEFINITIONS, ids=[c[0] for c in INVALID_DEFINITIONS]
)
def test_invalid_definitions_are_400_naming_the_problem(
    api: CcClient, case: str, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    body = copy.deepcopy(definition())
    mutate(body)
    response = api.create_report(SALES, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["status"] == 400 and answer["error"] == "Bad Request"
    assert message in answer["message"], answer["message"]


def test_a_body_that_is_not_json_is_400(api: CcClient) -> None:
    response = api.session.post(
        api.historical_url(SALES),
        data=b"{not json",
        headers={**api.headers(SALES), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    response = api.create_report(SALES, ["a", "list"])
    assert response.status_code == 400


VALID_DEFINITIONS = [
    (
        "without millis",
        _set("dateRange", {"start": "2024-03-05T05:00:00Z", "end": "2024-03-05T15:00:00Z"}),
    ),
    ("two-digit millis (the guide's example)", _set("dateRange.start", "2024-03-05T05:00:00.00Z")),
    ("across midnight", _set("intraDayTimeRange", {"start": "20:00:00", "end": "06:00:00"})),
    ("exactly 15 minutes", _set("intraDayTimeRange", {"start": "08:30:00", "end": "08:45:00.000"})),
    (
        "week over 10 days",
        lambda b: (
            b.update(granularity="week"),
            b["dateRange"].update(start=iso(START_TIME - 10 * 86400)),
        ),
    ),
    (
        "year over 60 days",
        lambda b: (
            b.update(granularity="year"),
            b["dateRange"].update(start=iso(START_TIME - 60 * 86400)),
        ),
    ),
    ("booleans as strings", lambda b: b.update(includeSubTotal="true", includeGrandTotal="false")),
    ("no timezone: the tenant's", _without("timezone")),
    ("filters omitted", _set("groupBy", {"name": "media-and-channel-and-queue"})),
    ("empty metrics: all", _set("metrics", [])),
]


@pytest.mark.parametrize(
    ("case", "mutate"), VALID_DEFINITIONS, ids=[c[0] for c in VALID_DEFINITIONS]
)
def test_valid_definitions_are_accepted(
    api: CcClient, case: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    body = copy.deepcopy(definition())
    mutate(body)
    response = api.create_report(SALES, body)
    assert response.status_code == 200, response.text


def test_create_answers_queued_with_a_status_link(
    api: CcClient, vendor_schemas: VendorSchemas
) -> None:
    response = api.create_report(SALES, definition())
    assert response.status_code == 200
    body = response.json()
    vendor_schemas.check(vendor_schemas.cc_historical_validator("ResourceOfStatusResponse"), body)
    assert (
        set(body) == {"id", "status"} and isinstance(body["id"], int) and body["status"] == "QUEUED"
    )
    assert (
        response.headers["Link"]
        == f'<{api.historical_url(SALES)}/{body["id"]}/status>; rel="status"'
    )
    # The trailing slash form of the spec's `POST /` works too.
    again = api.session.post(
        api.historical_url(SALES, "/"), json=definition(), headers=api.headers(SALES), timeout=10
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"] + 1


# ----------------------------------------------------------------- life cycle
def test_queued_then_in_progress_until_the_delay_then_done(
    sim: Simulator, api: CcClient, fake_clock: FakeClock, vendor_schemas: VendorSchemas
) -> None:
    """The v8 spec's enum: QUEUED for the first third of the delay, then IN_PROGRESS."""
    report_id = api.create_report(SALES, definition()).json()["id"]
    base = api.historical_url(SALES, f"/{report_id}")
    for elapsed, waiting in (
        (0.0, "QUEUED"),
        (0.9, "QUEUED"),
        (1.0, "IN_PROGRESS"),
        (2.9, "IN_PROGRESS"),
    ):
        fake_clock.now = START_TIME + elapsed
        response = api.historical(SALES, f"/{report_id}/status")
        assert (
            response.json() == {"id": report_id, "status": waiting}
            and "Link" not in response.headers
        )
        assert api.historical(SALES, f"/{report_id}/links").json() == [
            {"relation": "status", "link": f"{base}/status"}
        ]
        early = api.historical(SALES, f"/{report_id}/data")
        assert early.status_code == 400 and waiting in early.json()["message"]
        assert api.historical(SALES, f"/{report_id}/download").status_code == 400
    assert sim.cc.reports(SALES) == {report_id: "IN_PROGRESS"}
    fake_clock.now = START_TIME + 3.0
    response = api.historical(SALES, f"/{report_id}/status")
    vendor_schemas.check(
        vendor_schemas.cc_historical_validator("ResourceOfStatusResponse"), response.json()
    )
    assert response.json() == {"id": report_id, "status": "DONE"}
    assert (
        response.headers["Link"]
        == f'<{base}/data?page=0&size=100>; rel="data", <{base}/download>; rel="download"'
    )
    links = api.historical(SALES, f"/{report_id}/links").json()
    vendor_schemas.check(vendor_schemas.cc_historical_validator("LinkItem"), links[0])
    assert [(link["relation"], link["link"]) for link in links] == [
        ("status", f"{base}/status"),
        ("data", f"{base}/data?page=0&size=100"),
        ("download", f"{base}/download"),
    ]
    assert sim.cc.reports(SALES) == {report_id: "DONE"} and sim.cc.reports(SUPPORT) == {}
    data = api.get(links[1]["link"], SALES)
    assert data.status_code == 200 and len(data.json()) == 4


def test_the_delay_is_a_constructor_argument(
    make_simulator: Callable[..., Simulator], make_cc_client: Callable[[Simulator], CcClient]
) -> None:
    api = make_cc_client(make_simulator(cc_report_delay_seconds=0))
    report_id = api.create_report(SALES, definition()).json()["id"]
    assert api.historical(SALES, f"/{report_id}/status").json()["status"] == "DONE"


def test_fail_next_reports_and_fail_reports(
    sim: Simulator, api: CcClient, reports: Reports
) -> None:
    sim.cc.fail_next_reports(1)
    failed = reports.create(SALES, definition())
    done = reports.create(SALES, definition())
    status = reports.wait(SALES, failed)
    assert status["status"] == "FAILED" and isinstance(status["reason"], str) and status["reason"]
    assert reports.wait(SALES, done) == {"id": done, "status": "DONE"}
    response = reports.api.historical(SALES, f"/{failed}/status")
    assert "Link" not in response.headers
    assert reports.api.historical(SALES, f"/{failed}/data").status_code == 400
    assert [
        link["relation"] for link in reports.api.historical(SALES, f"/{failed}/links").json()
    ] == ["status"]
    sim.cc.fail_reports(SUPPORT, True)
    support_failed = reports.create(SUPPORT, definition())
    sales_done = reports.create(SALES, definition())
    assert reports.wait(SUPPORT, support_failed)["status"] == "FAILED"
    assert reports.wait(SALES, sales_done)["status"] == "DONE"
    sim.cc.fail_reports(SUPPORT, False)
    assert reports.wait(SUPPORT, reports.create(SUPPORT, definition()))["status"] == "DONE"
    assert sim.cc.reports(SALES) == {failed: "FAILED", done: "DONE", sales_done: "DONE"}
    assert list(sim.cc.reports(SUPPORT).values()) == ["FAILED", "DONE"]


def test_unknown_or_another_tenants_report_is_404(api: CcClient) -> None:
    report_id = api.create_report(SALES, definition()).json()["id"]
    for path in ("/status", "/data", "/download", "/links", ""):
        assert api.historical(SALES, f"/999{path}").status_code == 404
        response = api.historical(SUPPORT, f"/{report_id}{path}")
        assert response.status_code == 404 and response.json()["status"] == 404
    assert api.historical(SALES, "/abc/status").status_code == 400


def test_the_definition_is_readable(
    api: CcClient, fake_clock: FakeClock, vendor_schemas: VendorSchemas
) -> None:
    body = definition(
        metrics=["accepted", "entered"],
        includeGrandTotal=True,
        intraDayTimeRange={"start": "08:00:00", "end": "18:00:00"},
    )
    report_id = api.create_report(SALES, body).json()["id"]
    fake_clock.advance(5)
    answer = api.historical(SALES, f"/{report_id}").json()
    vendor_schemas.check(
        vendor_schemas.cc_historical_validator(
            "ReportDefinitionResponse", strict=("ReportDefinitionResponse",)
        ),
        answer,
    )
    assert (
        answer["id"] == str(report_id) and answer["status"] == "DONE"
    )  # the spec's schema: a string id
    assert (
        answer["metrics"] == ["accepted", "entered"]
        and answer["intraDayTimeRange"] == body["intraDayTimeRange"]
    )
    assert answer["dateRange"] == body["dateRange"] and answer["includeGrandTotal"] is True


# ----------------------------------------------------------------- data
def test_data_rows_match_the_spec_and_the_guide(
    api: CcClient, reports: Reports, vendor_schemas: VendorSchemas
) -> None:
    body = definition(
        groupBy={"name": "media-and-channel-and-queue"},
        granularity="hour",
        metrics=["accepted", "acceptedPercentage", "avgWaitTime", "longestWaitTime"],
    )
    rows = reports.rows(SALES, body)
    vendor_schemas.check(
        vendor_schemas.cc_historical_validator(
            "ResourceOfApiReportResponse", strict=("Row", "RowItem")
        ),
        rows,
    )
    assert (
        len(rows) == 10 * 6
    )  # 10 hours since midnight x the 6 (media, channel, queue) of the tenant
    first = rows[0]
    assert first["total"] is None
    assert [item["key"] for item in first["items"]] == [
        "startTime",
        "endTime",
        "media",
        "channel",
        "queue",
        "queueId",
        "accepted",
        "acceptedPercentage",
        "avgWaitTime",
        "longestWaitTime",
    ]
    assert [item["label"] for item in first["items"]][:6] == [
        "Start Time",
        "End Time",
        "Media",
        "Channel",
        "Queue",
        "Queue Id",
    ]
    values = items_of(first)
    assert (values["startTime"], values["endTime"]) == (
        "2024-03-05T00:00-05:00",
        "2024-03-05T01:00-05:00",
    )
    for row in rows:
        for item in row["items"]:
            assert isinstance(item["value"], str)
        values = items_of(row)
        assert re.fullmatch(r"\d+\.\d\d", values["acceptedPercentage"])
        assert re.fullmatch(r"\d+", values["accepted"]) and re.fullmatch(
            r"\d+", values["avgWaitTime"]
        )
    assert items_of(rows[-1])["startTime"] == "2024-03-05T09:00-05:00"


def test_data_pages_with_headers_and_next_links(api: CcClient, reports: Reports) -> None:
    body = definition(
        groupBy={"name": "media-and-channel-and-queue"}, granularity="hour", metrics=["entered"]
    )
    report_id = reports.create(SALES, body)
    reports.wait(SALES, report_id)
    url: str | None = api.historical_url(SALES, f"/{report_id}/data") + "?page=0&size=25"
    collected: list[dict[str, Any]] = []
    for page in range(10):
        if url is None:
            break
        response = api.get(url, SALES)
        headers = response.headers
        assert (
            headers["X-Page"],
            headers["X-Page-Size"],
            headers["X-Total-Pages"],
            headers["X-Total-Elements"],
        ) == (str(page), "25", "3", "60")
        collected += response.json()
        link = headers.get("Link")
        if page < 2:
            assert (
                link
                == f'<{api.historical_url(SALES, f"/{report_id}/data")}?page={page + 1}&size=25>; rel="next"'
            )
            url = re.findall(r"<([^>]+)>", link)[0]
        else:
            assert link is None
            url = None
    assert len(collected) == 60 and collected == reports.pages(SALES, report_id, 1000)
    past = api.historical(SALES, f"/{report_id}/data", {"page": 5, "size": 25})
    assert (
        past.status_code == 200 and past.json() == [] and past.headers["X-Total-Elements"] == "60"
    )
    default = api.historical(SALES, f"/{report_id}/data")
    assert default.headers["X-Page-Size"] == "100" and len(default.json()) == 60
    for params in ({"size": 1001}, {"size": 0}, {"page": -1}, {"page": "x"}):
        assert api.historical(SALES, f"/{report_id}/data", params).status_code == 400


def test_sub_and_grand_totals(reports: Reports) -> None:
    body = definition(
        groupBy={"name": "media-and-queue"},
        granularity="hour",
        includeSubTotal=True,
        includeGrandTotal=True,
        metrics=["entered", "accepted", "acceptedPercentage", "longestWaitTime"],
    )
    rows = reports.rows(SALES, body)
    details = [row for row in rows if row["total"] is None]
    assert len(details) == 10 * 6
    grand = rows[-1]
    assert grand["total"] == {"type": "grandtotal", "startIndex": None, "endIndex": None}
    grand_values = items_of(grand)
    assert all(
        grand_values[key] is None for key in ("startTime", "endTime", "media", "queue", "queueId")
    )
    assert int(grand_values["entered"]) == sum(int(items_of(r)["entered"]) for r in details)
    assert int(grand_values["longestWaitTime"]) == max(
        int(items_of(r)["longestWaitTime"]) for r in details
    )
    subtotals = [
        (index, row)
        for index, row in enumerate(rows)
        if row["total"] and row["total"]["type"] == "subtotal"
    ]
    assert len(subtotals) == 10 * 2  # per hour and media
    for index, row in subtotals:
        start, end = row["total"]["startIndex"], row["total"]["endIndex"]
        assert start <= end == index - 1
        block = rows[start : end + 1]
        assert all(r["total"] is None for r in block)
        values = items_of(row)
        assert values["queue"] is None and values["queueId"] is None  # summarizes several queues
        assert all(
            items_of(r)["media"] == values["media"]
            and items_of(r)["startTime"] == values["startTime"]
            for r in block
        )
        assert int(values["accepted"]) == sum(int(items_of(r)["accepted"]) for r in block)
        entered = sum(int(items_of(r)["entered"]) for r in block)
        assert int(values["entered"]) == entered
    plain = reports.rows(
        SALES,
        definition(groupBy={"name": "media-and-queue"}, granularity="hour", metrics=["entered"]),
    )
    assert len(plain) == 60 and all(row["total"] is None for row in plain)


def test_filters_select_rows_and_values(sim: Simulator, reports: Reports) -> None:
    tenant = sim.cc.tenant(SALES)
    queue = tenant.queues[2]
    by_queue = reports.rows(
        SALES,
        definition(
            groupBy={
                "name": "media-and-queue",
                "filters": [{"name": "queue", "values": [queue.id, "nope"]}],
            }
        ),
    )
    assert {items_of(row)["queueId"] for row in by_queue} == {queue.id}
    chat = reports.rows(
        SALES,
        definition(
            groupBy={
                "name": "media-and-channel-and-queue",
                "filters": [{"name": "media", "values": ["Chat"]}],
            }
        ),
    )
    assert {items_of(row)["media"] for row in chat} == {"Chat"}
    assert len(chat) == sum(1 for q in tenant.queues if "Chat" in q.media)
    inbound = reports.rows(
        SALES,
        definition(
            groupBy={"name": "media", "filters": [{"name": "media", "values": ["InboundPhone"]}]}
        ),
    )
    assert [items_of(row)["media"] for row in inbound] == ["Phone"]
    agent = tenant.agents[0]
    by_agent = reports.rows(
        SALES,
        definition(
            type="agent-interactions-summary",
            groupBy={
                "name": "group-and-agent",
                "filters": [{"name": "agent", "values": [agent.id]}],
            },
        ),
    )
    assert [
        (items_of(r)["agentId"], items_of(r)["groupId"], items_of(r)["agent"]) for r in by_agent
    ] == [(agent.id, agent.group_id, agent.name)]


def test_intra_day_range_selects_local_times(sim: Simulator, reports: Reports) -> None:
    body = definition(
        intraDayTimeRange={"start": "08:00:00", "end": "09:30:00"}, metrics=["entered", "accepted"]
    )
    rows = reports.rows(SALES, body)
    model = sim.cc.model(SALES)
    for row in rows:
        values = items_of(row)
        expected = 0
        for entry in model.entries.records:
            local = datetime.fromtimestamp(entry.at, NY)
            if (
                entry.queue == values["queueId"]
                and _MIDNIGHT <= entry.at < START_TIME
                and (8, 0) <= (local.hour, local.minute) < (9, 30)
            ):
                expected += 1
        assert int(values["entered"]) == expected
    overnight = reports.rows(
        SALES,
        definition(intraDayTimeRange={"start": "22:00:00", "end": "02:00:00"}, metrics=["entered"]),
    )
    full = reports.rows(SALES, definition(metrics=["entered"]))
    assert (
        0
        < sum(int(items_of(r)["entered"]) for r in overnight)
        < sum(int(items_of(r)["entered"]) for r in full)
    )


def test_week_buckets_start_on_monday_and_zero_offsets_are_z(reports: Reports) -> None:
    body = definition(
        granularity="week",
        dateRange={"start": iso(START_TIME - 20 * 86400), "end": iso(START_TIME)},
        timezone="Europe/London",
        metrics=["entered"],
        groupBy={"name": "media"},
    )
    rows = reports.rows(SUPPORT, body)
    starts = sorted({items_of(row)["startTime"] for row in rows})
    assert starts == [
        "2024-02-12T00:00Z",
        "2024-02-19T00:00Z",
        "2024-02-26T00:00Z",
        "2024-03-04T00:00Z",
    ]
    assert all(datetime.fromisoformat(s).weekday() == 0 for s in starts)


def test_download_is_the_whole_report_as_csv(api: CcClient, reports: Reports) -> None:
    body = definition(
        title="Weekly Queue Report for OPS",
        groupBy={"name": "media-and-queue"},
        granularity="hour",
        includeSubTotal=True,
        includeGrandTotal=True,
        metrics=["entered", "accepted"],
    )
    report_id = reports.create(SALES, body)
    reports.wait(SALES, report_id)
    response = api.historical(
        SALES, f"/{report_id}/download", headers={**api.headers(SALES), "Accept": "text/csv"}
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="Weekly Queue Report for OPS.csv"'
    )
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == [
        "Start Time",
        "End Time",
        "Media",
        "Queue",
        "Queue Id",
        "Entered",
        "Accepted",
    ]
    rows = reports.pages(SALES, report_id, 1000)
    assert table[1:] == [
        ["" if i["value"] is None else i["value"] for i in row["items"]] for row in rows
    ]
    excel = api.historical(
        SALES, f"/{report_id}/download", headers={**api.headers(SALES), "Accept": "text/xlsx"}
    )
    assert excel.status_code == 406


def test_json_data_is_capped_at_10000_records(
    make_simulator: Callable[..., Simulator],
    make_cc_client: Callable[[Simulator], CcClient],
    fake_clock: FakeClock,
) -> None:
    simulator = make_simulator(cc_agents_per_tenant=16)
    api = make_cc_client(simulator)
    body = definition(
        type="agent-status-summary",
        groupBy={"name": "group-and-agent"},
        granularity="15m",
        dateRange={"start": iso(START_TIME - 7 * 86400), "end": iso(START_TIME)},
        metrics=["loggedInTime"],
    )
    reports = Reports(api, fake_clock)
    report_id = reports.create(SALES, body)
    reports.wait(SALES, report_id)
    last = api.historical(SALES, f"/{report_id}/data", {"page": 9, "size": 1000})
    assert last.status_code == 200 and len(last.json()) == 1000
    assert (last.headers["X-Total-Elements"], last.headers["X-Total-Pages"]) == ("10000", "10")
    assert "Link" not in last.headers
    assert api.historical(SALES, f"/{report_id}/data", {"page": 10, "size": 1000}).json() == []
    # The download has every row: 7 days of 15 minutes x 16 agents.
    download = api.historical(SALES, f"/{report_id}/download")
    assert len(download.text.strip().split("\r\n")) == 1 + 672 * 16
    values = items_of(last.json()[-1])
    assert set(values) == {
        "startTime",
        "endTime",
        "group",
        "groupId",
        "agent",
        "agentId",
        "loggedInTime",
    }


# ----------------------------------------------------------------- agreement with realtime
def test_a_report_from_local_midnight_to_now_agrees_with_realtime_today(
    sim: Simulator, api: CcClient, reports: Reports
) -> None:
    realtime = {item["id"]: values_of(item) for item in api.realtime(SALES, "/queues").json()}
    agents = {item["id"]: values_of(item) for item in api.realtime(SALES, "/agents").json()}
    report_id = reports.create(SALES, definition())  # the same moment: START_TIME
    reports.wait(SALES, report_id)
    rows = reports.pages(SALES, report_id, 100)
    assert [items_of(row)["queueId"] for row in rows] == [q.id for q in sim.cc.queues(SALES)]
    for row in rows:
        values = items_of(row)
        today = realtime[values["queueId"]]
        for metric in (
            "entered",
            "accepted",
            "abandoned",
            "shortAbandoned",
            "totalAbandoned",
            "diverted",
        ):
            assert int(values[metric]) == today[f"{metric}.today"], (values["queue"], metric)
        for metric in ("acceptedPercentage", "abandonedPercentage", "totalAbandonedPercentage"):
            assert values[metric] == f"{today[f'{metric}.today']:.2f}"
        assert int(values["avgWaitTime"]) == today["interactionsAvgWaitTime.today"]
        assert int(values["avgHandlingTime"]) == today["avgHandlingTime.today"]
    assert sum(int(items_of(row)["accepted"]) for row in rows) > 100
    # Agents: the same facts in the agent reports.
    agent_rows = reports.rows(
        SALES,
        definition(
            type="agent-interactions-summary",
            groupBy={"name": "agent"},
            metrics=["accepted", "presented", "rejected", "rejectTimeout"],
        ),
    )
    status_rows = reports.rows(
        SALES,
        definition(
            type="agent-status-summary",
            groupBy={"name": "agent"},
            metrics=["loggedInTime", "availableTime", "onBreakTime"],
        ),
    )
    for row, status_row in zip(agent_rows, status_rows):
        values, status = items_of(row), items_of(status_row)
        today = agents[values["agentId"]]
        assert int(values["accepted"]) == today["accepted.today.inQueue"]
        assert int(values["presented"]) == today["offered.today.inQueue"]
        assert (
            int(values["rejected"]) + int(values["rejectTimeout"])
            == today["rejected.today.inQueue"] + today["rejectTimeout.today.inQueue"]
        )
        for metric in ("loggedInTime", "availableTime", "onBreakTime"):
            assert int(status[metric]) == pytest.approx(today[f"{metric}.today"], abs=1)


def test_reports_are_deterministic(
    make_simulator: Callable[..., Simulator],
    clock_factory: ClockFactory,
    make_cc_client: Callable[[Simulator], CcClient],
) -> None:
    answers = []
    for _ in range(2):
        clock = clock_factory()
        api = make_cc_client(make_simulator(seed=5, clock=clock))
        body = definition(
            type="agent-interactions-summary",
            groupBy={"name": "group-and-agent-and-media-and-queue"},
            granularity="30m",
            includeSubTotal=True,
            includeGrandTotal=True,
        )
        report_id = api.create_report(SUPPORT, body).json()["id"]
        clock.advance(3)
        answers.append(
            (
                report_id,
                api.historical(SUPPORT, f"/{report_id}/data", {"size": 1000}).content,
                api.historical(SUPPORT, f"/{report_id}/download").content,
            )
        )
    assert answers[0] == answers[1]


def test_eu_tenant_reports_live_under_eu(
    make_simulator: Callable[..., Simulator],
    make_cc_client: Callable[[Simulator], CcClient],
    fake_clock: FakeClock,
) -> None:
    simulator = make_simulator(cc_tenants=[("acme-sales", "us"), ("acme-eu", "eu")])
    api = make_cc_client(simulator)
    response = api.create_report("acme-eu", definition(timezone="Europe/London"))
    assert response.status_code == 200
    assert response.headers["Link"].startswith(
        f"<{simulator.root_url}/eu/analytics/cc/v8/historical-metrics/"
    )
    report_id = response.json()["id"]
    assert (
        api.historical(
            "acme-eu", f"/{report_id}/status", region="us", headers=api.headers("acme-eu")
        ).status_code
        == 400
    )
    fake_clock.advance(3)
    assert api.historical("acme-eu", f"/{report_id}/status").json()["status"] == "DONE"
