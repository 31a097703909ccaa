"""The live calls poller: `/v2/pbxes/{pbxId}/calls` replayed strictly (the vendor's example and
pages built from it), its cursor paging and its stops, and its exposition."""

from __future__ import annotations

import copy
import urllib.parse
from typing import Any

import pytest
import responses
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.api.clock import ApiClock
from exporter.api.live import LiveApi
from exporter.config import ConfigError, load_config_data
from exporter.config.live import LiveCallsConfig
from exporter.core.errors import PagingLoopError
from exporter.metrics.rendering import render_families
from exporter.pollers.base import Scheduler
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.live_calls import LiveCallPoller
from exporter.pollers.ring_group_sources import NO_RING_GROUPS, FixedRingGroups, RingGroup
from tests.support import work_analytics as wa
from tests.support.call_queues import PBX_ID, CannedClient, directory
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.page import PageReader, Samples, exposition_of, samples

URL = f"{wa.BASE}/v2/pbxes/{PBX_ID}/calls"
PBX = "voaromaniaqe14051"
SITE = "SanJose-Onel"
QUEUES = ("CQ3 (autologin)", "CQ4", "Narbo")
CREDENTIALS = {"api_key": "k", "username": "u", "password": "p"}
NOW = 1_717_760_000.0  # shortly after the vendor's example calls


def call(call_id: str, status: str, age: float, **group: str) -> dict[str, Any]:
    """A call in progress shaped as the vendor's example, started `age` seconds before NOW."""
    body = copy.deepcopy(fixture_json("calls.json")["calls"][0])
    body.update(callId=call_id, status=status, startTime=int((NOW - age) * 1000), stopTime=0)
    body["workGroup"] = group or {"id": "tqteLkZOScyi0Mai9ewUlA", "groupType": "CALL_QUEUE"}
    return body


def make_poller(rsps: responses.RequestsMock, *pages: Any, **kwargs: Any) -> LiveCallPoller:
    wa.add_token(rsps)
    for body in pages:
        rsps.get(URL, json=body)
    api_clock = ApiClock("work_analytics", FakeClock(NOW))  # the API's time, never the wall's
    client = wa.make_client(CollectorRegistry(), wa.Sleeps(), api_clock=api_clock)
    ring_groups = kwargs.pop("ring_groups", NO_RING_GROUPS)
    return LiveCallPoller(LiveApi(client), directory, ring_groups, interval=30, **kwargs)


def page_of(poller: LiveCallPoller) -> Samples:
    rendered = render_families(poller.collect())
    return samples(b"".join(f.header(False) + f.samples for f in rendered).decode())


def queries(rsps: responses.RequestsMock) -> list[dict[str, list[str]]]:
    urls = [str(c.request.url) for c in rsps.calls]
    return [
        urllib.parse.parse_qs(urllib.parse.urlsplit(u).query) for u in urls if u.startswith(URL)
    ]


def value(page: Samples, name: str, **labels: str) -> float | None:
    return page.get((name, frozenset(labels.items())))


def queue(name: str, status: str) -> dict[str, str]:
    """The labels of a queue of the test directory, as every queue metric carries them."""
    known = directory.directory
    assert known is not None
    (found,) = [q for q in known.queues_of(PBX_ID) if q.name == name]
    return {
        "pbx": PBX,
        "site": SITE,
        "queue": name,
        "extension": found.extension,
        "queue_id": found.id,
        "status": status,
    }


def test_the_vendors_example_completed_calls_leave_zeros(rsps) -> None:
    poller = make_poller(rsps, fixture_json("calls.json"))
    page = page_of(poller)
    assert queries(rsps) == [
        {"limit": ["200"], "sortingField": ["startTime"], "sortingDirection": ["DESC"]}
    ]
    for name in QUEUES:
        for status in ("waiting", "alerting", "talking", "on_hold"):
            assert value(page, "eightbyeight_queue_live_calls", **queue(name, status)) == 0
            longest = "eightbyeight_queue_live_call_longest_seconds"
            assert value(page, longest, **queue(name, status)) == 0
    assert not [key for key in page if key[0] == "eightbyeight_ring_group_live_calls"]
    assert poller.invalid.count == 0 and poller.unusable.count == 0


