"""Contact Center against the simulator on loopback: two tenants in one region, realtime
values equal to the simulator's, and the asynchronous report life cycle on a simulated clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.app import Exporter, build_exporter
from exporter.cli import main
from exporter.config import load_config_data
from exporter.metrics.contact_center import PLACED, parse_key
from exporter.metrics.units import convert
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.page import PageReader, promtool_check, samples

pytestmark = pytest.mark.e2e

START = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC: the simulated contact centers are open
REPORT_DELAY = 20.0  # simulated seconds a report stays IN_PROGRESS


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sim(sim_clock: FakeClock) -> Iterator[Simulator]:
    simulator = Simulator(
        seed=5, host="127.0.0.1", port=0, clock=sim_clock, cc_report_delay_seconds=REPORT_DELAY
    ).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def cc_config(sim: Simulator, **overrides: Any) -> dict[str, Any]:
    section = {
        "enabled": True,
        "base_url": sim.root_url,
        "client_id": sim.cc_client_id,
        "client_secret": sim.cc_client_secret,
        "tenants": list(sim.cc.tenants),
        "time_zone": "America/New_York",
        "retries": {"initial_backoff": "10ms", "max_backoff": "50ms"},
        "agents": {"enabled": True},
        "report_status": {"initial_backoff": "2s", "max_backoff": "8s", "timeout": "5m"},
        "reports": [
            {
                "name": "queues_today",
                "type": "queue-interactions-summary",
                "group_by": "queue",
                "window": "today",
                "metrics": ["entered", "accepted", "abandoned", "acceptedPercentage"],
            }
        ],
        **overrides,
    }
    return {"work_analytics": {"enabled": False}, "contact_center": section}


class GatedSleep:
    """The report collectors' sleep: advances the simulated clock; while `gate` is closed it
    first waits (bounded) for the test to open it, so a test can look at /metrics while a
    report is being generated."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def __call__(self, seconds: float) -> None:
        if not self.gate.is_set():
            self.waiting.set()
            assert self.gate.wait(30), "the test never opened the gate"
        self.sleeps.append(seconds)
        self.clock.advance(seconds)


def build(sim: Simulator, clock: FakeClock, sleep: GatedSleep, **overrides: Any) -> Exporter:
    return build_exporter(
        load_config_data(cc_config(sim, **overrides)),
        process_metrics=False,
        clock=clock,
        sleep=sleep,
    )


def page(exporter: Exporter) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return samples(PageReader(exporter.exposition).text())


