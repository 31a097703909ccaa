"""The exporter's configuration: one typed, validated model loaded from YAML.

Every problem is reported at once with its path (`work_analytics.call_queues.interval: ...`);
unknown keys are rejected; `${ENV_VAR}` is interpolated in strings; secrets may come from
`*_file` or, for Work Analytics, from the `EIGHTBYEIGHT_*` environment variables.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from exporter.api.contact_center import TOKEN_PATH, region_urls
from exporter.core.errors import ConfigError, YamlFileError
from exporter.core.windows import Window, parse_window
from exporter.core.yaml_files import read_yaml
from exporter.metrics.queue_tables import CALL_QUEUE_METRICS_KEYS, REALTIME_KEYS

WORK_ANALYTICS_BASE_URL = "https://api.8x8.com/analytics/work"
CONTACT_CENTER_BASE_URL = "https://api.8x8.com"

ENV_API_KEY = "EIGHTBYEIGHT_API_KEY"
ENV_USERNAME = "EIGHTBYEIGHT_USERNAME"
ENV_PASSWORD = "EIGHTBYEIGHT_PASSWORD"
ENV_CC_CLIENT_ID = "EIGHTBYEIGHT_CC_CLIENT_ID"
ENV_CC_CLIENT_SECRET = "EIGHTBYEIGHT_CC_CLIENT_SECRET"

_DURATION_RE = re.compile(
    r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?!s))?(?:(?P<s>\d+(?:\.\d+)?)s)?(?:(?P<ms>\d+)ms)?$"
)


def parse_duration(value: Any) -> float:
    """Seconds from a number or a Prometheus-style duration string (`90s`, `1m30s`, `500ms`)."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30s, 5m or 1h")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        match = _DURATION_RE.match(value.strip())
        if not match or not any(match.groupdict().values()):
            raise ValueError(f"{value!r} is not a duration such as 30s, 5m or 1h")
        parts = {k: float(v) for k, v in match.groupdict().items() if v}
        seconds = (
            parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
            + parts.get("ms", 0) / 1000
        )
    else:
        raise ValueError("must be a duration such as 30s, 5m or 1h")
    if seconds <= 0:
        raise ValueError("must be greater than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _normalise_base_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_normalise_base_url)]


class Timeouts(StrictModel):
    """Per-request timeouts; every request carries both."""

    connect: Duration = 5.0
    read: Duration = 30.0
    # The whole request, body included: a slow trickle of small reads ends here.
    total: Duration = 120.0


class RetryPolicy(StrictModel):
    """Retries on 429, 5xx and connection errors, with exponential backoff and full jitter."""

    max_attempts: int = Field(4, ge=1, le=10)
    initial_backoff: Duration = 1.0
    max_backoff: Duration = 30.0
    # A Retry-After longer than this fails the call instead of stalling the collector.
    max_retry_after: Duration = 120.0

    @model_validator(mode="after")
    def _backoff_order(self) -> RetryPolicy:
        if self.max_backoff < self.initial_backoff:
            raise ValueError("max_backoff must not be smaller than initial_backoff")
        return self


class DiscoveryConfig(StrictModel):
    """The customer-data API: PBX, site and queue ids to names."""

    interval: Duration = 600.0
    page_size: int = Field(100, ge=1, le=100)


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


TimeZone = Annotated[str, BeforeValidator(_time_zone)]
WindowSpec = Annotated[Window, BeforeValidator(_window)]
Pattern = Annotated[re.Pattern[str], BeforeValidator(_pattern)]


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


Windows = Annotated[list[WindowSpec], AfterValidator(_unique_windows)]
Buckets = Annotated[list[float], AfterValidator(_buckets)]


class Selection(StrictModel):
    """Which rows to keep, by name or extension: full-match regular expressions."""

    include: list[Pattern] = Field(default_factory=list)
    exclude: list[Pattern] = Field(default_factory=list)

    def keeps(self, *values: str) -> bool:
        """True when any value matches an include (or there is none) and none matches an exclude."""

        def hit(patterns: list[re.Pattern[str]]) -> bool:
            return any(p.fullmatch(v) for p in patterns for v in values if v)

        return (not self.include or hit(self.include)) and not hit(self.exclude)


class SummaryConfig(StrictModel):
    """A summary endpoint polled for a list of windows."""

    enabled: bool = True
    interval: Duration = 300.0
    windows: Windows = Field(default_factory=lambda: [parse_window("1h"), parse_window("today")])
    # Ceiling on the series this collector exports; rows beyond it are left out (and counted).
    max_series: int = Field(20_000, ge=1)
    select: Selection = Selection()


class ExtensionsConfig(SummaryConfig):
    windows: Windows = Field(default_factory=lambda: [parse_window("today")])


class RingGroupMembersConfig(SummaryConfig):
    # One request per ring group and window: off unless asked for.
    enabled: bool = False
    windows: Windows = Field(default_factory=lambda: [parse_window("today")])
    # Ring group names or extensions; empty means every ring group the ring-group summary lists.
    ring_groups: list[str] = Field(default_factory=list)


class CallDetailConfig(StrictModel):
    """Incremental polling of /v2/call-records or /v2/call-legs into counters and histograms."""

    enabled: bool = True
    interval: Duration = 60.0
    # Each poll asks again for this much time before the last one ended, to catch late records;
    # records already counted are recognised by their ids and not counted twice.
    lookback: Duration = 900.0
    page_size: int = Field(1000, ge=1, le=7000)
    # Records remembered for de-duplication; the oldest are forgotten first.
    dedup_max_entries: int = Field(200_000, ge=1000)
    wait_buckets: Buckets = Field(
        default_factory=lambda: [
            5.0,
            10.0,
            15.0,
            20.0,
            30.0,
            45.0,
            60.0,
            90.0,
            120.0,
            180.0,
            300.0,
            600.0,
        ]
    )
    talk_buckets: Buckets = Field(
        default_factory=lambda: [30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0]
    )
    max_series: int = Field(20_000, ge=1)
    select: Selection = Selection()

    @model_validator(mode="after")
    def _lookback_covers_interval(self) -> CallDetailConfig:
        if self.lookback < self.interval:
            raise ValueError(
                f"lookback ({self.lookback:g}s) must be at least the interval "
                f"({self.interval:g}s), or records between two polls are missed"
            )
        return self


class CallQueuesConfig(StrictModel):
    """Live call-queue metrics."""

    enabled: bool = True
    interval: Duration = 30.0
    # `call_queue_metrics`: /v2/pbxes/{pbxId}/call-queue-metrics (live plus last-24h aggregates).
    # `realtime`: the deprecated /v2/call-queues/real-time/pbxes/{pbxId} of the vendor's guide.
    api: Literal["call_queue_metrics", "realtime"] = "call_queue_metrics"
    # The vendor's guide says the Call Queue Metric API answers in seconds, its OpenAPI example
    # looks like milliseconds. The guide is the default; the deprecated API is always ms.
    duration_unit: Literal["seconds", "milliseconds"] = "seconds"
    sites: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    include_summary: bool = True
    # Full-match regular expressions on queue name, extension or id; and a ceiling on series.
    select: Selection = Selection()
    max_series: int = Field(20_000, ge=1)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str], info: ValidationInfo) -> list[str]:
        api = info.data.get("api")
        if api is None:  # `api` itself is invalid and reported already
            return metrics
        known = CALL_QUEUE_METRICS_KEYS if api == "call_queue_metrics" else REALTIME_KEYS
        unknown = [m for m in metrics if m not in known]
        if unknown:
            raise ValueError(f"unknown for api {api}: {', '.join(unknown)}")
        return metrics