def test_calls_in_progress_by_queue_ring_group_and_status(rsps) -> None:
    ring = {"extension": "1004", "groupType": "RING_GROUP"}
    calls = [
        call("1", "WAITING", 10),
        call("2", "WAITING", 40),
        call("3", "TALKING", 100, extension="1013", groupType="CALL_QUEUE"),  # no id
        call("4", "ONHOLD", 5),  # the spelling of the vendor's labels
        call("5", "TALKING", 20, **ring),
        call("6", "ALERTING", 30, extension="1005", groupType="RING_GROUP"),
        call("7", "PARKED", 15),
        call("8", "PARKED", 16),
    ]
    named = FixedRingGroups({(PBX, "1004"): RingGroup(PBX, SITE, "Sales", "1004")})
    poller = make_poller(rsps, {"calls": calls}, ring_groups=named)
    with capture_logs() as logs:
        page = page_of(poller)
    live, longest = "eightbyeight_queue_live_calls", "eightbyeight_queue_live_call_longest_seconds"
    assert value(page, live, **queue("CQ3 (autologin)", "waiting")) == 2
    assert value(page, longest, **queue("CQ3 (autologin)", "waiting")) == 40
    assert value(page, live, **queue("CQ3 (autologin)", "on_hold")) == 1
    assert value(page, live, **queue("CQ4", "talking")) == 1
    assert value(page, longest, **queue("CQ4", "talking")) == 100
    assert value(page, live, **queue("CQ3 (autologin)", "other")) == 2
    assert value(page, live, **queue("CQ4", "other")) is None  # only where there is one
    group = "eightbyeight_ring_group_live_calls"
    sales = {"pbx": PBX, "ring_group": "Sales", "extension": "1004"}
    assert value(page, group, **sales, status="talking") == 1
    assert value(page, group, **sales, status="waiting") == 0
    # No name known for 1005: the extension is the label (said in HELP).
    unnamed = {"pbx": PBX, "ring_group": "1005", "extension": "1005"}
    assert value(page, group, **unnamed, status="alerting") == 1
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["live_call_status_unknown"]
    assert poller.unusable.count == 2


def full_page(*ids_and_ages: tuple[str, float]) -> dict[str, Any]:
    return {"calls": [call(call_id, "WAITING", age) for call_id, age in ids_and_ages]}


def test_pages_are_read_to_the_short_last_one(rsps) -> None:
    pages = [full_page(("a", 1), ("b", 2)), full_page(("c", 3), ("d", 4)), full_page(("e", 5))]
    poller = make_poller(rsps, *pages, page_size=2)
    page = page_of(poller)
    asked = queries(rsps)
    assert len(asked) == 3 and "startingAfter" not in asked[0]
    b_started, d_started = str(int((NOW - 2) * 1000)), str(int((NOW - 4) * 1000))
    assert (asked[1]["startingAfter"], asked[1]["latestSortingValue"]) == (["b"], [b_started])
    assert (asked[2]["startingAfter"], asked[2]["latestSortingValue"]) == (["d"], [d_started])
    assert all(q["limit"] == ["2"] and q["sortingDirection"] == ["DESC"] for q in asked)
    assert value(page, "eightbyeight_queue_live_calls", **queue("CQ3 (autologin)", "waiting")) == 5


def test_a_page_with_the_previous_cursor_stops_the_read(rsps) -> None:
    # The second page ends on the call the first ended on: the same cursor again.
    pages = [full_page(("a", 1), ("b", 2)), full_page(("c", 3), ("b", 2))]
    poller = make_poller(rsps, *pages, page_size=2)
    with pytest.raises(PagingLoopError, match="cursor after page 1 was already sent"):
        poller.collect()
    assert len(queries(rsps)) == 2


def test_a_repeated_page_stops_the_read(rsps) -> None:
    pages = [full_page(("a", 1), ("b", 2)), full_page(("a", 1), ("b", 2))]
    poller = make_poller(rsps, *pages, page_size=2)
    with pytest.raises(PagingLoopError, match="page 1 repeats page 0"):
        poller.collect()
    assert len(queries(rsps)) == 2


