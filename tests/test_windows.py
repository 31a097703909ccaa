"""Window arithmetic: rolling and calendar windows as local times, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from exporter.core.windows import (
    RETENTION_SECONDS,
    DateRange,
    counting_day,
    date_range,
    local_midnight,
    parse_window,
    resolve,
    wire_time,
)

NY = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")


def wall(moment: datetime) -> str:
    """A resolved bound as a local wall time in its zone."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


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
    assert (wall(resolved.start), wall(resolved.end)) == (
        "2025-06-10 13:30:00",
        "2025-06-10 14:30:00",
    )


def test_24h_window_across_the_autumn_change_spans_25_wall_clock_hours() -> None:
    # 2025-11-02: clocks in New York go back from 02:00 EDT to 01:00 EST.
    now = epoch("2025-11-02 12:00:00")
    resolved = resolve(parse_window("24h"), now, NY)
    assert wall(resolved.start) == "2025-11-01 13:00:00"  # 24 real hours earlier, in EDT
    assert wall(resolved.end) == "2025-11-02 12:00:00"
    assert resolved.seconds == 86_400


def test_24h_window_across_the_spring_change_spans_23_wall_clock_hours() -> None:
    # 2025-03-09: clocks go forward from 02:00 EST to 03:00 EDT.
    resolved = resolve(parse_window("24h"), epoch("2025-03-09 12:00:00"), NY)
    assert wall(resolved.start) == "2025-03-08 11:00:00"
    assert resolved.seconds == 86_400


def test_today_on_the_autumn_change_day_is_25_hours_long() -> None:
    now = epoch("2025-11-02 23:59:59")
    resolved = resolve(parse_window("today"), now, NY)
    assert wall(resolved.start) == "2025-11-02 00:00:00"
    assert resolved.seconds == 25 * 3600 - 1


def test_today_on_the_spring_change_day_is_23_hours_long() -> None:
    resolved = resolve(parse_window("today"), epoch("2025-03-09 23:59:59"), NY)
    assert wall(resolved.start) == "2025-03-09 00:00:00"
    assert resolved.seconds == 23 * 3600 - 1


def test_today_starts_at_local_midnight_not_utc_midnight() -> None:
    # 03:00 UTC on June 11 is still June 10 in New York.
    now = datetime(2025, 6, 11, 3, 0, tzinfo=UTC).timestamp()
    resolved = resolve(parse_window("today"), now, NY)
    assert (wall(resolved.start), wall(resolved.end)) == (
        "2025-06-10 00:00:00",
        "2025-06-10 23:00:00",
    )


def test_this_week_starts_on_monday_and_this_month_on_the_first() -> None:
    now = epoch("2025-11-05 09:15:00")  # a Wednesday, after the DST change of Sunday the 2nd
    week = resolve(parse_window("this_week"), now, NY)
    assert wall(week.start) == "2025-11-03 00:00:00"
    month = resolve(parse_window("this_month"), now, NY)
    assert wall(month.start) == "2025-11-01 00:00:00"
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


def test_instants_are_written_in_utc_in_the_vendor_format() -> None:
    assert wire_time(epoch("2025-02-03 09:27:27")) == "2025-02-03 14:27:27"
    assert wire_time(0) == "1970-01-01 00:00:00"
    assert wire_time(59.999) == "1970-01-01 00:00:59"  # to the second below


def test_the_wire_times_of_a_window_never_run_backwards_across_the_repeated_hour() -> None:
    # 2025-11-02 in New York: 01:00-02:00 happens twice. As local wall times the 15m window
    # ending at 01:05 EST would start at 01:50 EDT, "after" its end; in UTC it cannot.
    end = epoch("2025-11-02 01:05:00") + 3600  # the second 01:05
    resolved = resolve(parse_window("15m"), end, NY)
    assert wall(resolved.start) > wall(resolved.end)  # what local times would have asked
    assert (resolved.start_time, resolved.end_time) == (
        "2025-11-02 05:50:00",
        "2025-11-02 06:05:00",
    )


@pytest.mark.parametrize(
    "zone, day, midnight, next_midnight, hours",
    [
        # Clocks back: a 25-hour day; clocks forward: a 23-hour one.
        ("America/New_York", "2026-11-01", "2026-11-01 04:00", "2026-11-02 05:00", 25),
        ("America/New_York", "2026-03-08", "2026-03-08 05:00", "2026-03-09 04:00", 23),
        ("Europe/London", "2026-10-25", "2026-10-24 23:00", "2026-10-26 00:00", 25),
        ("Australia/Sydney", "2026-04-05", "2026-04-04 13:00", "2026-04-05 14:00", 25),
        ("Australia/Sydney", "2026-10-04", "2026-10-03 14:00", "2026-10-04 13:00", 23),
        # Lord Howe moves its clocks by 30 minutes.
        ("Australia/Lord_Howe", "2026-04-05", "2026-04-04 13:00", "2026-04-05 13:30", 24.5),
        # Santiago skips its midnight: the day starts at 01:00 local.
        ("America/Santiago", "2024-09-08", "2024-09-08 04:00", "2024-09-09 03:00", 23),
    ],
)
def test_the_counting_day_runs_from_local_midnight_to_the_next_whatever_its_length(
    zone: str, day: str, midnight: str, next_midnight: str, hours: float
) -> None:
    tz = ZoneInfo(zone)
    noon = datetime.strptime(f"{day} 12:00:00", "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
    counting = counting_day(noon.timestamp(), tz, grace=900)
    utc = ZoneInfo("UTC")
    assert wall(datetime.fromtimestamp(counting.start, utc))[:16] == midnight
    assert wall(datetime.fromtimestamp(counting.end, utc))[:16] == next_midnight
    assert counting.end - counting.start == hours * 3600


def test_the_counting_day_goes_on_for_the_grace_past_midnight() -> None:
    midnight = epoch("2026-12-07 00:00:00")
    yesterday = counting_day(midnight - 1, NY, grace=900)
    assert counting_day(midnight + 899, NY, grace=900) == yesterday
    today = counting_day(midnight + 900, NY, grace=900)
    assert today.start == midnight == yesterday.end


def test_today_at_midnight_asks_for_the_first_second_rather_than_an_empty_window() -> None:
    midnight = epoch("2026-03-29 00:00:00", ZoneInfo("Europe/London"))
    resolved = resolve(parse_window("today"), midnight, ZoneInfo("Europe/London"))
    assert (resolved.start_time, resolved.end_time) == (
        "2026-03-29 00:00:00",
        "2026-03-29 00:00:01",
    )


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
