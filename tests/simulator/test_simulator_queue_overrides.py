"""Simulator: an administrator's hold on a Work Analytics queue, in Python and through /_sim: its
agents taken out (`set_members_enabled`) and its callers' rate fixed (`set_arrival_rate`)."""

from __future__ import annotations

from typing import Any

import requests

from simulator import Simulator
from tests.support.clock import FakeClock


def busiest(sim: Simulator) -> str:
    """The queue with the most enabled members (a queue of the directory with traffic)."""
    model = sim.model
    with model.lock:
        return max(
            model.queue_ids(),
            key=lambda q: (sum(m.enabled for m in model.runtime_queue(q).members), q),
        )


def state_at(sim: Simulator, queue_id: str, now: float) -> dict[str, Any]:
    with sim.model.lock:
        sim.model.advance(now)
        return dict(sim.model.queue_state(queue_id))


def test_a_surge_with_every_agent_taken_out_leaves_callers_waiting_for_nobody(
    sim: Simulator, fake_clock: FakeClock
) -> None:
    model, queue_id = sim.model, busiest(sim)
    model.set_arrival_rate(queue_id, 3600, fake_clock())
    fake_clock.advance(60)
    state = state_at(sim, queue_id, fake_clock())
    # One caller a second for a minute: the six members are busy and callers queue.
    assert state["ongoingWaitingCalls"] >= 3, state
    model.set_members_enabled(queue_id, False, fake_clock())
    fake_clock.advance(10)
    state = state_at(sim, queue_id, fake_clock())
    assert state["ongoingWaitingCalls"] >= 3
    enabled = state["ongoingEnabledPrimaryAgents"] + state["ongoingEnabledOverflowAgents"]
    assert state["ongoingAvailableAgents"] == 0 and enabled == 0, state
    diverted_before = state["diverted"]
    fake_clock.advance(30)
    # Nobody is logged in: new callers are diverted, those queued wait on.
    assert state_at(sim, queue_id, fake_clock())["diverted"] > diverted_before
    model.set_members_enabled(queue_id, None, fake_clock())
    with model.lock:
        listed = [m.enabled for m in model.runtime_queue(queue_id).queue.members]
        assert [m.enabled for m in model.runtime_queue(queue_id).members] == listed


def test_the_admin_endpoints_take_agents_out_and_set_the_rate(
    sim: Simulator, fake_clock: FakeClock
) -> None:
    queue_id = busiest(sim)
    base = f"{sim.root_url}/_sim/queues"
    with requests.Session() as http:
        http.trust_env = False

        def post(path: str, body: Any) -> requests.Response:
            return http.post(f"{base}/{path}", json=body, timeout=5)

        assert post(f"{queue_id}/members", {"enabled": False}).status_code == 200
        with sim.model.lock:
            assert not any(m.enabled for m in sim.model.runtime_queue(queue_id).members)
        assert post(f"{queue_id}/members", {"enabled": None}).status_code == 200
        with sim.model.lock:
            assert any(m.enabled for m in sim.model.runtime_queue(queue_id).members)
        assert post(f"{queue_id}/arrivals", {"per_hour": 7200}).status_code == 200
        with sim.model.lock:
            assert sim.model.runtime_queue(queue_id).arrivals_per_hour == 7200
        assert post(f"{queue_id}/arrivals", {"per_hour": None}).status_code == 200
        with sim.model.lock:
            assert sim.model.runtime_queue(queue_id).arrivals_per_hour is None
        assert post(f"{queue_id}/members", {"enabled": "no"}).status_code == 400
        assert post(f"{queue_id}/arrivals", {"per_hour": -1}).status_code == 400
        assert post(f"{queue_id}/arrivals", {"per_hour": True}).status_code == 400
        assert post("nope/members", {"enabled": False}).status_code == 404
        assert post("nope/arrivals", {"per_hour": 1}).status_code == 404
