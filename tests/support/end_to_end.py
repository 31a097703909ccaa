"""The exporter's config for a running simulator."""

from __future__ import annotations

from typing import Any

from simulator import Simulator


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
