"""Per-scrape rendering: what a naive exporter does. prometheus-client's own HTTP server with a
registry of its own and one custom Collector that yields the same series on every collect, so
every scrape renders every sample (and gzips the page, at prometheus-client's level 9).

    python3 -m benchmarks.naive PAGE_FILE   ->  {"port": N} on stdout; serves until stdin ends
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from benchmarks.children import serve_baseline


class PageCollector(Collector):
    """The page's families, parsed once; yielded as they are on every scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


def main(argv: list[str]) -> int:
    families = list(text_string_to_metric_families(Path(argv[0]).read_text()))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PageCollector(families))
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        return serve_baseline(server)
    finally:
        thread.join(5)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
