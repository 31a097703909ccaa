"""Vendor values to Prometheus values: the one place where units are converted.

The 8x8 APIs answer durations in milliseconds or seconds (the documents disagree per API, hence
settings), percentages as 0..100 and timestamps as ISO 8601 or epoch milliseconds; Prometheus
wants seconds, ratios 0..1 and epoch seconds. A value that is no usable number (null, a word,
an array, a boolean, NaN, an infinity) converts to None and is left out, never guessed at; so
does a negative one: every value this exporter reads is a count, a duration, a share or a time,
none of which can be below zero, and a gauge of -3 waiting calls would be believed.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Literal

# What a value is, which decides its conversion and its name's unit suffix.
Unit = Literal["count", "duration", "ratio", "timestamp"]
# The unit an API answers durations in.
DurationUnit = Literal["seconds", "milliseconds"]

SUFFIX: dict[Unit, str] = {
    "count": "",
    "duration": "_seconds",
    "ratio": "_ratio",
    "timestamp": "_timestamp_seconds",
}
_CLOCK = re.compile(r"(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)")


def to_number(value: Any) -> float | None:
    """A finite number from a number or a numeric string; None for null, words, arrays,
    booleans, NaN, infinities and integers beyond any float (none of them is a value)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def to_timestamp(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 timestamp (`2025-11-18T16:59:12.000Z`) or epoch ms."""
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None  # a local time without a zone is ambiguous: not guessed
        return parsed.timestamp()
    number = to_number(value)
    return None if number is None or number <= 0 else number / 1000.0


def clock_seconds(value: Any) -> float | None:
    """Seconds from an `HH:MM:SS` clock duration, as some Contact Center answers give them."""
    if isinstance(value, str):
        match = _CLOCK.fullmatch(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            total = float(hours) * 3600 + int(minutes) * 60 + float(seconds)
            return total if math.isfinite(total) else None  # 400 digits of hours: no value
    return None


def from_milliseconds(milliseconds: float) -> float:
    # A division, not a product with 0.001: x / 1000 is the nearest float to the true value.
    return milliseconds / 1000.0


def convert(unit: Unit, value: Any, durations: DurationUnit = "seconds") -> float | None:
    """The exported value of a vendor value, None when it is unusable.

    `durations` is the unit the API answers durations in; `HH:MM:SS` strings are read as clock
    durations whatever it is. Ratios arrive as percentages.
    """
    kind = value.__class__
    # The hot path: almost every value of an answer is a JSON number (bool's class is bool).
    if (kind is int or kind is float) and unit != "timestamp":
        return _scaled(unit, value, durations)
    if unit == "timestamp":
        return to_timestamp(value)
    number = to_number(value)
    if number is None:
        return clock_seconds(value) if unit == "duration" else None
    return _scaled(unit, number, durations)


def convert_number(unit: Unit, value: Any, durations: DurationUnit = "seconds") -> float | None:
    """`convert` for APIs that answer numbers only: a clock text (`HH:MM:SS`) is no value."""
    kind = value.__class__
    if (kind is int or kind is float) and unit != "timestamp":
        return _scaled(unit, value, durations)
    number = to_number(value)
    return None if number is None else convert(unit, number, durations)


def _scaled(unit: Unit, value: float, durations: DurationUnit) -> float | None:
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    if not 0.0 <= number < math.inf:
        return None  # negative (see the docstring), NaN or infinite: no value
    if unit == "duration":
        return from_milliseconds(number) if durations == "milliseconds" else number
    return number / 100.0 if unit == "ratio" else number


def why_unusable(value: Any) -> str:
    """What a log says of a value `convert` left out: that it is negative, or its JSON type."""
    number = to_number(value)
    return "negative" if number is not None and number < 0 else type(value).__name__
