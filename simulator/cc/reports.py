"""Historical summary reports: the definition (validated as the guide describes), the rows computed
from a tenant's model when the report is created, and the report's life cycle.

Rows: one per time bucket (calendar-aligned in the report's time zone; a single one without
granularity) and per value combination of the grouping's dimensions that the tenant's
configuration has (every queue with its media and channels, every agent with its group and
queues), zeros included. Facts are counted in the bucket of their own time (an entry at its
entry, an acceptance when accepted, ...), in [start, end) and within the intra-day range.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .aggregate import Agg
from .http import bad_request
from .model import TenantModel, status_seconds
from .report_types import (
    DIMENSION_ITEMS,
    REPORT_TYPES,
    TIME_ITEMS,
    Metric,
    ReportType,
    Source,
    dimensions,
    format_value,
    metric_label,
)
from .tenants import CcAgent, CcGroup, CcQueue, CcTenant

GRANULARITIES = ("15m", "30m", "hour", "day", "week", "month", "year", "none")
WEEK_SECONDS = 7 * 86_400.0
MONTH_SECONDS = 31 * 86_400.0  # "a month" of the guide's granularity rules: up to 31 days
# The guide's rules: which granularities a date range of that length allows.
_ALLOWED_GRANULARITIES = (
    (WEEK_SECONDS, ("15m", "30m", "hour", "day", "none")),
    (MONTH_SECONDS, ("none", "hour", "day", "week")),
    (float("inf"), ("none", "month", "year")),
)
MAX_BUCKETS = 5000
MIN_INTRA_DAY_SECONDS = 15 * 60  # "The end must be 15 minutes after the start for summary reports"
_TITLE = re.compile(r"[A-Za-z0-9\s!\-_.*'()]+")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_TIME_OF_DAY = re.compile(r"(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?")
# Media filter values: "InboundPhone" is the phone media (every simulated interaction is inbound).
_MEDIA_FILTER_ALIASES = {"InboundPhone": "Phone"}
_MEDIA_ORDER = {"Phone": 0, "Chat": 1}


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


# ----------------------------------------------------------------- validation
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
    if len(buckets(definition)) > MAX_BUCKETS:
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


# ----------------------------------------------------------------- time buckets
def buckets(definition: ReportDefinition) -> list[tuple[float, float]]:
    """[start, end) of every interval, aligned to the local calendar of the report's zone
    (weeks start on Monday); one interval, the date range itself, without granularity."""
    granularity, start, end = definition.granularity, definition.start, definition.end
    if granularity == "none":
        return [(start, end)]
    zone = ZoneInfo(definition.time_zone)
    local = datetime.fromtimestamp(start, zone)
    result: list[tuple[float, float]] = []
    if granularity in ("15m", "30m", "hour"):
        step = {"15m": 900, "30m": 1800, "hour": 3600}[granularity]
        minutes = step // 60
        floor = local.replace(
            minute=(local.minute // minutes) * minutes if minutes < 60 else 0,
            second=0,
            microsecond=0,
        )
        boundary = floor.timestamp()
        while boundary < end and len(result) <= MAX_BUCKETS:
            result.append((boundary, boundary + step))
            boundary += step
        return result
    day = local.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    elif granularity == "month":
        day = day.replace(day=1)
    elif granularity == "year":
        day = day.replace(month=1, day=1)
    boundary = _midnight(day, zone)
    while boundary < end and len(result) <= MAX_BUCKETS:
        day = _next_day(day, granularity)
        following = _midnight(day, zone)
        result.append((boundary, following))
        boundary = following
    return result


def _next_day(day: date, granularity: str) -> date:
    if granularity == "day":
        return day + timedelta(days=1)
    if granularity == "week":
        return day + timedelta(days=7)
    if granularity == "month":
        return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date(day.year + 1, 1, 1)


def _midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def local_label(epoch: float, zone: ZoneInfo) -> str:
    """2022-08-29T00:00-04:00, as the guide's rows show times (Z for a zero offset, like Java)."""
    moment = datetime.fromtimestamp(epoch, zone)
    offset = moment.utcoffset() or timedelta(0)
    total = int(offset.total_seconds())
    if total == 0:
        suffix = "Z"
    else:
        sign = "+" if total > 0 else "-"
        hours, minutes = divmod(abs(total) // 60, 60)
        suffix = f"{sign}{hours:02d}:{minutes:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M") + suffix


def allowed_intervals(definition: ReportDefinition) -> list[tuple[float, float]]:
    """The parts of [start, end) within the intra-day range of each local day."""
    start, end = definition.start, definition.end
    if definition.intra_day is None:
        return [(start, end)]
    zone = ZoneInfo(definition.time_zone)
    from_seconds, to_seconds = definition.intra_day
    day = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, zone).date()
    result: list[tuple[float, float]] = []
    while day <= last:
        low = _local_epoch(day, from_seconds, zone)
        high = _local_epoch(
            day if to_seconds > from_seconds else day + timedelta(days=1), to_seconds, zone
        )
        low, high = max(low, start), min(high, end)
        if high > low:
            result.append((low, high))
        day += timedelta(days=1)
    return result