def test_the_read_stops_at_max_call_age_and_leaves_older_calls_out(rsps) -> None:
    # A full page whose oldest call is older than max_call_age: no next page is asked for.
    poller = make_poller(rsps, full_page(("a", 60), ("old", 7200)), page_size=2, max_call_age=3600)
    page = page_of(poller)
    assert len(queries(rsps)) == 1
    assert value(page, "eightbyeight_queue_live_calls", **queue("CQ3 (autologin)", "waiting")) == 1


def test_the_read_stops_at_max_pages_and_says_so_once(rsps) -> None:
    pages = [full_page(("a", 1)), full_page(("b", 2))]
    poller = make_poller(rsps, *pages, page_size=1, max_pages=2)
    with capture_logs() as logs:
        page = page_of(poller)
    assert len(queries(rsps)) == 2
    assert value(page, "eightbyeight_queue_live_calls", **queue("CQ3 (autologin)", "waiting")) == 2
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["live_calls_max_pages"]


def test_malformed_calls_are_counted_and_the_rest_exported(rsps) -> None:
    no_start = call("n", "TALKING", 0)
    del no_start["startTime"]
    calls = [
        "not a call",
        {**call("g", "WAITING", 1), "workGroup": None},
        call("t", "WAITING", 1, extension="9", groupType="USER"),
        call("u", "WAITING", 1, id="unknown", groupType="CALL_QUEUE"),
        call("r", "WAITING", 1, groupType="RING_GROUP"),
        no_start,
        call("ok", "WAITING", 1),
        call("ok", "WAITING", 1),  # handed out twice: counted once
        {**call("done", "WAITING", 1), "stopTime": 1717759990000},  # finished
    ]
    poller = make_poller(rsps, {"calls": calls})
    with capture_logs():
        page = page_of(poller)
    assert poller.invalid.count == 5
    assert poller.unusable.count == 1  # no startTime: counted without an age
    assert value(page, "eightbyeight_queue_live_calls", **queue("CQ3 (autologin)", "talking")) == 1
    longest = "eightbyeight_queue_live_call_longest_seconds"
    assert value(page, longest, **queue("CQ3 (autologin)", "talking")) == 0
    assert value(page, "eightbyeight_queue_live_calls", **queue("CQ3 (autologin)", "waiting")) == 1


def test_a_failing_endpoint_degrades_only_this_poller(rsps) -> None:
    wa.add_token(rsps)
    rsps.get(URL, status=403, json=fixture_json("call_queue_metrics_403.json"))
    client = wa.make_client(CollectorRegistry(), wa.Sleeps())
    clock = FakeClock(NOW)
    scheduler = Scheduler(wall_clock=clock)
    queues = CallQueuePoller(
        CannedClient({"call_queue_metrics": fixture_json("call_queue_metrics.json")}),
        directory,
        interval=30,
    )
    live = LiveCallPoller(LiveApi(client), directory, NO_RING_GROUPS, interval=30)
    scheduler.add(queues)
    live_runner = scheduler.add(live)
    with capture_logs():
        assert not scheduler.run_once()
    assert live_runner.state.last_error is not None and "403" in live_runner.state.last_error
    reader = PageReader(exposition_of(scheduler))
    assert reader.get_sample_value("eightbyeight_up", {"collector": "call_queues"}) == 1
    assert reader.get_sample_value("eightbyeight_up", {"collector": "live_calls"}) == 0
    assert "eightbyeight_queue_ongoing_waiting_calls" in reader.text()
    assert "eightbyeight_queue_live_calls" not in reader.text()


def test_config_defaults_and_bad_values() -> None:
    section = LiveCallsConfig()
    assert (section.enabled, section.interval, section.page_size) == (True, 30.0, 200)
    assert (section.max_call_age, section.max_pages) == (4 * 3600.0, 50)
    loaded = load_config_data({"work_analytics": CREDENTIALS}, env={})
    assert loaded.work_analytics.live_calls == section
    cases = {
        "page_size": (1001, "Input should be less than or equal to 1000"),
        "max_pages": (0, "Input should be greater than or equal to 1"),
        "interval": ("soon", "'soon' is not a duration such as 30s, 5m or 1h"),
    }
    for key, (bad, message) in cases.items():
        with pytest.raises(ConfigError) as info:
            data = {**CREDENTIALS, "live_calls": {key: bad}}
            load_config_data({"work_analytics": data}, env={})
        assert info.value.problems == [f"work_analytics.live_calls.{key}: {message}"]
    for age in ("2d", "30s"):
        with pytest.raises(ConfigError) as info:
            data = {**CREDENTIALS, "live_calls": {"max_call_age": age}}
            load_config_data({"work_analytics": data}, env={})
        (problem,) = info.value.problems
        assert problem.startswith("work_analytics.live_calls: max_call_age (")
        assert problem.endswith("s) must be between 1m and 24h: /calls covers the last 24 hours")


