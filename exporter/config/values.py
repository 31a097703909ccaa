"""The reusable pieces of the config model: durations, URLs, time zones, windows, selections,
the HTTP timeouts and retries every API section has, and the request-budget check."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from exporter.core.durations import parse_duration
from exporter.core.windows import Window, parse_window


class StrictModel(BaseModel):
    # Defaults are written `Field(default=...)`: mypy reads these models through
    # dataclass_transform (no pydantic plugin), which misses a positional default and would
    # make every argument-less construction such as `Timeouts()` an error.
    # No NaN or infinity in any number (`request_budget_per_minute: .inf`): each ends in
    # arithmetic or a timer, where it fails later, in a poller's thread.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


def _normalise_base_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def _time_zone(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be an IANA time zone such as UTC or America/New_York")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone such as UTC or America/New_York"
        ) from None
    return value.strip()


def _window(value: Any) -> Window:
    return value if isinstance(value, Window) else parse_window(value)


def _pattern(value: Any) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a regular expression string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression: {exc}") from None


def _unique_windows(windows: list[Window]) -> list[Window]:
    names = [w.name for w in windows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"listed twice: {', '.join(duplicates)}")
    if not windows:
        raise ValueError("needs at least one window")
    return windows


def _buckets(values: list[float]) -> list[float]:
    if not values:
        raise ValueError("needs at least one bucket")
    if any(v <= 0 for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError("bucket bounds must be positive and strictly increasing")
    return values


# Seconds, written as a number or a duration text (`90s`, `1m30s`, `500ms`).
Duration = Annotated[float, BeforeValidator(parse_duration)]
# The same, where 0 means "never" or "every time" (the field's comment says which).
DurationOrZero = Annotated[float, BeforeValidator(partial(parse_duration, allow_zero=True))]
BaseUrl = Annotated[str, AfterValidator(_normalise_base_url)]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]
WindowSpec = Annotated[Window, BeforeValidator(_window)]
Pattern = Annotated[re.Pattern[str], BeforeValidator(_pattern)]
Windows = Annotated[list[WindowSpec], AfterValidator(_unique_windows)]
Buckets = Annotated[list[float], AfterValidator(_buckets)]
# A secret sent as it is in an HTTP header (the 8x8-apikey header).


class Selection(StrictModel):
    """Which rows to keep, by name or extension: full-match regular expressions."""

    include: list[Pattern] = Field(default_factory=list)
    exclude: list[Pattern] = Field(default_factory=list)

    def keeps(self, *values: str) -> bool:
        """True when any value matches an include (or there is none) and none matches an exclude."""

        def hit(patterns: list[re.Pattern[str]]) -> bool:
            return any(p.fullmatch(v) for p in patterns for v in values if v)

        return (not self.include or hit(self.include)) and not hit(self.exclude)


# A team as Alertmanager routes on it: a label value, kept to what reads well in a matcher.
_TEAM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def _team(value: str) -> str:
    if not _TEAM_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a team name: letters, digits, '_', '.' and '-', at most 63, "
            "starting with a letter or digit (alerts are routed on it)"
        )
    return value


def _default_team(value: str) -> str:
    return value and _team(value)


Team = Annotated[str, AfterValidator(_team)]
DefaultTeam = Annotated[str, AfterValidator(_default_team)]


class TeamRule(StrictModel):
    """The queues of one team: a full-match regular expression on queue name, extension or id."""

    team: Team
    queues: Pattern


class QueueTeams(StrictModel):
    """Queue -> team, the first matching rule winning; `default` for the others ("": none,
    and the `team` label is then empty, that is absent in Prometheus)."""

    rules: list[TeamRule] = Field(default_factory=list)
    default: DefaultTeam = ""

    def team_of(self, *values: str) -> str:
        for rule in self.rules:
            if any(rule.queues.fullmatch(v) for v in values if v):
                return rule.team
        return self.default


class Timeouts(StrictModel):
    """Per-request timeouts; every request carries both."""

    connect: Duration = 5.0
    read: Duration = 30.0
    # The whole request, body included: a slow trickle of small reads ends here.
    total: Duration = 120.0


class RetryPolicy(StrictModel):
    """Retries on 429, 5xx and connection errors, with exponential backoff and full jitter."""

    max_attempts: int = Field(default=4, ge=1, le=10)
    initial_backoff: Duration = 1.0
    max_backoff: Duration = 30.0
    # A Retry-After longer than this fails the call instead of stalling the poller.
    max_retry_after: Duration = 120.0

    @model_validator(mode="after")
    def _backoff_order(self) -> RetryPolicy:
        if self.max_backoff < self.initial_backoff:
            raise ValueError("max_backoff must not be smaller than initial_backoff")
        return self


def check_budget(need: Mapping[str, float], budget: float) -> None:
    """A ValueError saying what would fit when the pollers' least need is over budget."""
    total = sum(need.values())
    if total <= budget:
        return
    parts = ", ".join(
        f"{name} {value:.0f}"
        for name, value in sorted(need.items(), key=lambda item: -item[1])
        if value >= 0.5
    )
    factor = math.ceil(total / budget * 10) / 10
    raise ValueError(
        f"request_budget_per_minute {budget:g} is too small: the enabled "
        f"collectors need at least {math.ceil(total)} requests a minute ({parts}); "
        f"raise it to {math.ceil(total)} or make the intervals {factor:g} times "
        "longer"
    )