class WorkAnalyticsConfig(StrictModel):
    enabled: bool = True
    base_url: BaseUrl = WORK_ANALYTICS_BASE_URL
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    # PBX names or ids; empty means every PBX the account can see.
    pbxes: list[str] = Field(default_factory=list)
    timeouts: Timeouts = Timeouts()
    retries: RetryPolicy = RetryPolicy()
    # Requests a minute this exporter may send to the API, all collectors together; a 429
    # pauses every collector of the API. Start-up refuses intervals that cannot fit.
    request_budget_per_minute: float = Field(1200, gt=0)
    # Answers larger than this fail the request (a page is a few MB at most).
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    discovery: DiscoveryConfig = DiscoveryConfig()
    call_queues: CallQueuesConfig = CallQueuesConfig()
    # The IANA zone of the historical endpoints' `timeZone`, and of calendar windows
    # (`today` starts at midnight there).
    time_zone: TimeZone = "UTC"
    # PBX names per historical request (`pbxId=a,b,c`); more PBXes take more requests.
    pbx_batch_size: int = Field(50, ge=1, le=500)
    company_summary: SummaryConfig = SummaryConfig()
    ring_groups: SummaryConfig = SummaryConfig()
    ring_group_members: RingGroupMembersConfig = RingGroupMembersConfig()
    extensions: ExtensionsConfig = ExtensionsConfig()
    call_records: CallDetailConfig = CallDetailConfig()
    call_legs: CallDetailConfig = CallDetailConfig()

    def minimum_requests_per_minute(self) -> dict[str, float]:
        """Requests a minute each enabled collector needs at the least: one PBX when every PBX
        is watched (the real number is known after discovery), one page per request."""
        pbxes = max(1, len(self.pbxes))
        batches = math.ceil(pbxes / self.pbx_batch_size)
        need = {"discovery": (1 + 2 * pbxes) * 60 / self.discovery.interval}
        if self.call_queues.enabled:
            need["call_queues"] = pbxes * 60 / self.call_queues.interval
        for name in ("company_summary", "ring_groups", "extensions"):
            section = getattr(self, name)
            if section.enabled:
                need[name] = len(section.windows) * batches * 60 / section.interval
        members = self.ring_group_members
        if members.enabled:
            need["ring_group_members"] = (
                len(members.windows) * max(1, len(members.ring_groups)) * 60 / members.interval
            )
        for name in ("call_records", "call_legs"):
            section = getattr(self, name)
            if section.enabled:
                need[name] = batches * 60 / section.interval
        return need

    @model_validator(mode="after")
    def _fits_the_budget(self) -> WorkAnalyticsConfig:
        if self.enabled:
            _check_budget(self.minimum_requests_per_minute(), self.request_budget_per_minute)
        return self