def _local_epoch(day: date, seconds: int, zone: ZoneInfo) -> float:
    hours, rest = divmod(seconds, 3600)
    return datetime(
        day.year, day.month, day.day, hours, rest // 60, rest % 60, tzinfo=zone
    ).timestamp()


# ----------------------------------------------------------------- rows
@dataclass
class _Dimensions:
    """Names and display order of the tenant's dimension values."""

    tenant: CcTenant
    channel_order: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for queue in self.tenant.queues:
            for _, channel in queue.channels:
                self.channel_order.setdefault(channel, len(self.channel_order))

    def order(self, dimension: str, value: str) -> int:
        tenant = self.tenant
        if dimension == "queue":
            return tenant.queues.index(tenant.queue_by_id[value])
        if dimension == "agent":
            return tenant.agents.index(tenant.agent_by_id[value])
        if dimension == "group":
            return tenant.groups.index(tenant.group_by_id[value])
        if dimension == "media":
            return _MEDIA_ORDER.get(value, len(_MEDIA_ORDER))
        return self.channel_order.get(value, len(self.channel_order))

    def items(self, dimension: str, value: str | None) -> list[tuple[str, str, str | None]]:
        (key, label), *rest = DIMENSION_ITEMS[dimension]
        if dimension in ("media", "channel"):
            return [(key, label, value)]
        id_key, id_label = rest[0]
        if value is None:
            return [(key, label, None), (id_key, id_label, None)]
        tenant = self.tenant
        entity: CcQueue | CcAgent | CcGroup
        if dimension == "queue":
            entity = tenant.queue_by_id[value]
        elif dimension == "agent":
            entity = tenant.agent_by_id[value]
        else:
            entity = tenant.group_by_id[value]
        return [(key, label, entity.name), (id_key, id_label, entity.id)]


def _universe(tenant: CcTenant, source: Source) -> list[dict[str, str]]:
    """Every dimension-value combination the tenant's configuration has, for a source."""
    combos: list[dict[str, str]] = []
    if source is Source.QUEUE:
        for queue in tenant.queues:
            for media, channel in queue.channels:
                combos.append({"queue": queue.id, "media": media, "channel": channel})
    elif source is Source.AGENT_INTERACTIONS:
        for agent in tenant.agents:
            for queue_id in agent.queue_ids:
                for media, channel in tenant.queue_by_id[queue_id].channels:
                    combos.append(
                        {
                            "group": agent.group_id,
                            "agent": agent.id,
                            "queue": queue_id,
                            "media": media,
                            "channel": channel,
                        }
                    )
    else:
        for agent in tenant.agents:
            combos.append({"group": agent.group_id, "agent": agent.id})
    return combos


def compute_rows(definition: ReportDefinition, model: TenantModel) -> list[dict[str, Any]]:
    """Every row of the report from the model's facts up to now (hold the model's lock)."""
    tenant = model.tenant
    zone = ZoneInfo(definition.time_zone)
    dims = dimensions(definition.grouping)
    names = _Dimensions(tenant)
    filters = {
        name: {_MEDIA_FILTER_ALIASES.get(v, v) for v in values} if name == "media" else set(values)
        for name, values in definition.filters
    }

    def passes(values: Mapping[str, str]) -> bool:
        return all(values.get(name) in accepted for name, accepted in filters.items())

    source = definition.type.source
    combos_seen = {tuple(c[d] for d in dims) for c in _universe(tenant, source) if passes(c)}
    spans = buckets(definition)
    starts = [span[0] for span in spans]
    intervals = allowed_intervals(definition)
    interval_starts = [low for low, _ in intervals]
    cells: dict[tuple[int, tuple[str, ...]], Agg] = {}

    def cell(at: float, values: Mapping[str, str]) -> Agg | None:
        position = bisect_right(interval_starts, at) - 1
        if position < 0 or at >= intervals[position][1] or not passes(values):
            return None
        key = (bisect_right(starts, at) - 1, tuple(values[d] for d in dims))
        combos_seen.add(key[1])
        agg = cells.get(key)
        if agg is None:
            agg = cells[key] = Agg()
        return agg

    start, end = definition.start, definition.end
    agent_group = {agent.id: agent.group_id for agent in tenant.agents}
    if source is Source.QUEUE:
        for entry in model.entries.window(start, end):
            target = cell(
                entry.at, {"queue": entry.queue, "media": entry.media, "channel": entry.channel}
            )
            if target is not None:
                target.add_entry(entry)
        for leave in model.leaves.window(start, end):
            target = cell(
                leave.at, {"queue": leave.queue, "media": leave.media, "channel": leave.channel}
            )
            if target is not None:
                target.add_leave(leave)
    if source in (Source.QUEUE, Source.AGENT_INTERACTIONS):
        for offer in model.offers.window(start, end):
            target = cell(
                offer.at,
                {
                    "queue": offer.queue,
                    "media": offer.media,
                    "channel": offer.channel,
                    "agent": offer.agent,
                    "group": agent_group[offer.agent],
                },
            )
            if target is not None:
                target.add_offer(offer)
        for completion in model.completions.window(start, end):
            target = cell(
                completion.at,
                {
                    "queue": completion.queue,
                    "media": completion.media,
                    "channel": completion.channel,
                    "agent": completion.agent,
                    "group": agent_group[completion.agent],
                },
            )
            if target is not None:
                target.add_completion(completion)
    if source is Source.AGENT_STATUS:
        pieces = _pieces(spans, intervals)
        for agent in tenant.agents:
            values = {"agent": agent.id, "group": agent.group_id}
            if not passes(values):
                continue
            combo = tuple(values[d] for d in dims)
            times, statuses = model.status_history(agent.id)
            now = model.now
            for index, low, high in pieces:
                seconds = status_seconds(times, statuses, low, min(high, now))
                if seconds:
                    key = (index, combo)
                    agg = cells.get(key)
                    if agg is None:
                        agg = cells[key] = Agg()
                    agg.add_status_seconds(seconds)

    combos = sorted(
        combos_seen, key=lambda combo: tuple(names.order(d, v) for d, v in zip(dims, combo))
    )
    return _assemble(definition, zone, dims, names, spans, combos, cells)


