"""benchmarks/daemon_rss.py, the daemon's memory as issue #20 measures it, at a small size and
for seconds: it runs the exporter with the simulator, scrapes it as Prometheus does, and
prints its figures (docs/performance.md, "The daemon's memory")."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from benchmarks.daemon_rss import ScrapeLoop

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


class _Metrics(BaseHTTPRequestHandler):
    """Answers /metrics in gzip when `gzip` is on (the class attribute), plainly when off,
    and keeps what Prometheus's scrape asked for."""

    gzip = True
    asked: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).asked.append(dict(self.headers))
        body = b"x" * 100
        self.send_response(200)
        if type(self).gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.mark.parametrize("gzip", [True, False])
def test_the_scrape_loop_asks_as_prometheus_does_and_a_failed_scrape_is_told(gzip: bool) -> None:
    class Handler(_Metrics):
        asked: ClassVar[list[dict[str, str]]] = []

    Handler.gzip = gzip
    handler = Handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loop = ScrapeLoop(server.server_address[1], every=0.01)
    try:
        deadline = time.monotonic() + 30
        while len(loop.sizes) < 3 and loop.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        loop.stop()
        server.shutdown()
        server.server_close()
    if gzip:
        loop.check()
        assert loop.sizes[:3] == [100, 100, 100]
        asked = handler.asked[0]
        assert asked["Accept-Encoding"] == "gzip"
        assert asked["Accept"].startswith("application/openmetrics-text")
    else:
        # A server that ignored Accept-Encoding: the loop ends, and the figure is refused.
        assert loop.sizes == []
        with pytest.raises(RuntimeError, match="a scrape failed"):
            loop.check()
