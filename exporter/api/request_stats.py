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
        "HTTP requests to the 8x8 APIs that failed, by `code`: the HTTP status of an answer "
        'other than 2xx, `transport` when no answer came (connection, timeout), `malformed` '
        "for a 2xx answer that could not be used (not JSON, over the size limit).",
        ("api", "endpoint", "code"),
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


# The `code` of a failure without an HTTP status of its own, as Prometheus' clients (promhttp)
# name the label: the values stay bounded (HTTP statuses and these words).
TRANSPORT_FAILURE = "transport"
MALFORMED_ANSWER = "malformed"


def failure_code(status: int | None, *, answered: bool) -> str:
    """The `code` label of a failed request: a non-2xx status as its three digits, a 2xx
    answer that could not be used `malformed`, no answer at all `transport`."""
    if status is None or not answered:
        return TRANSPORT_FAILURE
    if 200 <= status < 300 or not 100 <= status <= 599:
        return MALFORMED_ANSWER
    return str(status)


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
            *describe("eightbyeight_api_request_failures"), [*labels, "code"], registry=None
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
        # The loop counter exists (at 0) from the first request on, so rate() works before the
        # first loop. The failures cannot: their `code` is known only when one happens (the
        # dashboards and rules read them with `or` the requests times 0).
        self._loops.labels(api, endpoint)
        self._moved()

    def paging_loop(self, api: str, endpoint: str) -> None:
        """A paged answer repeated itself and its run stopped (PagingLoopError)."""
        self._loops.labels(api, endpoint).inc()
        self._moved()

    def failed(self, api: str, endpoint: str, code: str) -> None:
        """`code`: failure_code()'s word for what went wrong."""
        self._failures.labels(api, endpoint, code).inc()
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