class CcRealtimeConfig(StrictModel):
    """One realtime endpoint of Contact Center (`/queues`, `/groups` or `/agents`)."""

    enabled: bool = True
    interval: Duration = 30.0
    # Metric keys as the API names them (`accepted.today`, `interactionsWaitInQueue.rt`);
    # empty means every metric the API sends.
    metrics: list[str] = Field(default_factory=list)
    # Full-match regular expressions on the name or id; and a ceiling on series.
    select: Selection = Selection()
    max_series: int = Field(20_000, ge=1)

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


_METRIC_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*\.[a-z0-9-]+(\.[A-Za-z]+)?$")
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

    # The `report` label, and part of the collector's name.
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
    max_series: int = Field(20_000, ge=1)

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
    page_size: int = Field(100, ge=1, le=1000)
    report_page_size: int = Field(1000, ge=1, le=1000)
    timeouts: Timeouts = Timeouts()
    retries: RetryPolicy = RetryPolicy()
    # Requests a minute this exporter may send to the API, all collectors together; a 429
    # pauses every collector of the API. Start-up refuses intervals that cannot fit.
    request_budget_per_minute: float = Field(1200, gt=0)
    # Answers larger than this fail the request (a page is a few MB at most).
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)
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
            _check_budget(self.minimum_requests_per_minute(), self.request_budget_per_minute)
        return self

    @property
    def duration_scale(self) -> float:
        return 0.001 if self.duration_unit == "milliseconds" else 1.0

    def urls(self) -> tuple[str, str, str]:
        """Token, realtime and historical base URLs."""
        realtime, historical = region_urls(self.base_url, self.region)
        return (
            self.token_url or self.base_url + TOKEN_PATH,
            self.realtime_url or realtime,
            self.historical_url or historical,
        )


def _check_budget(need: Mapping[str, float], budget: float) -> None:
    """A ValueError saying what would fit when the collectors' least need is over budget."""
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


class Config(StrictModel):
    # Required in the model; load_config_data() supplies an empty section when the file has
    # none, so its defaults and credential checks still apply.
    work_analytics: WorkAnalyticsConfig
    contact_center: ContactCenterConfig = ContactCenterConfig()


