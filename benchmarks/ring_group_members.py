"""The ring group member summary at one size, asked one ring group at a time and a few at
once: the wall time of its run with no budget to speak of and on the default request budget,
and with `--cycle` the wall time of a whole cycle (the second `run_once()`).

    python3 -m benchmarks.ring_group_members --size 500k --concurrency 1,4 [--cycle]

The simulator runs in its own process (benchmarks.children); the exporter is built in this
one from the harness's configuration (benchmarks.account: the demo's collectors and windows,
no series ceiling), afresh for each run: discovery and the ring group summary first, then the
member poller, timed. Wall times only, read as ratios within one run: other processes share
the machine.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from typing import Any

from benchmarks.account import exporter_config
from benchmarks.children import sized_simulator
from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from exporter.config.work_analytics import RingGroupMembersConfig, WorkAnalyticsConfig
from exporter.pollers.summaries import RingGroupMemberPoller

MEMBERS = "ring_group_members"
# The request budget a deployment has unless it sets one.
DEFAULT_BUDGET = WorkAnalyticsConfig.model_fields["request_budget_per_minute"].default


def requests_sent(exp: Exporter) -> float:
    return sum(
        sample.value
        for family in exp.clients[0].stats.collect()
        for sample in family.samples
        if sample.name == "eightbyeight_api_requests_total"
    )


def member_runner(exp: Exporter) -> Any:
    return next(r for r in exp.scheduler.runners if isinstance(r.poller, RingGroupMemberPoller))


def members_run(data: dict[str, Any]) -> tuple[bool, float, int]:
    """A fresh exporter: discovery and the ring group summary once (on the same budget: the
    member poller starts from what they left in the bucket), then the member poller's run,
    timed: (success, wall seconds, requests)."""
    exp = build_exporter(load_config_data(data))
    try:
        for runner in exp.scheduler.runners:
            if runner.name in ("discovery", "ring_groups") and not runner.run_once():
                raise RuntimeError(f"{runner.name} failed")
        members = member_runner(exp)
        sent, started = requests_sent(exp), time.monotonic()
        ok = members.run_once()
        return ok, time.monotonic() - started, int(requests_sent(exp) - sent)
    finally:
        exp.close()


def cycle(data: dict[str, Any]) -> dict[str, Any]:
    """Two cycles, the second timed: its wall time and the slowest collectors."""
    exp = build_exporter(load_config_data(data))
    try:
        if not exp.scheduler.run_once():
            raise RuntimeError("the first cycle failed")
        started = time.monotonic()
        ok = exp.scheduler.run_once()
        wall = time.monotonic() - started
        runners = {r.name: round(r.state.last_duration or 0.0, 2) for r in exp.scheduler.runners}
    finally:
        exp.close()
    slowest = sorted(runners.items(), key=lambda kv: -kv[1])[:4]
    return {"cycle_ok": ok, "cycle_seconds": round(wall, 2), "slowest": slowest}


def measure(
    config: dict[str, Any], concurrency: int, budget: float, full_cycle: bool
) -> dict[str, Any]:
    """The member poller at `concurrency`: with no budget to speak of, and on `budget`."""
    data = copy.deepcopy(config)
    if "concurrency" in RingGroupMembersConfig.model_fields:  # absent before it was added
        data["work_analytics"][MEMBERS]["concurrency"] = concurrency
    ok, wall, requests = members_run(data)
    result: dict[str, Any] = {
        "concurrency": concurrency,
        "members_ok": ok,
        "members_seconds": round(wall, 2),
        "members_requests": requests,
    }
    data["work_analytics"]["request_budget_per_minute"] = budget
    ok, wall, requests = members_run(data)
    result |= {
        "budget_per_minute": budget,
        "members_on_budget_ok": ok,
        "members_on_budget_seconds": round(wall, 2),
    }
    if full_cycle:
        data["work_analytics"]["request_budget_per_minute"] = config["work_analytics"][
            "request_budget_per_minute"
        ]
        result |= cycle(data)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.ring_group_members")
    parser.add_argument("--size", default="500k", help="target data series (k, m suffixes)")
    parser.add_argument("--concurrency", default="1,4", help="comma-separated values to compare")
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_BUDGET, help="requests a minute, second part"
    )
    parser.add_argument(
        "--cycle", action="store_true", help="also two whole cycles, the second timed (slow)"
    )
    args = parser.parse_args(argv)
    with sized_simulator(args.size, "bench-members-") as sim:
        config = exporter_config(sim)
        for value in args.concurrency.split(","):
            result = measure(config, int(value), args.budget, args.cycle)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
