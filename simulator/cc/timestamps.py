"""Time conversions of the Contact Center model and APIs: whole milliseconds, local midnights,
and ISO 8601 UTC timestamps."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def ms(seconds: float) -> int:
    """Epoch (or duration) seconds -> whole milliseconds, rounded half up."""
    return math.floor(seconds * 1000.0 + 0.5)


def local_midnight(epoch: float, zone: ZoneInfo) -> float:
    """The epoch of the local midnight that starts the day `epoch` is in."""
    local = datetime.fromtimestamp(epoch, zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    return midnight.timestamp()


def iso_utc(epoch: float) -> str:
    """2025-11-18T16:59:12.000Z"""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
