"""Counters of the requests sent to the 8x8 APIs: attempts, failures and durations, per API and
endpoint template."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter.metrics.spec import MetricSpec, counter, histogram

# The family specs; for the page and the catalogue alike.
API_METRICS: tuple[MetricSpec, ...] = (
    counter(
        'eightbyeight_api_requests_total',
        'HTTP requests sent to the 8x8 APIs, retries included.',
        ("api", "endpoint"),
    ),
    counter(
        'eightbyeight_api_request_failures_total',
        'HTTP requests to the 8x8 APIs that failed: no answer, or a status other than 2xx.',
        ("api", "endpoint"),
    ),
    counter(
        "eightbyeight_api_paging_loops_total",
        "Paged requests stopped because the API repeated a scrollId, a page or a link: the "
        "poller's run fails and keeps its last data and watermark.",
        ("api", "endpoint"),
    ),
    histogram(
        'eightbyeight_api_request_duration_seconds',
        'Time the 8x8 APIs took to answer one HTTP request.',
        ("api", "endpoint"),
    ),
)


class RequestStats(Collector):
    """Counters of attempts and failed attempts per API and endpoint template, and durations.

    Endpoint labels are path templates (`/v2/pbxes/{pbxId}/sites`), so their number is bounded
    by the code, never by the account's size. A prometheus_client collector; `version` moves
    with every change, so /metrics renders these again only after a request.
    """

    def __init__(self) -> None:
        def describe(name: str) -> tuple[str, str]:
            spec = next(spec for spec in API_METRICS if spec.family_name == name)
            return name, spec.help

        labels = ["api", "endpoint"]
        # Collectors record from their own threads; `+=` is not atomic, and a lost update could
        # bring the version back to one /metrics has already rendered.
        self._lock = threading.Lock()
        self.version = 0
        self._requests = Counter(*describe("eightbyeight_api_requests"), labels, registry=None)
        self._failures = Counter(
            *describe("eightbyeight_api_request_failures"), labels, registry=None
        )
        self._loops = Counter(*describe("eightbyeight_api_paging_loops"), labels, registry=None)
        self._duration = Histogram(
            *describe("eightbyeight_api_request_duration_seconds"),
            labels,
            registry=None,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )

    def attempted(self, api: str, endpoint: str) -> None:
        self._requests.labels(api, endpoint).inc()
        # The failure and loop counters exist (at 0) from the first request on, so error
        # ratios and rate() work before the first failure.
        self._failures.labels(api, endpoint)
        self._loops.labels(api, endpoint)
        self._moved()

    def paging_loop(self, api: str, endpoint: str) -> None:
        """A paged answer repeated itself and its run stopped (PagingLoopError)."""
        self._loops.labels(api, endpoint).inc()
        self._moved()

    def failed(self, api: str, endpoint: str) -> None:
        self._failures.labels(api, endpoint).inc()
        self._moved()

    def took(self, api: str, endpoint: str, seconds: float) -> None:
        self._duration.labels(api, endpoint).observe(seconds)
        self._moved()

    def _moved(self) -> None:
        with self._lock:
            self.version += 1

    def collect(self) -> Iterator[Metric]:
        for metric in (self._requests, self._failures, self._loops, self._duration):
            yield from metric.collect()
