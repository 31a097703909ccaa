"""One service level for both products (docs/service-levels.md): per queue, the calls answered
within the queue's threshold over the calls the configured denominator counts, over 15m, 1h and
today, recorded under one name with one set of labels:

    product   work_analytics | contact_center
    pbx       Work Analytics (absent for Contact Center)
    tenant    Contact Center (absent for Work Analytics)
    site      Work Analytics (Contact Center queues have none)
    queue, queue_id, team
    extension Work Analytics: the queue's extension, which tells queues apart before discovery
              has given them a queue_id

Work Analytics counts from the call-leg counters: the calls answered in time are the answered
wait histogram's bucket at the queue's threshold (`eightbyeight_queue_service_level_threshold_
seconds{wait_bucket_le}` names it). Contact Center derives the counts from 8x8's realtime
figures of a period: answered in time = `slaPercentage` x (accepted + abandoned + diverted), the
interactions 8x8's figure is a share of, with the threshold and target set on the queue in 8x8.
"""

from __future__ import annotations

from typing import Any

from mixin.config import MixinConfig
from mixin.expressions import CC_QUEUE_INFO, WA_QUEUE_INFO, Expr, alert, queue_labels, sel

# Recording rule window -> (Work Analytics counter range, Contact Center realtime period).
# 8x8 gives counts for int-15m, int-30m and today, but only the ratio (`slaPercentage`) for
# int-1h: a Contact Center queue's 1h figure is 8x8's own, recorded only with the denominator
# 8x8 divides by (`offered_without_short_abandons`, the default).
WINDOWS = {"15m": ("15m", "int-15m"), "1h": ("1h", "int-1h"), "today": (None, "today")}
CC_COUNTED = {"15m", "today"}
VENDOR_DENOMINATOR = "offered_without_short_abandons"

WA_KEY = ("pbx", "queue", "extension")
CC_KEY = ("tenant", "queue_id", "queue")
# The labels the two products' series share, so one `on()` matches either product.
MATCH = "product, pbx, tenant, queue, extension, queue_id"


def suffix(window: str) -> str:
    return "today" if window == "today" else f"increase{window}"


def calls_rule(window: str) -> str:
    """Calls the service level counts (the denominator), per queue, in `window`."""
    return f"queue:eightbyeight_queue_service_level_calls:{suffix(window)}"


def answered_rule(window: str) -> str:
    """Calls answered within the queue's threshold, per queue, in `window`."""
    return f"queue:eightbyeight_queue_service_level_answered_calls:{suffix(window)}"


def ratio_rule(window: str) -> str:
    """The service level: answered in time / counted; absent with no call counted."""
    return f"queue:eightbyeight_queue_service_level:ratio_{window}"


TARGET_RULE = "queue:eightbyeight_queue_service_level_target:ratio"
THRESHOLD_RULE = "queue:eightbyeight_queue_service_level_threshold:seconds"


def _product(expr: str, product: str) -> str:
    return f'label_replace(\n{expr},\n"product", "{product}", "", "")'


def _wa(config: MixinConfig, expr: str) -> str:
    labelled = queue_labels(config, expr, WA_QUEUE_INFO, WA_KEY, ("site", "queue_id", "team"))
    return _product(labelled, "work_analytics")


def _cc(config: MixinConfig, expr: str) -> str:
    labelled = queue_labels(config, expr, CC_QUEUE_INFO, ("tenant", "queue_id"), ("team",))
    return _product(labelled, "contact_center")


def _wa_counter(config: MixinConfig, metric: str, matchers: str, window: str | None) -> str:
    """A queue call counter per (pbx, queue, extension[, le]), each outcome once across
    replicas (`max`: HA pairs export equal counters), `group` renamed `queue`."""
    series = metric + sel(config, 'group_type="queue"', matchers)
    if window:
        series = f"increase({series}[{window}])"
    keep = "pbx, queue, extension, outcome" + (", le" if metric.endswith("_bucket") else "")
    return f'max by ({keep}) (label_replace({series}, "queue", "$1", "group", "(.*)"))'


def _wa_in_time(config: MixinConfig, outcome: str, window: str | None) -> str:
    """Calls of `outcome` that waited no longer than their queue's threshold: the wait
    histogram's bucket whose `le` is the threshold's. One threshold per queue (`topk`): two
    replicas may disagree for a moment during a reload."""
    bucket = _wa_counter(
        config, "eightbyeight_group_call_wait_seconds_bucket", f'outcome="{outcome}"', window
    )
    threshold = (
        "label_replace(topk by (pbx, queue, extension) (1, "
        f"eightbyeight_queue_service_level_threshold_seconds{sel(config)}), "
        '"le", "$1", "wait_bucket_le", "(.*)")'
    )
    return f"sum by ({', '.join(WA_KEY)}) (\n  {bucket}\n  and on(pbx, queue, extension, le)\n  {threshold}\n)"


def _wa_calls(config: MixinConfig, window: str | None) -> str:
    def outcomes(matchers: str) -> str:
        counter = _wa_counter(config, "eightbyeight_group_calls_total", matchers, window)
        return f"sum by ({', '.join(WA_KEY)}) ({counter})"

    denominator = config.service_level.denominator
    if denominator == "answered_and_abandoned":
        return outcomes('outcome=~"answered|abandoned"')
    offered = outcomes("")
    if denominator == "offered":
        return offered
    # Callers who hung up within the threshold, before the queue was late, are left out. A
    # queue with no abandoned call has no such bucket: none is left out.
    early = _wa_in_time(config, "abandoned", window)
    return f"{offered}\n- on(pbx, queue, extension)\n({early}\nor\n{offered} * 0)"


