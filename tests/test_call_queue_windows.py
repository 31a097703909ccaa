"""Call-queue windows: one dated request per PBX and window beside the live one, each window's
aggregates under its `window` label, and against the simulator the values of its own model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from exporter.api.protocols import CallQueueApi
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.errors import ServerError
from exporter.core.windows import DateRange, date_range, parse_window, resolve
from exporter.metrics.rendering import Family
from exporter.pollers.base import PollerRunner
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.discovery import DiscoveryPoller
from simulator import Simulator
from tests.support.call_queues import PBX_ID, directory
from tests.support.clock import FakeClock
from tests.support.end_to_end import config_for
from tests.support.files import fixture_json

NY = ZoneInfo("America/New_York")
# Tuesday 2024-03-05 15:00 UTC, 10:00 in New York.
NOW = 1_709_650_800.0
PBX = {"pbx": "voaromaniaqe14051"}
CQ3 = {
    **PBX,
    "site": "SanJose-Onel",
    "queue": "CQ3 (autologin)",
    "extension": "1000",
    "queue_id": "tqteLkZOScyi0Mai9ewUlA",
}


class DatedClient:
    """The Call Queue Metric API with a different answer per date range (None: no dates)."""

    def __init__(self, answers: dict[str | None, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, DateRange | None, list[str]]] = []

    def now(self) -> float:
        return NOW

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
        self.calls.append((pbx_id, date_range, list(metrics)))
        answer = self.answers[date_range.start_date if date_range else None]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def realtime_call_queues(self, pbx_id: str, **kwargs: Any) -> Any:
        raise AssertionError("not this API")


def answer(entered: int, waiting: int) -> dict[str, Any]:
    """The spec's example with CQ3's entered calls and the live waiting calls set."""
    body = fixture_json("call_queue_metrics.json")
    body["callQueues"][0]["metrics"].update(enteredCalls=entered, ongoingWaitingCalls=waiting)
    body["metricsSummary"] = {"enteredCalls": entered, "ongoingWaitingCalls": waiting}
    return body


def rendered(families: Sequence[Family]) -> CollectorRegistry:
    class Fixed:
        def collect(self) -> Any:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())
    return registry


def start_of(window: str) -> str:
    return date_range(resolve(parse_window(window), NOW, NY)).start_date


def poller(client: CallQueueApi, windows: list[str], **options: Any) -> CallQueuePoller:
    return CallQueuePoller(
        client,
        directory,
        interval=30,
        windows=[parse_window(w) for w in windows],
        time_zone="America/New_York",
        **options,
    )


def test_each_window_is_one_dated_request_and_labels_its_aggregates_only() -> None:
    client = DatedClient(
        {None: answer(40, 3), start_of("1h"): answer(7, 99), start_of("today"): answer(12, 99)}
    )
    get = rendered(poller(client, ["24h", "1h", "today"]).collect()).get_sample_value
    assert [(call[0], call[1]) for call in client.calls] == [
        (PBX_ID, None),
        (
            PBX_ID,
            DateRange(
                "2024-03-05T09:00:00-0500",
                "2024-03-05T10:00:00-0500",
                "09:00:00-0500",
                "10:00:00-0500",
            ),
        ),
        (
            PBX_ID,
            DateRange("2024-03-05T00:00:00-0500", "2024-03-05T10:00:00-0500"),
        ),
    ]
    for window, entered in (("24h", 40), ("1h", 7), ("today", 12)):
        assert get("eightbyeight_queue_entered_calls", {**CQ3, "window": window}) == entered
        assert get("eightbyeight_pbx_queues_entered_calls", {**PBX, "window": window}) == entered
    # The live metrics come from the no-date answer only, and carry no window.
    assert get("eightbyeight_queue_ongoing_waiting_calls", CQ3) == 3
    assert get("eightbyeight_pbx_queues_ongoing_waiting_calls", PBX) == 3


def test_without_24h_the_live_request_is_still_made_and_its_aggregates_left_out() -> None:
    client = DatedClient({None: answer(40, 3), start_of("15m"): answer(2, 99)})
    get = rendered(poller(client, ["15m"]).collect()).get_sample_value
    assert len(client.calls) == 2
    assert get("eightbyeight_queue_ongoing_waiting_calls", CQ3) == 3
    assert get("eightbyeight_queue_entered_calls", {**CQ3, "window": "15m"}) == 2
    assert get("eightbyeight_queue_entered_calls", {**CQ3, "window": "24h"}) is None


def test_dated_requests_ask_for_the_configured_aggregates_only() -> None:
    client = DatedClient({None: answer(40, 3), start_of("1h"): answer(7, 99)})
    poller(client, ["24h", "1h"], metrics=["ongoingWaitingCalls", "enteredCalls"]).collect()
    assert [call[2] for call in client.calls] == [
        ["ongoingWaitingCalls", "enteredCalls"],
        ["enteredCalls"],
    ]


def test_a_queue_in_every_window_is_not_a_duplicate() -> None:
    client = DatedClient({None: answer(40, 3), start_of("1h"): answer(7, 99)})
    cq = poller(client, ["24h", "1h"])
    cq.collect()
    assert cq.invalid.count == 0


def test_a_failing_window_request_fails_the_run_and_keeps_the_last_data() -> None:
    answers: dict[str | None, Any] = {None: answer(40, 3), start_of("1h"): answer(7, 99)}
    client = DatedClient(answers)
    runner = PollerRunner(poller(client, ["24h", "1h"]), wall_clock=FakeClock(NOW))
    assert runner.run_once()
    answers[start_of("1h")] = ServerError(
        "/v2/pbxes/{pbxId}/call-queue-metrics", "server error", status=503
    )
    assert runner.run_once() is False
    assert runner.state.failures == 1
    assert runner.state.snapshot is not None and runner.state.snapshot.families


# --- against the simulator on loopback ------------------------------------------------------

# Wednesday 2025-11-19 02:30 in New York (07:30 UTC): `today` is 2.5 h old, 1h is inside it.
SIM_START = 1_763_537_400.0
# Vendor key -> the CallWindowStats field it reports.
TRUTH = {
    "entered_calls": "entered",
    "accepted_calls": "accepted",
    "abandoned_calls": "abandoned",
    "voicemail_calls": "voicemail",
    "diverted_calls": "diverted",
    "missed_calls": "missed",
    "active_calls": "active",
    "completed_calls": "completed",
}


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(SIM_START)


@pytest.fixture
def sim(sim_clock: FakeClock) -> Iterator[Simulator]:
    simulator = Simulator(
        seed=5, host="127.0.0.1", port=0, clock=sim_clock, history_seconds=6 * 3600
    ).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def sim_poller(sim: Simulator, clock: FakeClock, windows: list[str]) -> CallQueuePoller:
    """The poller built as app.py builds it, on the client and discovery of a real exporter."""
    data = config_for(sim, enabled=False)
    data["work_analytics"]["time_zone"] = "America/New_York"
    exporter = build_exporter(load_config_data(data, env={}), process_metrics=False, clock=clock)
    discovery = exporter.scheduler.runners[0].poller
    assert isinstance(discovery, DiscoveryPoller)
    assert exporter.scheduler.runners[0].run_once()
    client = discovery.client
    assert isinstance(client, WorkAnalyticsClient)
    return CallQueuePoller(
        client,
        discovery,
        interval=30,
        windows=[parse_window(w) for w in windows],
        time_zone="America/New_York",
    )


def test_window_values_equal_the_simulators_model_over_that_range(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    cq = sim_poller(sim, sim_clock, ["24h", "1h", "today"])
    sim_clock.advance(60)
    get = rendered(cq.collect()).get_sample_value
    checked = 0
    for queue_id in sim.model.queue_ids():
        labels = queue_keys(cq, queue_id)
        if labels is None:  # a deleted queue: neither listed nor reported
            continue
        for window in ("1h", "today", "24h"):
            resolved = resolve(parse_window(window), sim_clock.now, NY)
            truth = sim.model.window_stats(
                queue_id, resolved.start.timestamp(), resolved.end.timestamp()
            )
            for stem, field in TRUTH.items():
                value = get(f"eightbyeight_queue_{stem}", {**labels, "window": window})
                assert value == getattr(truth, field), (queue_id, window, stem)
            checked += truth.entered
    assert checked > 0  # calls entered in the windows: the comparison was not of zeros only


def queue_keys(cq: CallQueuePoller, queue_id: str) -> dict[str, str] | None:
    known = cq.directory.directory
    assert known is not None
    queue = known.queues.get(queue_id)
    if queue is None:
        return None
    pbx = next(p for p in known.pbxes if p.id == queue.pbx_id)
    return {
        "pbx": pbx.name,
        "site": known.site_name(queue.site_id),
        "queue": queue.name,
        "extension": queue.extension,
        "queue_id": queue_id,
    }
