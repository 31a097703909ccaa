"""The unit self-check of the Call Queue Metric API: its rules, and the exporter against the
simulator answering in either unit, with a realtime API that answers and one that is gone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.errors import NotFoundError
from exporter.pollers.call_queue_units import DurationUnitCheck, compare, plausibility
from exporter.pollers.call_queues import CallQueuePoller
from simulator import Simulator
from tests.support.call_queues import CannedClient, directory
from tests.support.clock import FakeClock
from tests.support.end_to_end import BUSINESS_HOURS, config_for
from tests.support.page import PageReader, samples

INFO = "eightbyeight_call_queue_api_duration_unit_info"
MISMATCH = "eightbyeight_call_queue_api_duration_unit_mismatch"
REALTIME_PATH = "/v2/call-queues/real-time/pbxes/"


def render(*families: Any) -> CollectorRegistry:
    class Fixed:
        def collect(self) -> Any:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())
    return registry


class ClockedClient(CannedClient):
    """The canned answers, at the API time of a FakeClock."""

    def __init__(self, answers: dict[str, Any], clock: FakeClock) -> None:
        super().__init__(answers)
        self.clock = clock

    def now(self) -> float:
        return self.clock()


def answer(metrics: dict[str, Any], name: str = "Support", extension: Any = 1000) -> Any:
    return {"callQueues": [{"name": name, "extension": extension, "metrics": metrics}]}


# Three calls waiting 41 s, 12 s and 2.5 s: the realtime API's ms, and the same in seconds.
REALTIME = {"waitingTime": 55_500, "avgWaitingTime": 18_500, "longestWaitingTime": 41_000}
AS_MS = {
    "ongoingWaitingTime": 55_500,
    "ongoingAvgWaitingTime": 18_500,
    "ongoingLongestWaitingTime": 41_000,
}
AS_SECONDS = {
    "ongoingWaitingTime": 55,
    "ongoingAvgWaitingTime": 18,
    "ongoingLongestWaitingTime": 41,
}


def test_equal_durations_are_milliseconds_and_thousandfold_smaller_ones_seconds() -> None:
    # The spec's integer extension and the guide's string name the same queue.
    assert compare(answer(AS_MS), answer(REALTIME, extension="1000")).unit == "milliseconds"
    verdict = compare(answer(AS_SECONDS), answer(REALTIME))
    assert verdict.unit == "seconds" and verdict.decided_by == "realtime_comparison"
    assert "3 about 1000 times smaller" in verdict.evidence
    assert (
        "longestWaitingTime 41000 ms" in verdict.evidence or "waitingTime 55500" in verdict.evidence
    )


def test_a_moment_between_the_two_answers_still_decides() -> None:
    # The realtime answer comes a moment later: every wait has grown by 0.8 s.
    later = {key: value + 800 for key, value in REALTIME.items()}
    assert compare(answer(AS_MS), answer(later)).unit == "milliseconds"
    assert compare(answer(AS_SECONDS), answer(later)).unit == "seconds"


@pytest.mark.parametrize(
    "ours, theirs, why",
    [
        (answer(dict.fromkeys(AS_MS, 0)), answer(dict.fromkeys(REALTIME, 0)), "all zeros"),
        (answer(AS_MS, name="Sales", extension=2000), answer(REALTIME), "no common queue"),
        # Under 10 s a value in whole seconds is too coarse to vote.
        (answer({"ongoingLongestWaitingTime": 3}), answer({"longestWaitingTime": 3000}), "small"),
        # Two pairs only: one odd pair must never decide, so three are needed.
        (
            answer({"ongoingWaitingTime": 41, "ongoingLongestWaitingTime": 41}),
            answer({"waitingTime": 41_000, "longestWaitingTime": 41_000}),
            "two votes",
        ),
        # Votes split: the two answers do not describe the same calls.
        (
            answer({**AS_SECONDS, "ongoingTalkingTime": 90_000, "ongoingOnHoldTime": 30_000}),
            answer({**REALTIME, "talkingTime": 90_000, "onHoldTime": 30_000}),
            "split",
        ),
    ],
)
def test_undecidable_comparisons(ours: Any, theirs: Any, why: str) -> None:
    assert compare(ours, theirs).unit is None, why


def test_plausibility_proves_milliseconds_only() -> None:
    # 90.5 s of talk in ms reads as a talk of over a day in seconds.
    verdict = plausibility(answer({"longestTalkTime": 90_500, "totalTalkTime": 10}))
    assert verdict.unit == "milliseconds" and verdict.decided_by == "plausibility"
    assert "longestTalkTime of Support is 90500" in verdict.evidence
    # A sum over many calls may exceed a day; small values fit both readings.
    assert plausibility(answer({"totalTalkTime": 200_000, "longestTalkTime": 900})).unit is None


def check_poller(
    configured: Any, realtime: Any, clock: FakeClock | None = None
) -> tuple[CallQueuePoller, CannedClient]:
    answers = {"call_queue_metrics": answer(AS_SECONDS), "realtime": realtime}
    client = ClockedClient(answers, clock or FakeClock(0.0))
    poller = CallQueuePoller(
        client,
        directory,
        interval=30,
        duration_unit=configured,
        unit_check_interval=3600,
    )
    return poller, client


def realtime_calls(client: CannedClient) -> int:
    return sum(1 for name, _, _ in client.calls if name == "realtime")


def test_the_check_asks_at_start_up_and_then_once_an_interval() -> None:
    clock = FakeClock(0.0)
    poller, client = check_poller("auto", answer(REALTIME), clock)
    for _ in range(3):
        poller.collect()
        clock.advance(30)
    assert realtime_calls(client) == 1
    clock.advance(3600)
    poller.collect()
    assert realtime_calls(client) == 2
    # Only the durations are asked for, with the poll's filters.
    _, _, kwargs = next(call for call in client.calls if call[0] == "realtime")
    assert set(kwargs["metrics"]) >= {"waitingTime", "longestWaitingTime"}
    assert "ongoingWaitingCalls" not in kwargs["metrics"]


IDLE = {"ongoingWaitingTime": 0, "ongoingAvgWaitingTime": 0, "ongoingLongestWaitingTime": 0}
IDLE_REALTIME = {"waitingTime": 0, "avgWaitingTime": 0, "longestWaitingTime": 0}


def test_a_quiet_start_compares_again_as_soon_as_calls_wait() -> None:
    """Idle queues at start-up decide nothing, and the next comparison was an hour away:
    meanwhile `auto` read a 41 s wait in ms as 41,000 s, on the wallboard and in the alerts."""
    clock = FakeClock(0.0)
    answers = {"call_queue_metrics": answer(IDLE), "realtime": answer(IDLE_REALTIME)}
    client = ClockedClient(answers, clock)
    poller = CallQueuePoller(
        client, directory, interval=30, duration_unit="auto", unit_check_interval=3600
    )
    for _ in range(3):  # quiet: one comparison, undecided, and no more
        poller.collect()
        clock.advance(30)
    assert realtime_calls(client) == 1
    answers["call_queue_metrics"], answers["realtime"] = answer(AS_MS), answer(REALTIME)
    registry = render(*poller.collect())
    assert realtime_calls(client) == 2
    wait = "eightbyeight_queue_ongoing_longest_waiting_time_seconds"
    assert [s.value for m in registry.collect() for s in m.samples if s.name == wait] == [41.0]
    for _ in range(3):  # decided: back to once an interval
        clock.advance(30)
        poller.collect()
    assert realtime_calls(client) == 2


def test_a_pinned_unit_contradicted_by_the_data_is_logged_once_and_exported() -> None:
    poller, _ = check_poller("milliseconds", answer(REALTIME))
    with capture_logs() as logs:
        registry = render(*poller.collect())
        render(*poller.collect())
    mismatches = [e for e in logs if e["event"] == "call_queue_duration_unit_mismatch"]
    assert len(mismatches) == 1
    assert mismatches[0]["log_level"] == "warning"
    assert mismatches[0]["configured"] == "milliseconds"
    assert mismatches[0]["observed"] == "seconds"
    assert "about 1000 times smaller" in mismatches[0]["evidence"]
    labels = {
        "pbx": "voaromaniaqe14051",
        "configured": "milliseconds",
        "observed": "seconds",
        "applied": "milliseconds",
        "decided_by": "realtime_comparison",
    }
    assert registry.get_sample_value(INFO, labels) == 1
    assert registry.get_sample_value(MISMATCH, {"pbx": "voaromaniaqe14051"}) == 1
    # Pinned: the values stay in the configured unit (41 "ms").
    wait = "eightbyeight_queue_ongoing_longest_waiting_time_seconds"
    assert [s.value for m in registry.collect() for s in m.samples if s.name == wait] == [0.041]


def test_a_realtime_api_that_is_gone_leaves_the_unit_unknown() -> None:
    gone = NotFoundError("/v2/call-queues/real-time/pbxes/{pbxId}", "not found", status=404)
    poller, _ = check_poller("auto", gone)
    with capture_logs() as logs:
        registry = render(*poller.collect())
    failed = [e for e in logs if e["event"] == "call_queue_duration_unit_comparison_failed"]
    assert [e["error"] for e in failed] == ["HTTP 404"]
    labels = {
        "pbx": "voaromaniaqe14051",
        "configured": "auto",
        "observed": "unknown",
        "applied": "seconds",
        "decided_by": "none",
    }
    assert registry.get_sample_value(INFO, labels) == 1
    assert registry.get_sample_value(MISMATCH, {"pbx": "voaromaniaqe14051"}) == 0


def test_an_undecided_look_keeps_the_last_decision() -> None:
    check = DurationUnitCheck("auto", 60)
    asked: list[int] = []

    def realtime(values: dict[str, int]) -> Any:
        asked.append(1)
        return answer(values)

    check.examine("p", "pbx", answer(AS_MS), 0, lambda: realtime(REALTIME))
    assert check.applied("p") == "milliseconds"
    # The night: all zeros; then a late plausibility look that proves nothing.
    quiet = dict.fromkeys(REALTIME, 0)
    check.examine("p", "pbx", answer(dict.fromkeys(AS_MS, 0)), 120, lambda: realtime(quiet))
    assert len(asked) == 2 and check.applied("p") == "milliseconds"
    # A decisive contrary comparison wins, and is what `auto` applies.
    check.examine("p", "pbx", answer(AS_SECONDS), 240, lambda: realtime(REALTIME))
    assert check.applied("p") == "seconds"


# --- against the simulator -----------------------------------------------------------------


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(BUSINESS_HOURS)


def simulator(clock: FakeClock, unit: str) -> Iterator[Simulator]:
    sim = Simulator(seed=7, host="127.0.0.1", port=0, clock=clock, cq_duration_unit=unit)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def poll_once(sim: Simulator, **call_queues: Any) -> tuple[str, list[Any]]:
    exporter = build_exporter(
        load_config_data(config_for(sim, **call_queues)), process_metrics=False
    )
    try:
        with capture_logs() as logs:
            assert exporter.scheduler.run_once()
        return PageReader(exporter.exposition).text(), logs
    finally:
        exporter.close()


def unit_info(text: str) -> list[dict[str, str]]:
    return [dict(labels) for (name, labels), _ in samples(text).items() if name == INFO]


def exported_waits(text: str) -> dict[str, float]:
    metric = "eightbyeight_queue_ongoing_longest_waiting_time_seconds"
    return {
        dict(labels)["queue_id"]: value
        for (name, labels), value in samples(text).items()
        if name == metric
    }


@pytest.mark.e2e
@pytest.mark.parametrize("sim_unit", ["seconds", "milliseconds"])
def test_auto_decides_the_simulators_unit_and_exports_true_seconds(
    sim_clock: FakeClock, sim_unit: str
) -> None:
    for sim in simulator(sim_clock, sim_unit):
        text, logs = poll_once(sim)
        truth = {
            q: sim.model.queue_state(q)["ongoingLongestWaitingTime"] for q in exported_waits(text)
        }
        asked = [r for r in sim.requests if r.path.startswith("/analytics/work" + REALTIME_PATH)]
    assert len(asked) == len(unit_info(text)) >= 1  # one comparison per PBX at start-up
    for info in unit_info(text):
        assert info["configured"] == "auto"
        assert info["observed"] == info["applied"] == sim_unit
        assert info["decided_by"] == "realtime_comparison"
    assert any(truth.values())
    assert exported_waits(text) == pytest.approx(truth, abs=1e-3)
    assert not [e for e in logs if e["event"] == "call_queue_duration_unit_mismatch"]
    assert any(e["event"] == "call_queue_duration_unit_observed" for e in logs)


@pytest.mark.e2e
def test_a_wrong_pinned_unit_against_the_simulator_warns(sim_clock: FakeClock) -> None:
    for sim in simulator(sim_clock, "milliseconds"):
        text, logs = poll_once(sim, duration_unit="seconds")
    mismatches = [e for e in logs if e["event"] == "call_queue_duration_unit_mismatch"]
    assert {e["pbx"] for e in mismatches} == {i["pbx"] for i in unit_info(text)}
    assert all(e["observed"] == "milliseconds" for e in mismatches)
    for info in unit_info(text):
        assert (info["configured"], info["observed"], info["applied"]) == (
            "seconds",
            "milliseconds",
            "seconds",
        )
    assert all(v == 1 for (n, _), v in samples(text).items() if n == MISMATCH)


@pytest.mark.e2e
@pytest.mark.parametrize("status", [404, 410])
def test_a_retired_realtime_api_falls_back_to_plausibility(
    sim_clock: FakeClock, status: int
) -> None:
    for sim in simulator(sim_clock, "milliseconds"):
        sim.faults.add(REALTIME_PATH, status=status, times=None, body={"status": status})
        text, logs = poll_once(sim)
        truth = {
            q: sim.model.queue_state(q)["ongoingLongestWaitingTime"] for q in exported_waits(text)
        }
    assert any(e["event"] == "call_queue_duration_unit_comparison_failed" for e in logs)
    # The simulator's 24-hour longest talk times are minutes: over 86,400 read as seconds.
    for info in unit_info(text):
        assert (info["observed"], info["decided_by"]) == ("milliseconds", "plausibility")
    assert exported_waits(text) == pytest.approx(truth, abs=1e-3)


@pytest.mark.e2e
def test_a_retired_realtime_api_and_seconds_leave_the_unit_unknown(sim_clock: FakeClock) -> None:
    for sim in simulator(sim_clock, "seconds"):
        sim.faults.add(REALTIME_PATH, status=404, times=None, body={"status": 404})
        text, _ = poll_once(sim)
    infos = unit_info(text)
    assert infos and all((i["observed"], i["applied"]) == ("unknown", "seconds") for i in infos)


@pytest.mark.e2e
def test_the_check_turned_off_asks_nothing(sim_clock: FakeClock) -> None:
    for sim in simulator(sim_clock, "seconds"):
        poll_once(sim, unit_check=False)
        assert not [r for r in sim.requests if REALTIME_PATH in r.path]
