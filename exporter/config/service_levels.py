"""Each queue's service-level objective: calls answered within `threshold_seconds`, and the
share of calls that should be (`target`). Mapped from queue name, extension or id by rules,
first match winning, as teams are; the default for the rest.

Work Analytics queues take theirs from here. Contact Center queues carry their own in 8x8
(`slaTimeThreshold`, `slaPercentageTarget`): these settings are only the fallback for a queue
that 8x8 gives none (docs/service-levels.md).
"""

from __future__ import annotations

from pydantic import Field

from exporter.config.values import Pattern, StrictModel


class ServiceLevelObjective(StrictModel):
    # Industry habit: 80% of calls answered within 20 seconds.
    threshold_seconds: float = Field(default=20.0, gt=0, le=3600)
    target: float = Field(default=0.8, gt=0, le=1)


class ServiceLevelRule(ServiceLevelObjective):
    """The objective of the queues whose name, extension or id fully matches `queues`."""

    queues: Pattern


class QueueServiceLevels(StrictModel):
    rules: list[ServiceLevelRule] = Field(default_factory=list)
    default: ServiceLevelObjective = ServiceLevelObjective()

    def of(self, *values: str) -> ServiceLevelObjective:
        for rule in self.rules:
            if any(rule.queues.fullmatch(v) for v in values if v):
                return rule
        return self.default

    def thresholds(self) -> set[float]:
        """Every threshold a queue may have: the wait histogram needs a bucket at each."""
        return {self.default.threshold_seconds, *(r.threshold_seconds for r in self.rules)}
