"""The metric catalogue, generated from the code's own tables: `python -m exporter.catalogue`.

docs/metrics.md is this module's output; a test keeps the two equal, and another checks that
everything the exporter exposes against the simulator is listed here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from exporter.api.budget import BUDGET_METRICS
from exporter.api.http import API_METRICS
from exporter.metrics.cc_tables import REPORT_PREFIX, TABLES
from exporter.metrics.queue_tables import CALL_QUEUE_METRICS, REALTIME_METRICS
from exporter.metrics.summary_tables import metrics_of
from exporter.pollers.call_details import (
    LEG_FAMILIES,
    RECORD_FAMILIES,
    CallLegCollector,
    CallRecordCollector,
)
from exporter.pollers.call_queues import QUEUE_LABELS, QUEUE_PREFIX, SUMMARY_PREFIX
from exporter.pollers.cc_realtime import (
    AGENT_INFO,
    AGENT_LINE_STATUS,
    AGENT_LINE_TIME,
    AGENT_STATUS,
    entity_labels,
    family_name,
)
from exporter.pollers.cc_reports import REPORT_META
from exporter.pollers.discovery import INFO_METRICS
from exporter.pollers.summaries import (
    EXTENSION_INFO,
    CompanySummaryCollector,
    ExtensionCollector,
    RingGroupCollector,
    RingGroupMemberCollector,
)
from exporter.reload import RELOAD_METRICS
from exporter.serving.exposition import BUILD_INFO, EXPOSITION_METRICS, SELF_METRICS, SHARD_INFO

# Report metrics are named after the configured reports' metrics: one pattern row.
REPORT_METRIC_PATTERN = REPORT_PREFIX + "<metric>"


def listed(name: str, catalogue: set[str]) -> bool:
    """Whether an exposed name is in the catalogue, report metrics by their pattern."""
    return name in catalogue or (
        name.startswith(REPORT_PREFIX) and REPORT_METRIC_PATTERN in catalogue
    )


@dataclass(frozen=True)
class Entry:
    name: str  # as exposed (counters with `_total`)
    type: str
    labels: tuple[str, ...]
    help: str
    source: str


def entries() -> list[Entry]:
    rows: list[Entry] = []
    for name, (kind, help_text) in SELF_METRICS.items():
        exposed = name + "_total" if kind == "counter" else name
        rows.append(Entry(exposed, kind, ("collector",), help_text, "exporter"))
    for name, help_text, labels in (BUILD_INFO, SHARD_INFO):
        rows.append(Entry(name, "gauge", tuple(labels), help_text, "exporter"))
    for name, help_text in RELOAD_METRICS.items():
        rows.append(Entry(name, "gauge", (), help_text, "exporter"))
    for name, (kind, help_text) in EXPOSITION_METRICS.items():
        exposed = name + "_total" if kind == "counter" else name
        rows.append(Entry(exposed, kind, (), help_text, "exporter"))
    for name, (kind, help_text) in API_METRICS.items():
        exposed = name + "_total" if kind == "counter" else name
        rows.append(Entry(exposed, kind, ("api", "endpoint"), help_text, "exporter"))
    for name, (kind, help_text) in BUDGET_METRICS.items():
        exposed = name + "_total" if kind == "counter" else name
        rows.append(Entry(exposed, kind, ("api",), help_text, "exporter"))
    for name, (help_text, labels) in INFO_METRICS.items():
        rows.append(Entry(name, "gauge", tuple(labels), help_text, "discovery"))
    queue_rows: dict[str, Entry] = {}
    for api, table in (("call_queue_metrics", CALL_QUEUE_METRICS), ("realtime", REALTIME_METRICS)):
        for metric in table.values():
            window = ("window",) if metric.windowed else ()
            for prefix, labels, lead in (
                (QUEUE_PREFIX, tuple(QUEUE_LABELS), ""),
                (SUMMARY_PREFIX, ("pbx",), "PBX summary: "),
            ):
                name = prefix + metric.name + metric.unit_suffix
                source = (
                    f"call_queues (`{metric.key}`)"
                    if api == "call_queue_metrics"
                    else f"call_queues, api realtime (`{metric.key}`)"
                )
                if name in queue_rows:
                    previous = queue_rows[name]
                    source = f"{previous.source}; {source}"
                queue_rows[name] = Entry(name, "gauge", labels + window, lead + metric.help, source)
    rows.extend(sorted(queue_rows.values(), key=lambda e: e.name))
    for collector in (
        CompanySummaryCollector,
        RingGroupCollector,
        RingGroupMemberCollector,
        ExtensionCollector,
    ):
        shape = collector.shape
        source = f"{collector.name} (`{shape.endpoint}`)"
        for metric in metrics_of(shape.keys):
            rows.append(
                Entry(
                    shape.metric_name(metric),
                    "gauge",
                    (*shape.labels, "window"),
                    metric.help,
                    source,
                )
            )
        if collector is ExtensionCollector:
            name, help_text, labels = EXTENSION_INFO
            rows.append(Entry(name, "gauge", tuple(labels), help_text, source))
    for collector, spec in (
        (CallRecordCollector, RECORD_FAMILIES),
        (CallLegCollector, LEG_FAMILIES),
    ):
        source = f"{collector.name} (`{collector.endpoint}`)"
        rows.append(
            Entry(
                spec.calls + "_total",
                "counter",
                (*spec.key_labels, "outcome"),
                spec.calls_help,
                source,
            )
        )
        rows.append(
            Entry(spec.wait, "histogram", (*spec.key_labels, "outcome"), spec.wait_help, source)
        )
        rows.append(Entry(spec.talk, "histogram", spec.key_labels, spec.talk_help, source))
    rows.extend(contact_center_entries())
    return rows


def contact_center_entries() -> list[Entry]:
    rows: dict[str, Entry] = {}
    for kind, table in TABLES.items():
        for metric in table.values():
            name = family_name(kind, metric)
            key = f"{metric.name}.<period>" + (f".{metric.qualifier}" if metric.qualifier else "")
            source = f"cc_{kind} (`{key}`)"
            if name in rows:  # `eligibl` and `eligible`: one metric
                source = f"{rows[name].source}; {source}"
            rows[name] = Entry(name, "gauge", tuple(entity_labels(kind)), metric.help, source)
    out = sorted(rows.values(), key=lambda e: e.name)
    for name, help_text, labels in (AGENT_INFO, AGENT_STATUS, AGENT_LINE_STATUS, AGENT_LINE_TIME):
        out.append(Entry(name, "gauge", tuple(labels), help_text, "cc_agents (`/agents`)"))
    out.append(
        Entry(
            REPORT_METRIC_PATTERN,
            "gauge",
            ("tenant", "report", "<dimensions>", "[interval_start]"),
            "One gauge per metric of a configured report: `fooPercentage` becomes "
            "`..._foo_ratio`, a metric ending in Time or Duration `..._seconds`, any other "
            "`..._foo` (snake case); labelled by the grouping's dimensions in snake case "
            "(`queue`, `queue_id`, `agent`, `media`, ...), and by `interval_start` when "
            "the granularity is not `none`.",
            "cc_report:NAME (`/historical-metrics`)",
        )
    )
    for name, (help_text, labels) in REPORT_META.items():
        out.append(Entry(name, "gauge", tuple(labels), help_text, "cc_report:NAME"))
    return out


def markdown() -> str:
    lines = [
        "# Metric catalogue",
        "",
        "Generated by `python -m exporter.catalogue > docs/metrics.md`; a test fails when this",
        "file and the code disagree. Durations are in seconds and percentages are ratios (0..1)",
        "whatever unit the 8x8 API answers in. Every 8x8 metric is a gauge built from the last",
        "poll; its HELP text says which endpoint it comes from and how often it is polled.",
        "",
        "Label `window` is the span an aggregate covers: `24h` for the Call Queue Metric API",
        "asked without dates (the vendor's rolling last 24 hours); for the summaries, a configured",
        "window (`15m`, `1h`, `24h`, `today`, `this_week`, ...) resolved in `work_analytics.time_zone`.",
        "Summary counts are gauges (a window's count falls as old calls leave it); the `_total`",
        "counters and the histograms come from call records and call legs, counted once each",
        "from the exporter's start. Outcomes: `answered`, `voicemail`, `abandoned`, `missed`,",
        "`other`; directions: `inbound`, `outbound`, `internal`, `other`. Series beyond a",
        "collector's `max_series` are counted under `_other`.",
        "",
        "Contact Center (`eightbyeight_cc_*`): label `tenant` is the tenant id (`default` for a",
        "single-tenant account); realtime metrics carry `period` as the API names it (`rt` for",
        "now, `int-15m`, `int-30m`, `int-1h` ... `int-12h` for the last minutes or hours, `today`",
        "since midnight in `contact_center.time_zone`). Report metrics are named after the",
        "configured reports' metrics, by the rule in their row below.",
        "The exporter also exposes the standard `process_*` and `python_*` metrics.",
        "",
        "| metric | type | labels | meaning | source |",
        "|---|---|---|---|---|",
    ]
    for e in entries():
        lines.append(
            f"| `{e.name}` | {e.type} | {', '.join(f'`{l}`' for l in e.labels)} | "
            f"{e.help} | {e.source} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(markdown())