def _pieces(
    spans: list[tuple[float, float]], intervals: list[tuple[float, float]]
) -> list[tuple[int, float, float]]:
    """(bucket index, low, high) of every part of a bucket within the allowed intervals."""
    result: list[tuple[int, float, float]] = []
    position = 0
    for index, (low, high) in enumerate(spans):
        while position < len(intervals) and intervals[position][1] <= low:
            position += 1
        scan = position
        while scan < len(intervals) and intervals[scan][0] < high:
            a, b = max(low, intervals[scan][0]), min(high, intervals[scan][1])
            if b > a:
                result.append((index, a, b))
            scan += 1
    return result


def _assemble(
    definition: ReportDefinition,
    zone: ZoneInfo,
    dims: tuple[str, ...],
    names: _Dimensions,
    spans: list[tuple[float, float]],
    combos: list[tuple[str, ...]],
    cells: dict[tuple[int, tuple[str, ...]], Agg],
) -> list[dict[str, Any]]:
    timed = definition.granularity != "none"
    metrics = definition.metrics
    rows: list[dict[str, Any]] = []

    def row(
        total: dict[str, Any] | None,
        times: tuple[str | None, str | None] | None,
        values: Iterable[str | None],
        agg: Agg,
    ) -> None:
        items: list[dict[str, Any]] = []
        if timed:
            for (key, label), value in zip(TIME_ITEMS, times or (None, None)):
                items.append({"key": key, "label": label, "value": value})
        for dimension, value in zip(dims, values):
            items.extend(
                {"key": k, "label": l, "value": v} for k, l, v in names.items(dimension, value)
            )
        for metric in metrics:
            items.append(
                {
                    "key": metric.name,
                    "label": metric_label(metric.name),
                    "value": format_value(metric.kind, metric.value(agg)),
                }
            )
        rows.append({"total": total, "items": items})

    grand = Agg()
    for index, (low, high) in enumerate(spans):
        times = (local_label(low, zone), local_label(high, zone)) if timed else None
        block: tuple[str, int, Agg] | None = None  # first dimension value, first row index, sum

        def close_block() -> None:
            if block is not None and definition.include_sub_total:
                first, first_index, agg = block
                row(
                    {"type": "subtotal", "startIndex": first_index, "endIndex": len(rows) - 1},
                    times,
                    [first] + [None] * (len(dims) - 1),
                    agg,
                )

        for combo in combos:
            agg = cells.get((index, combo)) or Agg()
            if block is None or block[0] != combo[0]:
                close_block()
                block = (combo[0], len(rows), Agg())
            block[2].merge(agg)
            grand.merge(agg)
            row(None, times, combo, agg)
        close_block()
    if definition.include_grand_total:
        row(
            {"type": "grandtotal", "startIndex": None, "endIndex": None},
            None,
            [None] * len(dims),
            grand,
        )
    return rows


def rows_csv(definition: ReportDefinition, rows: list[dict[str, Any]]) -> str:
    """The download: a header of labels, then every row (no cap), null as an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label for _, label in definition.columns()])
    for data in rows:
        writer.writerow(["" if item["value"] is None else item["value"] for item in data["items"]])
    return out.getvalue()


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
        if now < self.ready_at:
            return "IN_PROGRESS"
        return "FAILED" if self.fail_reason is not None else "DONE"
