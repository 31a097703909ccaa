"""Simulator: call history before the start, the journeys and legs of the model's ground truth,
ring groups and extensions, and local windows across daylight saving time changes."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from simulator import QueueingModel, Simulator
from simulator.__main__ import duration
from simulator.calls import CallLeg, Disposition, GroupKind, LegKind
from simulator.directory_generator import build_account
from simulator.historical_params import InvalidParameter, local_epoch
from simulator.model import SIMULATED_HISTORY_SECONDS

if TYPE_CHECKING:
    from tests.support.simulator import ClockFactory, SimClient

START = 1_709_650_800.0  # Tuesday 2024-03-05 15:00 UTC
NEW_YORK = ZoneInfo("America/New_York")
COMPSUM = "/v1/compsum"


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def model() -> QueueingModel:
    """Four hours of history: two synthesized, then two simulated event by event."""
    return QueueingModel(build_account(8), seed=8, start_time=START, history_seconds=4 * 3600)


def test_history_is_there_from_the_first_request(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
    window: Callable[..., dict[str, str]],
) -> None:
    clock = clock_factory(utc("2024-03-05T03:00:00"))  # a Tuesday, early
    api = make_client(make_simulator(seed=42, clock=clock, history_seconds=28 * 3600))

    def calls(start: str) -> int:
        return sum(row["totalCall"] for row in api.get_json(COMPSUM, window(utc(start), clock.now)))

    last_hour, today, this_week = (
        calls("2024-03-05T02:00:00"),
        calls("2024-03-05T00:00:00"),
        calls("2024-03-04T00:00:00"),
    )
    assert 0 < last_hour < today < this_week


def test_journeys_and_legs_are_coherent(model: QueueingModel) -> None:
    calls = model.finished_calls(START - 4 * 3600, START)
    assert len(calls) > 500
    keys = [(leg.call_id, leg.leg_id) for leg in model.call_legs(START - 5 * 3600, START)]
    assert len(set(keys)) == len(keys)
    members: dict[str, set[str]] = {ref.id: set() for ref in model.group_refs()}
    for queue in model.account.active_queues():
        members[queue.id] = {m.agent_id for m in queue.members}
    for group in model.account.active_ring_groups():
        members[group.id] = set(group.member_ids)
    for call in calls:
        tops = call.top_legs
        assert [leg.leg_id for leg in tops] == [str(n) for n in range(1, len(tops) + 1)]
        assert all(leg.call_id == call.call_id for leg in tops)
        assert tops[0].started_ms == call.started_ms and tops[-1].disconnected_ms == call.ended_ms
        assert all(
            after.started_ms == before.disconnected_ms for before, after in itertools.pairwise(tops)
        )
        assert call.wait_ms == sum(leg.wait_ms for leg in tops) >= 0
        assert call.call_ms == call.wait_ms + call.talk_ms + call.hold_ms
        assert call.outcome == tops[-1].outcome and call.group == tops[0].group
        for top in tops:
            for child in top.children:
                assert (
                    child.kind is LegKind.MEMBER
                    and child.parent_call_id == call.call_id
                    and child in call.legs
                )
                assert (
                    top.started_ms
                    <= child.started_ms
                    <= child.disconnected_ms
                    <= top.disconnected_ms
                )
                assert (
                    top.group is not None
                    and child.agent is not None
                    and child.agent.id in members[top.group.id]
                )
            answering = [c for c in top.children if c.disposition is Disposition.ANSWERED]
            if top.disposition is Disposition.ANSWERED and top.kind is not LegKind.OUTBOUND:
                assert len(answering) == 1 and answering[0].agent == top.agent == call.agent
                assert (answering[0].connected_ms, answering[0].disconnected_ms) == (
                    top.connected_ms,
                    top.disconnected_ms,
                )
            else:
                assert not answering
        if call.direction == "Outgoing":
            assert (
                call.group is None
                and len(call.legs) == 1
                and call.outcome in ("answered", "abandoned")
            )
        else:
            assert call.group is not None and call.outcome in (
                "answered",
                "voicemail",
                "abandoned",
                "missed",
            )


def test_an_agent_takes_one_call_at_a_time(model: QueueingModel) -> None:
    """Queues, ring groups and outbound calls share one population of agents (in the part of
    the history simulated event by event: the synthesized part does not track agents)."""
    simulated_from = int((START - SIMULATED_HISTORY_SECONDS) * 1000)
    busy: defaultdict[str, list[CallLeg]] = defaultdict(list)
    for leg in model.call_legs(START - SIMULATED_HISTORY_SECONDS, START):
        if (
            leg.agent is not None
            and leg.kind in (LegKind.MEMBER, LegKind.OUTBOUND)
            and leg.started_ms >= simulated_from
        ):
            busy[leg.agent.id].append(leg)
    kinds = set()
    for legs in busy.values():
        legs.sort(key=lambda leg: leg.started_ms)
        for before, after in itertools.pairwise(legs):
            assert after.started_ms >= before.disconnected_ms, (before, after)
        kinds |= {(leg.kind, leg.group.kind if leg.group else None) for leg in legs}
    assert kinds >= {
        (LegKind.OUTBOUND, None),
        (LegKind.MEMBER, GroupKind.QUEUE),
        (LegKind.MEMBER, GroupKind.RING_GROUP),
    }


def test_history_is_deterministic_and_follows_the_seed() -> None:
    def build(seed: int) -> list[Any]:
        return QueueingModel(
            build_account(seed), seed=seed, start_time=START, history_seconds=3 * 3600
        ).finished_calls(0, START)

    first = build(5)
    assert first == build(5)
    assert first != build(6)
    by_start = sorted(first, key=lambda call: call.started_ms)
    assert [int(call.call_id) for call in by_start] == sorted(
        int(call.call_id) for call in first
    )  # ids follow time


def test_history_parameters() -> None:
    account = build_account(3)
    with pytest.raises(ValueError):
        QueueingModel(account, seed=3, start_time=START, history_seconds=-1)
    with pytest.raises(ValueError):  # the kept history must hold the generated one and a margin
        QueueingModel(
            account,
            seed=3,
            start_time=START,
            history_seconds=3 * 86_400,
            history_retention_seconds=3 * 86_400,
        )
    model = QueueingModel(account, seed=3, start_time=START, history_seconds=5 * 86_400 / 24)
    assert model.history_retention_seconds == 2 * 86_400
    assert (duration("3600"), duration("90m"), duration("2h"), duration("8d")) == (
        3600,
        5400,
        7200,
        8 * 86_400,
    )


def test_ring_groups_and_extensions(model: QueueingModel) -> None:
    account = model.account
    groups = model.ring_groups()
    for pbx in account.pbxes:
        extensions = [q.extension for site in pbx.sites for q in site.queues] + [
            a.extension for a in pbx.agents
        ]
        extensions += [g.extension for g in groups if g.pbx == pbx.name]
        assert len(extensions) == len(set(extensions))  # one dial plan per PBX
        for site in pbx.sites:
            count = sum(1 for g in groups if g.pbx == pbx.name and g.site == site.name)
            assert count == 0 if site.deleted else 1 <= count <= 2
    agents = {a.id: a for a in account.all_agents()}
    for group in account.active_ring_groups():
        assert 3 <= len(group.member_ids) <= 5
        assert all(
            agents[agent_id].site_id == group.site_id and not agents[agent_id].deleted
            for agent_id in group.member_ids
        )
    active = [a for a in account.all_agents() if not a.deleted]
    assert [e.extension for e in model.extensions()] == [a.extension for a in active]
    assert all(
        e.department and e.branch and "@" in e.email and e.username and e.service_type == "UE"
        for e in model.extensions()
    )


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2025-11-02 00:00:00", "2025-11-02T04:00:00"),
        ("2025-11-02 01:30:00", "2025-11-02T05:30:00"),  # ambiguous: the first (daylight time) one
        ("2025-11-02 02:00:00", "2025-11-02T07:00:00"),
        ("2025-11-03 00:00:00", "2025-11-03T05:00:00"),
        ("2025-03-09 01:59:59", "2025-03-09T06:59:59"),
        ("2025-03-09 02:30:00", "2025-03-09T07:30:00"),  # does not exist: shifted forward to 03:30
        ("2025-03-09 03:00:00", "2025-03-09T07:00:00"),
    ],
)
def test_local_times_across_daylight_saving_changes(local: str, expected: str) -> None:
    assert local_epoch(local, NEW_YORK, "startTime") == utc(expected)


def test_malformed_local_times_are_refused() -> None:
    for text in ("2025-11-02", "2025-11-02T00:00:00", "2025-02-30 00:00:00", "2025-11-02 24:00:00"):
        with pytest.raises(InvalidParameter):
            local_epoch(text, NEW_YORK, "startTime")


@pytest.mark.parametrize(
    ("now", "day", "hours", "edge"),
    [
        (
            "2025-11-03T06:00:00",
            "2025-11-02",
            25,
            ("2025-11-02 01:00:00", "2025-11-02 02:00:00", 2 * 3600),
        ),
        (
            "2025-03-10T05:00:00",
            "2025-03-09",
            23,
            ("2025-03-09 02:30:00", "2025-03-09 04:00:00", 1800),
        ),
    ],
)
def test_windows_in_new_york_time_across_daylight_saving_changes(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
    now: str,
    day: str,
    hours: int,
    edge: tuple[str, str, int],
) -> None:
    clock = clock_factory(utc(now))
    simulator = make_simulator(seed=7, clock=clock, history_seconds=27 * 3600)
    api = make_client(simulator)

    def ask(start: str, end: str) -> tuple[int, dict[str, Any]]:
        params = {
            "pbxId": "allpbxes",
            "startTime": start,
            "endTime": end,
            "timeZone": "America/New_York",
        }
        total = sum(row["totalCall"] for row in api.get_json(COMPSUM, params))
        return total, api.get_json("/v2/call-records", {**params, "pageSize": 1000})

    next_day = datetime.fromisoformat(day).replace(day=int(day[-2:]) + 1).strftime("%Y-%m-%d")
    start, end = (
        local_epoch(f"{day} 00:00:00", NEW_YORK, "x"),
        local_epoch(f"{next_day} 00:00:00", NEW_YORK, "x"),
    )
    assert end - start == hours * 3600
    total, records = ask(f"{day} 00:00:00", f"{next_day} 00:00:00")
    assert (
        total
        == len(simulator.model.finished_calls(start, end))
        == records["meta"]["totalRecordCount"]
        > 1000
    )
    offsets = {
        record["disconnectedTime"][-5:] for record in records["data"]
    }  # the first 1000, from midnight
    assert offsets == {"-0400", "-0500"}  # both sides of the change (at 02:00), in local time
    edge_start, edge_end, seconds = edge
    first = local_epoch(edge_start, NEW_YORK, "x")
    assert local_epoch(edge_end, NEW_YORK, "x") - first == seconds
    assert ask(edge_start, edge_end)[0] == len(
        simulator.model.finished_calls(first, first + seconds)
    )
