"""Simulator: the queueing model's determinism, movement, consistency and bounded memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from simulator import AgentStatus, CallOutcome, QueueingModel, QueueRole, Simulator
from simulator.directory_generator import build_account
from simulator.model import demand_factor
from simulator.model_state import ELIGIBLE_STATUSES, LOGGED_OUT_OR_DND_STATUSES

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import ClockFactory, SimClient

START = 1_709_650_800.0  # Tuesday 2024-03-05 15:00 UTC


def all_states(model: QueueingModel) -> dict[str, dict[str, Any]]:
    return {queue_id: model.queue_state(queue_id) for queue_id in model.queue_ids()}


def new_model(seed: int = 42, start: float = START, **options: Any) -> QueueingModel:
    sizes = {
        key: options.pop(key)
        for key in ("pbxes", "sites_per_pbx", "queues_per_site", "agents_per_queue")
        if key in options
    }
    return QueueingModel(build_account(seed, **sizes), seed=seed, start_time=start, **options)


def test_same_seed_and_clock_give_identical_answers_over_http(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
) -> None:
    clocks = [clock_factory(), clock_factory()]
    simulators = [make_simulator(seed=5, clock=clock) for clock in clocks]
    clients = [make_client(simulator) for simulator in simulators]
    assert [p.id for p in simulators[0].directory] == [p.id for p in simulators[1].directory]
    for _step in range(4):
        for clock in clocks:
            clock.advance(17.5)
        pbx_id = simulators[0].directory[0].id
        bodies = [api.get(f"/v2/pbxes/{pbx_id}/call-queue-metrics").content for api in clients]
        assert bodies[0] == bodies[1]
        realtime = [api.get(f"/v2/call-queues/real-time/pbxes/{pbx_id}").content for api in clients]
        assert realtime[0] == realtime[1]
        pages = [
            api.get(f"/v2/pbxes/{pbx_id}/agents", {"size": 4}).json()["_embedded"]
            for api in clients
        ]
        assert pages[0] == pages[1]


def test_different_seeds_differ() -> None:
    first, second = new_model(seed=1), new_model(seed=2)
    assert first.queue_ids() != second.queue_ids()
    first_values = sorted(tuple(sorted(s.items())) for s in all_states(first).values())
    second_values = sorted(tuple(sorted(s.items())) for s in all_states(second).values())
    assert first_values != second_values


def test_state_depends_on_time_not_on_the_steps_taken() -> None:
    stepwise, jump = new_model(seed=9), new_model(seed=9)
    for second in range(1, 301):
        stepwise.advance(START + second)
    jump.advance(START + 300)
    assert all_states(stepwise) == all_states(jump)
    assert stepwise.completed_calls(START - 7200, START + 300) == jump.completed_calls(
        START - 7200, START + 300
    )


def test_advancing_to_the_same_or_an_earlier_time_is_a_no_op() -> None:
    model, twin = new_model(seed=4), new_model(seed=4)
    model.advance(START + 60)
    before = all_states(model)
    footprint = model.footprint()
    model.advance(START + 60)
    model.advance(START + 10)
    assert model.now == START + 60
    assert all_states(model) == before and model.footprint() == footprint
    model.advance(START + 120)
    twin.advance(START + 120)
    assert all_states(model) == all_states(twin)


def test_values_move_over_a_minute_of_fake_time(sim: Simulator, fake_clock: FakeClock) -> None:
    snapshots = []
    for _ in range(13):  # 0, 5, ..., 60 s
        sim.model.advance(fake_clock.now)
        snapshots.append(all_states(sim.model))
        fake_clock.advance(5)
    queue_ids = sim.model.queue_ids()
    moving = [q for q in queue_ids if len({tuple(sorted(s[q].items())) for s in snapshots}) > 1]
    assert len(moving) >= len(queue_ids) // 2
    summed = [
        sum(s[q]["ongoingTotalHandlingTime"] + s[q]["ongoingWaitingTime"] for q in queue_ids)
        for s in snapshots
    ]
    assert len(set(summed)) > 1


def test_a_fresh_simulator_already_has_live_values_and_an_hour_of_history(sim: Simulator) -> None:
    states = all_states(sim.model)
    assert sum(s["ongoingHandlingCalls"] + s["ongoingWaitingCalls"] for s in states.values()) > 0
    assert sum(s["ongoingAvailableAgents"] for s in states.values()) > 0
    assert all(s["enteredCalls"] > 0 for s in states.values() if s["ongoingTotalAgents"])
    history = sim.model.completed_calls(sim.model.now - 3600, sim.model.now)
    assert history and min(r.entered_at for r in history) < sim.model.now - 3000


def check_live_invariants(model: QueueingModel, account_queues: dict[str, Any]) -> None:
    statuses = model.agent_statuses()
    for queue_id in model.queue_ids():
        state = model.queue_state(queue_id)
        live_calls = model.live_calls(queue_id)
        waiting = [c for c in live_calls if c.answered_at is None]
        answered = [c for c in live_calls if c.answered_at is not None]
        assert all(isinstance(v, (int, float)) and v >= 0 for v in state.values())
        assert state["ongoingWaitingCalls"] == len(waiting)
        assert state["ongoingHandlingCalls"] == len(answered)
        assert state["ongoingOnHoldCalls"] == sum(c.on_hold for c in answered)
        assert state["ongoingTotalCalls"] == len(live_calls) == state["activeCalls"]
        if waiting:
            oldest = min(c.entered_at for c in waiting)
            assert state["ongoingLongestWaitingTime"] == pytest.approx(
                model.now - oldest, abs=0.001
            )
        else:
            assert state["ongoingLongestWaitingTime"] == 0
        # Agent counts recounted from the directory and the agents' statuses.
        members = account_queues[queue_id].members
        enabled = [m for m in members if m.enabled]
        count = Counter((m.role, statuses[m.agent_id]) for m in enabled)
        eligible = {
            role: sum(n for (r, s), n in count.items() if r is role and s in ELIGIBLE_STATUSES)
            for role in QueueRole
        }
        assert state["ongoingTotalAgents"] == len(members)
        assert state["ongoingOverflowAgents"] == sum(m.role is QueueRole.OVERFLOW for m in members)
        assert state["ongoingEligiblePrimaryAgents"] == eligible[QueueRole.PRIMARY]
        assert state["ongoingEligibleOverflowAgents"] == eligible[QueueRole.OVERFLOW]
        # Available and not rung by a call (of any queue or ring group) at this instant.
        rung = {
            m.agent.agent.id
            for m in model.runtime_queue(queue_id).members
            if m.agent.reserved_for is not None
        }
        assert state["ongoingAvailableAgents"] == sum(
            1
            for m in enabled
            if statuses[m.agent_id] is AgentStatus.AVAILABLE and m.agent_id not in rung
        )
        assert state["ongoingAvailableAgents"] <= state["ongoingEligibleAgents"]
        assert state["ongoingWrappingUpAgents"] == sum(
            n for (_, s), n in count.items() if s is AgentStatus.WRAP_UP
        )
        assert state["ongoingLoggedOutAndDndAgents"] == sum(
            n for (_, s), n in count.items() if s in LOGGED_OUT_OR_DND_STATUSES
        )
        # Busy agents of this queue's calls are really busy, ringing agents are available.
        for call in answered:
            assert call.agent_id is not None and statuses[call.agent_id] is AgentStatus.BUSY
        for call in waiting:
            if call.ringing_agent_id is not None:
                assert statuses[call.ringing_agent_id] is AgentStatus.AVAILABLE
        # Every call that entered in the last 24 h is accounted for exactly once.
        assert state["enteredCalls"] == (
            state["acceptedCalls"]
            + state["abandonedInWaitingCalls"]
            + state["forwardedToVoiceMail"]
            + state["transferredToCallQueue"]
            + state["transferredToRingGroup"]
            + state["transferredToExternalNumber"]
            + state["ongoingWaitingCalls"]
        )
        assert state["enteredCalls"] == state["completedCalls"] + state["activeCalls"]
        assert state["missedCalls"] + state["acceptedCalls"] <= state["enteredCalls"]


def test_consistency_invariants_over_many_steps() -> None:
    account = build_account(21)
    model = QueueingModel(account, seed=21, start_time=START)
    queues = {q.id: q for q in account.active_queues()}
    busy_agents_seen = 0
    for step in range(1, 121):  # an hour in 30 s steps
        model.advance(START + 30 * step)
        check_live_invariants(model, queues)
        busy_agents_seen += sum(s is AgentStatus.BUSY for s in model.agent_statuses().values())
    assert busy_agents_seen > 0


def test_call_records_are_coherent() -> None:
    model = new_model(seed=8, history_seconds=4 * 3600)
    records = model.completed_calls(START - 4 * 3600, START)
    assert len(records) > 100
    outcomes = Counter(r.outcome for r in records)
    assert outcomes[CallOutcome.ANSWERED] > outcomes[CallOutcome.ABANDONED] > 0
    for record in records:
        assert record.entered_at <= record.left_queue_at <= record.ended_at
        if record.outcome is CallOutcome.ANSWERED:
            assert record.agent_id == record.offered_agent_ids[-1]
            assert record.ring_started_at is not None and record.answered_at is not None
            assert (
                record.entered_at
                <= record.ring_started_at
                <= record.answered_at
                == record.left_queue_at
            )
            assert record.ended_at == pytest.approx(
                record.answered_at + record.talk_seconds + record.hold_seconds
            )
            assert (
                record.talk_seconds > 0 and record.hold_seconds >= 0 and record.wrap_up_seconds > 0
            )
        else:
            assert (
                record.agent_id is None
                and record.talk_seconds == 0
                and record.ended_at == record.left_queue_at
            )
        if record.diverted:
            assert not record.offered_agent_ids and record.outcome is not CallOutcome.ABANDONED
        if record.outcome is CallOutcome.TRANSFERRED_TO_CALL_QUEUE:
            assert record.transfer_target_queue_id in model.queue_ids()
    assert [r.ended_at for r in records] == sorted(r.ended_at for r in records)


def test_daily_rhythm() -> None:
    assert demand_factor(START, 0) > 5 * demand_factor(START, 12)  # 15:00 versus 03:00 local
    saturday = START + 4 * 86_400
    assert demand_factor(saturday, 0) < demand_factor(START, 0)
    model = new_model(seed=13, pbxes=1, sites_per_pbx=1, queues_per_site=3, history_seconds=86_400)
    site_offset = model.account.pbxes[0].sites[0].utc_offset_hours
    peak_start = START - ((START / 3600 + site_offset - 10) % 24) * 3600  # last 10:00 local
    night_start = peak_start - 7 * 3600  # 03:00 local the same day
    ids = model.queue_ids()
    peak = sum(model.window_stats(q, peak_start, peak_start + 3600).entered for q in ids)
    night = sum(model.window_stats(q, night_start, night_start + 3600).entered for q in ids)
    assert peak > 3 * max(night, 1)


def test_history_memory_is_bounded() -> None:
    model = new_model(
        seed=3,
        pbxes=1,
        sites_per_pbx=1,
        queues_per_site=2,
        agents_per_queue=3,
        history_seconds=0,
        history_retention_seconds=2 * 3600,
    )
    queue_count = len(model.queue_ids())
    produced = 0
    for hour in range(1, 37):
        model.advance(START + hour * 3600)
        produced += len(model.completed_calls(model.now - 3600, model.now))
        footprint = model.footprint()
        # Only the retention window is reachable, and pruned records are compacted away
        # (lazily: at most max(256, live) dead entries per queue).
        assert footprint["records"] <= len(
            model.completed_calls(model.now - 2 * 3600 - 1, model.now + 1)
        )
        assert footprint["stored_records"] <= 2 * footprint["records"] + 256 * queue_count
        assert footprint["events"] < 200  # a handful per agent, queue and live call
        # Legs and whole calls are pruned the same way.
        assert footprint["legs"] == len(model.call_legs(0, model.now + 1))
        assert footprint["finished_calls"] == len(model.finished_calls(0, model.now + 1))
        assert len(model.book.legs) <= 2 * footprint["legs"] + 1024
    retained = model.completed_calls(START, model.now)
    assert retained and min(r.ended_at for r in retained) >= model.now - 2 * 3600
    assert (
        min(call.ended_ms for call in model.finished_calls(0, model.now + 1))
        >= (model.now - 2 * 3600) * 1000
    )
    assert model.footprint()["stored_records"] < produced  # compaction did happen


def test_unknown_or_deleted_queue_has_no_state(sim: Simulator) -> None:
    deleted = next(q for site in sim.directory[0].sites for q in site.queues if q.deleted)
    with pytest.raises(KeyError):
        sim.model.queue_state(deleted.id)
    with pytest.raises(KeyError):
        sim.model.queue_state("no-such-queue")
