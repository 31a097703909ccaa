"""The `work_analytics` section: discovery, live call queues, the historical summaries and the
call records and legs, with the request budget they must fit in together."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from exporter.config.agents import QueueAgentsConfig, per_agent_series
from exporter.config.live import AgentActivityConfig, LiveCallsConfig
from exporter.config.regions import WORK_ANALYTICS_BASE_URL
from exporter.config.service_levels import (
    QueueServiceLevels,
    ServiceLevelObjective,
    ServiceLevelRule,
)
from exporter.config.values import (
    BaseUrl,
    Buckets,
    DefaultTeam,
    Duration,
    QueueTeams,
    RetryPolicy,
    Selection,
    StrictModel,
    TeamRule,
    Timeouts,
    TimeZone,
    Windows,
    check_budget,
)
from exporter.core.windows import Window, parse_window
from exporter.metrics.call_queues import (
    CALL_QUEUE_METRICS_AGGREGATE_KEYS,
    CALL_QUEUE_METRICS_KEYS,
    CALL_QUEUE_METRICS_WINDOW,
    REALTIME_KEYS,
)

DEFAULT_WINDOW = CALL_QUEUE_METRICS_WINDOW
DAY_SECONDS = 86_400


class DiscoveryConfig(StrictModel):
    """The customer-data API: PBX, site and queue ids to names."""

    interval: Duration = 600.0
    page_size: int = Field(default=100, ge=1, le=100)


class SummaryConfig(StrictModel):
    """A summary endpoint polled for a list of windows."""

    enabled: bool = True
    interval: Duration = 300.0
    windows: Windows = Field(default_factory=lambda: [parse_window("1h"), parse_window("today")])
    # Ceiling on the series this poller exports; rows beyond it are left out (and counted).
    max_series: int = Field(default=20_000, ge=1)
    select: Selection = Selection()


class ExtensionsConfig(SummaryConfig):
    windows: Windows = Field(default_factory=lambda: [parse_window("today")])


# Ring group member requests in flight at once, at most: each one a thread and a kept-alive
# connection (exporter/api/sessions.py sizes the pool for this many).
MAX_MEMBER_CONCURRENCY = 8


class RingGroupMembersConfig(SummaryConfig):
    # One request per ring group and window: off unless asked for.
    enabled: bool = False
    windows: Windows = Field(default_factory=lambda: [parse_window("today")])
    # Ring group names or extensions; empty means every ring group the ring-group summary lists.
    ring_groups: list[str] = Field(default_factory=list)
    # Requests in flight at once: 838 one after another took a 500k account's cycle past a
    # minute (issue 20). Each still takes its token from the API's budget, so this changes
    # how fast a run spends the budget's burst, never the requests a minute it allows.
    concurrency: int = Field(default=4, ge=1, le=MAX_MEMBER_CONCURRENCY)


MAX_LOOKBACK_SECONDS = 6 * 3600


class CallDetailConfig(StrictModel):
    """Incremental polling of /v2/call-records or /v2/call-legs into counters and histograms."""

    enabled: bool = True
    interval: Duration = 60.0
    # Each poll asks again for this much time before the last one ended, to catch late records;
    # records already counted are recognised by their ids and not counted twice.
    lookback: Duration = 900.0
    page_size: int = Field(default=1000, ge=1, le=7000)
    # Records remembered for de-duplication; the oldest are forgotten first.
    dedup_max_entries: int = Field(default=200_000, ge=1000)
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
    max_series: int = Field(default=20_000, ge=1)
    select: Selection = Selection()

    @model_validator(mode="after")
    def _lookback_covers_interval(self) -> CallDetailConfig:
        if self.lookback < self.interval:
            raise ValueError(
                f"lookback ({self.lookback:g}s) must be at least the interval "
                f"({self.interval:g}s), or records between two polls are missed"
            )
        if self.lookback > MAX_LOOKBACK_SECONDS:
            raise ValueError(
                f"lookback ({self.lookback:g}s) must be at most 6h: the counters of a day go "
                "on for the look-back past its midnight"
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
    # looks like milliseconds; the deprecated API is always ms. `auto` applies the unit the
    # data shows (pollers/call_queue_units: the deprecated API's ms, or a duration impossible
    # in seconds) and the guide's seconds until it shows one; `seconds` or `milliseconds` pin
    # it, and a contradiction in the data is logged and exported, not applied.
    duration_unit: Literal["auto", "seconds", "milliseconds"] = "auto"
    # The comparison with the deprecated realtime API: one request per PBX at start-up and then
    # every unit_check_interval (at most once a poll). Off: plausibility checks only.
    unit_check: bool = True
    unit_check_interval: Duration = 3600.0
    sites: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    include_summary: bool = True
    # Full-match regular expressions on queue name, extension or id; and a ceiling on series.
    select: Selection = Selection()
    max_series: int = Field(default=20_000, ge=1)
    # Windows of the aggregate (non-`ongoing`) metrics. `24h` is the API's own no-date default
    # and rides on the request made for the live metrics anyway; every other window is one
    # more request per PBX and poll (`startDate`/`endDate`, see core.windows.date_range).
    windows: Windows = Field(default_factory=lambda: [parse_window(DEFAULT_WINDOW)])

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

    @field_validator("windows")
    @classmethod
    def _windows_the_api_can_express(
        cls, windows: list[Window], info: ValidationInfo
    ) -> list[Window]:
        problems = window_problems(windows)
        dated = [w.name for w in windows if w.seconds != DAY_SECONDS]
        # `api` and `metrics` come first; when invalid they are reported already and absent here.
        api, metrics = info.data.get("api"), info.data.get("metrics")
        if api == "realtime" and dated:
            problems.append(
                "the deprecated realtime API (api: realtime) takes no date range: "
                f"windows must be [24h] there, not {', '.join(dated)}"
            )
        if api == "call_queue_metrics" and dated and metrics:
            if not any(m in CALL_QUEUE_METRICS_AGGREGATE_KEYS for m in metrics):
                problems.append(
                    f"windows other than 24h ({', '.join(dated)}) apply to the aggregate "
                    "metrics only, and metrics lists only ongoing* ones"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return windows

    @property
    def dated_windows(self) -> list[Window]:
        """The windows asked for with a date range: all but the API's no-date 24 hours."""
        return [w for w in self.windows if w.seconds != DAY_SECONDS]

    def requests_per_pbx(self) -> int:
        """Requests per PBX and poll: the live one (carrying 24h), one per other window."""
        return 1 + len(self.dated_windows)

    def requests_per_minute(self, pbxes: int) -> float:
        """The polls' requests, and the unit check's realtime request per PBX, which rides on
        a poll (so comes at most once a poll)."""
        need = pbxes * self.requests_per_pbx() * 60 / self.interval
        if self.unit_check_asks_realtime:
            need += pbxes * 60 / max(self.unit_check_interval, self.interval)
        return need

    @property
    def unit_check_asks_realtime(self) -> bool:
        """Whether the unit check compares with the realtime API (not when it is the API)."""
        return self.unit_check and self.api == "call_queue_metrics"


