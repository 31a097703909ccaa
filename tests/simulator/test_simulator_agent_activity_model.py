"""Simulator: queue-agent-activity agrees with call-queue-metrics at one instant of the model
(issue #18's contract, point 6), and follows an agent through a call as the clock moves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator import Simulator

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import SimClient

# queueStatus -> the userStatus it goes with (ALERTING: still AVAILABLE, as in the example).
USER_STATUS_OF = {
    "HANDLING": {"ON_CALL"},
    "ALERTING": {"AVAILABLE"},
    "AVAILABLE_IDLE": {"AVAILABLE"},
    "WRAP_UP": {"BUSY"},
    "BUSY_OTHER": {"ON_CALL", "AVAILABLE"},  # on another call, or rung by another one
    "PAUSE": {"AWAY", "AUTO_AWAY", "INVISIBLE"},
    "DND": {"DND"},
    "LOGGED_OUT": {"OFFLINE", "AVAILABLE", "BUSY", "ON_CALL", "AWAY", "AUTO_AWAY", "DND"}
    | {"INVISIBLE"},  # a disabled membership: whatever the agent does
}


def check_instant(client: SimClient, sim: Simulator, seen: Counter[str]) -> None:
    """Every queue of the account at the simulator's current (stopped) clock."""
    for pbx in sim.directory:
        per_queue = client.get_json(f"/v2/pbxes/{pbx.id}/queue-agent-activity")
        metrics = client.get_json(f"/v2/pbxes/{pbx.id}/call-queue-metrics")["callQueues"]
        queues = {q["id"]: q["metrics"] for q in metrics}
        assert [q["queueId"] for q in per_queue["queuesAgentActivity"]] == list(queues)
        for queue in per_queue["queuesAgentActivity"]:
            m = queues[queue["queueId"]]
            agents = queue["queueAgentActivity"]
            by_status = Counter(a["queueStatus"] for a in agents)
            seen.update(by_status)
            assert len(agents) == m["ongoingTotalAgents"]
            assert sum(a["overflowAgent"] for a in agents) == m["ongoingOverflowAgents"]
            assert by_status["AVAILABLE_IDLE"] == m["ongoingAvailableAgents"]
            assert by_status["WRAP_UP"] == m["ongoingWrappingUpAgents"]
            assert by_status["HANDLING"] == m["ongoingHandlingCalls"]
            live = sim.model.live_calls(queue["queueId"])
            ringing = {c.ringing_agent_id for c in live if c.ringing_agent_id is not None}
            assert {a["userId"] for a in agents if a["queueStatus"] == "ALERTING"} == ringing
            handling = {c.agent_id for c in live if c.agent_id is not None}
            assert {a["userId"] for a in agents if a["queueStatus"] == "HANDLING"} == handling
            for agent in agents:
                assert agent["userStatus"] in USER_STATUS_OF[agent["queueStatus"]]
                assert agent["metrics"]["queueStatusTime"] >= 0
            summary = queue["metricsSummary"]
            # The members' interactions are the queue's calls: every accepted call once.
            assert summary["acceptedInteractions"] == m["acceptedCalls"]
            assert summary["ongoingHandlingInteractions"] == m["ongoingHandlingCalls"]
            assert summary["ongoingOnHoldInteractions"] == m["ongoingOnHoldCalls"]
            assert summary["enteredInteractions"] >= (
                summary["acceptedInteractions"] + summary["missedInteractions"]
            )


def test_queue_agent_activity_agrees_with_call_queue_metrics(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    fake_clock: FakeClock,
) -> None:
    sim = make_simulator(seed=7, history_seconds=4 * 3600)
    client = make_client(sim)
    seen: Counter[str] = Counter()
    for _ in range(12):
        check_instant(client, sim, seen)
        fake_clock.advance(97.0)
    # The checks above met every status that takes part in them.
    for status in ("AVAILABLE_IDLE", "HANDLING", "ALERTING", "WRAP_UP", "LOGGED_OUT", "PAUSE"):
        assert seen[status], (status, seen)


def test_same_seed_same_clock_same_answer(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
) -> None:
    first, second = make_simulator(seed=5), make_simulator(seed=5)
    pbx_id = first.directory[0].id
    for path in ("queue-agent-activity", "agent-activity"):
        bodies = [
            make_client(sim).get(f"/v2/pbxes/{pbx_id}/{path}").content for sim in (first, second)
        ]
        assert bodies[0] == bodies[1]


WANTED = ["ALERTING", "HANDLING", "WRAP_UP", "AVAILABLE_IDLE"]
USER_STATUS_ON_THE_WAY = {
    "ALERTING": "AVAILABLE",
    "HANDLING": "ON_CALL",
    "WRAP_UP": "BUSY",
    "AVAILABLE_IDLE": "AVAILABLE",
}


def test_an_agent_goes_through_a_call_in_order(
    sim: Simulator, client: SimClient, fake_clock: FakeClock
) -> None:
    """Move the clock in steps shorter than any ring or wrap-up (>= 1.5 s, >= 3 s): an agent
    seen ALERTING in a queue then shows HANDLING, WRAP_UP, AVAILABLE_IDLE there, in that order
    (a missed ring, a break after the call or the next ring at once start the watch again)."""
    pbx_id = sim.directory[0].id
    url = f"/v2/pbxes/{pbx_id}/queue-agent-activity"
    watched: dict[str, Any] | None = None  # queueIds, userIds
    path: list[str] = []
    step = 1.0
    for _ in range(6000):  # at most ~2 simulated hours
        if watched is None:
            found = client.get_json(url, {"queueStatuses": "ALERTING", "includeSummary": "false"})
            alerting = [
                (q["queueId"], a["userId"])
                for q in found["queuesAgentActivity"]
                for a in q["queueAgentActivity"]
            ]
            if alerting:
                watched = {"queueIds": alerting[0][0], "userIds": alerting[0][1]}
                path = []
        if watched is not None:
            body = client.get_json(url, {**watched, "includeSummary": "false"})
            (agent,) = body["queuesAgentActivity"][0]["queueAgentActivity"]
            status = agent["queueStatus"]
            if not path or path[-1] != status:
                # Entered since the previous look: its time is at most one step.
                assert agent["metrics"]["queueStatusTime"] <= step * 1000
                path.append(status)
            if path != WANTED[: len(path)]:
                path = ["ALERTING"] if status == "ALERTING" else []
                watched = watched if path else None
            if path:
                assert agent["userStatus"] == USER_STATUS_ON_THE_WAY[status]
            if path == WANTED:
                return
        step = 5.0 if path and path[-1] == "HANDLING" else 1.0
        fake_clock.advance(step)
    raise AssertionError(f"no agent went through {WANTED} (last path: {path})")
