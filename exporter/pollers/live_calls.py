"""Calls in progress per call queue and ring group, by status, from `/v2/pbxes/{pbxId}/calls`.

Completed calls are left to the call legs (`eightbyeight_group_calls_total`), which count each
once per day; this poller counts only the calls in progress now, and the age of the oldest.

Exposition (polled every 30 s by default; ages in seconds of the API's clock):

    eightbyeight_queue_live_calls{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose",status="waiting"} 2.0
    eightbyeight_queue_live_call_longest_seconds{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose",status="waiting"} 41.0
    eightbyeight_ring_group_live_calls{extension="8001",pbx="acme-main",ring_group="Sales",status="talking"} 1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from exporter.core.bounded_map import bounded_map
from exporter.core.errors import CollectionError
from exporter.core.logs import get_logger
from exporter.metrics.call_queues import QUEUE_LABELS
from exporter.metrics.interactions import (
    LIVE_CALL_STATUS_ALIASES,
    LIVE_CALL_STATUSES,
    OTHER,
    status_label,
)
from exporter.metrics.rendering import Family
from exporter.metrics.spec import FamilySet, MetricSpec, gauge
from exporter.metrics.units import to_number
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.discovery import Directory, DirectorySource, Pbx, Queue
from exporter.pollers.limits import SeriesBudget
from exporter.pollers.ring_group_sources import RingGroupSource

log = get_logger(__name__)

ENDPOINT = "/v2/pbxes/{pbxId}/calls"
SOURCE = "live_calls"
KNOWN = tuple(map(status_label, LIVE_CALL_STATUSES))

QUEUE_LIVE_CALLS = gauge(
    "eightbyeight_queue_live_calls",
    "Calls in progress in the call queue by status (waiting, alerting, talking, on_hold; "
    "other for words this exporter does not know). Calls that started longer ago than "
    "live_calls.max_call_age are not looked for.",
    (*QUEUE_LABELS, "status"),
    SOURCE,
)
QUEUE_LONGEST = MetricSpec(
    "eightbyeight_queue_live_call_longest_seconds",
    "gauge",
    "Age (the API's now minus startTime) of the oldest call in progress in the call queue in "
    "that status, 0 when there is none.",
    (*QUEUE_LABELS, "status"),
    unit="duration",
    source=SOURCE,
)
RING_GROUP_LIVE_CALLS = gauge(
    "eightbyeight_ring_group_live_calls",
    "Calls in progress in the ring group by status. ring_group is the group's name as the "
    "ring group summary lists it, or its extension while no name is known (summary off, or "
    "not yet answered); extension tells apart two groups of one name.",
    ("pbx", "ring_group", "extension", "status"),
    SOURCE,
)
SPECS: tuple[MetricSpec, ...] = (QUEUE_LIVE_CALLS, QUEUE_LONGEST, RING_GROUP_LIVE_CALLS)
__all__ = ["SPECS", "LiveCallPoller"]


class CallPageSource(Protocol):
    """One PBX's pages of calls; `stopped_by` and `unsorted` once read (see
    `exporter.api.live.CallPages`)."""

    stopped_by: str
    unsorted: bool

    def __iter__(self) -> Iterator[list[Any]]: ...


class LiveCallsApi(Protocol):
    """What the poller needs of the API: see `exporter.api.live.LiveApi`."""

    def now(self) -> float: ...

    def call_time(self, value: Any) -> float | None: ...

    def time_in_seconds(self, value: Any) -> bool: ...

    def calls(
        self, pbx_id: str, *, page_size: int, max_pages: int, started_after: float | None = None
    ) -> CallPageSource: ...


class Tally:
    """Calls in progress per group and status, and the oldest start of each."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], dict[str, int]] = {}
        self.oldest: dict[tuple[str, ...], dict[str, float]] = {}

    def known(self, group: tuple[str, ...]) -> dict[str, int]:
        return self.counts.setdefault(group, dict.fromkeys(KNOWN, 0))

    def add(self, group: tuple[str, ...], status: str, started: float | None) -> None:
        counts = self.known(group)
        counts[status] = counts.get(status, 0) + 1
        if started is not None:
            oldest = self.oldest.setdefault(group, {})
            oldest[status] = min(started, oldest.get(status, started))


