"""Window arithmetic: rolling and calendar windows as local times, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from exporter.core.windows import (
    RETENTION_SECONDS,
    DateRange,
    date_range,
    format_instant,
    local_midnight,
    parse_window,
    resolve,
)

NY = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")


def epoch(text: str, zone: ZoneInfo = NY) -> float:
    """A local wall time in `zone` as epoch seconds (first occurrence when ambiguous)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).timestamp()


@pytest.mark.parametrize(
    "text, seconds",
    [("15m", 900), ("1h", 3600), ("24h", 86_400), ("7d", 604_800), ("2w", 1_209_600)],
)
def test_rolling_windows_parse(text: str, seconds: int) -> None:
    window = parse_window(text)
    assert window.seconds == seconds and window.name == text and not window.calendar


@pytest.mark.parametrize("text", ["today", "this_week", "this_month"])
def test_calendar_windows_parse(text: str) -> None:
    assert parse_window(text).calendar


@pytest.mark.parametrize("text", ["", "0m", "15", "15s", "1y", "yesterday", "-1h", "1.5h"])
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a window"):
        parse_window(text)


def test_rolling_window_on_an_ordinary_day() -> None:
    resolved = resolve(parse_window("1h"), epoch("2025-06-10 14:30:00"), NY)
    assert (resolved.start_time, resolved.end_time) == (
        "2025-06-10 13:30:00",
        "2025-06-10 14:30:00",
    )


def test_24h_window_across_the_autumn_change_spans_25_wall_clock_hours() -> None:
    # 2025-11-02: clocks in New York go back from 02:00 EDT to 01:00 EST.
    now = epoch("2025-11-02 12:00:00")
    resolved = resolve(parse_window("24h"), now, NY)
    assert resolved.start_time == "2025-11-01 13:00:00"  # 24 real hours earlier, in EDT
    assert resolved.end_time == "2025-11-02 12:00:00"
    assert resolved.seconds == 86_400


def test_24h_window_across_the_spring_change_spans_23_wall_clock_hours() -> None:
    # 2025-03-09: clocks go forward from 02:00 EST to 03:00 EDT.
    resolved = resolve(parse_window("24h"), epoch("2025-03-09 12:00:00"), NY)
    assert resolved.start_time == "2025-03-08 11:00:00"
    assert resolved.seconds == 86_400


def test_today_on_the_autumn_change_day_is_25_hours_long() -> None:
    now = epoch("2025-11-02 23:59:59")
    resolved = resolve(parse_window("today"), now, NY)
    assert resolved.start_time == "2025-11-02 00:00:00"
    assert resolved.seconds == 25 * 3600 - 1


def test_today_on_the_spring_change_day_is_23_hours_long() -> None:
    resolved = resolve(parse_window("today"), epoch("2025-03-09 23:59:59"), NY)
    assert resolved.start_time == "2025-03-09 00:00:00"
    assert resolved.seconds == 23 * 3600 - 1


def test_today_starts_at_local_midnight_not_utc_midnight() -> None:
    # 03:00 UTC on June 11 is still June 10 in New York.
    now = datetime(2025, 6, 11, 3, 0, tzinfo=UTC).timestamp()
    resolved = resolve(parse_window("today"), now, NY)
    assert (resolved.start_time, resolved.end_time) == (
        "2025-06-10 00:00:00",
        "2025-06-10 23:00:00",
    )


def test_this_week_starts_on_monday_and_this_month_on_the_first() -> None:
    now = epoch("2025-11-05 09:15:00")  # a Wednesday, after the DST change of Sunday the 2nd
    week = resolve(parse_window("this_week"), now, NY)
    assert week.start_time == "2025-11-03 00:00:00"
    month = resolve(parse_window("this_month"), now, NY)
    assert month.start_time == "2025-11-01 00:00:00"
    # November 1 was still on daylight time: the month so far is one hour longer than its wall time.
    assert month.seconds == (4 * 24 + 9) * 3600 + 15 * 60 + 3600


