"""The mixin's settings: the selector of the exporter's targets, the windows of the recording
rules, and every alert's threshold and `for:`. `mixin/config.yaml` is the one place a user
changes them; `python -m mixin` writes the rules and dashboards from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from exporter.core.durations import prometheus_duration_seconds
from exporter.core.errors import ConfigError


def _prom_duration(text: str) -> str:
    # The text goes into the rules as written: Prometheus' own grammar, no more.
    if prometheus_duration_seconds(text) is None:
        raise ValueError(f"{text!r} is not a Prometheus duration such as 30s, 5m or 1h30m")
    return text


PromDuration = Annotated[str, AfterValidator(_prom_duration)]


def seconds(duration: str) -> float:
    """Seconds of a Prometheus duration (`1h30m` -> 5400), already validated."""
    return prometheus_duration_seconds(duration) or 0.0


class Strict(BaseModel):
    # `for` is a Python keyword: the field is `for_`, read from the YAML key `for` through
    # `validation_alias`. Not `alias`, and defaults as `default=`: mypy reads pydantic models
    # through dataclass_transform (no plugin), which would take `alias` as the __init__ keyword
    # and miss a positional default, so `Sustained(for_="1m")` and `ServiceLevel()` would not
    # type-check.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ServiceLevel(Strict):
    # Which calls the service level is a share of (docs/service-levels.md): every call offered
    # to the queue; the same without the callers who hung up within the threshold (short
    # abandons: 8x8 Contact Center's own definition); or only the answered and abandoned.
    denominator: Literal["offered_without_short_abandons", "offered", "answered_and_abandoned"] = (
        "offered_without_short_abandons"
    )
    # The target of a queue whose own is not known (its discovery data missing); each queue's
    # threshold and target are the exporter's settings (work_analytics.service_levels) or
    # the queue's own in 8x8 (Contact Center).
    fallback_target: float = Field(default=0.8, gt=0, le=1)
    # From the simulated evenings of docs/alert-tuning.md: with 5, one abandoned call out of
    # six kept a quiet queue's warning pending; 10 leaves the queues that really struggle.
    min_calls: int = Field(default=10, ge=0)
    for_: PromDuration = Field(default="10m", validation_alias="for")

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        moved = [
            k for k in ("answered_within_seconds", "target") if isinstance(data, dict) and k in data
        ]
        if moved:
            raise ValueError(
                f"{', '.join(moved)}: each queue's threshold and target are set in the "
                "exporter's config now (work_analytics.service_levels and "
                "default_service_level; Contact Center queues use their own from 8x8), see "
                "docs/migration.md"
            )
        return data


class LongestWait(Strict):
    threshold_seconds: float = Field(default=300, gt=0)
    for_: PromDuration = Field(default="2m", validation_alias="for")


class Sustained(Strict):
    for_: PromDuration = Field(default="5m", validation_alias="for")


class WaitGrowing(Strict):
    # Everybody busy is no page: it warns when callers wait, nobody is available, and the
    # longest wait grows by `min_growth` seconds a second (1: nobody is answered) over
    # `window`. `deriv` is a least-squares slope over every sample of the window, so a scrape
    # gap or the drop when the longest waiting caller is answered does not decide it alone.
    window: PromDuration = "5m"
    min_growth: float = Field(default=0.5, gt=0, le=1)
    for_: PromDuration = Field(default="2m", validation_alias="for")


class NobodyLoggedIn(Strict):
    # The page stays firing for `keep_firing_for` after someone logs in: a queue whose agents
    # log in and out again while callers wait keeps one page, not a page per minute.
    for_: PromDuration = Field(default="1m", validation_alias="for")
    keep_firing_for: PromDuration = "5m"


class AbandonRatio(Strict):
    threshold: float = Field(default=0.1, gt=0, le=1)
    # From the simulated evenings of docs/alert-tuning.md: with 5, one abandoned call out of
    # six kept a quiet queue's warning pending; 10 leaves the queues that really struggle.
    min_calls: int = Field(default=10, ge=0)
    for_: PromDuration = Field(default="10m", validation_alias="for")


class DataStale(Strict):
    intervals: float = Field(default=3, gt=1)  # no success for this many collector intervals
    for_: PromDuration = Field(default="5m", validation_alias="for")


class ApiErrors(Strict):
    ratio: float = Field(default=0.1, gt=0, le=1)
    window: PromDuration = "10m"
    min_requests: int = Field(default=20, ge=1)  # in the window: a quiet API does not alert
    for_: PromDuration = Field(default="15m", validation_alias="for")


class ClockSkew(Strict):
    threshold_seconds: float = Field(default=30, gt=0)  # the exporter's SKEW_WARNING_SECONDS
    for_: PromDuration = Field(default="10m", validation_alias="for")


class MixinConfig(Strict):
    # Label matchers that select the exporter's own series (its scrape job), used in every
    # rule and as the dashboards' default `job` variable.
    selector: str = 'job="eightbyeight"'
    # The window of the Work Analytics queue ratios (rates of the call counters) and the
    # Contact Center realtime period the queue alerts read (`int-15m`, `int-30m`, ...).
    queue_window: PromDuration = "15m"
    cc_period: str = Field(default="int-15m", pattern=r"^int-[0-9]+[mh]$")
    service_level: ServiceLevel = ServiceLevel()
    longest_wait: LongestWait = LongestWait()
    no_agent_available: WaitGrowing = WaitGrowing()
    no_agent_logged_in: NobodyLoggedIn = NobodyLoggedIn()
    abandon_ratio: AbandonRatio = AbandonRatio()
    exporter_down: Sustained = Sustained(for_="5m")
    exporter_missing: Sustained = Sustained(for_="5m")
    collector_failing: Sustained = Sustained(for_="10m")
    data_stale: DataStale = DataStale()
    authentication_failing: Sustained = Sustained(for_="10m")
    api_errors: ApiErrors = ApiErrors()
    series_limit: Sustained = Sustained(for_="15m")
    api_clock_skew: ClockSkew = ClockSkew()
    duration_unit_mismatch: Sustained = Sustained(for_="15m")
    # Where docs/runbooks.md is published: alerts link to their section there (`#alertname`,
    # lower case). Relative by default: set it to the URL your team reads it at.
    runbooks: str = Field(default="docs/runbooks.md", min_length=1)

    # Names of the Work Analytics queue rules (labels pbx, site, queue, extension, queue_id,
    # team; the service-level rules of both products are named in mixin/service_levels.py; from
    # the Work Analytics call counters of queues, `eightbyeight_group_calls_total{group_type=
    # "queue"}`, and eightbyeight_queue_info).
    @property
    def queue_calls_rate(self) -> str:
        """Calls that ended answered or abandoned, per second, over `queue_window`."""
        return f"queue:eightbyeight_queue_calls:rate{self.queue_window}"

    @property
    def queue_abandon_ratio(self) -> str:
        """Abandoned / (answered + abandoned)."""
        return f"queue:eightbyeight_queue_abandoned:ratio_rate{self.queue_window}"


def load_mixin_config(path: Path | None) -> MixinConfig:
    """The settings of a YAML file (defaults when None); ConfigError lists every problem."""
    data: Any = {}
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError([f"{path}: {exc}"]) from None
    try:
        return MixinConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"{'.'.join(str(p) for p in err['loc'])}: "
                f"{err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            ]
        ) from None
