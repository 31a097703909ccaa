"""Report windows: `15m`, `1h`, `24h`, `today`, `this_week`, ... as the historical endpoints want
them, and the counting day of the call counters.

The Work Analytics historical endpoints take `startTime` and `endTime` as wall-clock times
(`YYYY-MM-DD HH:MM:SS`) in an IANA `timeZone`. The exporter always sends them in UTC
(`WIRE_TIME_ZONE`): every instant has exactly one UTC wall time, so no daylight-saving change can
make a window start after its end, ask the same instant twice as two different hours, or name an
hour that does not exist. The configured `time_zone` only says where days begin. A window is
resolved at collection time, on instants:

- a rolling window (`15m`, `1h`, `24h`, `7d`) ends now and starts that many seconds earlier, as
  instants; both instants are then written as local times in the zone;
- a calendar window (`today`, `this_week`, `this_month`) starts at local midnight of the day,
  of the week's Monday, of the month's first day, and ends now.

Local times are computed from instants with zoneinfo, so a window spanning a daylight-saving
change keeps its real length (the `24h` window on the day clocks go back spans 25 local hours
of wall time, `today` on that day is 25 hours long). Where a local midnight does not exist
(zones that change at midnight), the day starts at the first instant after it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from exporter.core.durations import UNIT_SECONDS

CALENDAR_WINDOWS = ("today", "this_week", "this_month")
# The vendor keeps two years of data; older ranges return nothing.
RETENTION_SECONDS = 2 * 365 * 86_400
_ROLLING = re.compile(r"^([1-9][0-9]*)(m|h|d|w)$")
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
WIRE_TIME_ZONE = "UTC"

# The v2 `/pbxes/{pbxId}/...` endpoints: ISO 8601 with the offset written out (`-0700`, as the
# spec's examples), so each string names one instant whatever the zone's daylight-saving rules.
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
ISO_TIME_OF_DAY_FORMAT = "%H:%M:%S%z"


@dataclass(frozen=True)
class Window:
    """A configured window; `name` is what the `window` label shows."""

    name: str
    seconds: int | None = None  # rolling windows only

    @property
    def calendar(self) -> bool:
        return self.seconds is None


def parse_window(text: str) -> Window:
    """`15m`, `1h`, `24h`, `7d`, `2w`, `today`, `this_week`, `this_month`; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a window such as 15m, 1h, 24h, today or this_week")
    name = text.strip()
    if name in CALENDAR_WINDOWS:
        return Window(name)
    match = _ROLLING.match(name)
    if not match:
        raise ValueError(f"{text!r} is not a window such as 15m, 1h, 24h, today or this_week")
    # Longer than the retention is allowed: resolve() clamps it and the poller warns.
    return Window(name, int(int(match[1]) * UNIT_SECONDS[match[2]]))


@dataclass(frozen=True)
class ResolvedWindow:
    window: Window
    start: datetime  # aware, in the zone
    end: datetime  # aware, in the zone
    clamped: bool  # the start was moved forward to the retention limit

    @property
    def start_time(self) -> str:
        """The start as the API's `startTime`, in WIRE_TIME_ZONE."""
        return wire_time(self.start.timestamp())

    @property
    def end_time(self) -> str:
        return wire_time(self.end.timestamp())

    @property
    def start_iso(self) -> str:
        return self.start.strftime(ISO_FORMAT)

    @property
    def end_iso(self) -> str:
        return self.end.strftime(ISO_FORMAT)

    @property
    def start_time_of_day(self) -> str:
        """`08:00:00-0700`: the start's local time of day with the offset in force then."""
        return self.start.strftime(ISO_TIME_OF_DAY_FORMAT)

    @property
    def end_time_of_day(self) -> str:
        return self.end.strftime(ISO_TIME_OF_DAY_FORMAT)

    @property
    def seconds(self) -> float:
        # Aware datetimes sharing a tzinfo subtract as wall times in Python: go through UTC.
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds()


