"""A historical summary report's definition, validated as the guide describes (type, title,
date range, granularity, grouping and filters, metrics, time zone, intra-day range, totals),
and a created `Report` with its life cycle (QUEUED, IN_PROGRESS, then DONE or FAILED)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .http import bad_request
from .report_calendar import MAX_BUCKETS, buckets
from .report_types import (
    DIMENSION_ITEMS,
    REPORT_TYPES,
    TIME_ITEMS,
    Metric,
    ReportType,
    dimensions,
    metric_label,
)
from .tenants import CcTenant

GRANULARITIES = ("15m", "30m", "hour", "day", "week", "month", "year", "none")
WEEK_SECONDS = 7 * 86_400.0
MONTH_SECONDS = 31 * 86_400.0  # "a month" of the guide's granularity rules: up to 31 days
# The guide's rules: which granularities a date range of that length allows.
_ALLOWED_GRANULARITIES = (
    (WEEK_SECONDS, ("15m", "30m", "hour", "day", "none")),
    (MONTH_SECONDS, ("none", "hour", "day", "week")),
    (float("inf"), ("none", "month", "year")),
)
MIN_INTRA_DAY_SECONDS = 15 * 60  # "The end must be 15 minutes after the start for summary reports"
_TITLE = re.compile(r"[A-Za-z0-9\s!\-_.*'()]+")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_TIME_OF_DAY = re.compile(r"(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?")


@dataclass(frozen=True)
class ReportDefinition:
    """A validated ReportDefinitionRequest."""

    type: ReportType
    title: str
    start: float
    end: float
    start_text: str
    end_text: str
    granularity: str
    grouping: str
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    metrics: tuple[Metric, ...]  # the requested ones in order, else all of the type's
    metrics_requested: tuple[str, ...]
    time_zone: str
    intra_day: tuple[int, int] | None  # seconds of the local day
    intra_day_text: tuple[str, str] | None
    include_sub_total: bool
    include_grand_total: bool

    def to_json(self, report_id: int, status: str) -> dict[str, Any]:
        """The ReportDefinitionResponse of `GET /{id}` (its schema has the id as a string)."""
        body: dict[str, Any] = {
            "id": str(report_id),
            "status": status,
            "type": self.type.type,
            "title": self.title,
            "dateRange": {"start": self.start_text, "end": self.end_text},
            "granularity": self.granularity,
            "groupBy": {
                "name": self.grouping,
                "filters": [
                    {"name": name, "values": list(values)} for name, values in self.filters
                ],
            },
            "metrics": list(self.metrics_requested),
            "timezone": self.time_zone,
            "includeSubTotal": self.include_sub_total,
            "includeGrandTotal": self.include_grand_total,
        }
        if self.intra_day_text is not None:
            body["intraDayTimeRange"] = {
                "start": self.intra_day_text[0],
                "end": self.intra_day_text[1],
            }
        return body

    def columns(self) -> list[tuple[str, str]]:
        """(key, label) of every item of a row, in order."""
        items: list[tuple[str, str]] = list(TIME_ITEMS) if self.granularity != "none" else []
        for dimension in dimensions(self.grouping):
            items.extend(DIMENSION_ITEMS[dimension])
        items.extend((metric.name, metric_label(metric.name)) for metric in self.metrics)
        return items


def parse_definition(body: Any, tenant: CcTenant) -> ReportDefinition:
    """Validate a create request; raises CcError(400) naming the first problem."""
    if not isinstance(body, dict):
        raise bad_request("Bad request: the body must be a JSON object (a report definition).")
    type_name = body.get("type")
    if not isinstance(type_name, str) or not type_name.strip():
        raise bad_request("Bad request: type is required.")
    report_type = REPORT_TYPES.get(type_name)
    if report_type is None:
        raise bad_request(f"Bad request: unknown report type [{type_name}].")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("Bad request: title is required.")
    if not _TITLE.fullmatch(title):
        raise bad_request(
            f"Bad request: invalid title [{title}]: only letters A-Z and a-z, digits 0-9, whitespace "
            "and ! - _ . * ' ( ) are allowed."
        )
    date_range = body.get("dateRange")
    if not isinstance(date_range, dict):
        raise bad_request("Bad request: dateRange is required.")
    start_text, start = _instant(date_range.get("start"), "dateRange.start")
    end_text, end = _instant(date_range.get("end"), "dateRange.end")
    if not start < end:
        raise bad_request("Bad request: dateRange.start must be before dateRange.end.")
    granularity = body.get("granularity")
    if not isinstance(granularity, str) or not granularity:
        raise bad_request("Bad request: granularity is required.")
    if granularity not in GRANULARITIES:
        raise bad_request(
            f"Bad request: invalid granularity [{granularity}]: one of {', '.join(GRANULARITIES)}."
        )
    for longest, allowed in _ALLOWED_GRANULARITIES:
        if end - start <= longest:
            if granularity not in allowed:
                span = {WEEK_SECONDS: "up to a week", MONTH_SECONDS: "from a week to a month"}.get(
                    longest, "longer than a month"
                )
                raise bad_request(
                    f"Bad request: granularity [{granularity}] is not allowed for a date range {span} "
                    f"(allowed: {', '.join(allowed)})."
                )
            break
    group_by = body.get("groupBy")
    if (
        not isinstance(group_by, dict)
        or not isinstance(group_by.get("name"), str)
        or not group_by["name"]
    ):
        raise bad_request("Bad request: groupBy.name is required.")
    grouping = group_by["name"]
    offered_filters = report_type.filters_of(grouping)
    if offered_filters is None:
        raise bad_request(
            f"Bad request: grouping [{grouping}] is not offered by report type [{report_type.type}]."
        )
    filters = _filters(group_by.get("filters"), grouping, offered_filters, report_type)
    metrics_requested, metrics = _metrics(body.get("metrics"), report_type)
    zone_name = body.get("timezone")
    if zone_name is None or zone_name == "":
        zone_name = tenant.time_zone
    if not isinstance(zone_name, str) or not _valid_zone(zone_name):
        raise bad_request(f"Bad request: unknown timezone [{zone_name}].")
    intra_day, intra_day_text = _intra_day(body.get("intraDayTimeRange"))
    definition = ReportDefinition(
        type=report_type,
        title=title,
        start=start,
        end=end,
        start_text=start_text,
        end_text=end_text,
        granularity=granularity,
        grouping=grouping,
        filters=filters,
        metrics=metrics,
        metrics_requested=metrics_requested,
        time_zone=zone_name,
        intra_day=intra_day,
        intra_day_text=intra_day_text,
        include_sub_total=_flag(body, "includeSubTotal"),
        include_grand_total=_flag(body, "includeGrandTotal"),
    )
    if len(buckets(granularity, start, end, zone_name)) > MAX_BUCKETS:
        raise bad_request(
            f"Bad request: the date range has more than {MAX_BUCKETS} [{granularity}] intervals."
        )
    return definition


def _instant(value: Any, name: str) -> tuple[str, float]:
    if value is None or value == "":
        raise bad_request(f"Bad request: {name} is required.")
    match = _DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise bad_request(
            f"Bad request: invalid {name} [{value}]: expected YYYY-MM-DDTHH:MM:SS.SSSZ."
        )
    fraction = match.group(2) or ""
    offset = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        moment = datetime.fromisoformat(match.group(1) + fraction + offset)
    except ValueError:
        raise bad_request(
            f"Bad request: invalid {name} [{value}]: not a valid date and time."
        ) from None
    if not 1900 <= moment.year <= 9998:  # keeps every local calendar computation in range
        raise bad_request(
            f"Bad request: invalid {name} [{value}]: the year must be within 1900..9998."
        )
    return value, moment.timestamp()


def _filters(
    raw: Any, grouping: str, offered: tuple[str, ...], report_type: ReportType
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise bad_request("Bad request: groupBy.filters must be an array of {name, values}.")
    result: dict[str, list[str]] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad_request("Bad request: every filter needs a name and values.")
        name, values = item["name"], item.get("values")
        if name not in offered:
            raise bad_request(
                f"Bad request: filter [{name}] is not offered by grouping [{grouping}] of report type "
                f"[{report_type.type}] (offered: {', '.join(offered)})."
            )
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise bad_request(
                f"Bad request: the values of filter [{name}] must be an array of strings."
            )
        bucket = result.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)
    return tuple((name, tuple(values)) for name, values in result.items())


def _metrics(raw: Any, report_type: ReportType) -> tuple[tuple[str, ...], tuple[Metric, ...]]:
    if raw is None or raw == []:
        return (), report_type.metrics
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise bad_request("Bad request: metrics must be an array of metric names.")
    chosen: list[Metric] = []
    for name in raw:
        metric = report_type.metric(name)
        if metric is None:
            raise bad_request(
                f"Bad request: unknown metric [{name}] for report type [{report_type.type}]."
            )
        if metric not in chosen:
            chosen.append(metric)
    return tuple(m.name for m in chosen), tuple(chosen)


def _intra_day(raw: Any) -> tuple[tuple[int, int] | None, tuple[str, str] | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise bad_request("Bad request: intraDayTimeRange must be an object with start and end.")
    seconds: list[int] = []
    texts: list[str] = []
    for name in ("start", "end"):
        value = raw.get(name)
        match = _TIME_OF_DAY.fullmatch(value) if isinstance(value, str) else None
        if (
            match is None
            or int(match.group(1)) > 23
            or int(match.group(2)) > 59
            or int(match.group(3)) > 59
        ):
            raise bad_request(
                f"Bad request: invalid intraDayTimeRange.{name} [{value}]: expected hh:mm:ss."
            )
        seconds.append(int(match.group(1)) * 3600 + int(match.group(2)) * 60 + int(match.group(3)))
        texts.append(match.group(0))
    # An end before the start crosses midnight (overnight shifts, since v6).
    if (seconds[1] - seconds[0]) % 86_400 < MIN_INTRA_DAY_SECONDS:
        raise bad_request(
            "Bad request: intraDayTimeRange.end must be at least 15 minutes after intraDayTimeRange.start."
        )
    return (seconds[0], seconds[1]), (texts[0], texts[1])


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise bad_request(f"Bad request: {name} must be true or false.")


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass
class Report:
    """One created report. `fail_reason` set: it ends FAILED instead of DONE."""

    id: int
    tenant_id: str
    definition: ReportDefinition
    created_at: float
    ready_at: float
    fail_reason: str | None
    rows: list[dict[str, Any]] | None

    def status(self, now: float) -> str:
        """The v8 spec's enum: QUEUED for the first third of the delay (the service busy with
        other reports), IN_PROGRESS until it is ready, then DONE or FAILED."""
        if now < self.created_at + (self.ready_at - self.created_at) / 3:
            return "QUEUED"
        if now < self.ready_at:
            return "IN_PROGRESS"
        return "FAILED" if self.fail_reason is not None else "DONE"
