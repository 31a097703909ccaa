"""The status page at `/` as an operator reads it: plain HTML (no script, no external resource,
every value escaped) or `?format=json`, rendered at most once a second."""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass

from exporter.core.revision import build_revision
from exporter.pollers.base import Scheduler
from exporter.serving.status import (
    BudgetRow,
    CollectorRow,
    ExporterFacts,
    Status,
    StatusFacts,
    gather,
    status_json,
)

# Rendered at most once per this many seconds of the scheduler's clock, as the clock part of
# /metrics (exposition.CLOCK_PART_SECONDS): a browser reloading it, or a crawler, costs at
# most one rendering a second however often it asks.
STATUS_PAGE_SECONDS = 1.0
# No script may run (a value that slipped through escaping stays inert), nothing is fetched
# from elsewhere; the inline <style> is the page's only extra.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_STYLE = """
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.num{text-align:right}
.ok{color:#1a7f37}.failing,.stuck{color:#c62828;font-weight:bold}
.running-now{color:#1f5fbf}.not-run-yet{color:#777}
td.error{font-family:monospace;white-space:pre-wrap;max-width:40em;word-break:break-word}
"""
_NONE = "\u2014"  # an em dash: nothing to show


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def format_time(epoch: float | None) -> str:
    if epoch is None:
        return _NONE
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def format_age(seconds: float | None) -> str:
    """`42s`, `3m 04s`, `2h 05m`, `3d 04h`: the two largest units, as a glance needs."""
    if seconds is None:
        return _NONE
    whole = int(max(0.0, seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d {whole % 86400 // 3600:02d}h"


def _next_run(row: CollectorRow) -> str:
    if row.state in ("running now", "stuck") and row.next_run is None:
        return "after this run"
    if row.waiting_for is not None:
        return f"after {row.waiting_for}'s first run"
    if row.next_run is None or row.next_run_in is None:
        return "now" if row.state == "not run yet" else _NONE
    if row.next_run_in < 0:
        return f"due ({format_age(-row.next_run_in)} late)"
    return f"in {format_age(row.next_run_in)} ({format_time(row.next_run)})"


def _collector_line(row: CollectorRow) -> str:
    success = _NONE
    if row.last_success is not None:
        success = f"{format_time(row.last_success)} ({format_age(row.last_success_age)} ago)"
    series = _NONE if row.series is None else str(row.series)
    if row.series_limit is not None:
        series += f" / {row.series_limit}"
    took = _NONE if row.last_duration_seconds is None else f"{row.last_duration_seconds:.3f}s"
    css = row.state.replace(" ", "-")
    cells = (
        f"<td>{_e(row.collector)}</td>",
        f"<td>{_e(row.tenant or _NONE)}</td>",
        f'<td class="{css}">{_e(row.state)}</td>',
        f"<td>{_e(success)}</td>",
        f'<td class="num">{_e(format_age(row.snapshot_age))}</td>',
        f"<td>{_e(_next_run(row))}</td>",
        f'<td class="num">{_e(format_age(row.interval_seconds))}</td>',
        f'<td class="num">{_e(took)}</td>',
        f'<td class="num">{_e(series)}</td>',
        f'<td class="error">{_e(row.last_error or _NONE)}</td>',
    )
    return "<tr>" + "".join(cells) + "</tr>"


def _budget_line(row: BudgetRow) -> str:
    paused = (
        f"paused for {row.paused_for_seconds:.0f}s more (429 Retry-After)"
        if row.paused_for_seconds > 0
        else "no"
    )
    cells = (
        f"<td>{_e(row.api)}</td>",
        f'<td class="num">{_e(f"{row.per_minute:g}")}</td>',
        f'<td class="num">{_e(f"{row.tokens:.1f} of {row.burst:g}")}</td>',
        f'<td class="num">{_e(row.used_last_minute)}</td>',
        f"<td>{_e(paused)}</td>",
        f'<td class="num">{_e(f"{row.throttled_seconds_total:.1f}s")}</td>',
    )
    return "<tr>" + "".join(cells) + "</tr>"


def _table(headings: tuple[str, ...], lines: list[str], empty: str) -> str:
    if not lines:
        return f"<p>{_e(empty)}</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in headings)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _config(status: Status) -> str:
    file = status.config_file or "none (defaults and environment)"
    lines = [f"<li>Config file: <code>{_e(file)}</code></li>"]
    reload = status.reload
    if reload is not None:
        if reload.attempted_at is None:
            outcome = f"loaded at start-up, {format_time(reload.loaded_at)}"
        elif reload.successful:
            outcome = f"last reload succeeded, {format_time(reload.attempted_at)}"
        else:
            outcome = (
                f"last reload FAILED, {format_time(reload.attempted_at)}: the configuration "
                f"loaded {format_time(reload.loaded_at)} stays (see the log, "
                "config_reload_failed)"
            )
        lines.append(f"<li>{_e(outcome)}</li>")
    return "<ul>" + "".join(lines) + "</ul>"


def status_html(status: Status) -> bytes:
    states: dict[str, int] = {}
    for row in status.collectors:
        states[row.state] = states.get(row.state, 0) + 1
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    links = status.links
    collectors = _table(
        (
            "Collector",
            "Tenant",
            "State",
            "Last success",
            "Snapshot age",
            "Next run",
            "Interval",
            "Last run took",
            "Series / ceiling",
            "Last error",
        ),
        [_collector_line(row) for row in status.collectors],
        "No collector is enabled.",
    )
    budgets = _table(
        ("API", "Per minute", "Tokens now", "Sent in the last minute", "Paused", "Waited"),
        [_budget_line(row) for row in status.budgets],
        "No API budget is known to this page.",
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>8x8 Exporter</title>
<style>{_STYLE}</style></head>
<body>
<h1>8x8 Exporter</h1>
<p>Prometheus exporter for 8x8 Work Analytics and Contact Center analytics, version
{_e(status.version)}, revision <code>{_e(status.revision)}</code>. As of
{_e(format_time(status.now))}.</p>
<ul>
<li><a href="{_e(links["metrics"])}">Metrics</a></li>
<li><a href="{_e(links["healthy"])}">Health</a></li>
<li><a href="{_e(links["ready"])}">Readiness</a></li>
<li><a href="?format=json">This page as JSON</a></li>
</ul>
<h2>Collectors</h2>
<p>{_e(len(status.collectors))} collectors: {_e(summary or "none")}.</p>
{collectors}
<h2>API request budgets</h2>
{budgets}
<h2>Configuration</h2>
{_config(status)}
</body></html>
"""
    return page.encode()


@dataclass(frozen=True)
class _Rendered:
    key: tuple[object, ...]
    rendered_at: float
    body: bytes


class StatusPage:
    """The page of one server, rendered again at most once per STATUS_PAGE_SECONDS, or at
    once when a run ended, a reload replaced the scheduler or the config's outcome changed:
    what an operator just did shows on the next look. Racing requests may both render; either
    result is as fresh."""

    def __init__(self, telemetry_path: str = "/metrics", facts: StatusFacts | None = None) -> None:
        self.telemetry_path = telemetry_path
        self.facts = facts
        self.renders = 0
        # Found here, not per request: finding it may run git.
        self.revision = build_revision()
        self._rendered: dict[bool, _Rendered] = {}
        self._lock = threading.Lock()

    def answer(self, scheduler: Scheduler, *, as_json: bool) -> bytes:
        facts = self.facts() if self.facts is not None else ExporterFacts()
        now = scheduler.wall_clock()
        # The scheduler's id (not the object: comparing dataclasses compares their runners) is
        # for freshness only; should a new one reuse it, the page is still at most a second old.
        runs = sum(runner.version for runner in scheduler.runners)
        key = (id(scheduler), len(scheduler.runners), runs, facts.reload)
        cached = self._rendered.get(as_json)
        if (
            cached is not None
            and cached.key == key
            and 0.0 <= now - cached.rendered_at < STATUS_PAGE_SECONDS
        ):
            return cached.body
        status = gather(scheduler, facts, self.telemetry_path, self.revision)
        body = status_json(status) if as_json else status_html(status)
        with self._lock:
            self._rendered[as_json] = _Rendered(key, now, body)
            self.renders += 1
        return body
