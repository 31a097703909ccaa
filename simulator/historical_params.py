"""The parameters of the Work Analytics historical endpoints: the PBXes and local time range of
a request (`Window`), the caller/callee filters, the 400 a bad one gets, and the endpoints'
settings (CDR delay, the vendor's retention, scroll lifetimes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import vendor_errors
from .behaviour import DAY_SECONDS
from .routing import Response

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
VENDOR_RETENTION_SECONDS = 2 * 365 * DAY_SECONDS
MAX_FILTER_VALUES = 125  # caller, callee, callerOrCallee


class InvalidParameter(Exception):
    """A query the historical endpoints refuse with 400."""

    def __init__(self, parameter: str, message: str, hint: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.parameter, self.message, self.hint, self.missing = parameter, message, hint, missing

    def response(self) -> Response:
        return vendor_errors.invalid_parameter(
            self.parameter, self.message, self.hint, missing=self.missing
        )


@dataclass(frozen=True, slots=True)
class HistoricalSettings:
    cdr_delay_seconds: float = 0.0
    retention_seconds: float = VENDOR_RETENTION_SECONDS
    scroll_keep_alive_seconds: float = 600.0  # a scrollId expires this long after it was issued
    max_scrolls: int = 1000  # the oldest scrollIds are forgotten beyond this many


@dataclass(frozen=True, slots=True)
class Window:
    """A request's PBXes (known names, in the order asked) and [start, end) in epoch seconds."""

    pbx_names: tuple[str, ...]
    start: float
    end: float
    zone: ZoneInfo


def local_epoch(text: str, zone: ZoneInfo, parameter: str) -> float:
    """`YYYY-MM-DD HH:MM:SS` wall time in `zone` -> epoch seconds. fold=0 gives the first of two
    ambiguous instants, and for a time in a gap the offset before it: shifted forward."""
    try:
        naive = datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise InvalidParameter(
            parameter, f"Invalid {parameter} [{text}].", "Use the format YYYY-MM-DD HH:MM:SS."
        ) from None
    return naive.replace(tzinfo=zone, fold=0).timestamp()


def time_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(
            "timeZone",
            f"Invalid timeZone [{text}].",
            "Use an IANA time zone such as America/New_York.",
        ) from None


def required(params: Mapping[str, str], name: str, hint: str) -> str:
    value = params.get(name)
    if value is None or not value.strip():
        raise InvalidParameter(name, f"Required parameter [{name}] is missing.", hint, missing=True)
    return value


def boolean(params: Mapping[str, str], name: str) -> bool:
    value = (params.get(name) or "false").strip().lower()
    if value not in ("true", "false"):
        raise InvalidParameter(name, f"Invalid {name} [{params.get(name)}].", "Use true or false.")
    return value == "true"


def extension_values(params: Mapping[str, str], name: str) -> frozenset[str] | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    values = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidParameter(
            name, f"Too many values for [{name}].", f"At most {MAX_FILTER_VALUES} extensions."
        )
    return values


class PartyFilter(NamedTuple):
    """caller / callee / callerOrCallee: exact extensions; callee also matches a leg's lra and a
    record's every rung extension."""

    callers: frozenset[str] | None
    callees: frozenset[str] | None
    either: frozenset[str] | None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> PartyFilter:
        callers, callees, either = (
            extension_values(params, name) for name in ("caller", "callee", "callerOrCallee")
        )
        if either is not None and (callers is not None or callees is not None):
            raise InvalidParameter(
                "callerOrCallee",
                "callerOrCallee cannot be used with caller or callee.",
                "Use one or the other.",
            )
        return cls(callers, callees, either)

    def accepts(self, caller: str, callees: Iterable[str]) -> bool:
        if self.callers is not None and caller not in self.callers:
            return False
        if self.callees is not None and self.callees.isdisjoint(callees):
            return False
        return self.either is None or caller in self.either or not self.either.isdisjoint(callees)

    @property
    def empty(self) -> bool:
        return self.callers is None and self.callees is None and self.either is None
