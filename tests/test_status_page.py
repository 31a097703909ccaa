"""The status page at `/`: its rows on a FakeClock (ages, next runs, states), its escaping and
redaction, its bounded cost, its headers, and the web config's protection of it."""

from __future__ import annotations

import html
import json
import os
import re
import sys
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import requests
from prometheus_client.core import GaugeMetricFamily

from exporter.api.budget import RequestBudget
from exporter.core.errors import ApiError
from exporter.core.redaction import REDACTED, SECRETS
from exporter.metrics.rendering import Family
from exporter.pollers.base import FAILURE_RETRY_SECONDS, Poller, PollerRunner, Scheduler
from exporter.pollers.limits import SeriesCount
from exporter.serving.server import ExporterServer
from exporter.serving.status import CollectorRow, ExporterFacts, ReloadOutcome, gather
from exporter.serving.status_page import StatusPage, format_age, status_html
from tests.support.clock import FakeClock
from tests.support.processes import REPO, get_json, start, wait_until
from tests.support.waiting import free_port
from tests.support.web_config import (
    PASSWORD,
    REALM,
    Pki,
    basic,
    served,
    serving,
    tls_config,
    write_config,
)

SCRIPT = "<script>alert(1)</script>"


class FakePoller(Poller):
    """Answers `series` samples, or raises `error`; `during` runs inside the run."""

    def __init__(
        self,
        name: str,
        interval: float,
        *,
        series: int = 2,
        error: str | None = None,
        tenant: str | None = None,
    ) -> None:
        self.name = f"{name}@{tenant}" if tenant else name
        self.tenant = tenant
        self.interval = interval
        self.samples = series
        self.error = error
        self.during: Callable[[], None] | None = None

    def collect(self) -> Sequence[Family]:
        if self.during is not None:
            self.during()
        if self.error is not None:
            raise ApiError("/v1/x", self.error)
        family = GaugeMetricFamily("eightbyeight_test", "A test family.", labels=["n"])
        for n in range(self.samples):
            family.add_metric([str(n)], 1.0)
        self.series = SeriesCount(self.samples, 100, 0)
        return [family]


def scheduler_of(clock: FakeClock, *pollers: FakePoller) -> tuple[Scheduler, list[PollerRunner]]:
    scheduler = Scheduler(wall_clock=clock, monotonic=clock)
    runners = [
        scheduler.add_runner(PollerRunner(p, wall_clock=clock, monotonic=clock)) for p in pollers
    ]
    return scheduler, runners


def rows(scheduler: Scheduler, facts: ExporterFacts = ExporterFacts()) -> dict[str, CollectorRow]:
    status = gather(scheduler, facts, "/metrics", "abc123")
    return {f"{row.collector}@{row.tenant}": row for row in status.collectors}


def test_ages_and_next_runs_follow_the_clock() -> None:
    clock = FakeClock()
    good = FakePoller("call_queues", 30.0, series=3)
    bad = FakePoller("summaries", 600.0, error="upstream said no")
    later = FakePoller("extensions", 60.0)
    scheduler, (good_runner, bad_runner, _) = scheduler_of(clock, good, bad, later)
    started = clock.now
    assert good_runner.run_once() and not bad_runner.run_once()
    clock.advance(12.0)
    found = rows(scheduler)

    ok = found["call_queues@None"]
    assert (ok.state, ok.last_success, ok.last_success_age) == ("ok", started, 12.0)
    assert (ok.snapshot_age, ok.next_run, ok.next_run_in) == (12.0, started + 30.0, 18.0)
    assert (ok.series, ok.series_limit, ok.last_error) == (3, 100, None)

    failing = found["summaries@None"]
    assert failing.state == "failing" and failing.last_success is None
    # After a failure the next run comes sooner than the interval.
    assert failing.next_run == started + FAILURE_RETRY_SECONDS
    assert failing.next_run_in == FAILURE_RETRY_SECONDS - 12.0
    assert failing.last_error is not None and "upstream said no" in failing.last_error
    assert failing.snapshot_age is None and failing.series is None

    never = found["extensions@None"]
    assert (never.state, never.next_run, never.last_success) == ("not run yet", None, None)

    clock.advance(20.0)  # the good one is 2 s late now
    assert rows(scheduler)["call_queues@None"].next_run_in == -2.0
    page = status_html(gather(scheduler, ExporterFacts(), "/metrics", "abc123")).decode()
    assert "due (2s late)" in page and "in 28s" in page  # the failing one, at 60 s


