"""The service level on the dashboards: the recording rules of `mixin/service_levels.py` (one
name and one set of labels for both products) narrowed by a dashboard's variables, guarded by
the calls of their window as the alert guards them, and compared with each queue's own target.

Grafana colours a value by thresholds of its own field, one list per field, which cannot hold a
target per queue: the comparison is made in PromQL, as a margin (service level minus target,
thresholds at 0) or as the service levels split below / at or above their targets (one fixed
colour per query)."""

from __future__ import annotations

from dataclasses import dataclass

from mixin.config import MixinConfig
from mixin.dashboards.promql import (
    PBX,
    RULE_CLUSTER,
    SITE,
    TENANT,
    guarded,
    only_enough,
    sel,
    too_few,
)
from mixin.service_levels import TARGET_RULE, THRESHOLD_RULE, calls_rule, ratio_rule

WORK_ANALYTICS, CONTACT_CENTER = "work_analytics", "contact_center"
# The labels a service-level panel keeps: both products' queue keys side by side (a Work
# Analytics queue has no tenant, a Contact Center queue no pbx or site), so that the rows of one
# table, or the bars of one panel, can hold queues of either product.
QUEUE_KEY = ("product", "pbx", "site", "tenant", "queue", "team")
# A margin of exactly -1 (0 % against a 100 % target) would read as `TOO_FEW` ("too few
# calls"): the lowest margin shown is a hair above it.
LOWEST_MARGIN = -0.9999


@dataclass(frozen=True)
class ServiceLevelView:
    """The service level of one product's queues, as a dashboard's variables select them.

    The rules keep no `job` (they aggregate across the replicas of an HA pair), so `$job` and
    `$cluster` reach them through the queue's `_info` series, joined and filtered by the
    variables: `eightbyeight_queue_info` on (pbx, extension) for Work Analytics (two queues of
    one PBX may share a name in two sites, never an extension), `eightbyeight_cc_queue_info` on
    (tenant, queue_id) for Contact Center. A rule series of a queue no selected job watches
    finds no partner and drops out. The join also names the queue and its site, so a "too few
    calls" row made from the calls rule has them."""

    product: str
    # The dashboard's variable filter of the product's queue names: `$queue`, or `$cc_queue`
    # on the wallboard, whose `$queue` is the Work Analytics one.
    queue_matcher: str
    min_calls: int
    fallback_target: float
    by: tuple[str, ...] = QUEUE_KEY

    @classmethod
    def of(
        cls, config: MixinConfig, product: str, queue_matcher: str, by: tuple[str, ...] = QUEUE_KEY
    ) -> ServiceLevelView:
        sl = config.service_level
        return cls(product, queue_matcher, sl.min_calls, sl.fallback_target, by)

    def series(self, rule: str) -> str:
        """A service-level rule of this product, narrowed by the variables its labels allow."""
        owner = PBX if self.product == WORK_ANALYTICS else TENANT
        return f'{rule}{{product="{self.product}", {owner}, {self.queue_matcher}, {RULE_CLUSTER}}}'

    def per_queue(self, expr: str) -> str:
        """`expr` (of the rules' series) per queue, `by` the view's labels, only for the
        queues of the selected jobs, cluster and variables."""
        by = ", ".join(self.by)
        if self.product == WORK_ANALYTICS:
            info = f"eightbyeight_queue_info{sel(PBX, SITE, self.queue_matcher)}"
            return (
                f"max by ({by}) (({expr}) * on (pbx, extension) group_left (site, queue)"
                f" max by (pbx, extension, site, queue) ({info}))"
            )
        info = f"eightbyeight_cc_queue_info{sel(TENANT, self.queue_matcher)}"
        return (
            f"max by ({by}) (({expr}) * on (tenant, queue_id) group_left (queue)"
            f" max by (tenant, queue_id, queue) ({info}))"
        )

    def _level(self, window: str) -> str:
        return self.series(ratio_rule(window))

    def _calls(self, window: str) -> str:
        return self.series(calls_rule(window))

    def _goal(self, window: str) -> str:
        """Each queue's target; the mixin's `fallback_target` for a queue whose own is not
        known, as the alert compares."""
        return (
            f"({self.series(TARGET_RULE)} or {self._calls(window)} * 0 + {self.fallback_target:g})"
        )

    def level(self, window: str, *, keep_few: bool) -> str:
        """The service level over `window` where the window counted `min_calls` calls; the
        others "too few calls" (`keep_few`: tables, bars) or absent (time series, a gap).
        Contact Center queues count no calls over 1h (8x8 gives only its ratio): they have no
        1h value here rather than one that no volume guards."""
        build = guarded if keep_few else only_enough
        return self.per_queue(build(self._level(window), self._calls(window), self.min_calls))

    def margin(self, window: str) -> str:
        """Service level minus the queue's target over `window` (below 0: below the target),
        guarded as `level`."""
        margin = f"clamp_min({self._level(window)} - {self._goal(window)}, {LOWEST_MARGIN:g})"
        return self.per_queue(guarded(margin, self._calls(window), self.min_calls))

    def target(self) -> str:
        """Each queue's target (the fallback where its own is unknown and it has calls today)."""
        return self.per_queue(self._goal("today"))

    def threshold(self) -> str:
        """Each queue's threshold: the wait within which an answer counts as in time."""
        return self.per_queue(self.series(THRESHOLD_RULE))

    def split(self, window: str) -> tuple[str, str, str]:
        """(below their target, at or above it, too few calls): the service levels over
        `window` split three ways, so that a bar takes the colour of its side."""
        enough = only_enough(self._level(window), self._calls(window), self.min_calls)
        goal = self._goal(window)
        return (
            self.per_queue(f"{enough} < {goal}"),
            self.per_queue(f"{enough} >= {goal}"),
            self.per_queue(too_few(self._calls(window), self.min_calls)),
        )

    def below_target_count(self, window: str) -> str:
        """How many queues with enough calls are below their target over `window`."""
        return f"count({self.split(window)[0]}) or vector(0)"


def definition(config: MixinConfig) -> str:
    """What the service level is, for panel descriptions."""
    counted = {
        "offered_without_short_abandons": "every call offered to the queue except callers "
        "who hung up within the threshold",
        "offered": "every call offered to the queue",
        "answered_and_abandoned": "the calls answered or abandoned",
    }[config.service_level.denominator]
    return (
        "the calls answered within the queue's own threshold (its wait limit) over "
        f"{counted} (service_level.denominator: {config.service_level.denominator}); each "
        "queue's threshold and target are the exporter's settings (Work Analytics) or the "
        "queue's own in 8x8 (Contact Center)"
    )
