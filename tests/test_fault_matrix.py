"""Every collector through every fault the simulator injects, in-process against one simulator.

Why: the README promises that when an endpoint fails only its collector degrades
(`eightbyeight_up` 0), the last good data stays on the page with its age, requests are retried
only on 429, 5xx and connection errors and never beyond `max_attempts`, and the next good
answer brings the collector back. This module checks that promise for each (endpoint, fault)
pair, with the page served (GET /metrics on an in-process ExporterServer) after every faulted
run. No collector follows discovery down: the others keep working from the last directory.

One simulator, exporter and HTTP server serve the whole module (a FakeClock moves simulated
time; the HTTP timeouts and the retry backoff are real, so they are kept short). Faults that
cost real seconds per request (a read timeout, an honoured Retry-After, a trickle cut by the
total timeout) run on two endpoints each rather than on all of them; see SLOW_TARGETS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from exporter.pollers.base import FAILURE_RETRY_SECONDS, STALE_INTERVALS, PollerRunner
from exporter.serving.server import ExporterServer
from simulator import Simulator
from simulator.requestlog import RecordedRequest
from tests.support.clock import FakeClock
from tests.support.fault_matrix import (
    FAULTS,
    LIVE_CALLS_PAGE,
    MAX_ATTEMPTS,
    START,
    TARGETS,
    TRICKLE_SECONDS,
    Fault,
    Target,
    matrix_config,
    serving_matrix,
)
from tests.support.page import PageReader, samples, snapshot_families
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STEP = 30.0  # simulated seconds between two runs: far below any collector's staleness limit
HTTP_TIMEOUT = 10.0  # the test's own requests to /metrics


# Faults costing real seconds per request run on two endpoints only: a read timeout and a
# honoured Retry-After cost 2-3 s per affected collector, a trickle 3 x TOTAL_TIMEOUT (or
# 3 x TRICKLE_SECONDS while the client reads it to the end). The rest runs on every endpoint.
SLOW_TARGETS = {
    "timeout": ("discovery", "cc_groups"),
    "http_429_retry_after": ("call_queues", "cc_queues"),
    "trickle": ("call_queues", "extensions"),
}


def pairs() -> Iterator[Any]:
    for fault in FAULTS.values():
        for target in TARGETS.values():
            if target.name in SLOW_TARGETS.get(fault.name, (target.name,)):
                yield pytest.param(target, fault, id=f"{target.name}-{fault.name}")


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
Sent = dict[str, list[RecordedRequest]]  # runner -> the requests of its last run


def sent_to(log: list[RecordedRequest], target: Target) -> int:
    """How many of the logged requests went to the target."""
    return sum(1 for r in log if re.search(target.regex, r.path))


@dataclass
class Harness:
    sim: Simulator
    clock: FakeClock
    exporter: Exporter
    server: ExporterServer
    baseline: Sent = field(default_factory=dict)  # a good run of every collector
    answer_bytes: dict[str, int] = field(default_factory=dict)  # target -> a good answer's size
    # False while a test runs: one that fails half way may leave odd state behind, such as the
    # empty directory of an accepted wrong-shaped discovery answer.
    clean: bool = True

    def measure(self, target: Target) -> int:
        """Bytes of the target's first answer in the baseline: its GET sent again as it was."""
        sent = next(
            r
            for runner in self.runners
            if target.feeds(runner.name)
            for r in self.baseline[runner.name]
            if r.method == "GET" and re.search(target.regex, r.path)
        )
        response = requests.get(
            self.sim.root_url + sent.path,
            params=sent.query,
            headers=dict(sent.headers),
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200
        return len(response.content)

    @property
    def runners(self) -> list[PollerRunner]:
        return self.exporter.scheduler.runners

    def run(self, runners: list[PollerRunner]) -> Sent:
        """Run each collector once in the test's thread (an escaping exception fails the
        test); the requests each one sent, as the simulator logged them."""
        sent: Sent = {}
        for runner in runners:
            self.sim.requests_clear()
            runner.run_once()
            sent[runner.name] = self.sim.requests.snapshot()
        return sent

    def page(self) -> Samples:
        """The page as served over HTTP by the in-process server (it answers 500 if the page
        cannot be assembled): its values read from the bytes it sent."""
        response = requests.get(
            f"http://127.0.0.1:{self.server.port}/metrics", timeout=HTTP_TIMEOUT
        )
        assert response.status_code == 200 and "eightbyeight_up{" in response.text
        return samples(response.text)

    def up(self, page: Samples) -> dict[str, float]:
        return {
            dict(labels)["collector"]: value
            for (name, labels), value in page.items()
            if name == "eightbyeight_up"
        }

    def make_all_good(self) -> None:
        """No fault left, every collector up with good data: a good run of everything, unless
        the last test ended cleanly with all of them up. Marks the harness in use."""
        self.sim.faults.clear()
        if not self.clean or not all(runner.state.success for runner in self.runners):
            self.clock.advance(STEP)
            self.run(self.runners)
            assert {r.name: r.state.last_error for r in self.runners if not r.state.success} == {}
        self.clean = False


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    clock = FakeClock(START)
    with serving_matrix(clock) as (sim, exporter, server):
        h = Harness(sim, clock, exporter, server)
        h.run(h.runners)  # the first good run (tokens, report types, CC models)
        h.clock.advance(STEP)
        h.baseline = h.run(h.runners)
        assert {r.name: r.state.last_error for r in h.runners if not r.state.success} == {}
        assert len(h.runners) == 20
        h.answer_bytes = {name: h.measure(TARGETS[name]) for name in SLOW_TARGETS["trickle"]}
        yield h


def logical_requests(h: Harness, target: Target, runner: str) -> int:
    """Requests of a good run of `runner` to the target (a token fetch counts one)."""
    if target.token_of is not None:
        return 1
    return max(1, sent_to(h.baseline[runner], target))


@pytest.mark.parametrize(("target", "fault"), list(pairs()))
def test_a_fault_degrades_only_its_collectors_and_they_recover(
    harness: Harness, target: Target, fault: Fault
) -> None:
    h = harness
    h.make_all_good()
    affected = [r for r in h.runners if target.feeds(r.name)]
    assert affected
    before = {r.name: r.state.snapshot for r in affected}
    options = dict(fault.options)
    if fault.name == "trickle":
        options["trickle_bytes_per_second"] = h.answer_bytes[target.name] / TRICKLE_SECONDS
    rule = h.sim.faults.add(target.regex, times=None, **options)
    try:
        if target.token_of is not None:
            h.sim.expire_tokens()  # the next data call gets a 401 and asks for a new token
        h.clock.advance(STEP)
        sent_by = h.run(h.runners)
        page = h.page()
    finally:
        h.sim.faults.clear()

    # Only the collectors of the faulted endpoint are down; discovery's dependents keep
    # working from the last directory, ring group members from the last ring group list.
    up = h.up(page)
    assert {name for name, value in up.items() if value == 0} == {r.name for r in affected}, {
        r.name: r.state.last_error for r in h.runners if not r.state.success
    }
    for runner in affected:
        # The last good data stays on the page, with its age.
        snapshot = runner.state.snapshot
        assert snapshot is not None and snapshot is before[runner.name]
        assert runner.serving_snapshot() is snapshot
        age = page[
            ("eightbyeight_collector_snapshot_age_seconds", frozenset({("collector", runner.name)}))
        ]
        assert age >= STEP
        shown = [
            (s.name, frozenset(s.labels.items()), s.value)
            for family in snapshot_families(snapshot)
            for s in family.samples[:3]
        ]
        assert shown and all(page.get((name, labels)) == value for name, labels, value in shown)
        # Requests to the faulted endpoint: within the retry budget, and retried only where
        # the README says so.
        sent = sent_to(sent_by[runner.name], target)
        assert sent <= MAX_ATTEMPTS * logical_requests(h, target, runner.name)
        paths = [r.path for r in sent_by[runner.name]]
        if fault.retried:
            assert sent == MAX_ATTEMPTS, (runner.name, paths)
        else:
            renewed = fault.name == "http_401" and target.token_of is None
            assert sent == (2 if renewed else 1), (runner.name, paths)
    if fault.streamed:
        # The exporter refused the 50 MB, or gave up on the trickle at its total timeout,
        # rather than reading either to the end: the simulator saw it hang up every time (it
        # notices a closed connection at its next write, in its own thread: hence the wait).
        wait_for(lambda: rule.hung_up >= rule.hits)
        assert rule.hung_up == rule.hits > 0

    # The fault cleared, the next run brings them back.
    h.clock.advance(STEP)
    h.run(affected)
    assert {r.name: r.state.last_error for r in affected if not r.state.success} == {}
    h.clean = True


def test_expired_tokens_are_renewed_once_per_api_without_a_failure(harness: Harness) -> None:
    """`sim.expire_tokens()`: every data call with the old token gets a 401; the first renews
    the token of its API, every other collector uses the new one."""
    h = harness
    h.make_all_good()
    h.sim.expire_tokens()
    h.clock.advance(STEP)
    sent = [r for log in h.run(h.runners).values() for r in log]
    assert set(h.up(h.page()).values()) == {1.0}
    assert sent_to(sent, TARGETS["wa_token"]) == 1
    assert sent_to(sent, TARGETS["cc_token"]) == 1
    h.clean = True


def test_the_last_good_data_goes_away_after_the_staleness_limit(harness: Harness) -> None:
    """`serving_snapshot`: a failing collector's data stays STALE_INTERVALS intervals (at
    least FAILURE_RETRY_SECONDS each) after it was taken, then leaves the page; its age and
    `up` 0 stay. The other collectors, running meanwhile, keep theirs."""
    h = harness
    h.make_all_good()
    runner = next(r for r in h.runners if r.name == "call_queues")
    limit = STALE_INTERVALS * max(runner.poller.interval, FAILURE_RETRY_SECONDS)
    snapshot = runner.state.snapshot
    assert snapshot is not None
    queue_metric = "eightbyeight_queue_ongoing_waiting_calls"
    h.sim.faults.add(TARGETS["call_queues"].regex, status=503, times=None)
    try:
        steps = 0
        while h.clock.now - snapshot.created + STEP <= limit:  # bounded: limit / STEP steps
            h.clock.advance(STEP)
            h.run(h.runners)
            page = h.page()
            assert any(name == queue_metric for name, _ in page), h.clock.now - snapshot.created
            steps += 1
        assert steps >= 2
        h.clock.advance(STEP)  # past the limit
        h.run(h.runners)
        page = h.page()
        assert runner.serving_snapshot() is None and runner.state.snapshot is snapshot
        own = {s.name for family in snapshot_families(snapshot) for s in family.samples}
        assert own and not any(name in own for name, _ in page)
        collector = frozenset({("collector", "call_queues")})
        assert page[("eightbyeight_up", collector)] == 0
        assert page[("eightbyeight_collector_snapshot_age_seconds", collector)] > limit
        assert {name for name, value in h.up(page).items() if value == 0} == {"call_queues"}
        assert any(name == "eightbyeight_pbx_info" for name, _ in page)  # discovery's stays
    finally:
        h.sim.faults.clear()
    h.clock.advance(STEP)
    h.run([runner])
    assert any(name == queue_metric for name, _ in h.page())
    h.clean = True


def test_a_retry_after_over_max_retry_after_does_not_hold_the_api(harness: Harness) -> None:
    """A 429 asking for an hour: the collector that got it fails at once (no retry waits an
    hour), and the whole API pauses for max_retry_after (1 s here), not for the vendor's hour:
    the API's other collectors wait that out and go on. A separate exporter (Work Analytics
    only), so the pause does not touch the other tests."""
    h = harness
    h.make_all_good()
    config = matrix_config(h.sim)
    config["contact_center"] = {"enabled": False}
    exporter = build_exporter(
        load_config_data(config), process_metrics=False, clock=h.clock, sleep=h.clock.advance
    )
    h.sim.faults.add(
        TARGETS["company_summary"].regex, status=429, times=None, headers={"Retry-After": "3600"}
    )
    try:
        runners = {r.name: r for r in exporter.scheduler.runners}
        h.sim.requests_clear()
        assert not runners["company_summary"].run_once()
        assert len([r for r in h.sim.requests if r.path.endswith("/v1/compsum")]) == 1
        get = PageReader(exporter.exposition).get_sample_value
        assert get("eightbyeight_api_paused", {"api": "work_analytics"}) == 1
        # Another collector of the paused API: it waits out the capped pause, then succeeds.
        h.sim.requests_clear()
        assert runners["discovery"].run_once(), runners["discovery"].state.last_error
        assert h.sim.requests
    finally:
        h.sim.faults.clear()
        exporter.close()
    h.clean = True


LOOP_PAGES: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    # A scroll whose later pages all hand back the same scrollId (with rows, so not the end).
    "call_records": (
        r"/v2/call-records$",
        "scrollId",
        {"meta": {"scrollId": "stuck"}, "data": [{"callId": "loop-1"}]},
    ),
    # Full pages of calls in progress, the same whatever the cursor says.
    "live_calls": (
        r"/v2/pbxes/[^/]+/calls$",
        "startingAfter",
        {
            "calls": [
                {
                    "callId": f"loop-{i}",
                    "status": "WAITING",
                    "startTime": int(START * 1000) + 3_600_000 - i,
                    "stopTime": 0,
                    "workGroup": {"groupType": "CALL_QUEUE", "id": "loop-queue"},
                }
                for i in range(LIVE_CALLS_PAGE)
            ]
        },
    ),
    # The agent directory's HAL list, the same page whatever `page` says.
    "agent_directory": (
        r"/analytics/work/v2/pbxes/[^/]+/agents$",
        None,
        {
            "_embedded": {"agentList": [{"id": "loop-agent", "name": "Loop"}]},
            "page": {"size": 100, "totalElements": 10_000_000, "totalPages": 100_000, "number": 0},
        },
    ),
    # A HAL list that claims 100,000 pages and answers the same one whatever `page` says.
    "discovery": (
        r"/analytics/work/v2/pbxes/[^/]+/sites$",
        None,
        {
            "_embedded": {"siteList": [{"id": "loop-site", "name": "Loop"}]},
            "page": {"size": 100, "totalElements": 10_000_000, "totalPages": 100_000, "number": 0},
        },
    ),
}


