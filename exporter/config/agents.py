"""The `work_analytics.queue_agents` section: the agents of the call queues
(`/v2/pbxes/{pbxId}/queue-agent-activity`), and the agent directory their per-agent series
need."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from exporter.config.values import Duration, Selection, StrictModel
from exporter.metrics.queue_agents import METRIC_KEYS


class QueueAgentsConfig(StrictModel):
    """Agents of each queue by status; each agent's own series only with `per_agent`."""

    enabled: bool = True
    interval: Duration = 30.0
    # Per agent and queue: its status (a state set), status times and interaction metrics,
    # about 30 series each. Off by default: the counts per queue and status are always there.
    per_agent: bool = False
    # Filters, as call_queues': site names or ids, queue names, ids or extensions.
    sites: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    # Vendor interaction metrics asked for (the API's `metrics`); empty: all of them.
    metrics: list[str] = Field(default_factory=list)
    # The API's per-queue summary: not exported (the exporter sums the agents itself), so
    # not asked for unless set.
    include_summary: bool = False
    # Full-match regular expressions on queue name, extension or id; and a ceiling on series.
    select: Selection = Selection()
    max_series: int = Field(default=20_000, ge=1)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str]) -> list[str]:
        unknown = [m for m in metrics if m not in METRIC_KEYS]
        if unknown:
            raise ValueError(f"unknown: {', '.join(unknown)}")
        return metrics

    def requests_per_minute(
        self, pbxes: int, directory_interval: float, *, agent_directory: bool
    ) -> dict[str, float]:
        """This section's least need: one request per PBX and poll; and the agent directory's
        (one page per PBX at the discovery interval) while per-agent series are on."""
        need = {"queue_agents": pbxes * 60 / self.interval} if self.enabled else {}
        if agent_directory:
            need["agent_directory"] = pbxes * 60 / directory_interval
        return need


def per_agent_series(section: BaseModel) -> bool:
    """Whether an enabled subsection of `section` (the work_analytics one) exports per-agent
    series (`per_agent: true`): the agent directory runs then, to name their agent ids.
    Every subsection with `per_agent` counts (queue_agents, agent_activity)."""
    return any(
        getattr(sub, "enabled", False) is True and getattr(sub, "per_agent", False) is True
        for sub in dict(section).values()
    )
