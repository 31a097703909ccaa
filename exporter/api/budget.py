"""The request budget of one 8x8 API, shared by every poller that calls it.

The vendor documents no rate limit for the analytics APIs, but other 8x8 APIs answer 429, and
an exporter must never be the reason an account gets throttled. Every HTTP attempt to an API
takes a token from that API's bucket (`request_budget_per_minute`, with bursts of a sixth of
it); when the bucket is empty the poller waits, so pollers slow down instead of piling up.
A 429 pauses the whole API, for every poller, until its Retry-After (or a backoff) is over.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.core.errors import ApiError, RateLimitedError
from exporter.core.logs import get_logger
from exporter.core.token_bucket import TokenBucket
from exporter.metrics.spec import MetricSpec, counter, gauge

log = get_logger(__name__)

# The family specs; for the page and the catalogue alike.
BUDGET_METRICS: tuple[MetricSpec, ...] = (
    gauge(
        'eightbyeight_api_budget_requests_per_minute',
        'The configured request budget of the API (request_budget_per_minute).',
        ("api",),
    ),
    gauge(
        'eightbyeight_api_budget_used_requests',
        'Requests sent to the API in the last 60 seconds: the budget in use.',
        ("api",),
    ),
    counter(
        'eightbyeight_api_throttled_seconds_total',
        "Seconds collectors waited for the API's budget or for a 429's pause.",
        ("api",),
    ),
    gauge(
        'eightbyeight_api_paused',
        '1 while a 429 pauses every request to the API, else 0.',
        ("api",),
    ),
)


class RequestBudget:
    """A token bucket of `per_minute` requests, bursts of `per_minute / 6`, with pauses."""

    def __init__(
        self,
        api: str,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """`clock` and `sleep` are injectable so tests run on a simulated clock."""
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.api = api
        self.per_minute = float(per_minute)
        self.rate = self.per_minute / 60.0  # tokens a second
        self.capacity = max(1.0, self.per_minute / 6.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._bucket = TokenBucket(self.rate, self.capacity, clock())
        self._paused_until = 0.0
        self._sent: deque[float] = deque()
        self._closed = threading.Event()
        self._sleep = sleep
        self.throttled_seconds = 0.0

    def acquire(self, endpoint: str, max_pause: float = float("inf")) -> None:
        """Wait until a request may be sent (bounded: the budget refills; close() ends it).
        While a 429's pause has more than `max_pause` seconds to run, fail at once instead:
        the poller reports its failure and keeps its last data, rather than hang."""
        while True:
            if self._closed.is_set():
                raise ApiError(endpoint, "the exporter is stopping")  # not retried
            with self._lock:
                now = self._clock()
                wait = max(0.0, self._paused_until - now)
                if wait > max_pause:
                    raise RateLimitedError(
                        endpoint, f"the API asked for a pause of {wait:.0f}s more", retry_after=wait
                    )
                if wait == 0.0:
                    wait = self._bucket.take(now)
                    if wait == 0.0:
                        self._sent.append(now)
                        self._trim(now)
                        return
                # Counted as it is waited, step by step: a long pause shows while it lasts,
                # and a wait a stop ends is counted too.
                step = min(wait, 1.0)
                self.throttled_seconds += step
            # Short steps, so the clock of a test can move (close() ends a real wait at once).
            self.sleep(step)

    def sleep(self, seconds: float) -> None:
        """A wait between attempts or status polls that ends at once when the exporter stops;
        the request that follows is then refused by acquire()."""
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._closed.wait(seconds)

    def pause(self, seconds: float) -> None:
        """A 429: no request to this API for `seconds`, whichever poller asks. The caller caps
        it; a pause that is no finite number is refused rather than kept forever."""
        if not math.isfinite(seconds):
            raise ValueError(f"a pause must be a finite number of seconds, not {seconds!r}")
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if until > self._paused_until:
                self._paused_until = until
                log.warning("api_paused", api=self.api, seconds=round(seconds, 3))

    def paused(self) -> bool:
        with self._lock:
            return self._clock() < self._paused_until

    def pause_left(self) -> float:
        """Seconds a 429's pause has still to run (0.0 when none does)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    def tokens(self) -> float:
        """Requests that may be sent at once now (a burst is `capacity`)."""
        with self._lock:
            return self._bucket.available(self._clock())

    def used(self) -> int:
        """Requests sent in the last 60 seconds."""
        with self._lock:
            self._trim(self._clock())
            return len(self._sent)

    def _trim(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()

    def retune(self, per_minute: float) -> None:
        """A reload's new `request_budget_per_minute`; the requests sent and the seconds
        waited go on. The bucket starts full at the new size, as at start-up: at most one
        burst more than a steady budget would allow, once per reload."""
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        with self._lock:
            if float(per_minute) == self.per_minute:
                return
            self.per_minute = float(per_minute)
            self.rate = self.per_minute / 60.0
            self.capacity = max(1.0, self.per_minute / 6.0)
            self._bucket = TokenBucket(self.rate, self.capacity, self._clock())

    def close(self) -> None:
        self._closed.set()


def stop_aware_sleep(budget: RequestBudget | None) -> Callable[[float], None]:
    """How a client waits between attempts, or a report poller between status polls: on
    the budget, so that a stop ends the wait at once; plain time.sleep without one."""
    return budget.sleep if budget is not None else time.sleep


class BudgetCollector:
    """The budgets' metrics, read at scrape time (a prometheus_client custom collector)."""

    def __init__(self, budgets: list[RequestBudget]) -> None:
        self.budgets = budgets

    def collect(self) -> Iterator[Metric]:
        values: dict[str, Callable[[RequestBudget], float]] = {
            "eightbyeight_api_budget_requests_per_minute": lambda b: b.per_minute,
            "eightbyeight_api_budget_used_requests": lambda b: float(b.used()),
            "eightbyeight_api_throttled_seconds": lambda b: b.throttled_seconds,
            "eightbyeight_api_paused": lambda b: 1.0 if b.paused() else 0.0,
        }
        for spec in BUDGET_METRICS:
            family_type = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
            family = family_type(spec.family_name, spec.help, labels=list(spec.labels))
            for budget in self.budgets:
                family.add_metric([budget.api], values[spec.family_name](budget))
            yield family
