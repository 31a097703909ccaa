"""benchmarks/daemon_rss.py, the daemon's memory as issue #20 measures it, at a small size and
for seconds: it runs the exporter with the simulator, scrapes it as Prometheus does, and
prints its figures (docs/performance.md, "The daemon's memory")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]


def test_the_daemon_is_measured_while_prometheus_scrapes_it() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.daemon_rss", "--size", "1k"),
            *("--minutes", "0.15", "--every", "3", "--scrape-every", "1"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) >= 2, done.stdout
    last = lines[-1]
    # The 1k account's data series, and the scrapes so far: gzip answers far smaller than the
    # plain page (about 100 bytes a series).
    assert 1000 <= last["series"] <= 2000
    assert last["scrapes"] >= 3
    assert 0 < last["last_scrape_bytes"] < 60 * last["series"]
    assert last["rss_mb"] <= last["peak_mb"] and last["bytes_per_series"] > 0