def test_running_stuck_and_waiting_collectors() -> None:
    clock = FakeClock()
    first = FakePoller("discovery", 300.0)
    slow = FakePoller("call_legs", 15.0)
    scheduler, (first_runner, slow_runner) = scheduler_of(clock, first, slow)
    slow_runner.depends_on = first_runner
    assert rows(scheduler)["call_legs@None"].waiting_for == "discovery"
    first_runner.run_once()
    assert rows(scheduler)["call_legs@None"].waiting_for is None

    seen: list[CollectorRow] = []

    def during() -> None:
        seen.append(rows(scheduler)["call_legs@None"])
        clock.advance(301.0)  # past STUCK_MIN_SECONDS, no progress
        seen.append(rows(scheduler)["call_legs@None"])

    slow.during = during
    slow_runner.run_once()
    assert [row.state for row in seen] == ["running now", "stuck"]
    assert seen[0].next_run is None
    assert rows(scheduler)["call_legs@None"].state == "ok"


def test_tenants_are_rows_of_their_own() -> None:
    clock = FakeClock()
    scheduler, _ = scheduler_of(
        clock,
        FakePoller("cc_queues", 10.0, tenant="sales"),
        FakePoller("discovery", 300.0),
        FakePoller("cc_queues", 10.0, tenant="support"),
    )
    status = gather(scheduler, ExporterFacts(), "/metrics", "abc123")
    assert [(r.collector, r.tenant) for r in status.collectors] == [
        ("discovery", None),
        ("cc_queues", "sales"),
        ("cc_queues", "support"),
    ]


def test_errors_and_label_values_come_out_as_text_and_redacted() -> None:
    SECRETS.add_credential("hunter2-the-password")
    clock = FakeClock()
    bad = FakePoller(
        f"cc_report:{SCRIPT}", 60.0, error=f"{SCRIPT} echoed hunter2-the-password", tenant=SCRIPT
    )
    scheduler, (runner,) = scheduler_of(clock, bad)
    runner.run_once()
    page = StatusPage("/metrics")
    for as_json in (False, True):
        body = page.answer(scheduler, as_json=as_json).decode()
        assert "<script" not in body.lower() and "hunter2" not in body
    text = page.answer(scheduler, as_json=False).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert f"echoed {REDACTED}".replace("<", "&lt;").replace(">", "&gt;") in text
    row = json.loads(page.answer(scheduler, as_json=True))["collectors"][0]
    assert row["tenant"] == SCRIPT and row["collector"] == f"cc_report:{SCRIPT}"
    assert row["last_error"].endswith(f"echoed {REDACTED}")


def test_budgets_pauses_and_the_reload_outcome() -> None:
    clock = FakeClock()
    budget = RequestBudget("work_analytics", 60.0, clock=clock, sleep=clock.advance)
    for _ in range(4):
        budget.acquire("/x")
    budget.pause(30.0)
    clock.advance(2.0)
    scheduler, _ = scheduler_of(clock)
    reload = ReloadOutcome(successful=False, loaded_at=clock.now - 100, attempted_at=clock.now)
    facts = ExporterFacts(budgets=(budget,), config_file="/etc/8x8/<x>.yml", reload=reload)
    status = gather(scheduler, facts, "/metrics", "abc123")
    (row,) = status.budgets
    assert (row.api, row.per_minute, row.used_last_minute) == ("work_analytics", 60.0, 4)
    assert row.paused_for_seconds == 28.0
    assert row.tokens == pytest.approx(10.0 - 4 + 2.0)  # a burst of 10, refilled 1/s
    assert row.burst == 10.0
    page = status_html(status).decode()
    assert "paused for 28s more (429 Retry-After)" in page
    assert "last reload FAILED" in page and "/etc/8x8/&lt;x&gt;.yml" in page


def test_rendered_at_most_once_a_second_but_at_once_after_a_run() -> None:
    clock = FakeClock()
    poller = FakePoller("call_queues", 30.0)
    scheduler, (runner,) = scheduler_of(clock, poller)
    page = StatusPage("/metrics")
    first = page.answer(scheduler, as_json=False)
    clock.advance(0.5)
    assert page.answer(scheduler, as_json=False) is first and page.renders == 1
    runner.run_once()  # a finished run shows on the next look
    assert b"call_queues" in page.answer(scheduler, as_json=False) and page.renders == 2
    clock.advance(0.5)
    page.answer(scheduler, as_json=False)
    assert page.renders == 2
    clock.advance(0.6)
    page.answer(scheduler, as_json=False)
    assert page.renders == 3


