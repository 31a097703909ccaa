"""What a configured Contact Center report asks of the historical metrics API: the checks
against the report types API and the body that creates one run of the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from exporter.config import ReportConfig

ISO_MILLIS = "%Y-%m-%dT%H:%M:%S.000Z"


def _list(value: Any) -> list[Any]:
    """A JSON array, or nothing: a word or a number where the report types API documents an
    array offers nothing (iterating it would split a word or fail on a number)."""
    return value if isinstance(value, list) else []


def check_report(report: ReportConfig, types: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the report types API says is wrong with a configured report (empty: nothing)."""
    by_type = {str(t.get("type")): t for t in types}
    found = by_type.get(report.type)
    if found is None:
        return [
            f"unknown report type {report.type!r} (the API offers: "
            f"{', '.join(sorted(by_type)) or 'none'})"
        ]
    problems = []
    groupings = {
        str(g.get("name")): g for g in _list(found.get("groupBy")) if isinstance(g, Mapping)
    }
    grouping = groupings.get(report.group_by)
    if grouping is None:
        problems.append(
            f"group_by {report.group_by!r} is not offered by {report.type} "
            f"(offered: {', '.join(sorted(groupings))})"
        )
    else:
        filters = {str(f) for f in _list(grouping.get("filters"))}
        for item in report.filters:
            if item.name not in filters:
                problems.append(
                    f"filter {item.name!r} is not offered by grouping {report.group_by} "
                    f"(offered: {', '.join(sorted(filters)) or 'none'})"
                )
    metrics = {str(m) for m in _list(found.get("metrics"))}
    for metric in report.metrics:
        if metric not in metrics:
            problems.append(f"unknown metric {metric!r} for {report.type}")
    return problems


def definition(
    report: ReportConfig, start: float, end: float, time_zone: str | None
) -> dict[str, Any]:
    """The body of `POST /historical-metrics` for one run."""
    body: dict[str, Any] = {
        "type": report.type,
        # Letters, digits, spaces and ! - _ . * ' ( ) only (guide); it names a downloaded file.
        "title": f"eightbyeight exporter {report.name}",
        "dateRange": {"start": _iso(start), "end": _iso(end)},
        "granularity": report.granularity,
        "groupBy": {
            "name": report.group_by,
            "filters": [{"name": f.name, "values": list(f.values)} for f in report.filters],
        },
        "includeSubTotal": False,
        "includeGrandTotal": False,
    }
    if time_zone is not None:  # else the tenant's default time zone (guide)
        body["timezone"] = time_zone
    if report.metrics:
        body["metrics"] = list(report.metrics)
    if report.intra_day_time_range is not None:
        body["intraDayTimeRange"] = {
            "start": report.intra_day_time_range.start,
            "end": report.intra_day_time_range.end,
        }
    return body


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime(ISO_MILLIS)


def offered_metrics(types: Sequence[Mapping[str, Any]], report_type: str) -> list[str]:
    """Every metric the report types API offers for a type (one `check_report` accepted)."""
    offered = next(t for t in types if str(t.get("type")) == report_type)
    return [str(m) for m in _list(offered.get("metrics"))]
