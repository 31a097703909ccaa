"""The live agent and call sections of `work_analytics`: `agent_activity` (/agent-activity)
and `live_calls` (/calls), with the requests a minute each needs at the least."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from exporter.config.values import Duration, DurationOrZero, StrictModel
from exporter.metrics.interactions import INTERACTION_ALIASES, INTERACTION_METRICS, USER_STATUS_TIME

AGENT_ACTIVITY_METRICS = (
    frozenset(INTERACTION_METRICS) | set(INTERACTION_ALIASES) | {USER_STATUS_TIME}
)
# Without startDate/endDate `/calls` covers the last 24 hours: no older call can be asked for.
MAX_CALL_AGE_SECONDS = 86_400.0
MIN_CALL_AGE_SECONDS = 60.0
MAX_LIVE_CALL_CONCURRENCY = 8


class AgentActivityConfig(StrictModel):
    """Agents by status per PBX; per agent only when asked for (one series set per agent)."""

    enabled: bool = True
    interval: Duration = 30.0
    per_agent: bool = False
    max_series: int = Field(default=20_000, ge=1)
    # The `metrics` parameter: empty asks for every one (they are read only per agent).
    metrics: list[str] = Field(default_factory=list)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str]) -> list[str]:
        unknown = [m for m in metrics if m not in AGENT_ACTIVITY_METRICS]
        if unknown:
            raise ValueError(f"unknown agent metrics: {', '.join(unknown)}")
        return metrics

    def requests_per_minute(self, pbxes: int) -> float:
        """One request per PBX and poll."""
        return pbxes * 60 / self.interval


class LiveCallsConfig(StrictModel):
    """Calls in progress per queue and ring group, read newest first down to max_call_age."""

    enabled: bool = True
    interval: Duration = 30.0
    page_size: int = Field(default=200, ge=1, le=1000)
    # Calls in progress that started longer ago are not looked for: a read pages back only
    # this far (a call stuck for hours would else cost every page of the day at every poll).
    max_call_age: Duration = 4 * 3600.0
    max_pages: int = Field(default=50, ge=1, le=1000)
    # Series: 2 x 5 per queue of the directory, 5 per ring group the calls name.
    max_series: int = Field(default=20_000, ge=1)
    # A read goes back only to the oldest call in progress at the PBX's previous read (a call
    # completed then stays completed), and the whole max_call_age once in this long: what a
    # read finds between two rescans is bounded by the calls since then, not by the 4 hours'
    # (issue 20: 1,642 pages a cycle at 500k). 0: every read goes back the whole max_call_age.
    rescan_interval: DurationOrZero = 600.0
    # PBXes read at once. Each request still takes its token from the API's budget.
    concurrency: int = Field(default=4, ge=1, le=MAX_LIVE_CALL_CONCURRENCY)

    @model_validator(mode="after")
    def _call_age_within_the_api_window(self) -> LiveCallsConfig:
        if not MIN_CALL_AGE_SECONDS <= self.max_call_age <= MAX_CALL_AGE_SECONDS:
            raise ValueError(
                f"max_call_age ({self.max_call_age:g}s) must be between 1m and 24h: /calls "
                "covers the last 24 hours"
            )
        return self

    def requests_per_minute(self, pbxes: int) -> float:
        """At least one page per PBX and poll."""
        return pbxes * 60 / self.interval
