"""The collection model: pollers build immutable snapshots, runners poll them on a schedule.

A `Snapshot` is a tuple of finished metric families, rendered to bytes when it is taken.
`/metrics` only reads the newest snapshot of each poller, so a scrape never waits for the
slow 8x8 APIs and a queue that disappears from an answer disappears from /metrics with the next
snapshot, with no bookkeeping.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from exporter.core.errors import ExporterError
from exporter.core.heartbeat import beating
from exporter.core.logs import get_logger
from exporter.core.memory import TRIM_AFTER_BYTES, release_free_memory
from exporter.core.redaction import redact
from exporter.metrics.rendering import (
    MAX_LABEL_VALUE_BYTES,
    Family,
    RenderedFamily,
    render_families,
)
from exporter.pollers.build_slots import SNAPSHOT_BUILDS, BuildSlots
from exporter.pollers.limits import SeriesCount
from exporter.pollers.rows import LeftOut as LeftOut
from exporter.pollers.rows import label_text as label_text

log = get_logger(__name__)

# After a failed run the next one comes sooner than the interval (but never more often than
# the interval itself), so a poller with a long interval recovers quickly.
FAILURE_RETRY_SECONDS = 60.0
# The last good snapshot keeps being served this many intervals after it was taken (its age is
# exported all along); after that its data is dropped rather than shown as if current.
STALE_INTERVALS = 3
# A run lasting longer than this many intervals (and at least STUCK_MIN_SECONDS) is "stuck".
STUCK_INTERVALS = 5
STUCK_MIN_SECONDS = 300.0
# How long a stop waits for all runner threads together.
STOP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    families: tuple[RenderedFamily, ...]
    created: float  # epoch seconds: the timestamps a page shows
    # The monotonic clock at the run's start: its age and staleness, which a wall clock stepped
    # back would show fresh (None: made without a runner, dated by `created` alone).
    started: float | None = None


class Poller(ABC):
    """One API area. `collect()` does the API calls and returns the metric families.

    Families returned must not be changed afterwards: they are served as they are.
    """

    name: str
    interval: float
    # Set by pollers with a cardinality ceiling after each successful run.
    series: SeriesCount | None = None
    # Set (and declared as `LeftOut`) by pollers that leave records out (`invalid`) or values
    # out (`unusable`); each is exported as its counter, from 0 on.
    invalid: LeftOut | None = None
    unusable: LeftOut | None = None
    # Moves while a run makes headway (a page read): a long run that moves is not stuck.
    progress: int = 0
    # Label values its runs' families cut to MAX_LABEL_VALUE_BYTES (counted by the runner).
    labels_truncated: int = 0

    @abstractmethod
    def collect(self) -> Sequence[Family]:
        """Build fresh metric families, or raise (an ApiError, CollectionError, ...)."""

    def self_metrics(self) -> dict[str, float]:
        """Values of the exporter's `eightbyeight_collector_*` metrics this poller has."""
        values: dict[str, float] = {
            "eightbyeight_collector_label_values_truncated": float(self.labels_truncated)
        }
        if self.series is not None:
            values.update(
                {
                    "eightbyeight_collector_series": float(self.series.exported),
                    "eightbyeight_collector_series_limit": float(self.series.limit),
                    "eightbyeight_collector_series_dropped": float(self.series.dropped),
                }
            )
        # Exported at 0 before the first one, not only once it happens: a counter that first
        # appears above 0 hides its first increase from `rate()` and `increase()`.
        if self.invalid is not None:
            values["eightbyeight_collector_records_invalid"] = float(self.invalid.count)
        if self.unusable is not None:
            values["eightbyeight_collector_values_unusable"] = float(self.unusable.count)
        return values


@dataclass
class RunState:
    """What the runner knows of its poller; replaced whole under the runner's lock."""

    snapshot: Snapshot | None = None
    success: bool = False
    runs: int = 0
    failures: int = 0
    last_duration: float | None = None
    last_success: float | None = None
    last_error: str | None = None
    running_since: float | None = None  # monotonic
    last_started: float | None = None  # wall clock: the next run is due an interval after it
    # The poller's own metrics (watermark, records read, ...) as of the end of its last run:
    # taken with the snapshot, so a page never shows a new watermark beside older counts.
    poller_metrics: dict[str, float] = field(default_factory=dict)