def test_realtime_values_equal_the_simulators_for_two_tenants(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    exporter = build(sim, sim_clock, GatedSleep(sim_clock), reports=[])
    try:
        assert exporter.scheduler.run_once()
        text = PageReader(exporter.exposition).text()
    finally:
        exporter.close()
    promtool_check(text)
    out = samples(text)
    tenants = {
        dict(labels)["tenant"]
        for name, labels in out
        if name == "eightbyeight_cc_queue_waiting_interactions"
    }
    assert tenants == set(sim.cc.tenants) and len(tenants) == 2
    compared = 0
    for tenant in sim.cc.tenants:
        for queue in sim.cc.queues(tenant):
            truth = sim.cc.realtime_values(tenant, "queues", queue.id, "America/New_York")
            for key, value in truth.items():
                parsed = parse_key(key)
                metric = PLACED["queues"].get(parsed.name) if parsed else None
                if parsed is None or metric is None or value is None:
                    continue
                expected = convert(metric.unit, value, "milliseconds")
                if expected is None:
                    continue
                labels = frozenset(
                    {
                        "tenant": tenant,
                        "queue_id": queue.id,
                        "queue": queue.name,
                        "period": parsed.period,
                    }.items()
                )
                assert out[(metric.name, labels)] == pytest.approx(expected), key
                compared += 1
    assert compared > 100
    # The simulator serves only the spec's keys, and the exporter knows them all: no
    # `cc_metric_unknown` warning in the demo, no "Unknown metric keys" on its dashboard.
    unknown = {
        dict(labels)["collector"]: value
        for (name, labels), value in out.items()
        if name == "eightbyeight_collector_unknown_metrics"
    }
    assert unknown and set(unknown.values()) == {0.0}, unknown
    # Agents: status one-hot as info, names in info.
    assert any(name == "eightbyeight_cc_agent_status_info" for name, _ in out)
    assert any(name == "eightbyeight_cc_agent_info" for name, _ in out)


def test_report_keeps_serving_the_last_result_while_the_next_is_generated(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    sleep = GatedSleep(sim_clock)
    exporter = build(sim, sim_clock, sleep)
    runner = next(
        r
        for r in exporter.scheduler.runners
        if r.name == f"cc_report:queues_today@{sim.cc.tenants[0]}"
    )
    get = PageReader(exporter.exposition).get_sample_value
    try:
        truth = {
            q.id: sim.cc.realtime_values(sim.cc.tenants[0], "queues", q.id, "America/New_York")
            for q in sim.cc.queues(sim.cc.tenants[0])
        }
        assert runner.run_once()
        # The vendor took REPORT_DELAY simulated seconds; the status was polled with backoff.
        assert sleep.sleeps == [2, 4, 8, 8]
        first = page(exporter)
        tenant = sim.cc.tenants[0]
        for queue in sim.cc.queues(tenant):
            labels = frozenset(
                {
                    "tenant": tenant,
                    "report": "queues_today",
                    "queue": queue.name,
                    "queue_id": queue.id,
                }.items()
            )
            # The report for today equals the realtime `.today` figures of the same moment.
            assert (
                first[("eightbyeight_cc_report_queue_accepted_interactions", labels)]
                == truth[queue.id]["accepted.today"]
            )
            assert (
                first[("eightbyeight_cc_report_queue_entered_interactions", labels)]
                == truth[queue.id]["entered.today"]
            )
        # The next report is slow: while it is generated, the previous result stays served.
        sim_clock.advance(600)
        sleep.gate.clear()
        worker = threading.Thread(target=runner.run_once)
        worker.start()
        assert sleep.waiting.wait(30)
        during = page(exporter)
        reports = {k: v for k, v in during.items() if k[0].startswith("eightbyeight_cc_report_")}
        assert reports and reports == {
            k: v for k, v in first.items() if k[0].startswith("eightbyeight_cc_report_")
        }
        age = get("eightbyeight_collector_snapshot_age_seconds", {"collector": runner.name})
        # Its age counts from the first result: the 600 simulated seconds since, at least.
        assert age is not None and 600 <= age < 700
        sleep.gate.set()
        worker.join(30)
        assert not worker.is_alive()
        assert get("eightbyeight_up", {"collector": runner.name}) == 1
        # Never more status requests than the backoff allows: 2+4+8+8 >= 20 s is 4 polls.
        statuses = [r for r in sim.requests if r.path.endswith("/status")]
        assert len(statuses) == 8
    finally:
        sleep.gate.set()
        exporter.close()


def test_a_failed_report_degrades_one_collector_and_recovers(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    sleep = GatedSleep(sim_clock)
    exporter = build(sim, sim_clock, sleep)
    get = PageReader(exporter.exposition).get_sample_value
    tenant = sim.cc.tenants[1]
    name = f"cc_report:queues_today@{tenant}"
    try:
        assert exporter.scheduler.run_once()
        rows = get("eightbyeight_cc_report_rows", {"tenant": tenant, "report": "queues_today"})
        assert rows and rows > 0
        sim.cc.fail_reports(tenant, True)
        sim_clock.advance(600)
        assert exporter.scheduler.run_once() is False
        assert get("eightbyeight_up", {"collector": name}) == 0
        assert (
            get("eightbyeight_up", {"collector": f"cc_report:queues_today@{sim.cc.tenants[0]}"})
            == 1
        )
        assert get("eightbyeight_up", {"collector": f"cc_queues@{tenant}"}) == 1
        # The last good result is still there.
        assert (
            get("eightbyeight_cc_report_rows", {"tenant": tenant, "report": "queues_today"}) == rows
        )
        sim.cc.fail_reports(tenant, False)
        sim_clock.advance(600)
        assert exporter.scheduler.run_once()
        assert get("eightbyeight_up", {"collector": name}) == 1
    finally:
        exporter.close()


def test_a_wrong_tenant_degrades_only_its_collectors(sim: Simulator, sim_clock: FakeClock) -> None:
    exporter = build(
        sim,
        sim_clock,
        GatedSleep(sim_clock),
        tenants=[sim.cc.tenants[0], "no-such-tenant"],
        reports=[],
    )
    get = PageReader(exporter.exposition).get_sample_value
    try:
        assert exporter.scheduler.run_once() is False
        assert get("eightbyeight_up", {"collector": f"cc_queues@{sim.cc.tenants[0]}"}) == 1
        assert get("eightbyeight_up", {"collector": "cc_queues@no-such-tenant"}) == 0
        runner = next(r for r in exporter.scheduler.runners if r.name == "cc_queues@no-such-tenant")
        assert "tenant 'no-such-tenant' is not known" in (runner.state.last_error or "")
    finally:
        exporter.close()


def test_an_unknown_report_metric_fails_check_config_naming_it(
    sim: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = cc_config(sim)
    config["contact_center"]["reports"][0]["metrics"] = ["accepted", "acceptedInSLA"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["--check-config", "--config.file", str(path)]) == 2
    err = capsys.readouterr().err
    for tenant in sim.cc.tenants:
        assert (
            f"error: config: contact_center.reports[0] (queues_today, tenant {tenant}): "
            "unknown metric 'acceptedInSLA' for queue-interactions-summary"
        ) in err
    config["contact_center"]["reports"][0]["metrics"] = ["accepted"]
    path.write_text(yaml.safe_dump(config))
    assert main(["--check-config", "--config.file", str(path)]) == 0