# (field, environment variable, may come from `<field>_file`) per section.
_CREDENTIALS = {
    "work_analytics": (
        ("api_key", ENV_API_KEY, True),
        ("username", ENV_USERNAME, False),
        ("password", ENV_PASSWORD, True),
    ),
    "contact_center": (
        ("client_id", ENV_CC_CLIENT_ID, False),
        ("client_secret", ENV_CC_CLIENT_SECRET, True),
    ),
}
_ENABLED_BY_DEFAULT = {"work_analytics": True, "contact_center": False}


def _prepare_credentials(
    name: str, section: dict[str, Any], env: Mapping[str, str], problems: list[str]
) -> dict[str, Any]:
    """Resolve `*_file` secrets and environment defaults before validation, and require the
    credentials of an enabled section.

    Done outside the model so these problems are reported together with every field error.
    """
    section = dict(section)
    credentials = _CREDENTIALS[name]
    for field, env_name, has_file in credentials:
        if has_file:
            _resolve_secret_file(name, section, field, problems)
        if section.get(field) in (None, "") and env.get(env_name):
            section[field] = env[env_name]
    if _enabled(section.get("enabled", _ENABLED_BY_DEFAULT[name])):
        for field, env_name, has_file in credentials:
            if section.get(field) in (None, "") and not _file_problem(name, problems, field):
                alternatives = f"{field}, {field}_file" if has_file else field
                problems.append(
                    f"{name}.{field}: required (set {alternatives} or the "
                    f"environment variable {env_name})"
                )
    return section


def _enabled(value: Any) -> bool:
    """`enabled` as the model will read it ("true" from an environment variable included);
    a value that is no boolean at all is left to the model's own error."""
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        return False


def _file_problem(name: str, problems: list[str], field: str) -> bool:
    return any(p.startswith(f"{name}.{field}") for p in problems)


def _resolve_secret_file(name: str, data: dict[str, Any], field: str, problems: list[str]) -> None:
    file_key = f"{field}_file"
    path = data.get(file_key)
    if path in (None, ""):
        return
    if data.get(field) not in (None, ""):
        problems.append(f"{name}.{field}: set either {field} or {file_key}, not both")
        return
    try:
        data[field] = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        problems.append(f"{name}.{file_key}: cannot read {path}: {exc.strerror or exc}")
        return
    if not data[field]:
        problems.append(f"{name}.{file_key}: {path} is empty")


_ENV_RE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate_env(value: Any, env: Mapping[str, str], problems: list[str], path: str = "") -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in every string; `$$` is a literal `$`."""
    if isinstance(value, dict):
        return {
            k: interpolate_env(v, env, problems, f"{path}.{k}" if path else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate_env(v, env, problems, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _ENV_RE.sub(substitute, value)


def _format_location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-") or part in ("literal_error",):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def _format_errors(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        where = _format_location(tuple(error["loc"]))
        if error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key")
            continue
        if error["type"] in ("model_type", "dict_type"):
            problems.append(f"{where or '(top level)'}: must be a mapping")
            continue
        message = error["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if message.startswith(prefix):
                message = message[len(prefix) :]
        problems.append(f"{where or '(top level)'}: {message}")
    return problems


def load_config_data(data: Any, env: Mapping[str, str] | None = None) -> Config:
    """Validate already-parsed YAML. Raises ConfigError listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["(top level): must be a mapping of sections"])
    env = os.environ if env is None else env
    problems: list[str] = []
    data = interpolate_env(data, env, problems)
    for name in _CREDENTIALS:
        section = data.get(name)
        if section is None and name == "work_analytics":
            section = {}
        if isinstance(section, dict):
            data[name] = _prepare_credentials(name, section, env, problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(_format_errors(exc))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a YAML config file; an empty file is an empty config."""
    try:
        data = read_yaml(path)
    except YamlFileError as exc:
        problem = "cannot read the config file: " if exc.unreadable else "invalid YAML"
        raise ConfigError([f"{path}: {problem}{exc.reason}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections"])
    return data


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a YAML config file."""
    return load_config_data(read_config_file(path), env)
