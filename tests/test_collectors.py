"""Discovery and call-queue collectors on the vendor's example answers; runner and exposition."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import responses
import structlog
from prometheus_client import CollectorRegistry, generate_latest

from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.core.errors import ApiError, ServerError
from exporter.metrics import units
from exporter.metrics.units import DurationUnit, to_number
from exporter.pollers.base import (
    FAILURE_RETRY_SECONDS,
    STALE_INTERVALS,
    Poller,
    PollerRunner,
    Scheduler,
)
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.discovery import (
    DiscoveryPoller,
    FixedDirectory,
)
from tests.support.call_queues import PBX_ID, SITE_ID, CannedClient, directory
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.page import PageReader, exposition_of


def render(*families: Any) -> CollectorRegistry:
    class Fixed:
        def collect(self) -> Any:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())
    return registry


def queue_labels(queue: str, extension: str, queue_id: str, **extra: str) -> dict[str, str]:
    return {
        "pbx": "voaromaniaqe14051",
        "site": "SanJose-Onel",
        "queue": queue,
        "extension": extension,
        "queue_id": queue_id,
        **extra,
    }


def test_discovery_maps_ids_to_names_and_skips_deleted() -> None:
    pages = (
        fixture_json("queues_page0.json")["_embedded"]["queueList"]
        + fixture_json("queues_page1.json")["_embedded"]["queueList"]
    )
    client = CannedClient(
        {
            "pbxes": [
                {"id": PBX_ID, "name": "aPbx", "deleted": False},
                {"id": "gone", "name": "old", "deleted": True},
            ],
            "sites": fixture_json("sites.json")["_embedded"]["siteList"],
            "queues": pages,
        }
    )
    collector = DiscoveryPoller(client, interval=600, pbx_refs=[])
    registry = render(*collector.collect())
    found = collector.directory
    assert found is not None and [p.name for p in found.pbxes] == ["aPbx"]
    assert sorted(q.name for q in found.queues.values()) == ["Arryk", "Billing", "Dorcas", "Waif"]
    # `extension` (vendor example) and `extensionNumber` (vendor schema) are both read.
    assert {q.name: q.extension for q in found.queues.values()}["Billing"] == "7029570"
    assert (
        registry.get_sample_value(
            "eightbyeight_queue_info",
            {
                "pbx": "aPbx",
                "site": "SanJose",
                "queue": "Arryk",
                "extension": "3971028",
                "queue_id": "ZOT7TlP9Tle0d82ZBRKqwe",
                "team": "",  # no teams configured
            },
        )
        == 1
    )
    assert (
        registry.get_sample_value("eightbyeight_pbx_info", {"pbx": "aPbx", "pbx_id": PBX_ID}) == 1
    )
    assert [c[0] for c in client.calls] == ["pbxes", "sites", "queues"]


def test_discovery_selects_pbxes_by_name_or_id() -> None:
    client = CannedClient(
        {
            "pbxes": [
                {"id": "id-a", "name": "a"},
                {"id": "id-b", "name": "b"},
                {"id": "id-c", "name": "c"},
            ],
            "sites": [],
            "queues": [],
        }
    )
    collector = DiscoveryPoller(client, interval=600, pbx_refs=["c", "id-a", "nope"])
    collector.collect()
    found = collector.directory
    assert found is not None
    assert [p.name for p in found.pbxes] == ["c", "a"]
    assert [(c[0], c[1]) for c in client.calls[1:]] == [
        ("sites", "id-c"),
        ("queues", "id-c"),
        ("sites", "id-a"),
        ("queues", "id-a"),
    ]


def test_call_queue_metrics_example_in_seconds() -> None:
    answer = fixture_json("call_queue_metrics.json")
    answer["callQueues"][0]["metrics"].update(
        ongoingWaitingCalls=3,
        ongoingLongestWaitingTime=41,
        averageWaitingTime=12.5,
        abandonedInWaitingCallsPercentage=12.5,
        enteredCalls=40,
    )
    answer["metricsSummary"] = {"ongoingWaitingCalls": 3, "acceptedCallsPercentage": 80}
    client = CannedClient({"call_queue_metrics": answer})
    collector = CallQueuePoller(client, directory, interval=30)
    registry = render(*collector.collect())
    cq3 = queue_labels("CQ3 (autologin)", "1000", "tqteLkZOScyi0Mai9ewUlA")
    get = registry.get_sample_value
    assert get("eightbyeight_queue_ongoing_waiting_calls", cq3) == 3
    assert get("eightbyeight_queue_ongoing_longest_waiting_time_seconds", cq3) == 41
    assert get("eightbyeight_queue_eligible_agents", cq3) == 1
    assert get("eightbyeight_queue_agents", cq3) == 1
    windowed = {**cq3, "window": "24h"}
    assert get("eightbyeight_queue_average_waiting_time_seconds", windowed) == 12.5
    assert get("eightbyeight_queue_abandoned_calls_ratio", windowed) == 0.125
    assert get("eightbyeight_queue_entered_calls", windowed) == 40
    assert get("eightbyeight_queue_diverted_calls", windowed) == 0
    # The spec's integer extension becomes a label string.
    assert (
        get(
            "eightbyeight_queue_ongoing_waiting_calls",
            queue_labels("CQ4", "1013", "ZPSyi0RkSiSISsNSuiYG7w"),
        )
        == 0
    )
    # The API's summary has its own names, never a queue="total" row.
    assert get("eightbyeight_pbx_queues_ongoing_waiting_calls", {"pbx": "voaromaniaqe14051"}) == 3
    assert (
        get(
            "eightbyeight_pbx_queues_accepted_calls_ratio",
            {"pbx": "voaromaniaqe14051", "window": "24h"},
        )
        == 0.8
    )
    text = generate_latest(registry).decode()
    assert 'queue="total"' not in text
    assert (
        "Polled from /v2/pbxes/{pbxId}/call-queue-metrics (how often: eightbyeight_collector_interval_seconds)."
        in text
    )


def test_call_queue_metrics_in_milliseconds_when_configured() -> None:
    answer = {
        "callQueues": [
            {
                "pbx": "voaromaniaqe14051",
                "site": "SanJose-Onel",
                "id": "ZPSyi0RkSiSISsNSuiYG7w",
                "name": "CQ4",
                "extension": "1013",
                "metrics": {
                    "ongoingLongestWaitingTime": 41000,
                    "averageTalkTime": 90500,
                    "ongoingWaitingCalls": 2,
                },
            }
        ]
    }
    cq4 = queue_labels("CQ4", "1013", "ZPSyi0RkSiSISsNSuiYG7w")
    durations: tuple[tuple[DurationUnit, float], ...] = (
        ("milliseconds", 41.0),
        ("seconds", 41000.0),
    )
    for unit, expected in durations:
        collector = CallQueuePoller(
            CannedClient({"call_queue_metrics": answer}),
            directory,
            interval=30,
            duration_unit=unit,
        )
        registry = render(*collector.collect())
        assert (
            registry.get_sample_value(
                "eightbyeight_queue_ongoing_longest_waiting_time_seconds", cq4
            )
            == expected
        )
        # Counts are never scaled.
        assert registry.get_sample_value("eightbyeight_queue_ongoing_waiting_calls", cq4) == 2
    assert registry is not None


def test_deprecated_realtime_api_is_milliseconds_and_looks_ids_up() -> None:
    client = CannedClient({"realtime": fixture_json("realtime_call_queues.json")})
    collector = CallQueuePoller(
        client,
        directory,
        interval=30,
        api="realtime",
        duration_unit="seconds",
    )  # ignored: this API is always ms
    registry = render(*collector.collect())
    narbo = {
        "pbx": "voaromaniaqe14051",
        "site": "SanJose-Onel",
        "queue": "Narbo",
        "extension": "153964",
        "queue_id": "q-narbo",
    }
    alerie = {
        "pbx": "voaromaniaqe14051",
        "site": "SanJose-Onel",
        "queue": "Alerie Hightower",
        "extension": "189751",
        "queue_id": "",
    }
    get = registry.get_sample_value
    assert get("eightbyeight_queue_ongoing_waiting_time_seconds", narbo) == 14.069
    assert get("eightbyeight_queue_ongoing_average_waiting_time_seconds", alerie) == 28.425
    assert get("eightbyeight_queue_ongoing_handling_time_seconds", narbo) == 24.069
    assert (
        get("eightbyeight_pbx_queues_ongoing_waiting_time_seconds", {"pbx": "voaromaniaqe14051"})
        == 99.345
    )


def test_filters_become_ids_and_pbxes_without_matches_are_skipped() -> None:
    client = CannedClient({"call_queue_metrics": {"callQueues": []}})
    collector = CallQueuePoller(
        client,
        directory,
        interval=30,
        sites=["SanJose-Onel"],
        queues=["CQ4", "1000"],
        metrics=["ongoingWaitingCalls"],
        include_summary=False,
    )
    collector.collect()
    ((_, pbx_id, kwargs),) = client.calls
    assert pbx_id == PBX_ID
    assert kwargs["site_ids"] == [SITE_ID]
    assert sorted(kwargs["queue_ids"]) == ["ZPSyi0RkSiSISsNSuiYG7w", "tqteLkZOScyi0Mai9ewUlA"]
    assert kwargs["metrics"] == ["ongoingWaitingCalls"] and kwargs["include_summary"] is False
    client.calls.clear()
    CallQueuePoller(client, directory, interval=30, queues=["no such queue"]).collect()
    assert client.calls == []


def test_diverted_alias_of_the_guide_and_odd_values() -> None:
    answer = {
        "callQueues": [
            {
                "id": "ZPSyi0RkSiSISsNSuiYG7w",
                "name": "CQ4",
                "extension": 1013,
                "site": "SanJose-Onel",
                "pbx": "voaromaniaqe14051",
                "metrics": {
                    "divertedCalls": "4",
                    "ongoingWaitingCalls": None,
                    "ongoingAvailableAgents": "n/a",
                    "someFutureMetric": 1,
                    "enteredCalls": float("nan"),
                },
            }
        ]
    }
    collector = CallQueuePoller(
        CannedClient({"call_queue_metrics": answer}), directory, interval=30
    )
    registry = render(*collector.collect())
    text = generate_latest(registry).decode()
    cq4 = queue_labels("CQ4", "1013", "ZPSyi0RkSiSISsNSuiYG7w", window="24h")
    assert registry.get_sample_value("eightbyeight_queue_diverted_calls", cq4) == 4
    assert "ongoing_waiting_calls" not in text and "available_agents" not in text
    assert "entered_calls" not in text and "future" not in text.lower()


def test_a_queue_that_vanishes_from_the_answer_vanishes_from_metrics() -> None:
    answer = fixture_json("call_queue_metrics.json")
    client = CannedClient({"call_queue_metrics": answer})
    collector = CallQueuePoller(client, directory, interval=30)
    runner = PollerRunner(collector)
    scheduler = Scheduler([runner])
    exposition = exposition_of(scheduler)
    runner.run_once()
    assert b'queue="CQ4"' in exposition.render()
    answer = {**answer, "callQueues": answer["callQueues"][:1]}
    client.answers["call_queue_metrics"] = answer
    runner.run_once()
    text = exposition.render().decode()
    assert 'queue="CQ4"' not in text and 'queue="CQ3 (autologin)"' in text


def test_no_directory_yet_fails_the_run() -> None:
    collector = CallQueuePoller(CannedClient({}), FixedDirectory(None), interval=30)
    runner = PollerRunner(collector)
    assert runner.run_once() is False
    assert "not been discovered" in (runner.state.last_error or "")


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (1, 1.0),
        ("2.5", 2.5),
        (None, None),
        (True, None),
        ("x", None),
        ([1], None),
        (float("inf"), None),
        (" 3 ", 3.0),
        (10**400, None),
        ("1e999", None),
        ("nan", None),
        (float("nan"), None),
    ],
)
def test_to_number(raw: object, number: float | None) -> None:
    assert to_number(raw) == number


def test_values_are_converted_in_one_module_only() -> None:
    # One parser and one converter: a value is a number (or not), and milliseconds become
    # seconds, alike in every poller; a second copy could drift from it.
    package = Path(units.__file__).parents[1]
    defined = {
        (path.relative_to(package).as_posix(), node.name)
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name in {"to_number", "convert"}
    }
    assert defined == {("metrics/units.py", "to_number"), ("metrics/units.py", "convert")}


def test_invalid_and_unusable_counters_are_exported_from_zero() -> None:
    # A counter that first appears above 0 hides its first increase from rate(): a clean
    # account exports both at 0 from the first snapshot on, before anything is left out.
    client = CannedClient(
        {
            "pbxes": [{"id": PBX_ID, "name": "aPbx"}],
            "sites": fixture_json("sites.json")["_embedded"]["siteList"],
            "queues": fixture_json("queues_page0.json")["_embedded"]["queueList"],
            "call_queue_metrics": fixture_json("call_queue_metrics.json"),
        }
    )
    discovery = DiscoveryPoller(client, interval=600, pbx_refs=[])
    queues = CallQueuePoller(client, discovery, interval=30)
    discovery.collect()
    queues.collect()
    assert discovery.self_metrics()["eightbyeight_collector_records_invalid"] == 0
    # Discovery reads no values: it has no such counter.
    assert "eightbyeight_collector_values_unusable" not in discovery.self_metrics()
    assert queues.self_metrics()["eightbyeight_collector_records_invalid"] == 0
    assert queues.self_metrics()["eightbyeight_collector_values_unusable"] == 0
    client.answers["call_queue_metrics"] = {
        "callQueues": [5, {"id": "q", "name": "Q", "metrics": {"ongoingWaitingCalls": "n/a"}}]
    }
    queues.collect()
    assert queues.self_metrics()["eightbyeight_collector_records_invalid"] == 1
    assert queues.self_metrics()["eightbyeight_collector_values_unusable"] == 1


class FlakyCollector(Poller):
    name = "flaky"
    interval = 30.0

    def __init__(self) -> None:
        self.fail = False
        self.value = 1.0

    def collect(self) -> Any:
        if self.fail:
            raise ServerError("/x", "server error", status=503)
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("eightbyeight_test_value", "A value.")
        family.add_metric([], self.value)
        return (family,)


def test_failure_degrades_one_collector_keeps_last_snapshot_and_recovers() -> None:
    wall = FakeClock()
    flaky = FlakyCollector()
    good = FlakyCollector()
    good.name = "good"
    runners = [PollerRunner(flaky, wall_clock=wall), PollerRunner(good, wall_clock=wall)]
    get = PageReader(exposition_of(Scheduler(runners))).get_sample_value
    assert get("eightbyeight_up", {"collector": "flaky"}) == 0  # before any run
    for runner in runners:
        assert runner.run_once()
    assert get("eightbyeight_up", {"collector": "flaky"}) == 1
    flaky.fail = True
    wall.advance(30)
    assert runners[0].run_once() is False
    assert runners[1].run_once() is True
    assert get("eightbyeight_up", {"collector": "flaky"}) == 0
    assert get("eightbyeight_up", {"collector": "good"}) == 1
    assert get("eightbyeight_collector_snapshot_age_seconds", {"collector": "flaky"}) == 30
    assert get("eightbyeight_collector_snapshot_age_seconds", {"collector": "good"}) == 0
    assert get("eightbyeight_collector_failures_total", {"collector": "flaky"}) == 1
    assert get("eightbyeight_collector_runs_total", {"collector": "flaky"}) == 2
    assert (
        get("eightbyeight_collector_last_success_timestamp_seconds", {"collector": "flaky"})
        == wall.now - 30
    )
    # The last good data is still shown while it is recent...
    assert get("eightbyeight_test_value") == 1
    # ...and dropped once it is older than three intervals (its age stays visible).
    wall.advance(200)
    assert get("eightbyeight_test_value") is None
    assert get("eightbyeight_collector_snapshot_age_seconds", {"collector": "flaky"}) == 230
    flaky.fail, flaky.value = False, 2.0
    assert runners[0].run_once()
    assert get("eightbyeight_up", {"collector": "flaky"}) == 1
    assert get("eightbyeight_test_value") == 2


def test_an_unexpected_exception_does_not_kill_the_runner() -> None:
    class Buggy(FlakyCollector):
        name = "buggy"

        def collect(self) -> Any:
            raise KeyError("surprise")

    runner = PollerRunner(Buggy())
    assert runner.run_once() is False
    assert "KeyError" in (runner.state.last_error or "")
    assert runner.first_run_done.is_set()


def test_stuck_detection() -> None:
    mono = FakeClock(0)
    runner = PollerRunner(FlakyCollector(), monotonic=mono)
    assert not runner.is_stuck()
    with runner._lock:
        runner._state.running_since = mono()
    mono.advance(299)
    assert not runner.is_stuck()
    mono.advance(2)
    assert runner.is_stuck()


def test_a_long_run_that_keeps_reading_pages_is_not_stuck() -> None:
    # The call counters' first read of a big day: many pages, minutes in all.
    mono = FakeClock(0)
    poller = FlakyCollector()
    runner = PollerRunner(poller, monotonic=mono)
    with runner._lock:
        runner._state.running_since = mono()
    for _ in range(10):  # 10 x 200 s, a page now and then
        mono.advance(200)
        poller.progress += 1
        assert not runner.is_stuck()
    mono.advance(299)
    assert not runner.is_stuck()
    mono.advance(2)  # 301 s without a page
    assert runner.is_stuck()


def test_a_run_that_keeps_retrying_a_slow_endpoint_is_not_stuck(
    rsps: responses.RequestsMock,
) -> None:
    """A trickling endpoint within every timeout: 3 requests of 4 attempts of 200 s each, a
    40-minute failing run. Without a heartbeat from the HTTP client it was "stuck" after 5
    minutes: /-/healthy answered 503 and the liveness probe restarted the process."""
    mono = FakeClock(0)
    base = "https://api.example.test/analytics/work"

    def trickled(_: Any) -> tuple[int, dict[str, str], str]:
        mono.advance(200)
        return (503, {}, "")

    rsps.add_callback(responses.GET, f"{base}/x", callback=trickled)
    http = HttpClient(
        "work_analytics", base, HttpSettings(max_attempts=4), RequestStats(), sleep=lambda s: None
    )
    seen: list[bool] = []

    class Trickled(FlakyCollector):
        def collect(self) -> Any:
            for _ in range(3):
                with pytest.raises(ServerError):
                    http.request("GET", "/x", "/x")
                seen.append(runner.is_stuck())  # as /-/healthy asks meanwhile
            raise ServerError("/x", "server error", status=503)

    runner = PollerRunner(Trickled(), monotonic=mono)
    assert runner.run_once() is False
    assert mono() == 2400 and seen == [False, False, False]


def test_a_run_whose_runner_was_stopped_sends_no_more_requests(
    rsps: responses.RequestsMock,
) -> None:
    """A reload that rebuilds a collector stops its runner; the run under way went on beside
    its successor (a report's status polls, a day's pages) on the shared budget. It now ends
    at its next request, and says it was abandoned."""
    base = "https://api.example.test/analytics/work"
    rsps.get(f"{base}/page", json={})
    http = HttpClient("work_analytics", base, HttpSettings(max_attempts=1), RequestStats())

    class Pages(FlakyCollector):
        def collect(self) -> Any:
            http.request("GET", "/page", "/page")
            runner._stop.set()  # what runner.stop() does, from the reload's thread
            http.request("GET", "/page", "/page")
            raise AssertionError("a second request was sent")

    runner = PollerRunner(Pages())
    with structlog.testing.capture_logs() as logged:
        assert runner.run_once() is False
    assert len(rsps.calls) == 1
    assert "stopping" in (runner.state.last_error or "")
    assert [e["event"] for e in logged if e["event"].startswith("collector_run")] == [
        "collector_run_abandoned"
    ]


def test_snapshot_ages_do_not_follow_a_wall_clock_stepped_back() -> None:
    """The age and staleness of a snapshot follow the monotonic clock: stepped back an hour,
    the wall clock showed 20-minute-old data as fresh, and served it."""
    wall, mono = FakeClock(1_000_000), FakeClock(0)
    poller = FlakyCollector()
    runner = PollerRunner(poller, wall_clock=wall, age_clock=mono)
    assert runner.run_once()
    wall.advance(-3600)
    poller.fail = True
    for _ in range(40):
        wall.advance(30)
        mono.advance(30)
        assert not runner.run_once()
    assert runner.snapshot_age() == 1200
    assert runner.serving_snapshot() is None


def test_up_is_0_while_a_hanging_run_has_let_the_data_go_stale() -> None:
    """`up` was the last finished run's result: 1 for the whole of a run hanging past the
    staleness limit, while its data had already left the page."""
    clock = FakeClock(0)
    poller = FlakyCollector()
    runner = PollerRunner(poller, wall_clock=clock)
    get = PageReader(exposition_of(Scheduler([runner]))).get_sample_value
    assert runner.run_once()
    assert get("eightbyeight_up", {"collector": "flaky"}) == 1
    clock.advance(STALE_INTERVALS * max(poller.interval, FAILURE_RETRY_SECONDS) + 1)
    assert runner.serving_snapshot() is None  # no run finished meanwhile: one is hanging
    assert get("eightbyeight_up", {"collector": "flaky"}) == 0
    assert runner.run_once()
    assert get("eightbyeight_up", {"collector": "flaky"}) == 1


def test_stop_waits_for_all_runners_within_one_shared_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Runners busy in a request each block their join for the whole time they are given; the
    # stop must still end within one timeout, not one per runner.
    mono = FakeClock(0)
    runners = [PollerRunner(FlakyCollector()) for _ in range(4)]
    given: list[float] = []

    def blocked_join(timeout: float = 5.0) -> None:
        given.append(timeout)
        mono.advance(timeout)

    for runner in runners:
        monkeypatch.setattr(runner, "stop", blocked_join)
    Scheduler(runners, monotonic=mono).stop(timeout=5.0)
    assert given == [5.0, 0.0, 0.0, 0.0]
    assert mono() == 5.0
    assert all(runner._stop.is_set() for runner in runners)


def test_a_run_cut_short_by_a_stop_is_logged_as_abandoned_not_failed() -> None:
    class Stopping(FlakyCollector):
        name = "stopping"

        def collect(self) -> Any:
            raise ApiError("/x", "the exporter is stopping")

    runner = PollerRunner(Stopping())
    with structlog.testing.capture_logs() as logged:
        assert runner.run_once() is False
        Scheduler([runner]).request_stop()
        assert runner.run_once() is False
    assert [e["event"] for e in logged] == ["collector_run_failed", "collector_run_abandoned"]
    assert [e["log_level"] for e in logged] == ["warning", "info"]
    assert runner.state.failures == 2  # still counted: the run did not produce a snapshot


def test_a_runners_own_metrics_are_those_of_its_last_finished_run() -> None:
    # A page built while a run is under way shows the last run's watermark beside the last
    # run's counts, never this run's watermark beside the older counts.
    class Counting(FlakyCollector):
        name = "counting"
        watermark = 0.0

        def collect(self) -> Any:
            self.watermark += 60.0
            assert runner.state.poller_metrics["watermark"] == self.watermark - 60.0
            return super().collect()

        def self_metrics(self) -> dict[str, float]:
            return {"watermark": self.watermark}

    runner = PollerRunner(Counting())
    assert runner.state.poller_metrics == {"watermark": 0.0}
    assert runner.run_once()
    assert runner.state.poller_metrics == {"watermark": 60.0}