def test_the_budget_counts_one_request_per_pbx_and_poll() -> None:
    data = {**CREDENTIALS, "pbxes": ["a", "b"], "live_calls": {"interval": "1m"}}
    need = load_config_data({"work_analytics": data}, env={}).work_analytics
    assert need.minimum_requests_per_minute()["live_calls"] == 2
    assert need.minimum_requests_per_minute()["agent_activity"] == 4


def test_a_server_that_does_not_sort_newest_first_hides_no_call_in_progress(rsps) -> None:
    # Oldest first, against the sorting asked: the first full page holds old completed calls,
    # the calls in progress come last. The age stop would end the read on page 1.
    old = [call(f"old-{i}", "COMPLETED", 7200 + 10 * (3 - i)) for i in range(3)]
    for completed in old:
        completed["stopTime"] = int(NOW * 1000)
    waiting = [call(f"w-{i}", "WAITING", 30 - i) for i in range(2)]
    pages = [{"calls": old}, {"calls": waiting}]
    poller = make_poller(rsps, *pages, page_size=3, max_call_age=3600)
    with capture_logs() as logs:
        page = page_of(poller)
    assert len(queries(rsps)) == 2  # read on to the short page
    assert value(page, "eightbyeight_queue_live_calls", **queue("CQ3 (autologin)", "waiting")) == 2
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["live_calls_not_sorted"]


@pytest.mark.parametrize(
    "start",
    [
        lambda age: int(NOW - age),  # epoch seconds, not the documented milliseconds
        lambda age: str(int((NOW - age) * 1000)),  # milliseconds as a numeric string
    ],
    ids=["seconds", "numeric_string"],
)
def test_start_times_in_seconds_or_as_numeric_strings_are_read(rsps, start: Any) -> None:
    calls = [call("1", "WAITING", 40), call("2", "WAITING", 10)]
    for item, age in zip(calls, (40, 10), strict=True):
        item["startTime"] = start(age)
    poller = make_poller(rsps, {"calls": calls})
    page = page_of(poller)
    waiting = queue("CQ3 (autologin)", "waiting")
    assert value(page, "eightbyeight_queue_live_calls", **waiting) == 2
    assert value(page, "eightbyeight_queue_live_call_longest_seconds", **waiting) == 40


def test_ring_groups_named_only_by_the_answer_are_bounded_by_max_series(rsps) -> None:
    calls = [
        call(str(i), "TALKING", 10, extension=f"9{i:04d}", groupType="RING_GROUP")
        for i in range(150)  # one short page: the last
    ]
    poller = make_poller(rsps, {"calls": calls}, max_series=100)
    page = page_of(poller)
    groups = {dict(labels)["ring_group"] for name, labels in page if "ring_group" in dict(labels)}
    assert len(page) <= 100 and len(groups) < 150
    assert poller.series is not None and poller.series.dropped > 0


def test_two_ring_groups_of_one_name_are_two_series(rsps) -> None:
    """A "Sales" ring group at two sites: their calls were summed into one series."""
    named = FixedRingGroups(
        {
            (PBX, "1004"): RingGroup(PBX, SITE, "Sales", "1004"),
            (PBX, "2004"): RingGroup(PBX, "Austin", "Sales", "2004"),
        }
    )
    calls = [
        call("1", "TALKING", 10, extension="1004", groupType="RING_GROUP"),
        call("2", "TALKING", 20, extension="2004", groupType="RING_GROUP"),
        call("3", "TALKING", 30, extension="2004", groupType="RING_GROUP"),
    ]
    page = page_of(make_poller(rsps, {"calls": calls}, ring_groups=named))
    group = "eightbyeight_ring_group_live_calls"
    for extension, count in (("1004", 1), ("2004", 2)):
        labels = {"pbx": PBX, "ring_group": "Sales", "extension": extension, "status": "talking"}
        assert value(page, group, **labels) == count
