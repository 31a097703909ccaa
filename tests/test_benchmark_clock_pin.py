"""The benchmarks' pinned simulator clock (benchmarks/children.py): wherever this machine's
clock is, the simulator starts at the same weekday and time of day, less than a week behind,
so a figure such as the 500k round does not depend on when it was taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.children import PINNED_WEEK_MOMENT, WEEK_SECONDS, pinned_clock_offset
from benchmarks.cycle_wall import simulator_clock

PINNED = datetime.fromtimestamp(PINNED_WEEK_MOMENT, UTC)


@pytest.mark.parametrize(
    "now",
    [
        PINNED,  # the moment itself: no offset
        PINNED + timedelta(seconds=1),  # just after: almost a week back
        PINNED - timedelta(seconds=1),  # just before, a week earlier: one second back
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # Europe's spring change, a Sunday
        datetime(2026, 12, 7, 17, 42, 51, 613_000, tzinfo=UTC),
        datetime(2031, 2, 4, 15, 0, tzinfo=UTC),  # a later Tuesday at 15:00: no offset
    ],
)
def test_the_simulator_starts_at_the_pinned_weekday_and_time(now: datetime) -> None:
    offset = pinned_clock_offset(now.timestamp())
    assert -WEEK_SECONDS < offset <= 0
    starts = datetime.fromtimestamp(now.timestamp() + offset, UTC)
    assert (starts.weekday(), starts.hour, starts.minute, starts.second) == (
        PINNED.weekday(),
        PINNED.hour,
        PINNED.minute,
        PINNED.second,
    )
    assert starts.microsecond == pytest.approx(0, abs=1)


def test_the_output_says_which_clock_the_simulator_ran_on() -> None:
    assert simulator_clock(0.0) == "this machine's clock"
    assert simulator_clock(-3600.0).startswith("pinned: ")
