"""The `contact_center` section: OAuth credentials, region and URLs, the realtime endpoints
and the scheduled historical reports (with the vendor's granularity rules)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from exporter.config.regions import CONTACT_CENTER_BASE_URL, TOKEN_PATH, region_urls
from exporter.config.service_levels import (
    QueueServiceLevels,
    ServiceLevelObjective,
    ServiceLevelRule,
)
from exporter.config.values import (
    BaseUrl,
    DefaultTeam,
    Duration,
    QueueTeams,
    RetryPolicy,
    Selection,
    StrictModel,
    TeamRule,
    Timeouts,
    TimeZone,
    WindowSpec,
    check_budget,
)
from exporter.core.windows import Window, parse_window

_METRIC_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*\.[a-z0-9-]+(\.[A-Za-z]+)?$")


class CcRealtimeConfig(StrictModel):
    """One realtime endpoint of Contact Center (`/queues`, `/groups` or `/agents`)."""

    enabled: bool = True
    interval: Duration = 30.0
    # Metric keys as the API names them (`accepted.today`, `interactionsWaitInQueue.rt`);
    # empty means every metric the API sends.
    metrics: list[str] = Field(default_factory=list)
    # Full-match regular expressions on the name or id; and a ceiling on series.
    select: Selection = Selection()
    max_series: int = Field(default=20_000, ge=1)

    @field_validator("metrics")
    @classmethod
    def _metric_keys(cls, metrics: list[str]) -> list[str]:
        bad = [m for m in metrics if not _METRIC_KEY_RE.match(m)]
        if bad:
            raise ValueError(f"not a metric key such as accepted.today: {', '.join(bad)}")
        return metrics


class CcAgentsConfig(CcRealtimeConfig):
    # Off by default: agents' series grow with the staff (dozens of metrics per agent).
    enabled: bool = False
    interval: Duration = 60.0


_CLOCK_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])$")
GRANULARITIES = ("15m", "30m", "hour", "day", "week", "month", "year", "none")
WEEK_SECONDS = 7 * 86_400
MONTH_SECONDS = 31 * 86_400
# The guide's rules: which granularities a date range of a given length accepts.
_GRANULARITY_RULES = (
    (WEEK_SECONDS, ("15m", "30m", "hour", "day", "none")),
    (MONTH_SECONDS, ("none", "hour", "day", "week")),
    (None, ("none", "month", "year")),
)
_CALENDAR_LENGTH = {"today": 86_400, "this_week": WEEK_SECONDS, "this_month": MONTH_SECONDS}


def _clock_seconds(value: str) -> int:
    match = _CLOCK_RE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a time of day as hh:mm:ss")
    return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])


def allowed_granularities(window: Window) -> tuple[str, ...]:
    """The granularities the vendor accepts for a window's longest date range."""
    length = window.seconds if window.seconds is not None else _CALENDAR_LENGTH[window.name]
    for limit, allowed in _GRANULARITY_RULES:
        if limit is None or length <= limit:
            return allowed
    raise AssertionError("unreachable")  # pragma: no cover


class IntraDayTimeRange(StrictModel):
    """Only the part of each day between `start` and `end` (hh:mm:ss; across midnight when
    `end` is earlier than `start`)."""

    start: str
    end: str

    @model_validator(mode="after")
    def _at_least_15_minutes(self) -> IntraDayTimeRange:
        start, end = _clock_seconds(self.start), _clock_seconds(self.end)
        span = end - start if end > start else end + 86_400 - start
        if span < 15 * 60:
            raise ValueError("end must be at least 15 minutes after start")
        return self


class ReportFilter(StrictModel):
    name: str = Field(min_length=1)
    values: list[str] = Field(min_length=1)