def local_midnight(day: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of `day`'s local date in `zone` (midnight, or just after a skipped one)."""
    naive = datetime(day.year, day.month, day.day)
    # Walk forward a quarter hour at a time past a skipped midnight (a gap is at most a few hours).
    for quarter in range(4 * 24):
        candidate = (naive + timedelta(minutes=15 * quarter)).replace(tzinfo=zone)
        round_trip = candidate.astimezone(UTC).astimezone(zone)
        if round_trip.replace(tzinfo=None) == candidate.replace(tzinfo=None):
            # `fold=0` picks the first of two occurrences, i.e. the earliest instant.
            return round_trip
    raise ValueError(f"no local midnight on {naive.date()} in {zone.key}")  # pragma: no cover


def resolve(window: Window, now: float, zone: ZoneInfo) -> ResolvedWindow:
    """The window ending at epoch `now`, as local times in `zone`, clamped to the retention."""
    end = datetime.fromtimestamp(int(now), tz=UTC).astimezone(zone)
    if window.seconds is not None:
        start = (end.astimezone(UTC) - timedelta(seconds=window.seconds)).astimezone(zone)
    elif window.name == "today":
        start = local_midnight(end, zone)
    elif window.name == "this_week":
        start = local_midnight(end - timedelta(days=end.weekday()), zone)
    elif window.name == "this_month":
        start = local_midnight(end.replace(day=1), zone)
    else:  # pragma: no cover - parse_window admits nothing else
        raise ValueError(f"unknown window {window.name}")
    if (
        end.timestamp() <= start.timestamp()
    ):  # as instants: same-zone datetimes compare as wall times
        # `today` in the first second of the day: the API refuses a window that ends where it
        # starts (400 "endTime must be after startTime"), so ask for the day's first second.
        end = (start.astimezone(UTC) + timedelta(seconds=1)).astimezone(zone)
    oldest = end.astimezone(UTC) - timedelta(seconds=RETENTION_SECONDS)
    clamped = start.astimezone(UTC) < oldest  # compared as instants, not wall times
    return ResolvedWindow(window, oldest.astimezone(zone) if clamped else start, end, clamped)


def wire_time(epoch: float) -> str:
    """An instant as the historical endpoints' `YYYY-MM-DD HH:MM:SS` in WIRE_TIME_ZONE (UTC),
    to the second below."""
    return datetime.fromtimestamp(math.floor(epoch), tz=UTC).strftime(WIRE_FORMAT)


class CountingDay(NamedTuple):
    """The local day the call counters count: [start, end) as epoch seconds."""

    start: float
    end: float


def counting_day(now: float, zone: ZoneInfo, grace: float) -> CountingDay:
    """The day whose calls the counters hold at instant `now`: the local day in `zone` of
    `now - grace`. A day's counters go on `grace` seconds past its midnight, so records that
    reach the API late (within the look-back) are still counted in their own day; then the
    counters start again at 0 with the new day's calls so far."""
    local = datetime.fromtimestamp(now - grace, tz=UTC).astimezone(zone)
    start = local_midnight(local, zone)
    following = local.date() + timedelta(days=1)
    end = local_midnight(datetime(following.year, following.month, following.day), zone)
    return CountingDay(start.timestamp(), end.timestamp())


@dataclass(frozen=True)
class DateRange:
    """A window as the v2 `/pbxes/{pbxId}/...` endpoints take it: `startDate`/`endDate` and,
    for a part of a day, `intraDayStart`/`intraDayEnd` (all ISO 8601 with explicit offsets)."""

    start_date: str
    end_date: str
    intra_day_start: str | None = None
    intra_day_end: str | None = None

    def params(self) -> dict[str, str]:
        params = {"startDate": self.start_date, "endDate": self.end_date}
        if self.intra_day_start is not None and self.intra_day_end is not None:
            params["intraDayStart"] = self.intra_day_start
            params["intraDayEnd"] = self.intra_day_end
        return params


def date_range(resolved: ResolvedWindow) -> DateRange:
    """The request for a resolved window, exact under both readings the vendor's documents allow.

    The documents leave open whether `startDate`/`endDate` are instants (the range runs from
    one to the other; intraDay* then only narrows each day of it) or dates (the time part is
    ignored: whole days from the start's date to the end's date, "1st of May to 5th of May" for
    `endDate: 2023-05-05T00:00:00Z`, with intraDay* choosing the time of day). The first reading
    is the default of the simulator; this request serves both: the dates are the window's own
    instants, and a rolling window (at most 24 h, so one time-of-day range covers it) also sends
    its start and end times of day, which change nothing under the first reading and select the
    window under the second. A range crossing midnight is then an overnight intraDay range
    (start later than end), which the vendor's Contact Center guide documents as belonging to
    the day it starts. A calendar window sends no intraDay: under the date reading it covers
    whole days up to today's end, and the part after now holds no calls yet.
    """
    if resolved.window.calendar:
        return DateRange(resolved.start_iso, resolved.end_iso)
    return DateRange(
        resolved.start_iso,
        resolved.end_iso,
        resolved.start_time_of_day,
        resolved.end_time_of_day,
    )
