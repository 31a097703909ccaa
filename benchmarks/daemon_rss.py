"""`python3 -m benchmarks.daemon_rss [--size 100k] [--minutes 15]`: the running daemon's
memory, as a user runs it: the benchmark account on the simulator (its own process), the
exporter built as exporter/cli.py builds it, every collector at its default interval, nothing
patched or measured inside. One JSON line every 30 s: RSS, data series, and bytes per series
over the RSS before the first collection. The same script runs on any commit since
benchmarks/account.py existed, so a before and an after come from one harness."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.account import account_for, exporter_config, parse_size
from benchmarks.children import Child
from benchmarks.exporter_process import rss_bytes
from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.logs import configure_logging
from exporter.core.memory import limit_malloc_arenas

try:  # as exporter/cli.py tunes it; absent on commits before it (this script runs on those too)
    from exporter.core.garbage import tune_garbage_collection
except ImportError:  # pragma: no cover - only on an older tree

    def tune_garbage_collection() -> None:
        pass


EVERY_SECONDS = 30.0
TOKEN_TTL = "3600"  # tokens renewed as rarely as the vendor allows: not what is measured


def default_intervals(config: Any) -> Any:
    """The configuration without any `interval`: every collector at its default."""
    if isinstance(config, dict):
        return {k: default_intervals(v) for k, v in config.items() if k != "interval"}
    if isinstance(config, list):
        return [default_intervals(v) for v in config]
    return config


def data_series(exp: Any) -> int:
    snapshots = [runner.state.snapshot for runner in exp.scheduler.runners]
    return sum(f.series for s in snapshots if s is not None for f in s.families)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--minutes", type=float, default=15.0)
    options = parser.parse_args(argv)
    configure_logging("warn", "json")
    args = account_for(parse_size(options.size)).simulator_args()
    for flag in ("--token-ttl", "--cc-token-ttl"):
        args[args.index(flag) + 1] = TOKEN_TTL
    base = ["--host", "127.0.0.1", "--port", "0", "--seed", "42"]
    with tempfile.TemporaryDirectory() as work:
        with Child("simulator", "simulator", [*base, *args], Path(work)) as child:
            sim = child.read(600.0)
            sim = {
                **sim,
                "pid": child.pid,
                "root_url": sim["base_url"].rsplit("/analytics/work", 1)[0],
            }
            limit_malloc_arenas()  # as exporter/cli.py does, before any thread
            exp = build_exporter(load_config_data(default_intervals(exporter_config(sim))))
            tune_garbage_collection()  # as exporter/cli.py does, once the exporter is built
            idle = rss_bytes()
            exp.scheduler.start()
            started = time.monotonic()
            peak = 0
            try:
                while time.monotonic() - started < options.minutes * 60:
                    time.sleep(EVERY_SECONDS)
                    rss, series = rss_bytes(), data_series(exp)
                    peak = max(peak, rss)
                    line = {
                        "minutes": round((time.monotonic() - started) / 60, 1),
                        "rss_mb": round(rss / 2**20, 1),
                        "peak_mb": round(peak / 2**20, 1),
                        "series": series,
                        "bytes_per_series": round((rss - idle) / max(series, 1)),
                    }
                    print(json.dumps(line), flush=True)
            finally:
                exp.scheduler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