class PollerRunner:
    """Runs one poller: on a schedule in its own thread (`start`) or once (`run_once`)."""

    def __init__(
        self,
        poller: Poller,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        depends_on: PollerRunner | None = None,
        on_snapshot: Callable[[], None] | None = None,
        build_slots: BuildSlots = SNAPSHOT_BUILDS,
        age_clock: Callable[[], float] | None = None,
    ) -> None:
        self.poller = poller
        self.build_slots = build_slots
        self._holding_slot = False
        self.on_snapshot = on_snapshot
        self.name = poller.name
        self.depends_on = depends_on
        self._wall = wall_clock
        self._mono = monotonic
        # Snapshot ages: monotonic, so a wall clock stepped back never shows old data fresh;
        # a simulated wall clock (tests) drives them too.
        self._age_clock = age_clock or (monotonic if wall_clock is time.time else wall_clock)
        self._lock = threading.Lock()
        self._state = RunState(poller_metrics=poller.self_metrics())
        # Moves at the end of every run: what /metrics checks before collecting the runner's
        # own metrics again (read without the lock: an int).
        self.version = 0
        self._stop = threading.Event()
        self.first_run_done = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress_seen, self._progress_at = poller.progress, float("-inf")

    @property
    def state(self) -> RunState:
        with self._lock:
            return RunState(**vars(self._state))

    def run_once(self) -> bool:
        """Collect now in the calling thread; True on success."""
        try:
            return self._run()
        finally:
            if self._holding_slot:
                self._holding_slot = False
                self.build_slots.release()

    def _run(self) -> bool:
        started_wall, started, started_age = self._wall(), self._mono(), self._age_clock()
        with self._lock:
            self._state.running_since, self._state.last_started = started, started_wall
        error: str | None = None
        families: tuple[RenderedFamily, ...] = ()
        try:
            with beating(self._beat, self._stop):
                collected = self.poller.collect()
            # Rendered here, once: the poller's sample objects go, its bytes are served. Held
            # from here to the announcement: a bounded number of runs build at once.
            self._holding_slot = self.build_slots.acquire()
            families = render_families(collected)
            del collected
        except ExporterError as exc:
            error = redact(str(exc))
        except Exception as exc:  # a bug or an unexpected answer must not kill the thread
            error = redact(f"{type(exc).__name__}: {exc}")
            log.exception("collector_crashed", collector=self.name)
        duration = self._mono() - started
        finished_wall = self._wall()
        self._count_truncated(families)
        poller_metrics = self.poller.self_metrics()
        with self._lock:
            state = self._state
            state.poller_metrics = poller_metrics
            state.running_since = None
            state.runs += 1
            state.last_duration = duration
            state.success = error is None
            state.last_error = error
            if error is None:
                state.snapshot = Snapshot(families, created=started_wall, started=started_age)
                state.last_success = finished_wall
            else:
                state.failures += 1
            self.version += 1
        run = {"collector": self.name, "duration_seconds": round(duration, 3)}
        if error is None:
            log.info("collector_run_succeeded", **run, families=len(families))
        elif self._stop.is_set():  # cut short by a stop or a reload: expected, not a warning
            log.info("collector_run_abandoned", **run, error=error)
        else:
            log.warning("collector_run_failed", **run, error=error)
        if error is None and self.on_snapshot is not None:
            try:
                self.on_snapshot()
            except Exception:  # the page is assembled again at the next scrape
                log.exception("exposition_refresh_failed", collector=self.name)
        if error is None and sum(len(f.samples) for f in families) >= TRIM_AFTER_BYTES:
            release_free_memory()  # the previous snapshot and this run's answers are gone
        self.first_run_done.set()
        return error is None

    def _count_truncated(self, families: Sequence[RenderedFamily]) -> None:
        truncated = sum(family.truncated for family in families)
        if truncated and not self.poller.labels_truncated:  # once: the counter says the rest
            log.warning(
                "label_value_truncated",
                collector=self.name,
                values=truncated,
                limit_bytes=MAX_LABEL_VALUE_BYTES,
            )
        self.poller.labels_truncated += truncated

    def _snapshot(self) -> Snapshot | None:
        with self._lock:
            return self._state.snapshot

    def _age(self, snapshot: Snapshot) -> float:
        if snapshot.started is not None:
            return self._age_clock() - snapshot.started
        return self._wall() - snapshot.created

    def _beat(self) -> None:
        self.poller.progress += 1  # from worker threads too: a lost step only slows it

    def snapshot_age(self) -> float | None:
        """Seconds since the last good snapshot was taken; None before the first."""
        snapshot = self._snapshot()
        return None if snapshot is None else max(0.0, self._age(snapshot))

    def serving_snapshot(self) -> Snapshot | None:
        """The snapshot /metrics shows: the last good one, unless it is too old."""
        snapshot = self._snapshot()
        if snapshot is None:
            return None
        if self._age(snapshot) > STALE_INTERVALS * max(self.poller.interval, FAILURE_RETRY_SECONDS):
            return None
        return snapshot

    def is_stuck(self) -> bool:
        """The thread died, or a run has gone on for the limit without progress: a long run
        that keeps reading pages (the call counters' first read of a big day) is not stuck."""
        state = self.state
        if self._thread is not None and not self._thread.is_alive() and not self._stop.is_set():
            return True
        if state.running_since is None:
            return False
        now = self._mono()
        progress = self.poller.progress
        if progress != self._progress_seen:
            # Seen when asked (every /-/healthy): progress since the last question counts.
            self._progress_seen, self._progress_at = progress, now
        limit = max(STUCK_MIN_SECONDS, STUCK_INTERVALS * self.poller.interval)
        return now - max(state.running_since, self._progress_at) > limit

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run in a thread of its own; a runner already running (taken over by a reload's
        scheduler) goes on in its thread, so one poller never runs twice at once."""
        if self.running:
            return
        if self._stop.is_set():  # stopped before: the old thread has ended, start afresh
            self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"poller-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        if self.depends_on is not None:
            # Wait (bounded) for the poller this one needs, e.g. the PBX directory.
            deadline = self._mono() + 120.0
            while not self._stop.is_set() and self._mono() < deadline:
                if self.depends_on.first_run_done.wait(0.5):
                    break
        while not self._stop.is_set():
            started = self._mono()
            ok = self.run_once()
            interval = self.poller.interval
            delay = interval if ok else min(interval, FAILURE_RETRY_SECONDS)
            # Scheduled from the run's start so the interval does not drift by the duration.
            self._stop.wait(max(0.0, started + delay - self._mono()))


@dataclass
class Scheduler:
    """All runners of the process, in dependency order."""

    runners: list[PollerRunner] = field(default_factory=list)
    # Where snapshot times and ages come from (tests pass a simulated clock).
    wall_clock: Callable[[], float] = time.time
    # Where stop() measures its shared timeout.
    monotonic: Callable[[], float] = time.monotonic
    # How many of the runners it makes build a snapshot at once (the process's bound).
    build_slots: BuildSlots = SNAPSHOT_BUILDS
    # Called in a runner's thread after each new snapshot: see `subscribe`.
    _listeners: list[Callable[[], None]] = field(default_factory=list, init=False, repr=False)

    def add(self, poller: Poller, depends_on: PollerRunner | None = None) -> PollerRunner:
        return self.add_runner(
            PollerRunner(
                poller,
                wall_clock=self.wall_clock,
                depends_on=depends_on,
                build_slots=self.build_slots,
            )
        )

    def add_runner(self, runner: PollerRunner) -> PollerRunner:
        """A runner made elsewhere: new, or taken over from the scheduler of the exporter a
        reload replaces (that one keeps announcing its snapshots until `start`)."""
        if runner.on_snapshot is None:
            runner.on_snapshot = self._snapshot_taken
        self.runners.append(runner)
        return runner

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` in the runner's thread each time a runner takes a new snapshot: the
        exposition assembles the page there, so no scrape pays for it."""
        self._listeners.append(listener)

    def _snapshot_taken(self) -> None:
        for listener in self._listeners:
            listener()

    def start(self) -> None:
        """Start every runner not running yet; those taken over announce to this one now."""
        for runner in self.runners:
            runner.on_snapshot = self._snapshot_taken
            runner.start()

    def _stopping(self, except_for: Sequence[PollerRunner]) -> list[PollerRunner]:
        return [r for r in self.runners if not any(r is kept for kept in except_for)]

    def request_stop(self, except_for: Sequence[PollerRunner] = ()) -> None:
        """No runner starts another run; a run that fails from now on is logged as abandoned.
        `except_for`: the runners a reload's exporter took over, which go on."""
        for runner in self._stopping(except_for):
            runner._stop.set()

    def stop(
        self, timeout: float = STOP_TIMEOUT_SECONDS, except_for: Sequence[PollerRunner] = ()
    ) -> None:
        """Ask every runner to stop, then wait for them all within one shared `timeout`, not
        one per runner: a run mid-request ends within its HTTP timeouts, and the threads are
        daemons, so the process can exit without them."""
        self.request_stop(except_for)
        deadline = self.monotonic() + timeout
        for runner in self._stopping(except_for):
            runner.stop(max(0.0, deadline - self.monotonic()))

    def run_once(self) -> bool:
        """Every poller once, in order; True when all succeeded."""
        results = [runner.run_once() for runner in self.runners]
        return all(results)

    def stuck(self) -> list[str]:
        return [r.name for r in self.runners if r.is_stuck()]
