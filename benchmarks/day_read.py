"""`python3 -m benchmarks.day_read [--pbxes 20] [--hours 12] [--page-size 1000]`

What the call counters' first poll costs: the whole day so far read from `/v2/call-records` and
`/v2/call-legs` (at start-up, after a rebuild, at each new day), against the simulator on
loopback, then one incremental poll for comparison. Prints the records, the requests per
endpoint and the seconds each poll took. The simulator answers in microseconds; the vendor's
latency per page is not modelled, so multiply the pages by your measured latency.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterable

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.pollers.base import PollerRunner
from simulator import Simulator

# A Tuesday, 12:00 UTC: business hours in the simulated sites.
NOON = 1_763_553_600.0
POLLERS = ("call_records", "call_legs")


def pages(sim: Simulator) -> Counter[str]:
    return Counter(r.path.rsplit("/", 1)[-1] for r in sim.requests if "call-" in r.path)


def measure(pbxes: int, hours: float, page_size: int) -> list[str]:
    clock = [NOON]
    sim = Simulator(
        seed=3,
        host="127.0.0.1",
        port=0,
        clock=lambda: clock[0],
        pbxes=pbxes,
        history_seconds=hours * 3600 + 600,
    ).start()
    lines = [f"{pbxes} PBXes, {hours:g} h of the day so far, page_size {page_size}"]
    try:
        detail = {"page_size": page_size, "lookback": "15m"}
        config = {
            "work_analytics": {
                "base_url": sim.base_url,
                "api_key": sim.api_key,
                "username": sim.username,
                "password": sim.password,
                # A zone whose midnight was `hours` ago (POSIX signs: Etc/GMT+6 is UTC-6).
                "time_zone": f"Etc/GMT{12 - int(hours):+d}",
                "request_budget_per_minute": 1_000_000,
                "call_queues": {"enabled": False},
                "company_summary": {"enabled": False},
                "extensions": {"enabled": False},
                "ring_groups": {"windows": ["today"]},
                "call_records": dict(detail),
                "call_legs": dict(detail),
            }
        }
        exporter = build_exporter(
            load_config_data(config), process_metrics=False, clock=lambda: clock[0]
        )
        runners = exporter.scheduler.runners
        try:
            for name in ("discovery", "ring_groups"):
                assert next(r for r in runners if r.name == name).run_once()
            lines += poll(sim, runners, "first poll (the day so far)")
            clock[0] += 60
            lines += poll(sim, runners, "next poll (one minute later)")
        finally:
            exporter.close()
    finally:
        sim.stop()
    return lines


def poll(sim: Simulator, runners: Iterable[PollerRunner], what: str) -> list[str]:
    lines = [f"  {what}:"]
    for runner in runners:
        if runner.name not in POLLERS:
            continue
        sim.requests_clear()
        before = runner.poller.self_metrics()["eightbyeight_collector_records_read"]
        started = time.perf_counter()
        assert runner.run_once(), runner.state.last_error
        took = time.perf_counter() - started
        read = runner.poller.self_metrics()["eightbyeight_collector_records_read"] - before
        asked = sum(pages(sim).values())
        lines.append(f"    {runner.name}: {asked} requests, {read:.0f} records, {took:.2f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbxes", type=int, default=20)
    parser.add_argument("--hours", type=float, default=12.0)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    print("\n".join(measure(args.pbxes, args.hours, args.page_size)))


if __name__ == "__main__":
    main()
