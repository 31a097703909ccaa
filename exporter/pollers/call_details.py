"""Call counters and histograms from `/v2/call-records` and `/v2/call-legs`: the calls that ended
since local midnight, read in full at start-up and then incrementally.

What a counter holds is a function of the API's records, not of the exporter's history: the
calls whose record ends in the current *counting day* (local midnight of `time_zone` to the next
one). The first poll (at start-up, after a reload that rebuilds the poller, and at each new day)
reads the whole day so far, following `scrollId` to the `"No Data"` marker; the following polls
ask again from the last complete poll minus `lookback` and count each record not counted yet
(remembered by id). So a restart, a second replica or a shard move shows the same values, and
today's figures (a queue's service level) are there from the first poll.

The day's counters go on for `lookback` past midnight, for the records that reach the API late:
the first poll at or after that reads the day's last records and shows them, and the next one
starts again from 0 with the new day's calls so far. Prometheus sees one counter reset a day,
which `rate()` and `increase()` handle. A record that reaches the API more than `lookback` after
its call ended is counted by a poller that starts later (a full read) but not by one already
running: that is the error bound between two replicas.

Windows are asked in UTC (see core/windows), only records that end inside the window asked for
are counted, and the ids of the day are kept (the oldest forgotten first past
`dedup_max_entries`, and no window asks for those again), with their latest end: an answer
outside its window, a record answered again with a corrected end, or a clock stepped back never
counts a call twice. The day is decided on the API's own time at its last answer, so an
exporter clock stepped ahead never begins tomorrow early.

    eightbyeight_calls_total{direction="inbound",outcome="answered",pbx="acmecorp"} 1042.0
    eightbyeight_call_wait_seconds_bucket{direction="inbound",le="20.0",outcome="answered",pbx="acmecorp"} 977.0

Outcome of a record or leg: `answered` when the vendor marks it Answered, else `voicemail` when
its last party is Voicemail, else `abandoned` when marked Abandoned, else `missed` when marked
Missed, else `other`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any
from zoneinfo import ZoneInfo

from exporter.api.protocols import CallDetailApi
from exporter.config import Selection
from exporter.core.windows import WIRE_TIME_ZONE, CountingDay, counting_day, wire_time
from exporter.metrics.rendering import Family
from exporter.metrics.units import from_milliseconds
from exporter.pollers.base import LeftOut, Poller
from exporter.pollers.call_counting import (
    OUTCOMES,
    PENDING,
    ZERO_OUTCOMES,
    CallDetailSpecs,
    Histogram,
    RecordKey,
    SeenIds,
    milliseconds,
    outcome,
)
from exporter.pollers.discovery import DirectorySource, pbx_batches
from exporter.pollers.limits import FoldedKeys, SeriesCount, log_crossing

# One whole-day read at a time in the process. At a start both call_records and call_legs read
# the day, page after page of decoded JSON: together they set the process's peak of Python
# objects, and the allocator keeps the arenas of a peak for good (an arena goes back to the
# system only when all of it is free). One after the other took 55 bytes per series off the
# resident memory at 100k series (docs/performance.md, "The daemon's memory"), and no time: the
# reads are CPU work under one interpreter lock. The polls of a day in progress (a few minutes
# each) do not wait for each other; a stop ends a waiting read at its first request.
FULL_READS = threading.Lock()


class CallDetailPoller(Poller):
    """The shared incremental machinery; subclasses say what a record is and what it counts."""

    endpoint: str
    specs: CallDetailSpecs
    disposition_key: str
    # Durations a counted record may carry (ms); one present but unusable is counted.
    duration_keys: tuple[str, ...]
    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: CallDetailApi,
        directory: DirectorySource,
        *,
        interval: float,
        lookback: float,
        page_size: int,
        time_zone: str,
        wait_buckets: Sequence[float],
        talk_buckets: Sequence[float],
        max_series: int = 20_000,
        dedup_max_entries: int = 200_000,
        select: Selection = Selection(),
        all_pbxes: bool = True,
        pbx_batch_size: int = 50,
    ) -> None:
        self.client = client
        self.directory = directory
        self.interval = interval
        self.lookback = lookback
        self.page_size = page_size
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        self.wait_bounds = list(wait_buckets)
        self.talk_bounds = list(talk_buckets)
        self.max_series = max_series
        self.select = select
        self.all_pbxes = all_pbxes
        self.pbx_batch_size = pbx_batch_size
        self.dedup_max_entries = dedup_max_entries
        self.day: CountingDay | None = None
        self.watermark: float | None = None  # end of the last complete poll of the day
        self.pending_from: float | None = None
        self._pending_in_poll: float | None = None
        self.records_pending = 0
        self.records_read = 0
        self.records_duplicate = 0
        self.records_outside = 0
        self.evicted_before = 0  # evictions of the days before this one
        self.seen = SeenIds(dedup_max_entries)
        self.invalid = LeftOut(self.name)
        self.unusable = LeftOut(self.name)
        self._begin_day(None)

    def _begin_day(self, day: CountingDay | None) -> None:
        """Every call series from 0, nothing remembered: a new day, or a first read that failed."""
        self.evicted_before += self.seen.evicted
        self.day = day
        self.closing = False  # the day's last poll is done: the next begins the new day
        self.watermark = None
        self.pending_from = None  # end of the oldest record still pending
        self.records_pending = 0  # in the last poll
        self.seen = SeenIds(self.dedup_max_entries)
        self.read_pbxes: set[str] = set()  # the PBXes the last complete poll read
        self.calls: dict[tuple[tuple[str, ...], str], int] = {}  # (key, outcome)
        self.waits: dict[tuple[tuple[str, ...], str], Histogram] = {}
        self.talks: dict[tuple[str, ...], Histogram] = {}
        self.keys: set[tuple[str, ...]] = set()
        self.folded = FoldedKeys()

    # --- what subclasses define -------------------------------------------------------------

    def record_id(self, row: Mapping[str, Any]) -> str | None:
        raise NotImplementedError

    def record_key(self, row: Mapping[str, Any]) -> RecordKey:
        """The key labels the record is counted under; None: not counted by this poller;
        PENDING: not known yet (read again by the next poll, counted once known)."""
        raise NotImplementedError

    def wait_ms(self, row: Mapping[str, Any]) -> float | None:
        raise NotImplementedError

    def extra_params(self) -> dict[str, str]:
        return {}

    def known_keys(self) -> Iterable[tuple[str, ...]]:
        """Keys exported at 0 before their first call of the day (PBXes, groups)."""
        return ()

    # --- polling ----------------------------------------------------------------------------

    def now(self) -> float:
        """The API's time: windows follow its clock, so a skewed exporter misses nothing."""
        return self.client.now()

    def collect(self) -> Sequence[Family]:
        now = self.now()
        # The day is decided on a time the API has confirmed: an exporter clock stepped ahead
        # (the skew median not following yet) must not begin tomorrow early.
        answered = self.client.answered_until()
        confirmed = now if answered is None else min(now, answered + self.interval)
        day = counting_day(confirmed, self.zone, self.lookback)
        if self.day is not None and now < self.day.start and answered is not None:
            if answered - 1.0 >= self.day.start:
                # The exporter's clock went back past the day's start (NTP stepping a clock
                # that ran ahead), and the skew estimate has not followed yet, while the API's
                # own Date says the day is current: ask nothing until the estimate catches up
                # (every answer of the API moves it), or yesterday would be read and shown again.
                return self._families()
        if self.day is None or now < self.day.start:
            # The first poll, or a day begun on a clock that has gone back before it, the
            # API's too: (again) read whole.
            self._begin_day(day)
        elif day.start > self.day.start and self.closing:
            self._begin_day(day)
        # The day's last poll, at lookback past its midnight or later, counts and shows the
        # records that reached the API late before the next poll begins the new day.
        closing = day.start > (self.day or day).start
        day = self.day or day
        full = self.watermark is None
        # Never before the ids forgotten to keep memory bounded: what ended there was counted
        # while its id was known.
        start = day.start if full else max(self.seen.evicted_until / 1000.0, self._next_start(now))
        if math.floor(now) <= math.floor(start):
            # The clock went back (a stepped clock): nothing to ask until it is past again; an
            # empty window is an HTTP 400.
            return self._families()
        self._pending_in_poll, self.records_pending = None, 0
        try:
            with FULL_READS if full else nullcontext():
                self._read_window(day, start, now)
        except BaseException:
            if full:
                # A day read in part is thrown away: the next poll reads it again from the
                # start, so what is exported is always the count of complete reads.
                self._begin_day(day)
            raise
        # Only a complete poll moves the watermark; a failure above leaves it for the next run.
        # Never past the API's own time at its last answer: if the exporter's clock stepped
        # ahead (and the skew estimate has not followed yet), the window asked for reached into
        # the API's future, and what ends there is read by the next polls.
        answered = self.client.answered_until()
        self.watermark = now if answered is None else min(now, answered)
        self.pending_from = self._pending_in_poll
        self.closing = closing
        for key in self.known_keys():
            self._fit(key)
        return self._families()

    def _next_start(self, now: float) -> float:
        """Where the next poll asks from: the look-back before the last complete poll (or
        before now, if the clock went back since), or the oldest record still pending (its
        group not known yet), if older."""
        assert self.watermark is not None
        start = min(self.watermark, now) - self.lookback
        return start if self.pending_from is None else min(start, self.pending_from)

    def _read_window(self, day: CountingDay, start: float, end: float) -> None:
        batches = pbx_batches(self.directory, self.all_pbxes, self.pbx_batch_size)
        names = {name for batch in batches for name in batch}
        fresh = sorted(names - self.read_pbxes) if start > day.start else []
        if fresh:
            # PBXes named for the first time today (a shard's new PBX, one a discovery left
            # out, one back after an absence): read from the day's start in batches of their
            # own; the ids already counted are known, so nothing counts twice.
            size = self.pbx_batch_size
            for i in range(0, len(fresh), size):
                self._read_batch(fresh[i : i + size], day, day.start, end)
            batches = [[n for n in batch if n not in fresh] for batch in batches]
        for batch in batches:
            if batch or self.all_pbxes:
                self._read_batch(batch, day, start, end)
        self.read_pbxes = names

    def _read_batch(self, batch: list[str], day: CountingDay, start: float, end: float) -> None:
        # The API's times are whole seconds: the window it answers is [start, end] to the second.
        low = max(day.start, float(math.floor(start))) * 1000.0
        if self.seen.evicted:
            # Not what ended up to the last id forgotten for room: counted while it was known.
            low = max(low, self.seen.evicted_until + 1.0)
        high = (math.floor(end) + 1) * 1000.0
        params = {
            **self.client.historical_params(
                batch, wire_time(start), wire_time(end), WIRE_TIME_ZONE
            ),
            **self.extra_params(),
        }
        for page in self.client.scroll(self.endpoint, params, self.page_size):
            self.progress += 1
            for row in page:
                self._read(row, low, high, day.end * 1000.0)

    def _read(self, row: Any, low: float, high: float, day_end: float) -> None:
        """Count `row` once if it ended in [low, high) (ms), the window asked and the day."""
        self.records_read += 1
        if not isinstance(row, Mapping):
            self.invalid.add(
                "call_detail_record_invalid", "record not an object", type=type(row).__name__
            )
            return
        record_id = self.record_id(row)
        ended = milliseconds(row, "disconnectedTimeUTC")
        if record_id is None or ended is None:
            self.invalid.add(
                "call_detail_record_invalid",
                "record without id" if record_id is None else "record without end",
                fields=sorted(str(k) for k in row)[:20],
            )
            return
        if ended >= day_end and ended < high:
            return  # the next day's, in the minutes its counters wait: read again then
        if not low <= ended < high:
            # Not in the window asked: counted by the poll whose window it is in, never here,
            # so a vendor's misreading of a window cannot count a call twice.
            self.records_outside += 1
            return
        key = self.record_key(row)
        if key is PENDING:
            # Its series is not known yet (a ring group the summary has not listed): not
            # remembered, and the next polls ask from its end at the latest, so it is read
            # again and counted once its group is known, however long that takes.
            self.records_pending += 1
            ended_s = ended / 1000.0
            if self._pending_in_poll is None or ended_s < self._pending_in_poll:
                self._pending_in_poll = ended_s
            return
        if not self.seen.add(record_id, ended):
            self.records_duplicate += 1
            return
        if key is None:
            return
        key = self._fit(key)
        result = outcome(row, self.disposition_key)
        self.calls[(key, result)] = self.calls.get((key, result), 0) + 1
        for name in self.duration_keys:  # counted once, when the record is counted
            if row.get(name) is not None and milliseconds(row, name) is None:
                self.unusable.add(
                    "call_detail_value_unusable", name, type=type(row.get(name)).__name__
                )
        wait = self.wait_ms(row)
        if wait is not None:
            self._histogram(self.waits, (key, result), self.wait_bounds).observe(
                self.wait_bounds, from_milliseconds(wait)
            )
        talk = milliseconds(row, "talkTimeMS")
        if result == "answered" and talk is not None:
            self._histogram(self.talks, key, self.talk_bounds).observe(
                self.talk_bounds, from_milliseconds(talk)
            )

    @staticmethod
    def _histogram(store: dict[Any, Histogram], key: Any, bounds: Sequence[float]) -> Histogram:
        histogram = store.get(key)
        if histogram is None:
            histogram = store[key] = Histogram([0] * (len(bounds) + 1))
        return histogram

    def _series_per_key(self) -> int:
        """Series one key costs at most: a counter and a wait histogram per outcome, one talk histogram."""
        wait = len(self.wait_bounds) + 3  # buckets with +Inf, _sum, _count
        talk = len(self.talk_bounds) + 3
        return len(OUTCOMES) * (1 + wait) + talk

    def _fit(self, key: tuple[str, ...]) -> tuple[str, ...]:
        """The key itself while the ceiling allows, else the `_other` key of its PBX."""
        if key in self.keys:
            return key
        if (len(self.keys) + 1) * self._series_per_key() <= self.max_series:
            self.keys.add(key)
            self._start_at_zero(key)
            return key
        self.folded.add(key)  # logged once the run is over, if it is the first to fold
        other = self.fold(key)
        self._start_at_zero(other)
        return other

    def _start_at_zero(self, key: tuple[str, ...]) -> None:
        """Export a key's series at 0 from the moment it is known, so `rate()` and
        `increase()` see its first call."""
        for result in ZERO_OUTCOMES:
            self.calls.setdefault((key, result), 0)
            self._histogram(self.waits, (key, result), self.wait_bounds)
        self._histogram(self.talks, key, self.talk_bounds)

    def fold(self, key: tuple[str, ...]) -> tuple[str, ...]:
        raise NotImplementedError

    def _families(self) -> list[Family]:
        suffix = (
            f" Polled from {self.endpoint} (how often: eightbyeight_collector_interval_seconds)."
        )
        calls = self.specs.calls.family(suffix)
        for (key, result), count in sorted(self.calls.items()):
            calls.add_metric([*key, result], float(count))
        waits = self.specs.wait.histogram(suffix)
        for (key, result), histogram in sorted(self.waits.items()):
            waits.add_metric([*key, result], histogram.buckets(self.wait_bounds), histogram.total)
        talks = self.specs.talk.histogram(suffix)
        for key, histogram in sorted(self.talks.items()):
            talks.add_metric(list(key), histogram.buckets(self.talk_bounds), histogram.total)
        per_key = self._series_per_key()
        series = SeriesCount(len(self.keys) * per_key, self.max_series, len(self.folded) * per_key)
        log_crossing(self.name, self.series, series)
        self.series = series
        return [calls, waits, talks]

    def self_metrics(self) -> dict[str, float]:
        values = super().self_metrics()
        values.update(
            {
                "eightbyeight_collector_records_read": float(self.records_read),
                "eightbyeight_collector_records_duplicate": float(self.records_duplicate),
                "eightbyeight_collector_records_outside_window": float(self.records_outside),
                "eightbyeight_collector_records_pending": float(self.records_pending),
                "eightbyeight_collector_dedup_entries": float(len(self.seen)),
                "eightbyeight_collector_dedup_evicted": float(
                    self.evicted_before + self.seen.evicted
                ),
            }
        )
        if self.watermark is not None:
            values["eightbyeight_collector_watermark_timestamp_seconds"] = self.watermark
        if self.day is not None:
            values["eightbyeight_collector_counting_day_start_timestamp_seconds"] = self.day.start
        return values
