"""The ring group member summary asks a few ring groups at once: the same families as one by
one, a failing request still fails the run, and every request still takes its token from the
API's budget."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from prometheus_client import CollectorRegistry

from exporter.api.budget import RequestBudget
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config import load_config_data
from exporter.core.errors import ServerError
from exporter.core.windows import parse_window
from exporter.metrics.rendering import RenderedFamily, render_families
from exporter.pollers.discovery import FixedDirectory
from exporter.pollers.ring_group_sources import FixedRingGroups, RingGroup
from exporter.pollers.summaries import RingGroupMemberPoller
from tests.support.clock import FakeClock
from tests.support.historical import DIRECTORY, NOW, summary_kwargs
from tests.support.work_analytics import BASE, Sleeps, add_token, make_client

MEMBERS_URL = f"{BASE}/v2/rgsum-members"
GROUPS = {
    (pbx, str(2000 + n)): RingGroup(pbx, f"Site {n % 3}", f"Group {n}", str(2000 + n))
    for pbx in ("acmecorp", "acmecorp2")
    for n in range(12)
}
THREAD_PREFIX = "poller-ring_group_members"
Callback = Callable[[Any], tuple[int, dict[str, str], str]]


def member_rows(pbx: str, group: str, window_start: str) -> list[dict[str, Any]]:
    """Two members per group, with values that differ by group and window."""
    seed = int(group) + (7 if window_start.endswith("00:00:00") else 0)
    return [
        {
            "pbxId": pbx,
            "extension": str(1000 + seed + member),
            "totalCalls": seed + member,
            "totalAnswered": seed,
            "totalTalkTime": 1000 * (seed + member),
            "avgRingTime": 250 * member,
        }
        for member in (1, 2)
    ]


def answering(on_request: Callable[[str], None] = lambda group: None) -> Callback:
    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        on_request(query["extId"])
        rows = member_rows(query["pbxId"], query["extId"], query["startTime"])
        return 200, {"Content-Type": "application/json"}, json.dumps(rows)

    return callback


def poller(client: WorkAnalyticsClient, concurrency: int) -> RingGroupMemberPoller:
    return RingGroupMemberPoller(
        client,
        FixedDirectory(DIRECTORY),
        ring_groups=FixedRingGroups(GROUPS),
        concurrency=concurrency,
        **summary_kwargs(windows=[parse_window("1h"), parse_window("today")]),
    )


def client_on(clock: FakeClock, budget: RequestBudget | None = None) -> WorkAnalyticsClient:
    client = make_client(CollectorRegistry(), Sleeps(), clock, max_attempts=1)
    client.http.budget = budget
    return client


def page(families: Sequence[RenderedFamily]) -> list[tuple[str, bytes]]:
    return [(family.name, family.samples) for family in families]


def collected(concurrency: int, callback: Callback) -> list[tuple[str, bytes]]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        add_token(rsps)
        rsps.add_callback(responses.GET, MEMBERS_URL, callback=callback)
        collector = poller(client_on(FakeClock(NOW)), concurrency)
        families = render_families(collector.collect())
        assert len(rsps.calls) == 1 + 2 * len(GROUPS)
    return page(families)


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


@pytest.mark.parametrize("concurrency", [2, 4, 8])
def test_a_few_at_once_make_the_same_families_as_one_by_one(concurrency: int) -> None:
    sequential = collected(1, answering())
    assert sum(len(samples.splitlines()) for _, samples in sequential) == 2 * len(GROUPS) * 2 * 4
    assert collected(concurrency, answering()) == sequential
    assert worker_threads() == []


def test_the_requests_are_in_flight_together_and_never_more_than_the_concurrency() -> None:
    lock = threading.Lock()
    arrivals, in_flight, most = [0], [0], [0]
    # The first four requests meet here: one by one, the first would wait for the others
    # until the barrier's timeout broke it and failed the run.
    meeting = threading.Barrier(4, timeout=10)

    def on_request(group: str) -> None:
        with lock:
            arrival = arrivals[0]
            arrivals[0] += 1
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            if arrival < 4:
                meeting.wait()
        finally:
            with lock:
                in_flight[0] -= 1

    collected(4, answering(on_request))
    assert most[0] == 4


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_failing_request_fails_the_run(concurrency: int) -> None:
    failing = sorted(GROUPS)[5][1]
    asked: list[str] = []
    lock = threading.Lock()

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        group = parse_qs(urlsplit(request.url).query)["extId"][0]
        with lock:
            asked.append(group)
        if group == failing:
            return 500, {"Content-Type": "application/json"}, '{"message": "down"}'
        return answering()(request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        add_token(rsps)
        rsps.add_callback(responses.GET, MEMBERS_URL, callback=callback)
        collector = poller(client_on(FakeClock(NOW)), concurrency)
        with pytest.raises(ServerError):
            collector.collect()
    # The groups after the failing one: none one by one, at most those already in flight.
    assert failing in asked
    assert len(asked) <= 6 + concurrency - 1
    assert worker_threads() == []


class RecordingBudget(RequestBudget):
    """A budget that keeps the clock's reading at which each token was taken (each thread
    reads the clock itself inside `acquire`: its last reading is the moment it got one)."""

    def __init__(self, per_minute: float, clock: FakeClock, sleep: Callable[[float], None]) -> None:
        self._reading = threading.local()
        self._taken_lock = threading.Lock()
        self.taken: list[float] = []

        def read() -> float:
            self._reading.now = clock()
            return float(self._reading.now)

        super().__init__("work_analytics", per_minute, clock=read, sleep=sleep)

    def acquire(self, endpoint: str, max_pause: float = float("inf")) -> None:
        super().acquire(endpoint, max_pause)
        with self._taken_lock:
            self.taken.append(self._reading.now)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_request_takes_a_token_and_the_budget_is_never_exceeded(concurrency: int) -> None:
    clock = FakeClock(NOW)
    lock = threading.Lock()

    def sleep(seconds: float) -> None:  # the waiting threads move the shared clock
        with lock:
            clock.advance(seconds)

    per_minute = 12.0  # bursts of 2, then one request every 5 s
    budget = RecordingBudget(per_minute, clock, sleep)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        add_token(rsps)
        rsps.add_callback(responses.GET, MEMBERS_URL, callback=answering())
        collector = poller(client_on(clock, budget), concurrency)
        collector.collect()
        sent = len(rsps.calls)
    taken = sorted(budget.taken)
    assert len(taken) == sent == 1 + 2 * len(GROUPS)  # the token request too
    # A token bucket's bound: n tokens in any span of t seconds only if n <= burst + rate * t.
    for first in range(len(taken)):
        for last in range(first, len(taken)):
            span = taken[last] - taken[first]
            assert last - first + 1 <= budget.capacity + budget.rate * span + 1e-6
    per_window = [sum(1 for t in taken if start <= t < start + 60) for start in taken]
    assert max(per_window) <= per_minute + budget.capacity


def test_concurrency_is_validated_and_four_by_default() -> None:
    credentials = {"api_key": "k", "username": "u", "password": "p"}
    config = load_config_data({"work_analytics": credentials})
    assert config.work_analytics.ring_group_members.concurrency == 4
    for bad in (0, 9):
        members = {"enabled": True, "concurrency": bad}
        with pytest.raises(Exception, match=r"ring_group_members\.concurrency"):
            load_config_data({"work_analytics": {**credentials, "ring_group_members": members}})
