"""The exporter's config for a running simulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from simulator import Simulator
from tests.support.clock import FakeClock

# Tuesday 2025-11-18 17:00 UTC: business hours at the simulated sites, so callers wait and
# calls are in progress (the model is seeded, so the same ones on every run).
BUSINESS_HOURS = 1_763_485_200.0


@contextmanager
def running_simulator(clock: FakeClock, seed: int = 7) -> Iterator[Simulator]:
    """The default account on `clock`, served on a free loopback port, stopped afterwards."""
    simulator = Simulator(seed=seed, host="127.0.0.1", port=0, clock=clock).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def config_for(sim: Simulator, **call_queues: Any) -> dict[str, Any]:
    """Work Analytics against the simulator, with the given call_queues section and short
    backoffs."""
    return {
        "work_analytics": {
            "base_url": sim.base_url,
            "api_key": sim.api_key,
            "username": sim.username,
            "password": sim.password,
            "call_queues": call_queues,
            "retries": {"initial_backoff": "10ms", "max_backoff": "50ms"},
        }
    }
