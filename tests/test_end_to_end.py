"""The exporter against the simulator on loopback: real HTTP, real values, real processes."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.app import build_exporter
from exporter.catalogue import entries, listed, markdown
from exporter.config import load_config_data
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.end_to_end import BUSINESS_HOURS, config_for, running_simulator
from tests.support.files import REPO
from tests.support.page import PageReader, promtool_check, samples
from tests.support.waiting import free_port

pytestmark = pytest.mark.e2e

# Vendor keys (Call Queue Metric API) and the exported metric they must equal, in seconds.
LIVE_CHECKS = {
    "ongoingWaitingCalls": "eightbyeight_queue_ongoing_waiting_calls",
    "ongoingAvailableAgents": "eightbyeight_queue_available_agents",
    "ongoingLongestWaitingTime": "eightbyeight_queue_ongoing_longest_waiting_time_seconds",
    "ongoingTalkingCalls": "eightbyeight_queue_ongoing_talking_calls",
    "ongoingEligibleAgents": "eightbyeight_queue_eligible_agents",
}


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(BUSINESS_HOURS)


@pytest.fixture
def sim(sim_clock: FakeClock) -> Iterator[Simulator]:
    with running_simulator(sim_clock) as simulator:
        yield simulator


def queue_values(text: str, metric: str) -> dict[str, float]:
    return {
        dict(labels)["queue_id"]: value
        for (name, labels), value in samples(text).items()
        if name == metric
    }


def exporter_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "exporter", *args]


def run_once(
    sim: Simulator, tmp_path: Path, **call_queues: Any
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"  # JSON is YAML
    path.write_text(json.dumps(config_for(sim, **call_queues)))
    return subprocess.run(
        exporter_cmd("--once", "--config.file", str(path), "--log.level", "debug"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_once_exports_what_the_simulator_holds(sim: Simulator, tmp_path: Path) -> None:
    result = run_once(sim, tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    promtool_check(text)
    queues = [
        q
        for pbx in sim.directory
        for site in pbx.sites
        for q in site.queues
        if not (pbx.deleted or site.deleted or getattr(q, "deleted", False))
    ]
    assert queues
    nonzero = 0
    for key, metric in LIVE_CHECKS.items():
        exported = queue_values(text, metric)
        for queue in queues:
            truth = sim.model.queue_state(queue.id)[key]
            assert exported[queue.id] == pytest.approx(truth), (metric, queue.name)
            nonzero += truth != 0
    assert nonzero > 0, "the simulator's queues are all idle: nothing was really compared"
    # Every queue series carries the five labels, with names resolved.
    for (name, labels), _ in samples(text).items():
        if name == "eightbyeight_queue_ongoing_waiting_calls":
            label = dict(labels)
            assert set(label) == {"pbx", "site", "queue", "extension", "queue_id"}
            assert all(label.values()), label


def test_no_secret_reaches_the_logs(sim: Simulator, tmp_path: Path) -> None:
    sim.expire_tokens()  # forces token traffic into the debug logs too
    result = run_once(sim, tmp_path)
    assert result.returncode == 0
    for secret in (sim.password, sim.api_key):
        assert secret not in result.stderr and secret not in result.stdout
    assert "Bearer" not in result.stderr
    for line in result.stderr.splitlines():
        json.loads(line)  # JSON logs, one event per line


@pytest.mark.parametrize("sim_unit", ["seconds", "milliseconds"])
def test_duration_unit_setting_matches_the_api(
    sim_clock: FakeClock, tmp_path: Path, sim_unit: str
) -> None:
    with Simulator(
        seed=7, host="127.0.0.1", port=0, clock=sim_clock, cq_duration_unit=sim_unit
    ) as simulator:
        result = run_once(simulator, tmp_path, duration_unit=sim_unit)
        assert result.returncode == 0, result.stderr
        exported = queue_values(
            result.stdout, "eightbyeight_queue_ongoing_longest_waiting_time_seconds"
        )
        truth = {
            qid: simulator.model.queue_state(qid)["ongoingLongestWaitingTime"] for qid in exported
        }
    assert any(truth.values())
    for qid, value in exported.items():
        assert value == pytest.approx(truth[qid], abs=1e-3)


def test_deprecated_realtime_api_gives_the_same_live_values(sim: Simulator, tmp_path: Path) -> None:
    new = run_once(sim, tmp_path)
    old = run_once(sim, tmp_path, api="realtime")
    assert new.returncode == 0 and old.returncode == 0, old.stderr
    for metric in (
        "eightbyeight_queue_ongoing_waiting_calls",
        "eightbyeight_queue_ongoing_longest_waiting_time_seconds",
        "eightbyeight_queue_available_agents",
    ):
        assert queue_values(old.stdout, metric) == pytest.approx(queue_values(new.stdout, metric))
    promtool_check(old.stdout)


def test_values_move_over_a_minute(sim: Simulator, sim_clock: FakeClock) -> None:
    exporter = build_exporter(load_config_data(config_for(sim)), process_metrics=False)
    try:
        pages = []
        for _ in range(3):
            assert exporter.scheduler.run_once()
            pages.append(PageReader(exporter.exposition).text())
            sim_clock.advance(30)
    finally:
        exporter.close()
    metric = "eightbyeight_queue_ongoing_longest_waiting_time_seconds"
    assert queue_values(pages[0], metric) != queue_values(pages[2], metric)


def test_a_failing_endpoint_degrades_one_collector_and_recovers(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    exporter = build_exporter(load_config_data(config_for(sim)), process_metrics=False)
    get = PageReader(exporter.exposition).get_sample_value
    try:
        assert exporter.scheduler.run_once()
        sim.faults.add(
            r"/call-queue-metrics$",
            status=503,
            times=None,
            body={"status": 503, "messages": ["maintenance"]},
        )
        sim_clock.advance(30)
        assert exporter.scheduler.run_once() is False
        assert get("eightbyeight_up", {"collector": "call_queues"}) == 0
        assert get("eightbyeight_up", {"collector": "discovery"}) == 1
        age = get("eightbyeight_collector_snapshot_age_seconds", {"collector": "call_queues"})
        assert age is not None and age > 0
        failures = get(
            "eightbyeight_api_request_failures_total",
            {
                "api": "work_analytics",
                "endpoint": "/v2/pbxes/{pbxId}/call-queue-metrics",
                "code": "503",
            },
        )
        assert failures is not None and failures >= 4
        sim.faults.clear()
        # Expired tokens, a 429 with Retry-After and a malformed body, one after the other.
        sim.expire_tokens()
        sim.faults.add(r"/call-queue-metrics$", status=429, times=1, headers={"Retry-After": "0"})
        assert exporter.scheduler.run_once()
        assert get("eightbyeight_up", {"collector": "call_queues"}) == 1
        sim.faults.add(r"/call-queue-metrics$", malformed=True, times=1)
        assert exporter.scheduler.run_once() is False
        assert exporter.scheduler.run_once()
        assert get("eightbyeight_up", {"collector": "call_queues"}) == 1
    finally:
        exporter.close()


def test_catalogue_lists_everything_exposed_and_docs_are_current(sim: Simulator) -> None:
    catalogue = {e.name for e in entries()}
    exposed: set[str] = set()
    for api in ("call_queue_metrics", "realtime"):
        exporter = build_exporter(load_config_data(config_for(sim, api=api)))
        try:
            assert exporter.scheduler.run_once()
            for family in PageReader(exporter.exposition).families():
                name = family.name + ("_total" if family.type == "counter" else "")
                exposed.add(name)
        finally:
            exporter.close()
    ours = {n for n in exposed if n.startswith("eightbyeight_")}
    assert {n for n in ours if not listed(n, catalogue)} == set()
    assert len(ours) > 80
    assert (REPO / "docs" / "metrics.md").read_text() == markdown(), (
        "docs/metrics.md is stale: python -m exporter.catalogue > docs/metrics.md"
    )


@pytest.mark.slow
def test_demo_once_prints_a_valid_exposition() -> None:
    result = subprocess.run(
        exporter_cmd("--demo", "--once"), capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    promtool_check(result.stdout)
    assert queue_values(result.stdout, "eightbyeight_queue_ongoing_waiting_calls")
    out = samples(result.stdout)

    def total(name: str, **fixed: str) -> float:
        return sum(
            v
            for (n, labels), v in out.items()
            if n == name and fixed.items() <= dict(labels).items()
        )

    # The simulator starts with a week of history: the windows have calls from the first run
    # (calendar windows may be only minutes long, depending on when the test runs).
    windows = {dict(labels)["window"] for n, labels in out if n == "eightbyeight_pbx_calls"}
    assert windows == {"15m", "1h", "24h", "today", "this_week"}
    assert total("eightbyeight_pbx_calls", window="1h") > 0
    assert total("eightbyeight_pbx_calls", window="24h") > total(
        "eightbyeight_pbx_calls", window="1h"
    )
    assert total("eightbyeight_pbx_calls", window="this_week") >= total(
        "eightbyeight_pbx_calls", window="today"
    )
    assert total("eightbyeight_ring_group_calls", window="1h") > 0
    assert total("eightbyeight_ring_group_member_calls") > 0
    assert total("eightbyeight_extension_inbound_calls", window="1h") > 0
    assert total("eightbyeight_extension_info") > 0
    # Counters start at 0 (calls before the first poll are not counted), but their series exist.
    names = {n for n, _ in out}
    assert {
        "eightbyeight_calls_total",
        "eightbyeight_call_wait_seconds_bucket",
        "eightbyeight_group_calls_total",
        "eightbyeight_group_call_talk_seconds_bucket",
    } <= names
    # Contact Center: queues, groups and both reports for two tenants of one region.
    for family in (
        "eightbyeight_cc_queue_waiting_interactions",
        "eightbyeight_cc_group_eligible_agents",
        "eightbyeight_cc_agent_status_info",
        "eightbyeight_cc_report_queue_accepted_interactions",
        "eightbyeight_cc_report_agent_accepted_interactions",
    ):
        tenants = {dict(labels)["tenant"] for n, labels in out if n == family}
        assert tenants == {"acme-sales", "acme-support"}, family
    reports = {
        (dict(labels)["tenant"], dict(labels)["report"])
        for n, labels in out
        if n == "eightbyeight_cc_report_rows"
    }
    assert reports == {
        (t, r) for t in ("acme-sales", "acme-support") for r in ("queues_today", "agents_today")
    }
    assert total("eightbyeight_cc_queue_entered_interactions", period="today") > 0


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.mark.slow
def test_daemon_serves_metrics_health_and_readiness(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "exporter.log"
    # Logs go to a file, not a pipe nobody reads while the test runs (a full pipe blocks).
    log_file = log_path.open("w")
    process = subprocess.Popen(
        exporter_cmd("--demo", "--web.listen-address", f"127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        for _ in range(600):
            if time.monotonic() > deadline or process.poll() is not None:
                break
            try:
                status, _, _ = http_get(f"{base}/-/ready")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200, "exporter did not become ready"
        status, headers, body = http_get(f"{base}/metrics", {"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get("Content-Encoding") == "gzip"
        text = gzip.decompress(body).decode()
        assert queue_values(text, "eightbyeight_queue_ongoing_waiting_calls")
        assert 'eightbyeight_up{collector="call_queues"} 1.0' in text
        assert "process_resident_memory_bytes" in text
        promtool_check(text)
        status, headers, body = http_get(
            f"{base}/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"}
        )
        assert status == 200 and headers["Content-Type"].startswith("application/openmetrics-text")
        assert body.rstrip().endswith(b"# EOF")
        status, _, body = http_get(f"{base}/")
        assert status == 200 and b'href="metrics"' in body
        status, _, body = http_get(f"{base}/-/healthy")
        assert status == 200 and json.loads(body)["status"] == "healthy"
        status, _, _ = http_get(f"{base}/nope")
        assert status == 404
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise
        log_file.close()
    stderr = log_path.read_text()
    assert code == 0, stderr
    events = [json.loads(line)["msg"] for line in stderr.splitlines() if line.startswith("{")]
    assert "exporter_started" in events and "exporter_stopped" in events


def test_listen_address_in_use_is_a_clear_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            exporter_cmd("--demo", "--web.listen-address", f"127.0.0.1:{port}"),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={**os.environ},
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
