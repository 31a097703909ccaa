"""Four simulated hours across each daylight-saving change of four zones (one of them moving by
30 minutes): the call counters equal the simulator's calls exactly, per PBX, direction,
outcome and group, and no poll fails (no window that ends before it starts)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.windows import counting_day
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.end_to_end import config_for
from tests.support.page import PageReader, samples

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

POLL = 300.0
LOOKBACK = 900.0
DIRECTIONS = {"Incoming": "inbound", "Outgoing": "outbound"}

# Each change as the UTC instant the clocks move: (zone, instant, hours the wall clock moves).
CHANGES = [
    ("America/New_York", "2026-03-08 07:00", 1.0),
    ("America/New_York", "2026-11-01 06:00", -1.0),
    ("Europe/London", "2026-03-29 01:00", 1.0),
    ("Europe/London", "2026-10-25 01:00", -1.0),
    ("Australia/Sydney", "2026-04-04 16:00", -1.0),
    ("Australia/Sydney", "2026-10-03 16:00", 1.0),
    ("Australia/Lord_Howe", "2026-04-04 15:00", -0.5),
    ("Australia/Lord_Howe", "2026-10-03 15:30", 0.5),
]


def instant(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()


def offset_hours(zone: ZoneInfo, when: float) -> float:
    delta = datetime.fromtimestamp(when, UTC).astimezone(zone).utcoffset()
    assert delta is not None
    return delta.total_seconds() / 3600


def config(sim: Simulator, time_zone: str) -> dict[str, Any]:
    detail = {"interval": "5m", "lookback": "15m", "page_size": 200}
    data = config_for(sim, enabled=False)
    data["work_analytics"].update(
        {
            "time_zone": time_zone,
            "retries": {"max_attempts": 1},
            # The budget's minute is the real one: hours of fake time pass in seconds.
            "request_budget_per_minute": 1_000_000,
            "company_summary": {"interval": "5m", "windows": ["15m", "1h", "today"]},
            "ring_groups": {"interval": "5m", "windows": ["15m", "today"]},
            "extensions": {"enabled": False},
            "call_records": dict(detail),
            "call_legs": dict(detail),
        }
    )
    return data


def without_zeros(
    out: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str
) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: value for (n, labels), value in out.items() if n == name and value}


@pytest.mark.parametrize(("zone_name", "change", "shift"), CHANGES)
def test_four_hours_across_a_clock_change_count_exactly_the_simulators_calls(
    zone_name: str, change: str, shift: float
) -> None:
    zone, moved = ZoneInfo(zone_name), instant(change)
    assert offset_hours(zone, moved) - offset_hours(zone, moved - 1) == shift  # the change
    start = moved - 1800  # half an hour before: after the day's counters started
    clock = FakeClock(start)
    sim = Simulator(seed=5, host="127.0.0.1", port=0, clock=clock, history_seconds=4 * 3600).start()
    exporter = build_exporter(
        load_config_data(config(sim, zone_name)), process_metrics=False, clock=clock
    )
    try:
        for _ in range(int(4 * 3600 / POLL) + 1):
            assert exporter.scheduler.run_once(), "a poll failed"
            clock.advance(POLL)
        clock.advance(-POLL)
        out = samples(PageReader(exporter.exposition).text())
    finally:
        exporter.close()
        sim.stop()

    day = counting_day(clock(), zone, LOOKBACK)
    assert day.start == counting_day(start, zone, LOOKBACK).start  # no midnight in the run
    calls = sim.model.finished_calls(day.start, clock())
    assert len(calls) > 20
    assert min(c.ended_ms for c in calls) < moved * 1000 < max(c.ended_ms for c in calls)
    expected = Counter(
        frozenset(
            {"pbx": c.pbx, "direction": DIRECTIONS[c.direction], "outcome": c.outcome}.items()
        )
        for c in calls
    )
    assert without_zeros(out, "eightbyeight_calls_total") == dict(expected)

    legs = [
        leg
        for leg in sim.model.call_legs(day.start, clock())
        if leg.parent_call_id is None and leg.group is not None
    ]
    expected_groups: Counter[frozenset[tuple[str, str]]] = Counter()
    for leg in legs:
        assert leg.group is not None
        labels = {
            "pbx": leg.pbx,
            "group_type": leg.group.kind.value,
            "group": leg.group.name,
            "extension": leg.group.extension,
            "outcome": leg.outcome,
        }
        expected_groups[frozenset(labels.items())] += 1
    assert {dict(k)["group_type"] for k in expected_groups} == {"queue", "ring_group"}
    assert without_zeros(out, "eightbyeight_group_calls_total") == dict(expected_groups)
