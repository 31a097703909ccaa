"""Rolling windows and call counters against the simulator on loopback: the exported values
equal what the simulator recorded, and the two paths (summaries, call legs) agree."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from exporter.core.windows import counting_day
from simulator import Simulator
from simulator.calls import CallLeg, GroupRef
from tests.support.clock import FakeClock
from tests.support.page import PageReader, promtool_check, samples

pytestmark = pytest.mark.e2e

START = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC: business hours at every simulated site
POLL = 60.0
DIRECTIONS = {"Incoming": "inbound", "Outgoing": "outbound"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(START)


def start_simulator(clock: FakeClock, **kwargs: Any) -> Simulator:
    return Simulator(
        seed=11, host="127.0.0.1", port=0, clock=clock, history_seconds=2 * 3600, **kwargs
    ).start()


@pytest.fixture
def sim(sim_clock: FakeClock) -> Iterator[Simulator]:
    simulator = start_simulator(sim_clock)
    try:
        yield simulator
    finally:
        simulator.stop()


def historical_config(sim: Simulator, **overrides: Any) -> dict[str, Any]:
    detail = {"interval": "1m", "lookback": "5m", "page_size": 50}
    section = {
        "base_url": sim.base_url,
        "api_key": sim.api_key,
        "username": sim.username,
        "password": sim.password,
        "time_zone": "America/New_York",
        "retries": {"initial_backoff": "10ms", "max_backoff": "50ms"},
        # The budget's minute is the real one: an hour of fake time passes in seconds.
        "request_budget_per_minute": 1_000_000,
        "call_queues": {"enabled": False},
        "company_summary": {"interval": "1m", "windows": ["1h", "today"]},
        "ring_groups": {"interval": "1m", "windows": ["1h"]},
        "ring_group_members": {"enabled": True, "interval": "1m", "windows": ["1h"]},
        "extensions": {"interval": "1m", "windows": ["1h"]},
        "call_records": dict(detail),
        "call_legs": dict(detail),
    }
    section.update(overrides)
    return {"work_analytics": section}


def run_for(exporter: Exporter, clock: FakeClock, polls: int) -> Samples:
    """One poll per simulated minute; every poll must succeed."""
    for _ in range(polls):
        clock.advance(POLL)
        assert exporter.scheduler.run_once()
    return samples(PageReader(exporter.exposition).text())


def day_start(now: float) -> float:
    """Where the counters count from: New York's midnight (the look-back is 5 minutes)."""
    return counting_day(now, ZoneInfo("America/New_York"), 300).start


def family(out: Samples, name: str, **fixed: str) -> dict[frozenset[tuple[str, str]], float]:
    """The samples of one name whose labels include `fixed`, keyed by their other labels."""
    return {
        frozenset((k, v) for k, v in labels if k not in fixed): value
        for (n, labels), value in out.items()
        if n == name and fixed.items() <= dict(labels).items()
    }


def nonzero(values: dict[Any, float]) -> dict[Any, float]:
    return {k: v for k, v in values.items() if v}