@pytest.mark.parametrize("name", sorted(LOOP_PAGES))
def test_a_paging_loop_stops_within_one_page_of_the_repeat(harness: Harness, name: str) -> None:
    h = harness
    h.make_all_good()
    runner = next(r for r in h.runners if r.name == name)
    regex, with_param, body = LOOP_PAGES[name]
    watermark = getattr(runner.poller, "watermark", None)
    h.sim.faults.add(regex, status=200, body=body, with_param=with_param, times=None)
    try:
        h.clock.advance(STEP)
        sent = h.run([runner])[name]
    finally:
        h.sim.faults.clear()
    assert not runner.state.success and "paging loops" in (runner.state.last_error or "")
    # The first page, then the looping one and its one repeat: never the 100,000 pages.
    asked = sum(1 for r in sent if re.search(regex, r.path))
    assert asked <= 3, asked
    assert getattr(runner.poller, "watermark", None) == watermark  # nothing counted twice
    page = h.page()
    assert h.up(page)[name] == 0.0
    loops = {
        dict(labels)["endpoint"]: value
        for (metric, labels), value in page.items()
        if metric == "eightbyeight_api_paging_loops_total" and value > 0
    }
    assert loops and all(value >= 1.0 for value in loops.values()), loops
    healthy = requests.get(f"http://127.0.0.1:{h.server.port}/-/healthy", timeout=HTTP_TIMEOUT)
    assert healthy.status_code == 200
    h.clock.advance(STEP)
    h.run([runner])
    assert runner.state.success  # recovers by itself once the API pages again
