"""Durations written in the configuration files: one grammar for them all.

It is the union of Prometheus' (`90s`, `1h30m`, `2d`, `1w`) and Go's `time.ParseDuration`, which
the exporter-toolkit's web config uses (`100ms`, `1.5s`, `1m30s`, `250us`): a sequence of a
decimal number and a unit. A bare number is seconds where the caller allows it (YAML numbers).
"""

from __future__ import annotations

import re
from collections.abc import Collection

UNIT_SECONDS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5, what Go accepts
    "μs": 1e-6,  # U+03BC, the Greek letter that looks the same
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86_400.0,
    "w": 604_800.0,
    "y": 31_536_000.0,  # Prometheus: a year is always 365 days
}
# The longest duration a setting may hold. Every duration ends up in a timer (an interval in
# `Event.wait`, a timeout in a socket) or in arithmetic with times: `threading` refuses waits
# past TIMEOUT_MAX (about 292 years) with an OverflowError, in the collector's thread, long
# after `--check-config` said yes. A year is longer than any interval or timeout makes sense.
MAX_DURATION_SECONDS = 365 * 86_400.0
# The units Go's `time.ParseDuration` knows: the exporter-toolkit's web config takes no others.
GO_UNITS: frozenset[str] = frozenset({"ns", "us", "µs", "μs", "ms", "s", "m", "h"})
# Longer units first, so that `ms` is never read as `m` followed by `s`.
_PART = re.compile(
    r"(\d+(?:\.\d*)?|\.\d+)("
    + "|".join(sorted(map(re.escape, UNIT_SECONDS), key=len, reverse=True))
    + ")"
)


def duration_seconds(text: str, units: Collection[str] = UNIT_SECONDS) -> float | None:
    """Seconds from a duration text such as `1m30s` or `100ms`, or None when the text is not
    one (empty, no unit, a unit not among `units`, anything left over)."""
    text = text.strip()
    total, position = 0.0, 0
    for match in _PART.finditer(text):
        if match.start() != position or match.group(2) not in units:
            return None
        total += float(match.group(1)) * UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(text):
        return None
    return total


def parse_duration(
    value: object,
    *,
    example: str = "30s, 5m or 1h",
    allow_zero: bool = False,
    units: Collection[str] = UNIT_SECONDS,
) -> float:
    """Seconds from a YAML number or a duration text; ValueError saying what is wrong.

    `example` completes "must be a duration such as ..." in the messages users see; a zero
    is refused unless `allow_zero`, a negative value always, and so is anything longer than
    MAX_DURATION_SECONDS; `units` narrows the grammar (GO_UNITS for a file Go's
    exporter-toolkit also reads).
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration such as {example}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        parsed = 0.0 if allow_zero and value.strip() == "0" else duration_seconds(value, units)
        if parsed is None:
            raise ValueError(f"{value!r} is not a duration such as {example}")
        seconds = parsed
    else:
        raise ValueError(f"must be a duration such as {example}")
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"must be a duration such as {example}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError("must be zero or more" if allow_zero else "must be greater than zero")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError("must be at most 365d")
    return seconds


# Prometheus' own grammar (model.ParseDuration): whole numbers, units from the largest down,
# each at most once. Texts copied into rules and queries as written must follow it exactly.
_PROMETHEUS = re.compile(
    r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?"
)
_PROMETHEUS_UNITS = ("y", "w", "d", "h", "m", "s", "ms")


def prometheus_duration_seconds(text: str) -> float | None:
    """Seconds of a duration Prometheus itself accepts (`1h30m`, `5m`, `90s`), else None."""
    match = _PROMETHEUS.fullmatch(text)
    if match is None or not text:
        return None
    return sum(
        int(number) * UNIT_SECONDS[unit]
        for number, unit in zip(match.groups(), _PROMETHEUS_UNITS)
        if number is not None
    )
