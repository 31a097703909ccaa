"""The calendar of historical reports: the time buckets of a granularity aligned to the local
calendar of the report's time zone, the parts of a date range within an intra-day range, and
the local times the rows show."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_BUCKETS = 5000


def buckets(
    granularity: str, start: float, end: float, time_zone: str
) -> list[tuple[float, float]]:
    """[start, end) of every interval, aligned to the local calendar of the report's zone
    (weeks start on Monday); one interval, the date range itself, without granularity."""
    if granularity == "none":
        return [(start, end)]
    zone = ZoneInfo(time_zone)
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


def allowed_intervals(
    start: float, end: float, time_zone: str, intra_day: tuple[int, int] | None
) -> list[tuple[float, float]]:
    """The parts of [start, end) within the intra-day range (seconds of the local day; the end
    before the start crosses midnight) of each local day."""
    if intra_day is None:
        return [(start, end)]
    zone = ZoneInfo(time_zone)
    from_seconds, to_seconds = intra_day
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
