"""An administrator's hold on a Work Analytics queue of a running simulator, through its admin
API (callers at a constant rate, every agent taken out or put back), and the simulator's truth
about the queue meanwhile."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from simulator import Simulator
from simulator.stats import LiveQueueStats


def sim_admin(sim: Simulator, path: str, body: dict[str, Any]) -> None:
    """A POST to the simulator's admin API, `/_sim/<path>`, that must succeed."""
    request = urllib.request.Request(
        f"{sim.root_url}/_sim/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, path


def set_arrivals(sim: Simulator, queue_id: str, per_hour: float | None) -> None:
    """Callers at `per_hour` from now on (0: none; None: the queue's daily rhythm again)."""
    sim_admin(sim, f"queues/{queue_id}/arrivals", {"per_hour": per_hour})


def set_members(sim: Simulator, queue_id: str, enabled: bool | None) -> None:
    """Every agent out of the queue (False), all in (True), or the directory's members (None)."""
    sim_admin(sim, f"queues/{queue_id}/members", {"enabled": enabled})


def queue_now(sim: Simulator, queue_id: str) -> LiveQueueStats:
    """The simulator's truth about one queue now."""
    with sim.model.lock:
        sim.model.advance(sim.clock())
        return sim.model.live_stats(queue_id)


def logged_in(stats: LiveQueueStats) -> int:
    """Members logged in to the queue (Available, Busy, Away or Appear offline)."""
    return stats.eligible_primary_agents + stats.eligible_overflow_agents


def callers_on_hold(sim: Simulator, queue_id: str) -> int:
    """Callers of the queue waiting with no agent rung for them: a caller being rung is
    counted as waiting too, but may be answered by the agent rung even after every agent was
    taken out of the queue (a call under way goes on)."""
    with sim.model.lock:
        sim.model.advance(sim.clock())
        waiting = sim.model.runtime_queue(queue_id).waiting
        return sum(1 for caller in waiting if caller.ringing_agent is None)