def key(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


def group_of(leg: CallLeg) -> GroupRef:
    """The leg's group, for legs already filtered on having one."""
    assert leg.group is not None
    return leg.group


def group_legs(sim: Simulator, start: float, end: float) -> list[CallLeg]:
    """The top-level legs into a queue or ring group that ended in [start, end)."""
    return [
        leg
        for leg in sim.model.call_legs(start, end)
        if leg.parent_call_id is None and leg.group is not None
    ]


def group_calls(legs: list[CallLeg]) -> Counter[frozenset[tuple[str, str]]]:
    """What eightbyeight_group_calls_total counts for those legs."""
    return Counter(
        key(
            pbx=leg.pbx,
            group_type=group_of(leg).kind.value,
            group=group_of(leg).name,
            extension=group_of(leg).extension,
            outcome=leg.outcome,
        )
        for leg in legs
    )


@pytest.mark.slow
def test_counters_equal_the_calls_the_simulator_recorded(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    exporter = build_exporter(
        load_config_data(historical_config(sim)), process_metrics=False, clock=sim_clock
    )
    try:
        assert exporter.scheduler.run_once()  # the first poll reads the day so far
        counting_from = day_start(sim_clock())
        out = run_for(exporter, sim_clock, 45)
    finally:
        exporter.close()
    calls = sim.model.finished_calls(counting_from, sim_clock())
    assert len(calls) > 100  # enough traffic for the comparison to mean something
    # The simulator's history (2 h) began after New York's midnight: the first poll read it all.
    assert min(c.ended_ms for c in calls) < (START - 3600) * 1000

    expected_calls = Counter(
        key(pbx=c.pbx, direction=DIRECTIONS[c.direction], outcome=c.outcome) for c in calls
    )
    assert nonzero(family(out, "eightbyeight_calls_total")) == dict(expected_calls)
    wait_sums: defaultdict[frozenset[tuple[str, str]], float] = defaultdict(float)
    talk_sums: defaultdict[frozenset[tuple[str, str]], float] = defaultdict(float)
    for c in calls:
        wait_sums[key(pbx=c.pbx, direction=DIRECTIONS[c.direction], outcome=c.outcome)] += (
            c.wait_ms / 1000
        )
        if c.outcome == "answered":
            talk_sums[key(pbx=c.pbx, direction=DIRECTIONS[c.direction])] += c.talk_ms / 1000
    assert nonzero(family(out, "eightbyeight_call_wait_seconds_sum")) == pytest.approx(
        nonzero(dict(wait_sums))
    )
    assert nonzero(family(out, "eightbyeight_call_talk_seconds_sum")) == pytest.approx(
        dict(talk_sums)
    )
    answered_within_20s = sum(1 for c in calls if c.outcome == "answered" and c.wait_ms <= 20_000)
    assert (
        sum(
            family(
                out, "eightbyeight_call_wait_seconds_bucket", le="20.0", outcome="answered"
            ).values()
        )
        == answered_within_20s
    )

    # Per queue and ring group: the group's top-level legs.
    legs = group_legs(sim, counting_from, sim_clock())
    expected_groups = group_calls(legs)
    assert {group_of(leg).kind.value for leg in legs} == {"queue", "ring_group"}
    assert nonzero(family(out, "eightbyeight_group_calls_total")) == dict(expected_groups)
    group_talk: defaultdict[frozenset[tuple[str, str]], float] = defaultdict(float)
    for leg in legs:
        if leg.outcome == "answered":
            group_talk[
                key(
                    pbx=leg.pbx,
                    group_type=group_of(leg).kind.value,
                    group=group_of(leg).name,
                    extension=group_of(leg).extension,
                )
            ] += leg.talk_ms / 1000
    assert nonzero(family(out, "eightbyeight_group_call_talk_seconds_sum")) == pytest.approx(
        dict(group_talk)
    )


@pytest.mark.slow
def test_one_hour_windows_agree_with_the_simulator_and_with_the_counters(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    exporter = build_exporter(
        load_config_data(historical_config(sim)), process_metrics=False, clock=sim_clock
    )
    try:
        assert exporter.scheduler.run_once()
        counting_from = sim_clock()
        before = samples(PageReader(exporter.exposition).text())
        out = run_for(exporter, sim_clock, 60)  # the `1h` window now covers exactly the counting
        text = PageReader(exporter.exposition).text()
    finally:
        exporter.close()
    end = sim_clock()
    assert end - counting_from == 3600

    def counted_in_the_hour(name: str, **fixed: str) -> dict[frozenset[tuple[str, str]], float]:
        now, then = family(out, name, **fixed), family(before, name, **fixed)
        return {k: v - then.get(k, 0.0) for k, v in now.items()}

    promtool_check(text)

    # Company summary for the hour: the simulator's whole calls, per PBX.
    calls = sim.model.finished_calls(end - 3600, end)
    for pbx in {c.pbx for c in calls}:
        mine = [c for c in calls if c.pbx == pbx]
        labels = {"pbx": pbx, "window": "1h"}
        assert out[("eightbyeight_pbx_calls", key(**labels))] == len(mine)
        assert out[("eightbyeight_pbx_answered_calls", key(**labels))] == sum(
            c.outcome == "answered" for c in mine
        )
        assert out[("eightbyeight_pbx_abandoned_calls", key(**labels))] == sum(
            c.outcome == "abandoned" for c in mine
        )
        assert out[("eightbyeight_pbx_missed_calls", key(**labels))] == sum(
            c.outcome != "answered" for c in mine
        )
        assert out[("eightbyeight_pbx_talk_time_seconds", key(**labels))] == pytest.approx(
            sum(c.talk_ms for c in mine) / 1000
        )
        # ... and the counters of the same hour, from /v2/call-records.
        counted = counted_in_the_hour("eightbyeight_calls_total", pbx=pbx)
        assert sum(counted.values()) == len(mine)
        assert (
            sum(v for k, v in counted.items() if ("outcome", "answered") in k)
            == out[("eightbyeight_pbx_answered_calls", key(**labels))]
        )

    # Ring groups for the hour: the summary against the legs the exporter counted.
    groups = {
        dict(labels)["ring_group"]: dict(labels)
        for (name, labels) in out
        if name == "eightbyeight_ring_group_calls"
    }
    assert len(groups) >= 4
    legs = [
        leg
        for leg in sim.model.call_legs(end - 3600, end)
        if leg.parent_call_id is None
        and leg.group is not None
        and group_of(leg).kind.value == "ring_group"
    ]
    busy = 0
    for name, labels in groups.items():
        members = [leg for leg in legs if group_of(leg).name == name and leg.pbx == labels["pbx"]]
        busy += bool(members)
        assert out[("eightbyeight_ring_group_calls", key(**labels))] == len(members)
        assert out[("eightbyeight_ring_group_answered_calls", key(**labels))] == sum(
            leg.outcome == "answered" for leg in members
        )
        assert out[("eightbyeight_ring_group_talk_time_seconds", key(**labels))] == pytest.approx(
            sum(leg.talk_ms for leg in members) / 1000
        )
        counted = counted_in_the_hour(
            "eightbyeight_group_calls_total",
            pbx=labels["pbx"],
            group_type="ring_group",
            group=name,
        )
        assert sum(counted.values()) == len(members)
        for outcome in ("answered", "abandoned", "voicemail"):
            summary = {
                "answered": "eightbyeight_ring_group_answered_calls",
                "abandoned": "eightbyeight_ring_group_abandoned_calls",
                "voicemail": "eightbyeight_ring_group_voicemail_calls",
            }[outcome]
            assert (
                sum(v for k, v in counted.items() if ("outcome", outcome) in k)
                == out[(summary, key(**labels))]
            ), (name, outcome)
    assert busy >= 3

    # Members and extensions exist for the same hour and add up.
    member_calls = family(out, "eightbyeight_ring_group_member_calls", window="1h")
    assert member_calls and sum(member_calls.values()) > 0
    extension_answered = family(out, "eightbyeight_extension_inbound_answered_calls", window="1h")
    assert sum(extension_answered.values()) > 0
    assert family(out, "eightbyeight_extension_info")


@pytest.mark.slow
def test_late_records_and_a_page_failing_half_way_are_counted_exactly_once(
    sim_clock: FakeClock,
) -> None:
    # Records show up 90 s after the call ended: the 5-minute look-back still finds them.
    sim = start_simulator(sim_clock, cdr_delay_seconds=90)
    exporter = build_exporter(
        load_config_data(historical_config(sim)), process_metrics=False, clock=sim_clock
    )
    get = PageReader(exporter.exposition).get_sample_value
    try:
        assert exporter.scheduler.run_once()
        counting_from = day_start(sim_clock())
        run_for(exporter, sim_clock, 10)
        # The second page of every scroll fails for a while: the poll fails, nothing is lost.
        sim.faults.add(
            r"/v2/call-(legs|records)$",
            status=500,
            times=6,
            with_param="scrollId",
            body={"status": 500, "messages": ["internal error"]},
        )
        sim_clock.advance(POLL)
        assert exporter.scheduler.run_once() is False
        assert get("eightbyeight_up", {"collector": "call_records"}) == 0
        assert get("eightbyeight_up", {"collector": "company_summary"}) == 1
        sim.faults.clear()
        # Polls go on until every call that ended before the failure has shown up.
        out = run_for(exporter, sim_clock, 5)
    finally:
        exporter.close()
        sim.stop()
    # Every call that ended from midnight until `delay` before the last poll is visible, and
    # counted once; the later ones are not visible yet.
    visible = sim.model.finished_calls(counting_from, sim_clock() - 90)
    assert len(visible) > 50
    assert sum(family(out, "eightbyeight_calls_total").values()) == len(visible)
    assert (
        get("eightbyeight_collector_records_duplicate_total", {"collector": "call_records"}) or 0
    ) > 0


@pytest.mark.slow
def test_started_while_the_ring_group_summary_fails_every_ring_group_leg_is_counted_after(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    # The summary answers 503 for the first 20 minutes (the look-back is 5): the ring group
    # legs of the day so far and of those minutes wait, then are all counted, once.
    sim.faults.add(r"/v2/rgsum-groups$", status=503, times=None, body={"status": 503})
    exporter = build_exporter(
        load_config_data(historical_config(sim)), process_metrics=False, clock=sim_clock
    )
    get = PageReader(exporter.exposition).get_sample_value
    try:
        for _ in range(20):
            exporter.scheduler.run_once()
            sim_clock.advance(POLL)
        assert get("eightbyeight_up", {"collector": "ring_groups"}) == 0
        assert get("eightbyeight_up", {"collector": "call_legs"}) == 1
        assert (get("eightbyeight_collector_records_pending", {"collector": "call_legs"}) or 0) > 0
        sim.faults.clear()
        out = run_for(exporter, sim_clock, 3)
    finally:
        exporter.close()
    legs = group_legs(sim, day_start(sim_clock()), sim_clock())
    expected = group_calls(legs)
    assert sum(1 for leg in legs if group_of(leg).kind.value == "ring_group") > 20
    assert nonzero(family(out, "eightbyeight_group_calls_total")) == dict(expected)
    assert get("eightbyeight_collector_records_pending", {"collector": "call_legs"}) == 0


@pytest.mark.parametrize("ring_groups", [True, False])
def test_the_call_legs_start_after_the_ring_group_summarys_first_answer(
    sim: Simulator, sim_clock: FakeClock, ring_groups: bool
) -> None:
    # A ring group's legs are counted once the summary lists the group: started after its
    # first answer, the first poll counts them at once instead of reading them again later.
    config = historical_config(sim, ring_groups={"enabled": ring_groups, "interval": "1m"})
    exporter = build_exporter(load_config_data(config), process_metrics=False, clock=sim_clock)
    try:
        runners = {runner.name: runner for runner in exporter.scheduler.runners}
        waits_for = runners["ring_groups" if ring_groups else "discovery"]
        assert runners["call_legs"].depends_on is waits_for
    finally:
        exporter.close()
