"""The clock of one 8x8 API as the exporter sees it, estimated from the `Date` header of its
answers, so the call pollers ask for windows in the API's time rather than the exporter's.

Why: the call records and call legs are asked for by time window. If the exporter's clock runs
ahead of the API's by more than the pollers' look-back, every window ends in the API's future
and every call is silently missed; behind, calls are counted late. The skew is exposed as
`eightbyeight_api_clock_skew_seconds{api}` and logged when it is large.

    # HELP eightbyeight_api_clock_skew_seconds The 8x8 API's clock minus the exporter's ...
    # TYPE eightbyeight_api_clock_skew_seconds gauge
    eightbyeight_api_clock_skew_seconds{api="work_analytics"} -0.5
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.core.logs import get_logger
from exporter.metrics.spec import MetricSpec, gauge

log = get_logger(__name__)

# The median of this many recent answers: one answer delayed in a queue, or one slow read,
# moves the estimate nowhere.
SAMPLES_KEPT = 15
# A Date header has whole seconds and a sample carries half the round trip as uncertainty, so
# synchronised clocks measure anywhere within about +-1 s. Below this the exporter keeps its own
# clock exactly: windows never move by a fraction of a second because of the header's
# resolution. At or beyond it, the offset is applied in whole seconds.
DEAD_BAND_SECONDS = 2.0
# A skew this large is logged (`api_clock_skew`): NTP is broken on one side. The windows follow
# the API's clock anyway, so no call is lost; the alert EightByEightApiClockSkewed uses the same.
SKEW_WARNING_SECONDS = 30.0

CLOCK_METRICS: tuple[MetricSpec, ...] = (
    gauge(
        "eightbyeight_api_clock_skew_seconds",
        "The 8x8 API's clock minus the exporter's, in seconds: the median of the last "
        f"{SAMPLES_KEPT} answers' Date headers against the middle of their requests (Date has "
        "whole seconds: +-1 s is in step). Absent until the API has answered with a Date. "
        f"Call windows follow the API's clock once it is {DEAD_BAND_SECONDS:g} s or more apart.",
        ("api",),
    ),
)


# The Date headers of a second's answers are one text: parsed once (about 15 µs each).
@functools.lru_cache(maxsize=8)
def parse_http_date(text: str | None) -> float | None:
    """Unix seconds of an HTTP `Date` (RFC 7231: IMF-fixdate, and the obsolete RFC 850 and
    asctime forms a recipient must accept), or None when it is missing or not a date."""
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" or asctime: HTTP dates are always UTC
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


class ApiClock:
    """The offset of one API's clock from the exporter's (`clock`, injectable), from the Date
    headers of its answers. Shared by every HttpClient of the API, and so by every poller that
    calls it: thread-safe."""

    def __init__(self, api: str, clock: Callable[[], float] = time.time) -> None:
        self.api = api
        self.clock = clock
        self._lock = threading.Lock()
        self._samples: deque[float] = deque(maxlen=SAMPLES_KEPT)
        self._estimate: float | None = None
        self._latest: float | None = None  # the Date of the last answer, seconds
        self._skewed = False
        self._version = 0

    @property
    def version(self) -> int:
        """Moves with every sample, so /metrics renders the estimate again only then."""
        return self._version

    def observe(self, date_header: str | None, sent: float, received: float) -> None:
        """One answer: its `Date` header and the exporter's clock read before the request was
        sent and after the answer's headers came. A missing or unreadable Date, or a clock
        stepped backwards meanwhile, is ignored."""
        date = parse_http_date(date_header)
        if date is None or received < sent:
            return
        # The header truncates to the second: the API's clock read somewhere within
        # [date, date + 1), on average date + 0.5, somewhere between sent and received.
        sample = (date + 0.5) - (sent + received) / 2
        with self._lock:
            self._latest = date
            self._samples.append(sample)
            estimate = self._estimate = statistics.median(self._samples)
            self._version += 1
            skewed = abs(estimate) > SKEW_WARNING_SECONDS
            crossed, self._skewed = skewed != self._skewed, skewed
        if crossed:
            event = "api_clock_skew" if skewed else "api_clock_skew_cleared"
            (log.warning if skewed else log.info)(
                event, api=self.api, offset_seconds=round(estimate, 1)
            )

    @property
    def measured(self) -> bool:
        return self._estimate is not None

    @property
    def offset(self) -> float:
        """The estimate: the API's clock minus the exporter's, seconds; 0.0 until measured."""
        estimate = self._estimate
        return 0.0 if estimate is None else estimate

    @property
    def applied_offset(self) -> float:
        """What `now()` adds: whole seconds, and 0.0 within the dead band."""
        offset = self.offset
        return float(round(offset)) if abs(offset) >= DEAD_BAND_SECONDS else 0.0

    def now(self) -> float:
        """The API's time now, as far as the exporter knows it: for the windows it asks for."""
        return self.clock() + self.applied_offset

    def answered_until(self) -> float | None:
        """The API's time at its last answer, to the second above (None: no Date seen). Unlike
        now(), it cannot run ahead of the API: a poll's watermark never passes it, so a step of
        the exporter's clock the median has not followed yet cannot skip records."""
        latest = self._latest
        return None if latest is None else latest + 1.0


class ApiClockCollector:
    """`eightbyeight_api_clock_skew_seconds{api}` of the measured API clocks (a versioned
    prometheus_client collector: rendered again only after a new sample)."""

    def __init__(self, clocks: Sequence[ApiClock]) -> None:
        self.clocks = clocks

    @property
    def version(self) -> int:
        # Each clock's version only grows, so their sum moves whenever one of them does.
        return sum(clock.version for clock in self.clocks)

    def collect(self) -> Iterator[Metric]:
        measured = [api_clock for api_clock in self.clocks if api_clock.measured]
        if not measured:
            return
        (spec,) = CLOCK_METRICS
        family = GaugeMetricFamily(spec.name, spec.help, labels=list(spec.labels))
        for api_clock in measured:
            family.add_metric([api_clock.api], api_clock.offset)
        yield family
