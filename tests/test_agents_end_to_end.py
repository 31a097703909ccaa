"""Work Analytics agents and live calls end to end: the exporter against the simulator's queueing
model, on a fake clock so every poller reads the model at the same instant.

- At one instant, per queue, the agents by queue status add up to the Call Queue Metric API's
  agents, and agree with its available, wrapping-up and handling figures; the calls in progress
  by status agree with its waiting, talking and on-hold calls.
- An agent logging out, pausing, taking a call and wrapping up is seen on /metrics in that
  order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from simulator import Simulator
from simulator.model_state import AgentStatus
from tests.support.clock import FakeClock
from tests.support.end_to_end import BUSINESS_HOURS, config_for, running_simulator
from tests.support.page import PageReader

pytestmark = pytest.mark.e2e

QueueValues = dict[str, dict[str, float]]  # queue_id -> status (or "") -> value


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(BUSINESS_HOURS)


@pytest.fixture
def sim(sim_clock: FakeClock) -> Iterator[Simulator]:
    with running_simulator(sim_clock) as simulator:
        yield simulator


@pytest.fixture
def exporter(sim: Simulator) -> Iterator[Exporter]:
    data = config_for(sim)
    section = data["work_analytics"]
    section["request_budget_per_minute"] = 1_000_000  # many polls within one real minute
    section["queue_agents"] = {"per_agent": True}
    section["agent_activity"] = {"per_agent": True}
    built = build_exporter(load_config_data(data), process_metrics=False)
    try:
        yield built
    finally:
        built.close()


def by_queue(text: str, metric: str, status_label: str | None = None) -> QueueValues:
    values: QueueValues = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric:
                status = sample.labels.get(status_label, "") if status_label else ""
                values[sample.labels["queue_id"]][status] = sample.value
    return values


def test_agents_and_calls_agree_with_the_call_queue_metrics_at_one_instant(
    exporter: Exporter, sim_clock: FakeClock
) -> None:
    seen: dict[str, float] = defaultdict(float)
    for _ in range(6):
        assert exporter.scheduler.run_once()
        text = PageReader(exporter.exposition).text()
        agents = by_queue(text, "eightbyeight_queue_agents_by_queue_status", "queue_status")
        calls = by_queue(text, "eightbyeight_queue_live_calls", "status")
        cq = {
            name: by_queue(text, f"eightbyeight_queue_{name}")
            for name in (
                "agents",
                "available_agents",
                "wrapping_up_agents",
                "ongoing_handling_calls",
                "ongoing_waiting_calls",
                "ongoing_talking_calls",
                "ongoing_on_hold_calls",
            )
        }
        assert agents and set(agents) == set(cq["agents"]) == set(calls)
        for queue, statuses in agents.items():
            figures = {name: values[queue][""] for name, values in cq.items()}

            def of(name: str, figures: dict[str, float] = figures) -> float:
                return figures[name]

            assert sum(statuses.values()) == of("agents"), queue
            assert statuses["available_idle"] == of("available_agents"), queue
            assert statuses["wrap_up"] == of("wrapping_up_agents"), queue
            assert statuses["handling"] == of("ongoing_handling_calls"), queue
            live = calls[queue]
            # The Call Queue Metric API counts a caller being rung as waiting.
            assert live["waiting"] + live["alerting"] == of("ongoing_waiting_calls"), queue
            assert live["talking"] == of("ongoing_talking_calls"), queue
            assert live["on_hold"] == of("ongoing_on_hold_calls"), queue
            for status, value in (*statuses.items(), *live.items()):
                seen[status] += value
        sim_clock.advance(97.0)
    # Not vacuous: the instants had agents handling and wrapping up, and callers waiting.
    assert seen["handling"] and seen["wrap_up"] and seen["waiting"] and seen["talking"]


def agent_statuses(text: str, agent_id: str) -> dict[str, str]:
    """queue_id -> the agent's current queue status, from the state set."""
    current: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "eightbyeight_queue_agent_status"
                and labels["agent_id"] == agent_id
                and sample.value == 1.0
            ):
                current[labels["queue_id"]] = labels["queue_status"]
    return current