class ReportConfig(StrictModel):
    """One historical summary report, created on its schedule and exported as gauges."""

    # The `report` label, and part of the poller's name.
    name: str
    type: str = Field(min_length=1)
    group_by: str = Field(min_length=1)
    filters: list[ReportFilter] = Field(default_factory=list)
    # Empty means every metric of the report type.
    metrics: list[str] = Field(default_factory=list)
    window: WindowSpec = Field(default_factory=lambda: parse_window("today"))
    granularity: Literal["15m", "30m", "hour", "day", "week", "month", "year", "none"] = "none"
    intra_day_time_range: IntraDayTimeRange | None = None
    interval: Duration = 900.0
    # Tenant ids among contact_center.tenants; empty means all of them.
    tenants: list[str] = Field(default_factory=list)
    # Series of one tenant's report beyond this are dropped (and logged): up to 10,000 rows
    # times every metric, times the intervals of a granularity, would be too many.
    max_series: int = Field(default=20_000, ge=1)

    @field_validator("name")
    @classmethod
    def _label_value(cls, name: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
            raise ValueError(
                f"{name!r} must be lower-case letters, digits and _, starting with "
                "a letter (it names the report in labels and collectors)"
            )
        return name

    @model_validator(mode="after")
    def _granularity_fits_window(self) -> ReportConfig:
        allowed = allowed_granularities(self.window)
        if self.granularity not in allowed:
            raise ValueError(
                f"granularity {self.granularity} is not accepted for a window of "
                f"{self.window.name}; use one of {', '.join(allowed)}"
            )
        return self


class ReportStatusPolling(StrictModel):
    """How a report's status is polled while it is generated: exponential backoff from
    `initial_backoff` to `max_backoff`, giving up after `timeout` (the guide asks for no
    tight loop)."""

    initial_backoff: Duration = 2.0
    max_backoff: Duration = 30.0
    timeout: Duration = 600.0

    @model_validator(mode="after")
    def _order(self) -> ReportStatusPolling:
        if self.max_backoff < self.initial_backoff:
            raise ValueError("max_backoff must not be smaller than initial_backoff")
        if self.timeout < self.initial_backoff:
            raise ValueError("timeout must not be smaller than initial_backoff")
        return self


class ContactCenterConfig(StrictModel):
    """The Contact Center analytics APIs (OAuth client credentials, realtime v5, reports v8)."""

    enabled: bool = False
    region: Literal["us", "eu", "au", "ca"] = "us"
    # The host; the region adds its path prefix. Each URL can also be set on its own.
    base_url: BaseUrl = CONTACT_CENTER_BASE_URL
    token_url: BaseUrl | None = None
    realtime_url: BaseUrl | None = None
    historical_url: BaseUrl | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    # Tenant ids sent as X-Tenant-Info (multi-tenant accounts); empty for a single tenant.
    tenants: list[str] = Field(default_factory=list)
    # `timezone` of the `.today` realtime metrics and of the reports (and their calendar
    # windows). Unset: the parameter is left out and 8x8 uses the tenant's default time zone,
    # which is the only safe choice since 8x8 accepts only zones configured for the tenant.
    time_zone: TimeZone | None = None
    # The specs do not say; milliseconds as in the other 8x8 analytics APIs.
    duration_unit: Literal["milliseconds", "seconds"] = "milliseconds"
    page_size: int = Field(default=100, ge=1, le=1000)
    report_page_size: int = Field(default=1000, ge=1, le=1000)
    timeouts: Timeouts = Timeouts()
    retries: RetryPolicy = RetryPolicy()
    # Requests a minute this exporter may send to the API, all pollers together; a 429
    # pauses every poller of the API. Start-up refuses intervals that cannot fit.
    request_budget_per_minute: float = Field(default=1200, gt=0)
    # Answers larger than this fail the request (a page is a few MB at most). Parsing one
    # takes up to 4-5 times its size in memory (README, "Memory"): 16 MiB stays within the
    # Helm chart's 256 MiB limit.
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # Agents' names (`agent` of eightbyeight_cc_agent_info and of reports grouped by agent):
    # personal data, exported only when asked for; off, those labels are there, empty.
    personal_data: bool = False
    # Which team each queue belongs to (the `team` label of its `_info` series, which the
    # mixin's queue alerts carry for routing): first match wins, `default_team` for the rest.
    teams: list[TeamRule] = Field(default_factory=list)
    default_team: DefaultTeam = ""
    # The service-level threshold and target of queues that 8x8 gives none of their own
    # (`slaTimeThreshold`, `slaPercentageTarget`): first match wins, then the default.
    service_levels: list[ServiceLevelRule] = Field(default_factory=list)
    default_service_level: ServiceLevelObjective = ServiceLevelObjective()
    queues: CcRealtimeConfig = CcRealtimeConfig()
    groups: CcRealtimeConfig = CcRealtimeConfig()
    agents: CcAgentsConfig = CcAgentsConfig()
    reports: list[ReportConfig] = Field(default_factory=list)
    report_status: ReportStatusPolling = ReportStatusPolling()

    @field_validator("tenants")
    @classmethod
    def _tenant_ids(cls, tenants: list[str]) -> list[str]:
        if any(not t.strip() for t in tenants):
            raise ValueError("tenant ids must not be empty")
        if any(not all(" " <= char <= "~" for char in t) for t in tenants):
            # Sent in the X-Tenant-Info header: anything else fails every request.
            raise ValueError("tenant ids must be printable ASCII (sent in an HTTP header)")
        duplicates = sorted({t for t in tenants if tenants.count(t) > 1})
        if duplicates:
            raise ValueError(f"listed twice: {', '.join(duplicates)}")
        return tenants

    @model_validator(mode="after")
    def _reports_consistent(self) -> ContactCenterConfig:
        names = [r.name for r in self.reports]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"reports: names listed twice: {', '.join(duplicates)}")
        for report in self.reports:
            if report.window.calendar and self.time_zone is None:
                raise ValueError(
                    f"reports: {report.name}: a {report.window.name} window starts at local "
                    "midnight: set contact_center.time_zone to the tenant's time zone"
                )
            unknown = [t for t in report.tenants if t not in self.tenants]
            if unknown:
                raise ValueError(
                    f"reports: {report.name}: tenants not in contact_center.tenants: "
                    f"{', '.join(unknown)}"
                )
        return self

    @property
    def queue_teams(self) -> QueueTeams:
        return QueueTeams(rules=self.teams, default=self.default_team)

    @property
    def queue_service_levels(self) -> QueueServiceLevels:
        return QueueServiceLevels(rules=self.service_levels, default=self.default_service_level)

    def minimum_requests_per_minute(self) -> dict[str, float]:
        """Requests a minute at the least: one page per realtime endpoint and tenant, and a
        create plus a data page per report and tenant."""
        tenants = max(1, len(self.tenants))
        need = {
            kind: tenants * 60 / section.interval
            for kind, section in (
                ("queues", self.queues),
                ("groups", self.groups),
                ("agents", self.agents),
            )
            if section.enabled
        }
        for report in self.reports:
            need[f"report {report.name}"] = (
                2 * (len(report.tenants) or tenants) * 60 / report.interval
            )
        return need

    @model_validator(mode="after")
    def _fits_the_budget(self) -> ContactCenterConfig:
        if self.enabled:
            check_budget(self.minimum_requests_per_minute(), self.request_budget_per_minute)
        return self

    def urls(self) -> tuple[str, str, str]:
        """Token, realtime and historical base URLs."""
        realtime, historical = region_urls(self.base_url, self.region)
        return (
            self.token_url or self.base_url + TOKEN_PATH,
            self.realtime_url or realtime,
            self.historical_url or historical,
        )