# Calls reach /calls a little after they start (and `now` is the API's clock estimated from
# Date headers, to the second): a read goes this much further back than the previous read's
# time, so a call listed late between two reads is still found.
LISTING_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class ReadMark:
    """What one PBX's complete read (not cut by max_pages) tells the next one: every call in
    progress started at or after `oldest_open` (None: there was none), and the read was at
    `read_at` (the API's clock); `rescanned_at` is when a read last went back max_call_age."""

    read_at: float
    oldest_open: float | None
    rescanned_at: float

    def bound(self) -> float:
        """How far back the next read must go: a call that started before both `read_at` and
        `oldest_open` was completed at this read (or not in progress), and stays so."""
        oldest = self.read_at if self.oldest_open is None else min(self.oldest_open, self.read_at)
        return oldest - LISTING_MARGIN_SECONDS


@dataclass
class PbxRead:
    """One PBX's read, tallied."""

    queues: Tally
    ring_groups: Tally
    oldest_open: float | None  # the start of the oldest call in progress read, if any


class LiveCallPoller(Poller):
    """Calls in progress per queue and ring group: one paged read of `/calls` per PBX and poll,
    newest first, down to the oldest call in progress at the previous read (max_call_age at
    the first read and once every `rescan_interval`), a few PBXes at once."""

    name = "live_calls"
    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: LiveCallsApi,
        directory: DirectorySource,
        ring_groups: RingGroupSource,
        *,
        interval: float,
        page_size: int = 200,
        max_call_age: float = 4 * 3600.0,
        max_pages: int = 50,
        max_series: int = 20_000,
        rescan_interval: float = 600.0,
        concurrency: int = 1,
    ) -> None:
        self.client = client
        self.directory = directory
        self.ring_groups = ring_groups
        self.interval = interval
        self.page_size = page_size
        self.max_call_age = max_call_age
        self.max_pages = max_pages
        self.max_series = max_series
        self.rescan_interval = rescan_interval
        self.concurrency = concurrency
        self.invalid = LeftOut(self.name)  # calls left out (no group, unknown queue, ...)
        self.unusable = LeftOut(self.name)  # status words not known, start times unusable
        self._truncated = False  # a read ended at max_pages in the last run
        # Per PBX id, the last complete read's mark; only a successful run replaces them (an
        # older mark only makes a read go further back).
        self.marks: dict[str, ReadMark] = {}
        # Per PBX, the calls of the last run that started at or after its read's bound,
        # completed ones included: what the number of pages follows (docs/performance.md).
        self.recent_calls: dict[str, int] = {}

    def collect(self) -> Sequence[Family]:
        directory = self.directory.directory
        if directory is None:
            raise CollectionError("the PBX directory has not been discovered yet")
        families = FamilySet(
            f" Polled from {ENDPOINT} (how often: eightbyeight_collector_interval_seconds)."
        )
        # The API's clock, not the exporter's: startTime is the API's, and so is the age.
        now = self.client.now()
        oldest_counted = now - self.max_call_age
        truncated: list[str] = []
        recent_calls: dict[str, int] = {}
        marks: dict[str, ReadMark] = {}
        # The ring group label comes from the answer when the summary names none: bounded
        # here, as every poller's series are.
        budget = SeriesBudget(self.name, self.max_series)

        def fetch(pbx: Pbx) -> tuple[Pbx, float, CallPageSource, list[Any], int]:
            """One PBX's read, in a worker: only what may be in progress is kept of each page
            (most calls of a page are completed; four hours of a large PBX's calls held at once
            per worker stayed in the heap as its high-water mark)."""
            bound, rescanned_at = self._bound(pbx, now, oldest_counted)
            pages = self.client.calls(
                pbx.id, page_size=self.page_size, max_pages=self.max_pages, started_after=bound
            )
            kept: list[Any] = []
            recent: set[str] = set()  # the calls since the bound: what the pages follow
            for page in pages:
                self.progress += 1  # from a worker thread: a lost step only slows the heartbeat
                for call in page:
                    if not isinstance(call, Mapping):
                        kept.append(call)  # counted as invalid by the tally
                        continue
                    if (self.client.call_time(call.get("startTime")) or 0.0) >= bound:
                        recent.add(label_text(call.get("callId")))
                    if not completed(call):
                        kept.append(call)
            return pbx, rescanned_at, pages, kept, len(recent)

        # The pages of a few PBXes are asked at once, each request taking its token from the
        # API's budget in its worker's thread; they are tallied here, in the directory's order.
        reads = bounded_map(fetch, directory.pbxes, self.concurrency, f"poller-{self.name}")
        for pbx, rescanned_at, pages, calls, recent in reads:
            tallied = self._tally(directory, pbx, calls, oldest_counted)
            recent_calls[pbx.name] = recent
            if pages.unsorted:
                # Read to a short page or max_pages instead: slower, but nothing hidden.
                self.unusable.add("live_calls_not_sorted", "pages not newest first", pbx=pbx.name)
            if pages.stopped_by == "max_pages":
                truncated.append(pbx.name)  # the calls beyond are unknown: no mark, rescan
            else:
                marks[pbx.id] = ReadMark(now, tallied.oldest_open, rescanned_at)
            self._add(families, budget, tallied.queues, tallied.ring_groups, now)
        self.series = budget.finish(self.series)
        self._log_truncation(truncated)
        self.recent_calls = recent_calls
        self.marks = marks
        return tuple(families)

    def _bound(self, pbx: Pbx, now: float, oldest_counted: float) -> tuple[float, float]:
        """How far back this read of `pbx` goes, and when it last went back max_call_age."""
        mark = self.marks.get(pbx.id)
        if mark is None or not 0 < now - mark.rescanned_at < self.rescan_interval:
            return oldest_counted, now
        return max(oldest_counted, mark.bound()), mark.rescanned_at

    @staticmethod
    def _queue_labels(directory: Directory, pbx: Pbx) -> Iterable[tuple[str, ...]]:
        for queue in directory.queues_of(pbx.id):
            yield _labels_of(directory, pbx, queue)

    def _tally(
        self, directory: Directory, pbx: Pbx, calls: list[Any], oldest_counted: float
    ) -> PbxRead:
        queues, ring_groups = Tally(), Tally()
        for queue_labels in self._queue_labels(directory, pbx):
            queues.known(queue_labels)
        for (pbx_name, _), group in self.ring_groups.listed.items():
            if pbx_name == pbx.name:
                ring_groups.known((pbx.name, group.name or group.extension, group.extension))
        seen: set[str] = set()
        oldest_open: float | None = None
        for call in calls:
            started = self._read(directory, pbx, call, oldest_counted, seen, queues, ring_groups)
            if started is not None:
                oldest_open = started if oldest_open is None else min(oldest_open, started)
        return PbxRead(queues, ring_groups, oldest_open)

    def _read(
        self,
        directory: Directory,
        pbx: Pbx,
        call: Any,
        oldest_counted: float,
        seen: set[str],
        queues: Tally,
        ring_groups: Tally,
    ) -> float | None:
        """Count one call that `fetch` kept (not completed, or not an object); the start of a
        call in progress (counted or not: older than max_call_age, of no known group), else
        None."""
        if not isinstance(call, Mapping):
            self.invalid.add("live_call_invalid", "call not an object", pbx=pbx.name)
            return None
        status = label_text(call.get("status")).strip().upper()
        call_id = label_text(call.get("callId"))
        if call_id:
            if call_id in seen:  # a call the paging handed out twice counts once
                return None
            seen.add(call_id)
        raw_start = call.get("startTime")
        started = self.client.call_time(raw_start)
        if started is not None and self.client.time_in_seconds(raw_start):
            self.unusable.add("live_call_time_in_seconds", "startTime in seconds", pbx=pbx.name)
        if started is None:
            self.unusable.add("live_call_value_unusable", "startTime", pbx=pbx.name)
        elif started < oldest_counted:
            return started  # older than max_call_age: left out whatever page it came on
        group = self._group(directory, pbx, call.get("workGroup"))
        if group is None:
            return started
        status = LIVE_CALL_STATUS_ALIASES.get(status, status)
        if status not in LIVE_CALL_STATUSES:
            self.unusable.add("live_call_status_unknown", "status", value=status[:64])
        label = status_label(status) if status in LIVE_CALL_STATUSES else OTHER
        kind, labels = group
        (queues if kind == "queue" else ring_groups).add(labels, label, started)
        return started

    def _group(
        self, directory: Directory, pbx: Pbx, group: Any
    ) -> tuple[str, tuple[str, ...]] | None:
        """("queue", its QUEUE_LABELS) or ("ring_group", (pbx, ring_group, extension)) of a call's
        workGroup, or None (counted and logged once) when it names no known group."""
        if not isinstance(group, Mapping):
            self.invalid.add("live_call_invalid", "no workGroup object", pbx=pbx.name)
            return None
        group_type = label_text(group.get("groupType")).strip().upper()
        extension = label_text(group.get("extension"))
        if group_type == "RING_GROUP":
            if not extension:
                self.invalid.add("live_call_invalid", "ring group without extension")
                return None
            known = self.ring_groups.listed.get((pbx.name, extension))
            name = known.name if known and known.name else extension
            # The extension too: two ring groups of one name (a "Sales" at two sites) would
            # else be summed into one series.
            return "ring_group", (pbx.name, name, extension)
        if group_type != "CALL_QUEUE":
            self.invalid.add("live_call_invalid", "groupType not known", value=group_type[:64])
            return None
        # workGroup.id is the queue id (issue #18, point 5); the extension when it is missing.
        queue = directory.queues.get(label_text(group.get("id")))
        if queue is None or queue.pbx_id != pbx.id:
            matches = [q for q in directory.queues_of(pbx.id) if extension == q.extension]
            queue = matches[0] if extension and matches else None
        if queue is None:
            # A queue newer than the last discovery: counted from the next one on.
            self.invalid.add("live_call_invalid", "queue not in the directory", pbx=pbx.name)
            return None
        return "queue", _labels_of(directory, pbx, queue)

    @staticmethod
    def _add(
        families: FamilySet, budget: SeriesBudget, queues: Tally, ring_groups: Tally, now: float
    ) -> None:
        for labels, counts in queues.counts.items():
            if not budget.take(2 * len(counts)):
                continue
            oldest = queues.oldest.get(labels, {})
            for status, count in counts.items():
                families.add(QUEUE_LIVE_CALLS, (*labels, status), count)
                started = oldest.get(status)
                age = 0.0 if started is None else max(0.0, now - started)
                families.add(QUEUE_LONGEST, (*labels, status), age)
        for labels, counts in ring_groups.counts.items():
            if not budget.take(len(counts)):
                continue
            for status, count in counts.items():
                families.add(RING_GROUP_LIVE_CALLS, (*labels, status), count)

    def _log_truncation(self, truncated: list[str]) -> None:
        """Once per crossing: reads that end at max_pages miss the older calls in progress."""
        if truncated and not self._truncated:
            log.warning(
                "live_calls_max_pages",
                collector=self.name,
                max_pages=self.max_pages,
                page_size=self.page_size,
                pbxes=truncated[:10],
            )
        elif self._truncated and not truncated:
            log.info("live_calls_max_pages_cleared", collector=self.name)
        self._truncated = bool(truncated)


def completed(call: Mapping[str, Any]) -> bool:
    """Issue #18, point 5: a call is in progress while its stopTime is 0 (or missing) and its
    status is not COMPLETED."""
    stopped = to_number(call.get("stopTime"))
    status = label_text(call.get("status")).strip().upper()
    return (stopped is not None and stopped > 0) or status == "COMPLETED"


def _labels_of(directory: Directory, pbx: Pbx, queue: Queue) -> tuple[str, ...]:
    """A queue's labels, as the other queue metrics carry them (QUEUE_LABELS)."""
    return (pbx.name, directory.site_name(queue.site_id), queue.name, queue.extension, queue.id)
