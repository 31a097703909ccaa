"""The wall time of a cycle (every collector once, each in its own thread as the daemon runs
them: `exporter.pollers.one_round.run_concurrently`) at one size, on the default request
budget, with the collectors' default windows and with the demo's.

    python3 -m benchmarks.cycle_wall --size 500k [--sequential]

The simulator runs in its own process (benchmarks.children); the exporter is built in this
one from the harness's configuration (benchmarks.account: every collector of the demo, no
series ceiling), afresh per configuration. The first round discovers the account and reads
the live calls back `max_call_age`; the second, timed, is the steady state of the schedule.
`--sequential` also times a round of `Scheduler.run_once()` (one collector after another) on
the same exporter. Wall times: read next to each other within one run.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.account import exporter_config, without_key
from benchmarks.children import cpu_seconds, sized_simulator
from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from exporter.config.contact_center import ContactCenterConfig
from exporter.config.work_analytics import WorkAnalyticsConfig
from exporter.pollers.one_round import run_concurrently

BUDGET = "request_budget_per_minute"
# The budgets a deployment has unless it sets them.
DEFAULT_BUDGETS = {
    "work_analytics": WorkAnalyticsConfig.model_fields[BUDGET].default,
    "contact_center": ContactCenterConfig.model_fields[BUDGET].default,
}


def requests_sent(exp: Exporter) -> dict[str, float]:
    sent: dict[str, float] = {}
    # The clients of one API (a Contact Center client per tenant) share their statistics.
    stats = {id(client.stats): client.stats for client in exp.clients}.values()
    for each in stats:
        for family in each.collect():
            for sample in family.samples:
                if sample.name == "eightbyeight_api_requests_total":
                    key = f"{sample.labels['api']} {sample.labels['endpoint']}"
                    sent[key] = sent.get(key, 0.0) + sample.value
    return sent


def rounds(data: dict[str, Any], sequential: bool, simulator_pid: int) -> dict[str, Any]:
    exp = build_exporter(load_config_data(data))
    try:
        if not run_concurrently(exp.scheduler.runners):
            raise RuntimeError("the first round failed")
        before, started = requests_sent(exp), time.monotonic()
        cpu_before = (time.process_time(), cpu_seconds(simulator_pid))
        ok = run_concurrently(exp.scheduler.runners)
        wall = time.monotonic() - started
        # Whose round it was: a simulator busy for most of it sets the wall time, not the
        # exporter or the budget (the simulator answers from one process, on this machine's
        # cores; the vendor's API does not share them with the exporter).
        cpu = (
            time.process_time() - cpu_before[0],
            cpu_seconds(simulator_pid) - cpu_before[1],
        )
        after = requests_sent(exp)
        durations = {r.name: r.state.last_duration or 0.0 for r in exp.scheduler.runners}
        result: dict[str, Any] = {
            "round_ok": ok,
            "round_seconds": round(wall, 2),
            "exporter_cpu_seconds": round(cpu[0], 2),
            "simulator_cpu_seconds": round(cpu[1], 2),
            "slowest": sorted(
                ((k, round(v, 2)) for k, v in durations.items()), key=lambda kv: -kv[1]
            )[:5],
            "requests": int(sum(after.values()) - sum(before.values())),
            "requests_by_endpoint": {
                k: int(v - before.get(k, 0.0))
                for k, v in sorted(after.items())
                if v > before.get(k, 0.0)
            },
            "calls_pages": int(
                after.get("work_analytics /v2/pbxes/{pbxId}/calls", 0)
                - before.get("work_analytics /v2/pbxes/{pbxId}/calls", 0)
            ),
        }
        if sequential:
            started = time.monotonic()
            result["sequential_ok"] = exp.scheduler.run_once()
            result["sequential_seconds"] = round(time.monotonic() - started, 2)
        return result
    finally:
        exp.close()


def simulator_clock(offset: float) -> str:
    """What the simulator's clock reads (just after its start), for the figures' record."""
    if not offset:
        return "this machine's clock"
    reads = datetime.fromtimestamp(time.time() + offset, UTC)
    return f"pinned: {reads:%A %H:%M} UTC at its start (offset {offset:.0f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.cycle_wall")
    parser.add_argument("--size", default="500k", help="target data series (k, m suffixes)")
    parser.add_argument(
        "--sequential", action="store_true", help="also one round of run_once() (slow)"
    )
    parser.add_argument(
        "--unpinned-clock",
        action="store_true",
        help="the simulator on this machine's clock, not pinned to a Tuesday 15:00 UTC",
    )
    args = parser.parse_args(argv)
    # Tokens of an hour: under load a request may wait in the simulator longer than the
    # harness's 10 s tokens live, and token renewal is not what is measured here.
    with sized_simulator(
        args.size, "bench-cycle-", token_ttl="3600", pin_clock=not args.unpinned_clock
    ) as sim:
        clock_note = simulator_clock(sim["clock_offset"])
        harness = exporter_config(sim)
        defaults = without_key(harness, "windows")
        members_off = copy.deepcopy(defaults)
        members_off["work_analytics"]["ring_group_members"]["enabled"] = False
        for name, config in (
            ("default windows, ring group members off (their default)", members_off),
            ("default windows, ring group members on", defaults),
            ("the demo's windows, ring group members on", harness),
        ):
            data = copy.deepcopy(config)
            for api, budget in DEFAULT_BUDGETS.items():
                data[api][BUDGET] = budget
            result = {
                "size": args.size,
                "windows": name,
                "budget": DEFAULT_BUDGETS,
                "simulator_clock": clock_note,
            }
            print(json.dumps(result | rounds(data, args.sequential, sim["pid"])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