def test_format_age() -> None:
    assert [format_age(s) for s in (None, 0.4, 59, 61, 3599, 3600 * 5 + 61, 86400 * 3 + 7200)] == [
        "\u2014",
        "0s",
        "59s",
        "1m 01s",
        "59m 59s",
        "5h 01m",
        "3d 02h",
    ]


def test_the_page_is_served_with_its_headers_and_links(http: requests.Session) -> None:
    scheduler = Scheduler()
    scheduler.add(FakePoller("discovery", 300.0)).run_once()
    target = served()
    target.scheduler = scheduler
    server = ExporterServer(target, "127.0.0.1:0", telemetry_path="/x/metrics")
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        answer = http.get(base + "/", timeout=5)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert answer.headers["Cache-Control"] == "no-store"
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        for link in ('href="x/metrics"', 'href="-/healthy"', 'href="-/ready"'):
            assert link in answer.text
        assert not re.search(r"<script|<link|src=", answer.text, re.IGNORECASE)
        as_json = http.get(base + "/?format=json", timeout=5)
        assert as_json.headers["Content-Type"] == "application/json"
        assert [row["collector"] for row in as_json.json()["collectors"]] == ["discovery"]
        assert http.get(base + "/?format=xml", timeout=5).status_code == 400
        head = http.head(base + "/", timeout=5)
        assert head.status_code == 200 and head.content == b""
    finally:
        server.stop()


def test_the_web_config_protects_the_page(
    pki: Pki, tmp_path: Path, hashes: dict[str, str], http: requests.Session
) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki), "basic_auth_users": hashes}
    )
    with serving(config) as server:
        base = f"https://127.0.0.1:{server.port}"
        for path in ("/", "/?format=json", "/?format=xml"):
            refused = http.get(base + path, verify=str(pki.ca.cert), timeout=5)
            assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == REALM
            assert "Collectors" not in refused.text and "collectors" not in refused.text
        good = basic("alice", PASSWORD)
        answer = http.get(base + "/?format=json", headers=good, verify=str(pki.ca.cert), timeout=5)
        assert answer.status_code == 200 and answer.json()["collectors"] == []
        page = http.get(base + "/", headers=good, verify=str(pki.ca.cert), timeout=5)
        assert page.status_code == 200 and "<h2>Collectors</h2>" in page.text


def _runs_by_collector(url: str) -> set[str] | None:
    """The `collector` labels of eightbyeight_collector_runs_total, once every one ran."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    runs = re.findall(
        r'^eightbyeight_collector_runs_total\{collector="([^"]*)"\} (\S+)$', text, re.M
    )
    return {name for name, _ in runs} if runs and all(float(n) >= 1 for _, n in runs) else None


@pytest.mark.e2e
def test_a_running_exporter_lists_every_enabled_collector(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "exporter", "--demo", f"--web.listen-address=127.0.0.1:{port}"]
    daemon = start("exporter", command, tmp_path, env)
    try:
        base = f"http://127.0.0.1:{port}"
        collectors = wait_until(
            "every collector's first run", lambda: _runs_by_collector(base + "/metrics")
        )
        status = get_json(base + "/?format=json")
        assert status is not None, daemon.tail()
        listed = {
            f"{row['collector']}@{row['tenant']}" if row["tenant"] else row["collector"]
            for row in status["collectors"]
        }
        assert listed == collectors and len(status["collectors"]) == len(collectors)
        assert {"discovery", "call_queues", "cc_queues@acme-sales"} <= listed
        assert all(row["state"] != "not run yet" for row in status["collectors"])
        assert {b["api"] for b in status["budgets"]} == {"work_analytics", "contact_center"}
        assert status["reload"]["successful"] and status["reload"]["attempted_at"] is None
        with urllib.request.urlopen(base + "/", timeout=10) as answer:
            page = answer.read().decode()
        for row in status["collectors"]:
            assert f"<td>{html.escape(row['collector'])}</td>" in page
    finally:
        daemon.stop()
