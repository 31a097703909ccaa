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
import http.client
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
# What Prometheus 2.x asks for (scrape_protocols' default, the first two) and accepts.
SCRAPE_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",
    "Accept-Encoding": "gzip",
}
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


def scrape(port: int) -> int:
    """One scrape of /metrics: the answer's size. Read in pieces of 64 kB, none kept: of the
    scraper's side only a transient piece is in this process's memory."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/metrics", headers=SCRAPE_HEADERS)
        answer = connection.getresponse()
        if answer.status != 200 or answer.getheader("Content-Encoding") != "gzip":
            raise RuntimeError(f"/metrics answered {answer.status}, {answer.getheaders()}")
        size = 0
        while piece := answer.read(1 << 16):
            size += len(piece)
        return size
    finally:
        connection.close()


@contextmanager
def scraped(exp: Any, every: float) -> Iterator[list[int]]:
    """The exporter served as exporter/cli.py serves it, and scraped every `every` seconds
    from a thread; yields the sizes of the answers so far."""
    from exporter.reload import LiveExporter
    from exporter.serving.server import ExporterServer

    def never(*_: Any) -> Any:
        raise RuntimeError("no reload here")

    server = ExporterServer(LiveExporter(exp, load=never, build=never, check=never), "127.0.0.1:0")
    server.start()
    sizes: list[int] = []
    stop = threading.Event()

    def scrapes() -> None:
        while not stop.wait(every):
            sizes.append(scrape(server.port))

    scraper = threading.Thread(target=scrapes, name="scraper", daemon=True)
    scraper.start()
    try:
        yield sizes
    finally:
        stop.set()
        scraper.join(60)
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
                sizes = (
                    stack.enter_context(scraped(exp, options.scrape_every))
                    if (options.scrape_every > 0)
                    else []
                )
                idle = rss_bytes()
                exp.scheduler.start()
                stack.callback(exp.scheduler.stop)
                started = time.monotonic()
                peak = 0
                while time.monotonic() - started < options.minutes * 60:
                    time.sleep(options.every)
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
