"""Config reload on SIGHUP and `POST /-/reload`, the way Prometheus does it: the new file is
read and validated completely first; an invalid one changes nothing (the running config goes
on) and `eightbyeight_exporter_config_last_reload_successful` drops to 0 until a good one.
A valid one rebuilds only what it changed: the new exporter takes over every client, poller
and counter whose inputs are equal (`build_exporter(previous=...)`), running threads and all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.app import Exporter
from exporter.config import Config
from exporter.core.errors import ConfigError, ExporterError
from exporter.core.logs import get_logger
from exporter.metrics.spec import MetricSpec, gauge
from exporter.pollers.base import PollerRunner, Scheduler
from exporter.serving.exposition import Exposition

log = get_logger(__name__)

# The family specs; for the page and the catalogue alike.
RELOAD_METRICS: tuple[MetricSpec, ...] = (
    gauge(
        'eightbyeight_exporter_config_last_reload_successful',
        '1 if the last configuration reload succeeded (or none was asked), else 0.',
        (),
    ),
    gauge(
        'eightbyeight_exporter_config_last_reload_success_timestamp_seconds',
        'When the configuration was last loaded successfully (start-up or reload).',
        (),
    ),
)


class ReloadState:
    """Outcome of the last reload, exported by every exporter the reloads build."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.successful = True
        self.success_timestamp = now()
        # When the last reload was asked for (SIGHUP or POST /-/reload); None: none yet.
        self.attempted_at: float | None = None

    def collect(self) -> Iterator[Metric]:
        values = (1.0 if self.successful else 0.0, self.success_timestamp)
        for spec, value in zip(RELOAD_METRICS, values):
            family = GaugeMetricFamily(spec.name, spec.help)
            family.add_metric([], value)
            yield family


class LiveExporter:
    """The exporter currently running, replaced by a reload; the HTTP server reads its
    registry, scheduler and exposition on every request.

    `load` reads and validates the configuration file (raising ConfigError), `build` makes an
    exporter of it (not started) from the running one, taking over the parts that did not
    change, `check` returns the problems a started exporter would have with it (the report
    types); every step must pass before the running exporter is replaced.
    """

    def __init__(
        self,
        exporter: Exporter,
        *,
        load: Callable[[], Config],
        build: Callable[[Config, Exporter], Exporter],
        check: Callable[[Exporter], list[str]],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.state = ReloadState(now)
        self._now = now
        self._load, self._build, self._check = load, build, check
        self._lock = threading.Lock()
        self.exporter = self._adopt(exporter)
        # A stop asked for while a reload checks its candidate (the report types, over the
        # network, with retries): `close` cuts the check short instead of waiting for it.
        self._closing = threading.Event()
        self._candidate: Exporter | None = None

    @property
    def registry(self) -> CollectorRegistry:
        return self.exporter.registry

    @property
    def scheduler(self) -> Scheduler:
        return self.exporter.scheduler

    @property
    def exposition(self) -> Exposition:
        return self.exporter.exposition

    def _adopt(self, exporter: Exporter) -> Exporter:
        exporter.registry.register(self.state)
        return exporter

    def reload(self) -> tuple[bool, str]:
        """Apply the configuration file again; (reloaded, message). Never raises."""
        with self._lock:
            try:
                config = self._load()
            except ConfigError as exc:
                return self._failed(exc.problems)
            except Exception as exc:  # an unreadable file, say: keep running, say why
                return self._failed([f"{type(exc).__name__}: {exc}"])
            if config == self.exporter.config:
                self._succeeded()
                log.info("config_reload_unchanged")
                return True, "configuration unchanged"
            old = self.exporter
            try:
                candidate = self._build(config, old)
            except ExporterError as exc:
                return self._failed([str(exc)])
            self._candidate = candidate
            try:
                problems = [] if self._closing.is_set() else self._check(candidate)
            finally:
                self._candidate = None
            if self._closing.is_set():
                candidate.close(keep=old)
                return self._failed(["the exporter is stopping"])
            if problems:
                candidate.close(keep=old)  # what it shares with the running one goes on
                return self._failed(problems)
            candidate.take_over(old)
            self.exporter = self._adopt(candidate)
            # The runners taken over go on in their threads, a run under way included: it
            # ends as it would have, once, and its snapshot is served by the new exporter.
            old.close(keep=candidate)
            candidate.scheduler.start()
            self._succeeded()
            new, before = candidate.scheduler.runners, old.scheduler.runners
            log.info(
                "config_reloaded",
                collectors=[r.name for r in new],
                kept=[r.name for r in new if _among(r, before)],
                rebuilt=[r.name for r in new if not _among(r, before)],
                removed=[r.name for r in before if not _among(r, new)],
            )
            return True, "configuration reloaded"

    def _succeeded(self) -> None:
        self.state.attempted_at = self._now()
        self.state.successful = True
        self.state.success_timestamp = self._now()

    def _failed(self, problems: list[str]) -> tuple[bool, str]:
        self.state.attempted_at = self._now()
        self.state.successful = False
        log.error("config_reload_failed", problems=problems)
        return False, "configuration not reloaded, the running one stays: " + "; ".join(problems)

    def close(self) -> None:
        """Stop the running exporter; a reload under way ends at once (its check's waits and
        requests end at their next step: the budgets they wait on are closed)."""
        self._closing.set()
        candidate = self._candidate
        if candidate is not None:
            # Its own budgets and those it shares with the running exporter, which stops.
            for budget in candidate.budgets:
                budget.close()
        with self._lock:
            self.exporter.close()


def _among(runner: PollerRunner, runners: list[PollerRunner]) -> bool:
    return any(runner is other for other in runners)