def _period(period: str) -> str:
    return 'period="' + period + '"'


def _cc_figure(config: MixinConfig, family: str, period: str) -> str:
    """One 8x8 realtime figure of each queue for `period`, once across replicas."""
    return (
        f"max by ({', '.join(CC_KEY)}) "
        f"(eightbyeight_cc_queue_{family}{sel(config, _period(period))})"
    )


def _cc_calls(config: MixinConfig, period: str) -> str:
    # 8x8's `totalAbandoned` counts every abandon, `abandoned` those after the queue's
    # short-abandon threshold (its own setting, not the service-level threshold); `diverted`
    # left for another destination after the queue's maximum wait.
    families = {
        "offered": ("total_abandoned_interactions", "diverted_interactions"),
        "offered_without_short_abandons": ("abandoned_interactions", "diverted_interactions"),
        "answered_and_abandoned": ("total_abandoned_interactions",),
    }[config.service_level.denominator]
    return "\n+\n".join(
        _cc_figure(config, family, period) for family in ("accepted_interactions", *families)
    )


def _cc_answered(config: MixinConfig, period: str) -> str:
    """8x8's `slaPercentage` times the interactions it is a share of: accepted, abandoned
    after the short-abandon threshold, and diverted (8x8 leaves short abandons out; its
    documents name no base, see docs/service-levels.md)."""
    base = "\n+\n".join(
        _cc_figure(config, family, period)
        for family in ("accepted_interactions", "abandoned_interactions", "diverted_interactions")
    )
    return f"{_cc_figure(config, 'service_level_ratio', period)}\n*\n(\n{base}\n)"


def _either(config: MixinConfig, wa: str | None, cc: str | None) -> Expr:
    parts = [p for p in (wa and _wa(config, wa), cc and _cc(config, cc)) if p]
    return Expr("\nor\n".join(parts))


def recording_rules(config: MixinConfig) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for window, (counter_range, period) in WINDOWS.items():
        counted = window in CC_COUNTED
        calls, answered = calls_rule(window), answered_rule(window)
        rules.append(
            {
                "record": calls,
                "expr": _either(
                    config,
                    _wa_calls(config, counter_range),
                    _cc_calls(config, period) if counted else None,
                ),
            }
        )
        rules.append(
            {
                "record": answered,
                "expr": _either(
                    config,
                    _wa_in_time(config, "answered", counter_range),
                    _cc_answered(config, period) if counted else None,
                ),
            }
        )
        ratio = f"{answered}\n/\n({calls} > 0)"
        if not counted and config.service_level.denominator == VENDOR_DENOMINATOR:
            ratio += "\nor\n" + _cc(config, _cc_figure(config, "service_level_ratio", period))
        rules.append({"record": ratio_rule(window), "expr": Expr(ratio)})
    own = {"target": "service_level_target_ratio", "threshold": "service_level_threshold_seconds"}
    configured = {
        "target": "configured_service_level_target_ratio",
        "threshold": "configured_service_level_threshold_seconds",
    }
    for what, record in (("target", TARGET_RULE), ("threshold", THRESHOLD_RULE)):
        wa_series = f"eightbyeight_queue_{own[what]}{sel(config)}"
        # 8x8's own figure (period `today`), the configured fallback where 8x8 gives none.
        cc = f"{_cc_figure(config, own[what], 'today')}\nor\n" + (
            f"max by ({', '.join(CC_KEY)}) (eightbyeight_cc_queue_{configured[what]}{sel(config)})"
        )
        wa = f"max by ({', '.join(WA_KEY)}) ({wa_series})"
        rules.append({"record": record, "expr": _either(config, wa, cc)})
    return rules


def service_level_alert(config: MixinConfig) -> dict[str, Any]:
    sl = config.service_level
    ratio, calls = ratio_rule("15m"), calls_rule("15m")
    below = (
        f"(\n  {ratio} < {TARGET_RULE}\n  or\n"
        f"  {ratio} < {sl.fallback_target:g}\n    unless on({MATCH}) {TARGET_RULE}\n)\n"
        f"and on({MATCH}) {calls} >= {sl.min_calls}"
    )
    # The target and threshold are the queue's own: read back from the rules for the text.
    same = (
        "{product=%q, pbx=%q, tenant=%q, queue=%q, queue_id=%q}\" $labels.product "
        "$labels.pbx $labels.tenant $labels.queue $labels.queue_id"
    )
    target = (
        f'{{{{ with printf "{TARGET_RULE}{same} | query }}}}'
        "{{ . | first | value | humanizePercentage }}"
        f"{{{{ else }}}}not known, {sl.fallback_target:.0%} assumed{{{{ end }}}}"
    )
    threshold = (
        f'{{{{ with printf "{THRESHOLD_RULE}{same} | query }}}}'
        "within {{ . | first | value | humanizeDuration }}{{ else }}within its threshold{{ end }}"
    )
    return alert(
        "EightByEightQueueServiceLevelLow",
        below,
        sl.for_,
        "warning",
        "Queue {{ $labels.queue }} is below its service level",
        "{{ $value | humanizePercentage }} of the calls of queue {{ $labels.queue }} "
        "({{ $labels.pbx }}{{ $labels.tenant }}, {{ $labels.product }}) over the last 15 "
        f"minutes were answered {threshold}; its target is {target} "
        f"(calls counted: {sl.denominator.replace('_', ' ')}).",
        runbooks=config.runbooks,
    )
