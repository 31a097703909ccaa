"""A configuration reload rebuilds only what it changed: against the simulator on a simulated
clock, the request and call counters, the unchanged pollers (snapshots, runs, threads) and the
clients of an unchanged API go on; a reload whose check fails leaves everything running."""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog

from exporter.api.http import HttpClient
from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from exporter.core.errors import ApiError
from exporter.pollers.base import PollerRunner
from exporter.reload import LiveExporter
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.fault_matrix import START, matrix_config, small_simulator
from tests.support.page import PageReader, samples

pytestmark = pytest.mark.e2e

# Every poller's interval: its thread runs once when started, then sleeps for an hour of real
# time, so the polls of a test are the ones it makes with `poll`, in its own thread.
LONG = "1h"
POLL = 60.0
WA_TOKEN, CC_TOKEN = "/v1/oauth/token", "/oauth/v2/token"
Page = dict[tuple[str, frozenset[tuple[str, str]]], float]


class GatedSleep:
    """The report pollers' sleep between status polls: advances the simulated clock, and
    while `gate` is closed first waits (bounded) for the test to open it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def __call__(self, seconds: float) -> None:
        if not self.gate.is_set():
            self.waiting.set()
            assert self.gate.wait(30), "the test never opened the gate"
        self.clock.advance(seconds)


def config_of(sim: Simulator, **wa_changes: Any) -> dict[str, Any]:
    config = matrix_config(sim)
    wa, cc = config["work_analytics"], config["contact_center"]
    for name in ("discovery", "call_queues", "company_summary", "ring_groups", "extensions"):
        wa[name] = {"interval": LONG}
    wa["ring_group_members"] = {"enabled": True, "interval": LONG}
    for name in ("call_records", "call_legs"):
        wa[name] = {"interval": LONG, "lookback": "2h"}
    for kind in ("queues", "groups", "agents"):
        cc[kind] = {"enabled": True, "interval": LONG}
    cc["reports"] = [{**report, "interval": LONG} for report in cc["reports"]]
    wa.update(wa_changes)
    return config


class Daemon:
    """The exporter as cli.py runs it: a LiveExporter whose scheduler runs in threads."""

    def __init__(self, sim: Simulator, clock: FakeClock) -> None:
        self.sim, self.clock = sim, clock
        self.config = config_of(sim)
        self.problems: list[str] = []  # what the reload's check finds
        self.sleep = GatedSleep(clock)
        self.live = LiveExporter(
            self.build(load_config_data(self.config), None),
            load=lambda: load_config_data(self.config),
            build=self.build,
            check=lambda candidate: list(self.problems),
            now=clock,
        )

    def build(self, config: Any, running: Exporter | None) -> Exporter:
        return build_exporter(
            config, process_metrics=False, clock=self.clock, sleep=self.sleep, previous=running
        )

    def runners(self) -> dict[str, PollerRunner]:
        return {runner.name: runner for runner in self.live.scheduler.runners}

    def started(self, runners: list[PollerRunner] | None = None) -> None:
        """Wait (bounded) for the first run of every runner started."""
        for runner in runners if runners is not None else self.live.scheduler.runners:
            assert runner.first_run_done.wait(60), f"{runner.name} never ran"

    def poll(self, times: int = 1) -> None:
        for _ in range(times):
            self.clock.advance(POLL)
            assert self.live.scheduler.run_once()

    def page(self) -> Page:
        return samples(PageReader(self.live.exposition).text())

    def token_requests(self, path: str) -> int:
        return sum(1 for request in self.sim.requests if request.path.endswith(path))


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    clock = FakeClock(START)
    sim = small_simulator(clock).start()
    try:
        running = Daemon(sim, clock)
        try:
            yield running
        finally:
            running.sleep.gate.set()
            running.live.close()
    finally:
        sim.stop()


@pytest.fixture
def closed_clients(monkeypatch: pytest.MonkeyPatch) -> list[HttpClient]:
    closed: list[HttpClient] = []
    close = HttpClient.close

    def recording(self: HttpClient) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(HttpClient, "close", recording)
    return closed


def family(page: Page, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: value for (n, labels), value in page.items() if n == name}


def runs(page: Page, collector: str) -> float:
    return page[("eightbyeight_collector_runs_total", frozenset({("collector", collector)}))]


def assert_no_reset(before: Page, after: Page, name: str) -> None:
    """Every series of the counter is still there, none below its value before."""
    old, new = family(before, name), family(after, name)
    assert old and sum(old.values()) > 0
    assert all(new.get(labels, -1.0) >= value for labels, value in old.items()), name


def reload(daemon: Daemon) -> MutableMapping[str, Any]:
    """A successful reload, and its `config_reloaded` event."""
    with structlog.testing.capture_logs() as logged:
        assert daemon.live.reload() == (True, "configuration reloaded")
    [event] = [e for e in logged if e["event"] == "config_reloaded"]
    return event


def is_among(item: object, items: list[Any]) -> bool:
    return any(item is other for other in items)


def test_a_changed_summary_interval_rebuilds_that_poller_alone(daemon: Daemon) -> None:
    daemon.live.scheduler.start()
    daemon.started()
    daemon.poll(3)
    before, runners = daemon.page(), daemon.runners()
    states = {name: runner.state for name, runner in runners.items()}
    assert sum(family(before, "eightbyeight_calls_total").values()) > 0  # calls were counted

    daemon.config["work_analytics"]["company_summary"] = {"interval": "2h"}
    event = reload(daemon)

    after_runners = daemon.runners()
    assert event["rebuilt"] == ["company_summary"] and event["removed"] == ["company_summary"]
    assert sorted(event["kept"]) == sorted(set(runners) - {"company_summary"})
    assert after_runners["company_summary"] is not runners["company_summary"]
    assert not runners["company_summary"].running  # the replaced one's thread has ended
    for name in event["kept"]:
        runner = after_runners[name]
        assert runner is runners[name] and runner.running
        # Nothing started again: same snapshot (so the same age), same runs and failures.
        assert runner.state.snapshot is states[name].snapshot
        assert (runner.state.runs, runner.state.last_success) == (
            states[name].runs,
            states[name].last_success,
        )
    now = daemon.page()
    for counter in ("eightbyeight_calls_total", "eightbyeight_call_legs_total"):
        assert family(now, counter) == family(before, counter)  # served as they were
    assert_no_reset(before, now, "eightbyeight_api_requests_total")
    assert all(runs(now, name) == runs(before, name) for name in event["kept"])
    assert (
        now[("eightbyeight_exporter_exposition_renders_total", frozenset())]
        >= (before[("eightbyeight_exporter_exposition_renders_total", frozenset())])
    )

    daemon.started([after_runners["company_summary"]])
    daemon.poll(2)
    later = daemon.page()
    assert runs(later, "call_records") == runs(before, "call_records") + 2
    assert runs(later, "company_summary") == 3  # its first run in its thread, then two polls
    for counter in ("eightbyeight_calls_total", "eightbyeight_api_requests_total"):
        assert_no_reset(before, later, counter)


@pytest.mark.parametrize(
    ("change", "closed"),
    [
        # The HTTP client (its pool, timeouts and retries) serves the new credentials too.
        ({"password": "not-the-password"}, []),
        ({"timeouts": {"connect": "1s", "read": "2s", "total": "3s"}}, ["work_analytics"]),
    ],
    ids=["credentials", "timeouts"],
)
def test_changed_connection_settings_rebuild_that_apis_pieces_alone(
    daemon: Daemon, closed_clients: list[HttpClient], change: dict[str, Any], closed: list[str]
) -> None:
    daemon.live.scheduler.start()
    daemon.started()
    daemon.poll(1)
    old, before = daemon.live.exporter, daemon.page()
    runners = daemon.runners()
    cc_tokens, wa_tokens = daemon.token_requests(CC_TOKEN), daemon.token_requests(WA_TOKEN)

    daemon.config["work_analytics"].update(change)
    event = reload(daemon)

    new = daemon.live.exporter
    wa_runners = sorted(name for name in runners if not name.startswith("cc_"))
    assert sorted(event["rebuilt"]) == sorted(event["removed"]) == wa_runners
    assert sorted(event["kept"]) == sorted(name for name in runners if name.startswith("cc_"))
    assert new.contact_center is old.contact_center
    # A replaced Work Analytics HTTP client is closed, the Contact Center ones are not.
    assert [c.api for c in closed_clients] == closed
    assert not any(is_among(client, new.clients) for client in closed_clients)
    assert_no_reset(before, daemon.page(), "eightbyeight_api_requests_total")

    daemon.started([r for r in new.scheduler.runners if r.name in wa_runners])
    password_changed = "password" in change
    assert all(
        r.state.success != password_changed for r in new.scheduler.runners if r.name in wa_runners
    )
    # The new Work Analytics client asked for a token; the kept one of Contact Center did not.
    assert daemon.token_requests(WA_TOKEN) > wa_tokens
    daemon.clock.advance(POLL)
    for runner in new.scheduler.runners:
        if runner.name.startswith("cc_"):
            assert runner.run_once(), runner.name
    assert daemon.token_requests(CC_TOKEN) == cc_tokens


def test_a_reload_whose_check_fails_leaves_the_running_exporter_whole(
    daemon: Daemon, closed_clients: list[HttpClient]
) -> None:
    daemon.live.scheduler.start()
    daemon.started()
    daemon.poll(1)
    running, runners = daemon.live.exporter, daemon.runners()
    before = daemon.page()

    daemon.problems.append("contact_center.reports[0] (queues_today): unknown metric")
    # A new Work Analytics HTTP client, which the failed check closes, and a new poller.
    daemon.config["work_analytics"]["timeouts"] = {"read": "2s"}
    daemon.config["work_analytics"]["company_summary"] = {"interval": "2h"}
    reloaded, message = daemon.live.reload()

    assert not reloaded and "unknown metric" in message
    # What the status page says: failed now, the configuration of before still loaded.
    state = daemon.live.state
    assert (state.successful, state.attempted_at) == (False, daemon.clock.now)
    assert state.success_timestamp < daemon.clock.now
    assert daemon.live.exporter is running and daemon.runners() == runners
    assert all(runner.running for runner in runners.values())
    # Only the candidate's own new clients were closed, none of the running exporter's.
    assert closed_clients and not any(is_among(c, running.clients) for c in closed_clients)
    daemon.poll(2)  # every poller succeeds: budgets, clients and tokens all work
    after = daemon.page()
    assert runs(after, "call_records") == runs(before, "call_records") + 2
    assert_no_reset(before, after, "eightbyeight_api_requests_total")


def test_a_poller_mid_run_during_a_reload_ends_its_run_once_in_the_new_exporter(
    daemon: Daemon,
) -> None:
    # The report pollers' first runs wait in their status polls until the gate opens.
    daemon.sleep.gate.clear()
    daemon.live.scheduler.start()
    reports = [r for r in daemon.live.scheduler.runners if r.name.startswith("cc_report")]
    assert reports and daemon.sleep.waiting.wait(30)
    daemon.started([r for r in daemon.live.scheduler.runners if not is_among(r, reports)])
    threads = [report._thread for report in reports]
    assert all(report.state.runs == 0 for report in reports)
    assert any(report.state.running_since is not None for report in reports)

    daemon.config["work_analytics"]["company_summary"] = {"interval": "2h"}
    event = reload(daemon)

    for report, thread in zip(reports, threads):
        assert report.name in event["kept"] and is_among(report, daemon.live.scheduler.runners)
        assert report._thread is thread and report.running  # never started a second time
    daemon.sleep.gate.set()
    daemon.started(reports)
    page = daemon.page()
    for report in reports:
        state = report.state
        assert (state.runs, state.failures, state.success) == (1, 0, True)
        assert runs(page, report.name) == 1
    # Their snapshots are served by the new exporter.
    served = {labels for (name, labels) in page if name.startswith("eightbyeight_cc_report_")}
    tenants = {dict(labels).get("tenant") for labels in served}
    assert tenants == set(daemon.sim.cc.tenants)


def test_a_changed_request_budget_retunes_the_budget_and_keeps_every_poller(
    daemon: Daemon,
) -> None:
    daemon.live.scheduler.start()
    daemon.started()
    runners = daemon.runners()
    throttled = ("eightbyeight_api_throttled_seconds_total", frozenset({("api", "work_analytics")}))
    daemon.config["work_analytics"]["request_budget_per_minute"] = 900_000

    event = reload(daemon)

    assert event["rebuilt"] == [] and sorted(event["kept"]) == sorted(runners)
    page = daemon.page()
    rate = ("eightbyeight_api_budget_requests_per_minute", frozenset({("api", "work_analytics")}))
    assert page[rate] == 900_000 and throttled in page
    daemon.poll(1)  # the retuned budget lets every poller through


def test_a_stop_cuts_short_a_reload_whose_check_is_waiting(daemon: Daemon) -> None:
    """The check of a reload (the report types, over a slow API, with retries) held the stop
    for as long as it took: tenants x attempts x timeouts, where a stop promises seconds."""
    clock = daemon.clock

    def build(config: Any, running: Exporter | None) -> Exporter:
        return build_exporter(config, process_metrics=False, clock=clock, previous=running)

    entered = threading.Event()

    def check(candidate: Exporter) -> list[str]:
        entered.set()
        budget = candidate.budgets[-1]
        budget.sleep(600)  # a retry's backoff: ended by the stop
        with pytest.raises(ApiError, match="stopping"):
            budget.acquire("/report-types")  # the next attempt is not sent
        return []

    live = LiveExporter(
        build(load_config_data(daemon.config), None),
        load=lambda: load_config_data(daemon.config),
        build=build,
        check=check,
        now=clock,
    )
    daemon.config["contact_center"]["timeouts"] = {"connect": "1s", "read": "5s", "total": "10s"}
    results: list[tuple[bool, str]] = []
    reloading = threading.Thread(target=lambda: results.append(live.reload()), daemon=True)
    reloading.start()
    assert entered.wait(30)
    running = live.exporter
    live.close()  # what cli._run does on SIGTERM
    reloading.join(30)
    assert not reloading.is_alive()
    assert results == [
        (False, "configuration not reloaded, the running one stays: the exporter is stopping")
    ]
    assert live.exporter is running
