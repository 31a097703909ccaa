"""What the status page at `/` shows: every runner's state, each API's budget, the build and
the config, read from the state /metrics renders from (never an API call, never a run). The
page itself (HTML, JSON, how often it is rendered) is exporter/serving/status_page.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from exporter import __version__
from exporter.api.budget import RequestBudget
from exporter.core.redaction import redact
from exporter.pollers.base import FAILURE_RETRY_SECONDS, PollerRunner, Scheduler

CollectorState = Literal["ok", "failing", "not run yet", "running now", "stuck"]


@dataclass(frozen=True)
class ReloadOutcome:
    """The configuration's last load: `successful` is the last reload's outcome (True when
    none was asked), `loaded_at` the last successful load, `attempted_at` the last reload asked
    for (None: none since start-up)."""

    successful: bool
    loaded_at: float
    attempted_at: float | None


@dataclass(frozen=True)
class ExporterFacts:
    """What the page shows beyond the runners, given by the composition root (exporter/cli.py)
    and asked again at each rendering: a reload replaces the budgets."""

    budgets: Sequence[RequestBudget] = ()
    config_file: str | None = None
    reload: ReloadOutcome | None = None


StatusFacts = Callable[[], ExporterFacts]


@dataclass(frozen=True)
class CollectorRow:
    """One runner. Times are seconds since the epoch on the scheduler's clock; `*_age` and
    `next_run_in` are seconds from the page's `now` (a negative `next_run_in` is overdue)."""

    collector: str
    tenant: str | None
    state: CollectorState
    interval_seconds: float
    last_success: float | None
    last_success_age: float | None
    last_error: str | None
    snapshot_age: float | None
    next_run: float | None
    next_run_in: float | None
    # The runner this one waits for before its first run, while it has not run yet.
    waiting_for: str | None
    last_duration_seconds: float | None
    series: int | None
    series_limit: int | None


@dataclass(frozen=True)
class BudgetRow:
    """One API's request budget: `tokens` may be sent at once now; `paused_for_seconds` is
    what is left of a 429's pause (its Retry-After), 0 when none."""

    api: str
    per_minute: float
    tokens: float
    burst: float
    used_last_minute: int
    paused_for_seconds: float
    throttled_seconds_total: float


@dataclass(frozen=True)
class Status:
    """Everything the page shows, as of `now`."""

    now: float
    version: str
    revision: str
    telemetry_path: str
    collectors: list[CollectorRow]
    budgets: list[BudgetRow]
    config_file: str | None
    reload: ReloadOutcome | None
    links: dict[str, str] = field(default_factory=dict)


def _tenant(runner: PollerRunner) -> str | None:
    # The Contact Center pollers (one per tenant) carry it; the others have none.
    tenant = getattr(runner.poller, "tenant", None)
    return tenant if isinstance(tenant, str) and tenant else None


def collector_row(runner: PollerRunner, now: float) -> CollectorRow:
    state = runner.state
    interval = runner.poller.interval
    tenant = _tenant(runner)
    name = runner.name.removesuffix(f"@{tenant}") if tenant else runner.name
    kind: CollectorState
    if runner.is_stuck():
        kind = "stuck"
    elif state.running_since is not None:
        kind = "running now"
    elif state.runs == 0:
        kind = "not run yet"
    else:
        kind = "ok" if state.success else "failing"
    next_run: float | None = None
    if state.running_since is None and state.last_started is not None:
        # As PollerRunner._loop schedules: from the last start, sooner after a failure.
        delay = interval if state.success else min(interval, FAILURE_RETRY_SECONDS)
        next_run = state.last_started + delay
    depends_on = runner.depends_on
    waiting_for = (
        depends_on.name
        if state.runs == 0 and depends_on is not None and not depends_on.first_run_done.is_set()
        else None
    )
    snapshot = state.snapshot
    ceiling = runner.poller.series
    return CollectorRow(
        collector=name,
        tenant=tenant,
        state=kind,
        interval_seconds=interval,
        last_success=state.last_success,
        last_success_age=_age(now, state.last_success),
        # Redacted when the run kept it; again here, for a secret learnt since (a new token).
        last_error=redact(state.last_error) if state.last_error else None,
        snapshot_age=runner.snapshot_age(),  # as /metrics says it: monotonic
        next_run=next_run,
        next_run_in=None if next_run is None else next_run - now,
        waiting_for=waiting_for,
        last_duration_seconds=state.last_duration,
        series=sum(f.series for f in snapshot.families) if snapshot is not None else None,
        series_limit=ceiling.limit if ceiling is not None else None,
    )


def _age(now: float, then: float | None) -> float | None:
    return None if then is None else max(0.0, now - then)


def budget_row(budget: RequestBudget) -> BudgetRow:
    return BudgetRow(
        api=budget.api,
        per_minute=budget.per_minute,
        tokens=budget.tokens(),
        burst=budget.capacity,
        used_last_minute=budget.used(),
        paused_for_seconds=budget.pause_left(),
        throttled_seconds_total=budget.throttled_seconds,
    )


def gather(
    scheduler: Scheduler, facts: ExporterFacts, telemetry_path: str, revision: str
) -> Status:
    now = scheduler.wall_clock()
    runners = list(scheduler.runners)
    # Tenants apart: the runners without one first, then each tenant's, each in the
    # scheduler's (dependency) order.
    runners.sort(key=lambda r: (_tenant(r) is not None, _tenant(r) or ""))
    metrics = telemetry_path.lstrip("/")
    return Status(
        now=now,
        version=__version__,
        revision=revision,
        telemetry_path=telemetry_path,
        collectors=[collector_row(runner, now) for runner in runners],
        budgets=[budget_row(budget) for budget in facts.budgets],
        config_file=facts.config_file,
        reload=facts.reload,
        # Relative, as on the old landing page: the page works behind a proxy's path prefix.
        links={"metrics": metrics, "healthy": "-/healthy", "ready": "-/ready"},
    )


def status_json(status: Status) -> bytes:
    text = json.dumps(asdict(status), indent=1, ensure_ascii=True)
    # As Go's encoder does: a value holding markup stays inert even where a client sniffs the
    # answer for HTML (the page also says nosniff).
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode()
