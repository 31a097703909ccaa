"""The Contact Center client's shared report-types answer under concurrency, the start-up check
that reads it, and the report data paging's loop guard. Recorded answers replayed strictly;
threads meet through Events with bounded waits, never through sleeps."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import responses
from prometheus_client import CollectorRegistry
from requests import PreparedRequest

from exporter.api import contact_center
from exporter.app import build_exporter, check_reports
from exporter.config import load_config_data
from exporter.core.errors import BadRequestError, PagingLoopError
from tests.support.clock import FakeClock
from tests.support.contact_center import HM, HOST, NOW, add_token, data_row, make_client
from tests.support.files import fixture_json

# Every wait of these tests is bounded by this. It only runs out when the behaviour under test
# is broken, so its length never decides a passing run.
WAIT = 10.0
TYPES_URL = f"{HM}/report-types"

Reply = tuple[int, dict[str, str], str]


def json_reply(body: Any, status: int = 200) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def types_asked(rsps: responses.RequestsMock) -> list[PreparedRequest]:
    return [c.request for c in rsps.calls if c.request.url == TYPES_URL]


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Runs `target` in a daemon thread; its answer or its exception lands in the dict."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["answer"] = target()
        except BaseException as exc:  # handed to the test thread, which asserts on it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_tenants_do_not_wait_on_each_others_report_types_request(
    rsps: responses.RequestsMock,
) -> None:
    add_token(rsps)
    types = fixture_json("cc_report_types.json")
    acme_asked, release_acme = threading.Event(), threading.Event()
    acme_answered = threading.Event()
    acme_answered_before_other: list[bool] = []

    def answer(request: PreparedRequest) -> Reply:
        if request.headers["X-Tenant-Info"] == "acme":
            acme_asked.set()
            release_acme.wait(WAIT)  # held until the other tenant has its answer
            acme_answered.set()
        else:
            acme_answered_before_other.append(acme_answered.is_set())
        return json_reply(types)

    rsps.add_callback(responses.GET, TYPES_URL, callback=answer)
    client = make_client(FakeClock(NOW))
    acme, acme_outcome = in_thread(lambda: client.report_types("acme"))
    try:
        assert acme_asked.wait(WAIT), "acme's request never reached the API"
        other, other_outcome = in_thread(lambda: client.report_types("other"))
        other.join(WAIT)
        assert not other.is_alive(), "the other tenant waited for acme's request"
        assert other_outcome == {"answer": types}
        # Asked while acme's request was still held, not after it ended.
        assert acme_answered_before_other == [False]
    finally:
        release_acme.set()
        acme.join(WAIT)
    assert not acme.is_alive() and acme_outcome == {"answer": types}
    assert sorted(r.headers["X-Tenant-Info"] for r in types_asked(rsps)) == ["acme", "other"]


@pytest.mark.parametrize("refused", [True, False], ids=["refused", "answered"])
def test_callers_of_one_tenant_share_the_request_in_flight(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    add_token(rsps)
    types = fixture_json("cc_report_types.json")
    first_asked, second_waiting = threading.Event(), threading.Event()
    flight = contact_center._TypesRequest
    real_wait = flight.wait

    def wait(self: contact_center._TypesRequest) -> list[Mapping[str, Any]]:
        second_waiting.set()  # the handshake: this caller now waits for the request in flight
        return real_wait(self)

    monkeypatch.setattr(flight, "wait", wait)

    def answer(request: PreparedRequest) -> Reply:
        first_asked.set()
        second_waiting.wait(WAIT)  # answered only once the second caller waits for it
        if refused:
            return json_reply({"status": 400, "message": "Bad request: try again"}, 400)
        return json_reply(types)

    rsps.add_callback(responses.GET, TYPES_URL, callback=answer)
    if refused:
        rsps.get(TYPES_URL, json=types)  # for the call after the failure
    client = make_client(FakeClock(NOW))
    first, first_outcome = in_thread(lambda: client.report_types("acme"))
    assert first_asked.wait(WAIT), "the first caller's request never reached the API"
    second, second_outcome = in_thread(lambda: client.report_types("acme"))
    first.join(WAIT)
    second.join(WAIT)
    assert not first.is_alive() and not second.is_alive()
    assert second_waiting.is_set()
    assert len(types_asked(rsps)) == 1  # one request for both callers
    if refused:
        # The waiter gets the error the request ended with, not a retry cycle of its own...
        assert isinstance(first_outcome.get("error"), BadRequestError)
        assert second_outcome.get("error") is first_outcome["error"]
        # ...and the failure is not kept: the next call asks again.
        assert client.report_types("acme") == types
        assert len(types_asked(rsps)) == 2
    else:
        assert first_outcome == {"answer": types} and second_outcome == {"answer": types}
        assert client.report_types("acme") == types  # from the cache
        assert len(types_asked(rsps)) == 1


def test_the_start_up_check_asks_once_per_tenant_with_the_same_messages(
    rsps: responses.RequestsMock,
) -> None:
    add_token(rsps)
    types = fixture_json("cc_report_types.json")
    rsps.add_callback(responses.GET, TYPES_URL, callback=lambda request: json_reply(types))
    agents = {
        "type": "agent-interactions-summary",
        "group_by": "agent",
        "window": "1h",
        "metrics": ["accepted"],
    }
    config = load_config_data(
        {
            "work_analytics": {"enabled": False},
            "contact_center": {
                "enabled": True,
                "base_url": HOST,
                "client_id": "i",
                "client_secret": "s",
                "tenants": ["acme", "other"],
                "reports": [
                    {"name": "one", **agents},
                    {"name": "two", **agents, "metrics": ["acceptedInSla"], "tenants": ["other"]},
                    {"name": "three", **agents, "type": "nope"},
                ],
            },
        }
    )
    exporter = build_exporter(config, process_metrics=False, clock=FakeClock(NOW))
    try:
        problems = check_reports(exporter)
    finally:
        exporter.close()
    offered = "(the API offers: agent-interactions-summary)"
    assert problems == [
        "contact_center.reports[1] (two, tenant other): unknown metric 'acceptedInSla' for "
        "agent-interactions-summary",
        f"contact_center.reports[2] (three, tenant acme): unknown report type 'nope' {offered}",
        f"contact_center.reports[2] (three, tenant other): unknown report type 'nope' {offered}",
    ]
    # Three reports over two tenants: one request per tenant.
    assert sorted(r.headers["X-Tenant-Info"] for r in types_asked(rsps)) == ["acme", "other"]


@pytest.mark.parametrize(
    "next_of",
    [{"0": "0"}, {"0": "1", "1": "0"}, {"0": "1", "1": "2", "2": "1"}],
    ids=["A-A", "A-B-A", "A-B-C-B"],
)
def test_a_next_link_back_to_a_page_already_read_fails_at_once(
    rsps: responses.RequestsMock, next_of: dict[str, str]
) -> None:
    add_token(rsps)
    # Every page has a row and a "next" link; the last one links back to a page already read.
    pages = {
        page: rsps.get(
            f"{HM}/5/data?page={page}&size=2",
            json=[data_row("Ann", "1", "1", "1")],
            headers={"Link": f'<{HM}/5/data?page={following}&size=2>; rel="next"'},
        )
        for page, following in next_of.items()
    }
    read: list[list[Any]] = []
    client = make_client()
    with pytest.raises(PagingLoopError, match="a page already read"):
        for rows, _ in client.report_pages("acme", 5, 2):
            read.append(rows)
    assert len(read) == len(next_of)  # every page once, then the loop is seen
    assert all(page.call_count == 1 for page in pages.values())
    registry = CollectorRegistry()
    registry.register(client.historical_http.stats)
    labels = {"api": "contact_center", "endpoint": "/historical-metrics/{id}/data"}
    assert registry.get_sample_value("eightbyeight_api_paging_loops_total", labels) == 1.0
