"""The APIs' clock skew against the simulator on loopback: the exporter's clock 20 minutes ahead
of the simulated APIs' shows as eightbyeight_api_clock_skew_seconds == -1200 after one poll, for
Work Analytics and for Contact Center (three hosts, one clock), and the clients' now() is the
API's time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from exporter.app import build_exporter
from exporter.config import load_config_data
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.end_to_end import config_for
from tests.support.page import PageReader, samples

pytestmark = pytest.mark.e2e

START = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC
AHEAD = 1200.0  # the exporter's clock runs 20 minutes ahead of the APIs'
SKEW = "eightbyeight_api_clock_skew_seconds"


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sim(sim_clock: FakeClock) -> Iterator[Simulator]:
    with Simulator(seed=11, host="127.0.0.1", port=0, clock=sim_clock) as simulator:
        yield simulator


def skewed_config(sim: Simulator, *, contact_center: bool) -> dict[str, object]:
    config = config_for(sim)
    work_analytics = config["work_analytics"]
    for section in ("company_summary", "ring_groups", "extensions", "call_records", "call_legs"):
        work_analytics[section] = {"enabled": False}
    if contact_center:
        config["contact_center"] = {
            "enabled": True,
            "base_url": sim.root_url,
            "client_id": sim.cc_client_id,
            "client_secret": sim.cc_client_secret,
            "tenants": [sim.cc.tenants[0]],
            "retries": {"initial_backoff": "10ms", "max_backoff": "50ms"},
        }
    return config


def test_an_exporter_clock_20_minutes_ahead_shows_as_a_skew_of_minus_1200(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    config = load_config_data(skewed_config(sim, contact_center=True))
    exporter = build_exporter(config, process_metrics=False, clock=lambda: sim_clock() + AHEAD)
    page = PageReader(exporter.exposition)
    try:
        assert page.get_sample_value(SKEW, {"api": "work_analytics"}) is None  # not measured yet
        with capture_logs() as logs:
            assert exporter.scheduler.run_once()
        for api in ("work_analytics", "contact_center"):
            skew = page.get_sample_value(SKEW, {"api": api})
            assert skew is not None and abs(skew - -AHEAD) <= 1, (api, skew)
        warnings = {(e["event"], e["api"]) for e in logs if e["event"] == "api_clock_skew"}
        assert warnings == {
            ("api_clock_skew", "work_analytics"),
            ("api_clock_skew", "contact_center"),
        }
        # The windows' "now" is the API's: back on the simulator's clock, in whole seconds.
        wa_http = exporter.clients[0]
        assert wa_http.api_clock is not None and wa_http.api_clock.now() == sim_clock()
        assert exporter.contact_center is not None
        assert exporter.contact_center.now() == sim_clock()
    finally:
        exporter.close()


def test_synchronised_clocks_show_no_skew_and_leave_the_windows_alone(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    sim_clock.advance(0.4)  # mid-second: the Date header truncates it
    exporter = build_exporter(
        load_config_data(skewed_config(sim, contact_center=False)),
        process_metrics=False,
        clock=sim_clock,
    )
    try:
        with capture_logs() as logs:
            assert exporter.scheduler.run_once()
        skew = PageReader(exporter.exposition).get_sample_value(SKEW, {"api": "work_analytics"})
        assert skew is not None and abs(skew) <= 1
        assert not [e for e in logs if e["event"].startswith("api_clock_skew")]
        api_clock = exporter.clients[0].api_clock
        assert api_clock is not None and api_clock.now() == sim_clock()
    finally:
        exporter.close()


@pytest.mark.slow
def test_an_exporter_clock_20_minutes_ahead_still_counts_every_call(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    config = config_for(sim, enabled=False)
    detail = {"interval": "1m", "lookback": "5m", "page_size": 100}
    config["work_analytics"].update(
        {
            "time_zone": "UTC",
            "company_summary": {"enabled": False},
            "extensions": {"enabled": False},
            "ring_groups": {"interval": "1m", "windows": ["15m"]},
            "call_records": dict(detail),
            "call_legs": dict(detail),
        }
    )
    exporter = build_exporter(
        load_config_data(config), process_metrics=False, clock=lambda: sim_clock() + AHEAD
    )
    try:
        for _ in range(30):
            assert exporter.scheduler.run_once()
            sim_clock.advance(60)
        sim_clock.advance(-60)
        out = samples(PageReader(exporter.exposition).text())
    finally:
        exporter.close()
    assert abs(out[(SKEW, frozenset({("api", "work_analytics")}))] + AHEAD) <= 1
    # The simulator's history (1 h) started after midnight UTC: every call it holds is today's.
    calls = sim.model.finished_calls(0, sim_clock())
    assert len(calls) > 100
    counted = sum(v for (name, _), v in out.items() if name == "eightbyeight_calls_total")
    assert counted == len(calls)
    legs = [
        leg
        for leg in sim.model.call_legs(0, sim_clock())
        if leg.parent_call_id is None and leg.group is not None
    ]
    group_calls = sum(v for (name, _), v in out.items() if name == "eightbyeight_group_calls_total")
    assert group_calls == len(legs) > 50