def window_problems(windows: list[Window]) -> list[str]:
    """What the Call Queue Metric API cannot express among `windows`."""
    problems = []
    too_long = [w.name for w in windows if w.seconds is not None and w.seconds > DAY_SECONDS]
    if too_long:
        # One time-of-day range (intraDayStart/intraDayEnd) cannot pick out more than a day,
        # and under the date reading of startDate/endDate nothing else can: see date_range.
        problems.append(
            f"{', '.join(too_long)}: rolling windows of the Call Queue Metric API can be at "
            "most 24h; use today, this_week or this_month, or the summaries, for longer ones"
        )
    whole_days = [w.name for w in windows if w.seconds == DAY_SECONDS]
    if len(whole_days) > 1:
        problems.append(f"{' and '.join(whole_days)} are the same window")
    return problems


class WorkAnalyticsConfig(StrictModel):
    enabled: bool = True
    base_url: BaseUrl = WORK_ANALYTICS_BASE_URL
    api_key: SecretStr | None = None  # printable ASCII: see credentials._check_header_value
    api_key_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    # PBX names or ids; empty means every PBX the account can see.
    pbxes: list[str] = Field(default_factory=list)
    timeouts: Timeouts = Timeouts()
    retries: RetryPolicy = RetryPolicy()
    # Requests a minute this exporter may send to the API, all pollers together; a 429
    # pauses every poller of the API. Start-up refuses intervals that cannot fit.
    request_budget_per_minute: float = Field(default=1200, gt=0)
    # Answers larger than this fail the request (a page is a few MB at most). Parsing one
    # takes up to 4-5 times its size in memory (README, "Memory"): 16 MiB stays within the
    # Helm chart's 256 MiB limit.
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    discovery: DiscoveryConfig = DiscoveryConfig()
    call_queues: CallQueuesConfig = CallQueuesConfig()
    queue_agents: QueueAgentsConfig = QueueAgentsConfig()
    # Names, e-mail addresses and user names of people (the user's labels of
    # eightbyeight_extension_info, `agent` of eightbyeight_agent_info): personal data, exported
    # only when asked for; off, those labels are there with empty values.
    personal_data: bool = False
    # Which team each queue belongs to (the `team` label of its `_info` series, which the
    # mixin's queue alerts carry for routing): first match wins, `default_team` for the rest.
    teams: list[TeamRule] = Field(default_factory=list)
    default_team: DefaultTeam = ""
    # Each queue's service-level threshold and target (docs/service-levels.md): first match
    # wins, `default_service_level` for the rest. Every threshold is also a bucket of the
    # call legs' wait histograms, which the service level is counted from.
    service_levels: list[ServiceLevelRule] = Field(default_factory=list)
    default_service_level: ServiceLevelObjective = ServiceLevelObjective()
    # The IANA zone of the historical endpoints' `timeZone`, and of calendar windows
    # (`today` starts at midnight there).
    time_zone: TimeZone = "UTC"
    # PBX names per historical request (`pbxId=a,b,c`); more PBXes take more requests.
    pbx_batch_size: int = Field(default=50, ge=1, le=500)
    company_summary: SummaryConfig = SummaryConfig()
    ring_groups: SummaryConfig = SummaryConfig()
    ring_group_members: RingGroupMembersConfig = RingGroupMembersConfig()
    extensions: ExtensionsConfig = ExtensionsConfig()
    call_records: CallDetailConfig = CallDetailConfig()
    call_legs: CallDetailConfig = CallDetailConfig()
    agent_activity: AgentActivityConfig = AgentActivityConfig()
    live_calls: LiveCallsConfig = LiveCallsConfig()

    @property
    def queue_teams(self) -> QueueTeams:
        return QueueTeams(rules=self.teams, default=self.default_team)

    @property
    def queue_service_levels(self) -> QueueServiceLevels:
        return QueueServiceLevels(rules=self.service_levels, default=self.default_service_level)

    def minimum_requests_per_minute(self) -> dict[str, float]:
        """Requests a minute each enabled poller needs at the least: one PBX when every PBX
        is watched (the real number is known after discovery), one page per request."""
        pbxes = max(1, len(self.pbxes))
        batches = math.ceil(pbxes / self.pbx_batch_size)
        need = {"discovery": (1 + 2 * pbxes) * 60 / self.discovery.interval}
        if self.call_queues.enabled:
            need["call_queues"] = self.call_queues.requests_per_minute(pbxes)
        need.update(
            self.queue_agents.requests_per_minute(
                pbxes, self.discovery.interval, agent_directory=per_agent_series(self)
            )
        )
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
        for name in ("agent_activity", "live_calls"):  # one request (page) per PBX and poll
            if getattr(self, name).enabled:
                need[name] = getattr(self, name).requests_per_minute(pbxes)
        return need

    @model_validator(mode="after")
    def _fits_the_budget(self) -> WorkAnalyticsConfig:
        if self.enabled:
            check_budget(self.minimum_requests_per_minute(), self.request_budget_per_minute)
        return self