def test_a_day_without_local_midnight_starts_at_its_first_instant() -> None:
    # America/Santiago moved its clocks from 00:00 to 01:00 on 2024-09-08.
    santiago = ZoneInfo("America/Santiago")
    day = datetime(2024, 9, 8, 12, 0, tzinfo=santiago)
    midnight = local_midnight(day, santiago)
    assert midnight.strftime("%Y-%m-%d %H:%M:%S") == "2024-09-08 01:00:00"


def test_windows_beyond_the_retention_are_clamped() -> None:
    now = epoch("2025-06-10 14:30:00")
    resolved = resolve(parse_window("110w"), now, NY)
    assert resolved.clamped
    assert resolved.seconds == RETENTION_SECONDS
    assert not resolve(parse_window("104w"), now, NY).clamped


def test_instants_are_written_in_the_vendor_format() -> None:
    assert format_instant(epoch("2025-02-03 09:27:27"), NY) == "2025-02-03 09:27:27"
    assert format_instant(0, ZoneInfo("UTC")) == "1970-01-01 00:00:00"


def test_date_range_of_a_rolling_window_sends_its_instants_and_times_of_day() -> None:
    resolved = resolve(parse_window("1h"), epoch("2024-03-05 10:30:00"), NY)
    assert date_range(resolved) == DateRange(
        "2024-03-05T09:30:00-0500",
        "2024-03-05T10:30:00-0500",
        "09:30:00-0500",
        "10:30:00-0500",
    )
    assert date_range(resolved).params() == {
        "startDate": "2024-03-05T09:30:00-0500",
        "endDate": "2024-03-05T10:30:00-0500",
        "intraDayStart": "09:30:00-0500",
        "intraDayEnd": "10:30:00-0500",
    }


def test_date_range_across_midnight_is_an_overnight_time_of_day_range() -> None:
    resolved = resolve(parse_window("1h"), epoch("2024-03-05 00:20:00"), NY)
    dates = date_range(resolved)
    assert (dates.start_date, dates.end_date) == (
        "2024-03-04T23:20:00-0500",
        "2024-03-05T00:20:00-0500",
    )
    assert (dates.intra_day_start, dates.intra_day_end) == ("23:20:00-0500", "00:20:00-0500")


def test_date_range_across_a_daylight_saving_change_keeps_start_before_end() -> None:
    # 2024-11-03 in New York: 01:00-02:00 EDT is followed by 01:00-02:00 EST.
    resolved = resolve(parse_window("1h"), epoch("2024-11-03 06:30:00", UTC_ZONE), NY)
    dates = date_range(resolved)
    # The same wall time twice, told apart by the offsets: one hour apart as instants.
    assert (dates.start_date, dates.end_date) == (
        "2024-11-03T01:30:00-0400",
        "2024-11-03T01:30:00-0500",
    )
    assert (dates.intra_day_start, dates.intra_day_end) == ("01:30:00-0400", "01:30:00-0500")
    start = datetime.strptime(dates.start_date, "%Y-%m-%dT%H:%M:%S%z")
    end = datetime.strptime(dates.end_date, "%Y-%m-%dT%H:%M:%S%z")
    assert (end - start).total_seconds() == 3600


def test_date_range_of_today_starts_at_local_midnight_with_its_own_offset() -> None:
    # 2024-03-10 in New York: clocks jump from 02:00 EST to 03:00 EDT; today is 23 h long.
    resolved = resolve(parse_window("today"), epoch("2024-03-10 12:00:00"), NY)
    assert date_range(resolved) == DateRange("2024-03-10T00:00:00-0500", "2024-03-10T12:00:00-0400")
    assert "intraDayStart" not in date_range(resolved).params()


def test_date_range_in_utc_writes_a_zero_offset() -> None:
    resolved = resolve(parse_window("15m"), 1_709_650_800.0, ZoneInfo("UTC"))
    assert date_range(resolved).start_date == "2024-03-05T14:45:00+0000"
