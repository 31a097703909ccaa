"""`python3 -m benchmarks.daemon_rss [--size 100k] [--minutes 15]`: the running daemon's
memory, as a user runs it: the benchmark account on the simulator (its own process), the
exporter built as exporter/cli.py builds it, every collector at its default interval, nothing
patched or measured inside, and scraped as Prometheus scrapes it (`--scrape-every`: over
loopback HTTP, OpenMetrics and gzip asked for, at the Helm chart's interval; 0 for none). One
JSON line every 30 s: RSS, data series, and bytes per series over the RSS before the first
collection. The same script runs on any commit since benchmarks/account.py existed (with
`--scrape-every 0` on trees before exporter/reload.py), so a before and an after come from one
harness."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.account import account_for, exporter_config, parse_size
from benchmarks.children import Child
from benchmarks.exporter_process import rss_bytes
from benchmarks.scrape import TIMEOUT, Scraper
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
# helm/eightbyeight-exporter/values.yaml's serviceMonitor.interval.
SCRAPE_EVERY_SECONDS = 30.0
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


class ScrapeLoop:
    """/metrics scraped every `every` seconds from a thread, on one keep-alive connection, as
    Prometheus scrapes: gzip, OpenMetrics asked for first. The answers' sizes so far; a
    failed scrape ends the loop and `check()` raises it (a figure taken without the scrapes it
    claims is no figure)."""

    def __init__(self, port: int, every: float) -> None:
        self.sizes: list[int] = []
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._scraper = Scraper(port)
        self._thread = threading.Thread(
            target=self._scrape, args=(every,), name="scraper", daemon=True
        )
        self._thread.start()

    def _scrape(self, every: float) -> None:
        try:
            while not self._stop.wait(every):
                body, _ = self._scraper.get(gzip=True, openmetrics=True)
                self.sizes.append(len(body))
        except Exception as error:  # told to the main thread by check()
            self.error = error
        finally:
            self._scraper.close()

    def check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"a scrape failed: {self.error}") from self.error

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)


@contextmanager
def scraped(exp: Any, every: float) -> Iterator[ScrapeLoop]:
    """The exporter served as exporter/cli.py serves it, and scraped every `every` seconds."""
    from exporter.reload import LiveExporter
    from exporter.serving.server import ExporterServer

    def never(*_: Any) -> Any:
        raise RuntimeError("no reload here")

    server = ExporterServer(LiveExporter(exp, load=never, build=never, check=never), "127.0.0.1:0")
    server.start()
    loop = ScrapeLoop(server.port, every)
    try:
        yield loop
    finally:
        loop.stop()
        server.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--scrape-every", type=float, default=SCRAPE_EVERY_SECONDS)
    parser.add_argument("--every", type=float, default=EVERY_SECONDS, help=argparse.SUPPRESS)
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
            with ExitStack() as stack:
                # Served before the idle figure, as the harness's idle is (a server started).
                scrapes = (
                    stack.enter_context(scraped(exp, options.scrape_every))
                    if options.scrape_every > 0
                    else None
                )
                sizes = scrapes.sizes if scrapes is not None else []
                idle = rss_bytes()
                exp.scheduler.start()
                stack.callback(exp.scheduler.stop)
                started = time.monotonic()
                peak = 0
                while time.monotonic() - started < options.minutes * 60:
                    time.sleep(options.every)
                    if scrapes is not None:
                        scrapes.check()
                    rss, series = rss_bytes(), data_series(exp)
                    peak = max(peak, rss)
                    line = {
                        "minutes": round((time.monotonic() - started) / 60, 1),
                        "rss_mb": round(rss / 2**20, 1),
                        "peak_mb": round(peak / 2**20, 1),
                        "series": series,
                        "bytes_per_series": round((rss - idle) / max(series, 1)),
                        "scrapes": len(sizes),
                        "last_scrape_bytes": sizes[-1] if sizes else None,
                    }
                    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