def members(sim: Simulator) -> dict[str, list[str]]:
    """queue id -> its enabled agents' ids (a disabled member is logged out of the queue
    whatever it does), from the simulator's directory."""
    state: dict[str, list[str]] = {}
    for pbx in sim.directory:
        for site in pbx.sites:
            for queue in site.queues:
                state[queue.id] = [m.agent_id for m in queue.members if m.enabled]
    return state


def busiest_queue(sim: Simulator, now: float) -> str:
    """The queue with the most calls waiting now (its next free agent gets one soonest)."""
    model = sim.model
    with model.lock:
        model.advance(now)
        waiting = {q: model.queue_state(q)["ongoingWaitingCalls"] for q in model.queue_ids()}
    return max(waiting, key=lambda q: (waiting[q], q))


def test_an_agent_logging_out_pausing_and_taking_a_call_is_seen_in_order(
    sim: Simulator, sim_clock: FakeClock
) -> None:
    queue_id = busiest_queue(sim, sim_clock())
    data = config_for(sim)
    section = data["work_analytics"]
    section["request_budget_per_minute"] = 1_000_000  # many polls within one real minute
    for name in ("call_queues", "company_summary", "ring_groups", "extensions"):
        section[name] = {"enabled": False}
    for name in ("call_records", "call_legs", "agent_activity", "live_calls"):
        section[name] = {"enabled": False}
    # One queue and one metric: each look renders a few dozen series, not thousands.
    section["queue_agents"] = {
        "per_agent": True,
        "queues": [queue_id],
        "metrics": ["queueStatusTime"],
    }
    exporter = build_exporter(load_config_data(data), process_metrics=False)
    try:
        assert exporter.scheduler.run_once()  # the directory, and a first look
        (runner,) = [r for r in exporter.scheduler.runners if r.name == "queue_agents"]
        queue_members = members(sim)[queue_id]
        statuses = sim.model.agent_statuses()
        idle = {AgentStatus.AVAILABLE, AgentStatus.AWAY, AgentStatus.DND, AgentStatus.LOGGED_OUT}
        agent = next(a for a in queue_members if statuses[a] in idle)
        path: list[str] = []

        def look() -> None:
            runner.run_once()
            status = agent_statuses(PageReader(exporter.exposition).text(), agent).get(queue_id)
            if status is not None and (not path or path[-1] != status):
                path.append(status)

        sim.model.set_presence(agent, AgentStatus.LOGGED_OUT, sim_clock())
        look()
        sim.model.set_presence(agent, AgentStatus.AWAY, sim_clock())
        look()
        # The others of the queue step away, so its next caller rings this agent.
        for other in queue_members:
            if other != agent:
                try:
                    sim.model.set_presence(other, AgentStatus.AWAY, sim_clock())
                except ValueError:
                    pass  # on a call: it stays busy meanwhile
        sim.model.set_presence(agent, AgentStatus.AVAILABLE, sim_clock())
        look()
        # Steps of 2 s: a wrap-up lasts 3 s at least, a call far longer.
        for _ in range(1800):  # an hour of simulated time at most
            if "wrap_up" in path[path.index("handling") :] if "handling" in path else False:
                break
            sim_clock.advance(2.0)
            look()
    finally:
        exporter.close()
    wanted = ["logged_out", "pause", "handling", "wrap_up"]
    positions = [path.index(status) for status in wanted if status in path]
    assert len(positions) == len(wanted) and positions == sorted(positions), path
    assert path[:2] == ["logged_out", "pause"], path


def test_the_simulator_admin_sets_an_agents_presence(sim: Simulator) -> None:
    agent = next(iter(sim.model.agent_statuses()))
    url = f"{sim.root_url}/_sim/agents/{agent}/presence"
    with requests.Session() as http:
        http.trust_env = False
        answer: Any = http.post(url, json={"status": "Logged out"}, timeout=5)
        assert answer.status_code in (200, 409), answer.text  # 409: it was on a call
        if answer.status_code == 200:
            assert sim.model.agent_statuses()[agent] is AgentStatus.LOGGED_OUT
        assert http.post(url, json={"status": "Busy"}, timeout=5).status_code == 400
        assert http.post(url, json={"status": "nope"}, timeout=5).status_code == 400
        missing = f"{sim.root_url}/_sim/agents/nobody/presence"
        assert http.post(missing, json={"status": "Away"}, timeout=5).status_code == 404
