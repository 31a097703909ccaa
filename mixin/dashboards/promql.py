"""PromQL pieces the dashboards share: the job and cluster filters, the label filters of the
variables, the join that gives the queue recording rules their site, and the minimum-volume
guard of the ratio panels."""

from __future__ import annotations

# `cluster` is a label the scrape may add (multi-cluster setups); where no series has it, the
# variable offers only All (`.*`), which matches a missing label too, so nothing is emptied.
JOB = 'job=~"$job", cluster=~"$cluster"'
# The queue recording rules aggregate by (pbx, queue, extension): they carry a `cluster` only
# where the query layer adds it (an external label); "or none" keeps them in the other case,
# where the join with `eightbyeight_queue_info` does the filtering.
RULE_CLUSTER = 'cluster=~"$cluster|"'
# A ratio over fewer calls than the alerts' `min_calls` is shown as this value, which a value
# mapping writes "too few calls" (`TOO_FEW_CALLS` in tables): no ratio or count is negative.
TOO_FEW = -1


def sel(*matchers: str) -> str:
    """A selector that starts with the job and cluster filters, so no query can forget them."""
    return "{" + ", ".join((JOB, *matchers)) + "}"


# The label filters of the variables (constants: f-strings cannot hold their quotes' escapes).
PBX, SITE, QUEUE = 'pbx=~"$pbx"', 'site=~"$site"', 'queue=~"$queue"'
TENANT, RT = 'tenant=~"$tenant"', 'period="rt"'
# The Work Analytics summaries' windows: each row has its own (see `window_variable`).
WINDOW = 'window=~"$window"'
RING_GROUP_WINDOW = 'window=~"$ring_group_window"'
EXTENSION_WINDOW = 'window=~"$extension_window"'
REPORT_COLLECTORS = 'collector=~"cc_report:.*"'
# Work Analytics call queues: the live gauges and the info metric carry pbx, site and queue.
WA_QUEUE = (PBX, SITE, QUEUE)
# The call-leg counters of the queues selected, the outcomes a service level counts.
QUEUE_CALLS = ('group_type="queue"', 'group=~"$queue"', 'outcome=~"answered|abandoned"')


def min_volume(min_calls: int) -> int:
    """The guard's floor: the alerts' `min_calls`, and never below one call, so that a queue
    with no call at all (8x8 reports 1.0 for an idle Contact Center queue) shows no ratio."""
    return max(min_calls, 1)


def only_enough(ratio: str, volume: str, min_calls: int, *, on: str = "") -> str:
    """`ratio` where `volume` (the calls of the same window, with the same labels or those of
    `on`) reaches the floor, nothing elsewhere: a time series leaves a gap."""
    matching = f" on ({on})" if on else ""
    return f"({ratio} and{matching} {volume} >= {min_volume(min_calls)})"


def too_few(volume: str, min_calls: int) -> str:
    """`TOO_FEW` for each series of `volume` below the floor."""
    return f"({volume} < {min_volume(min_calls)}) * 0 - {-TOO_FEW}"


def guarded(ratio: str, volume: str, min_calls: int, *, on: str = "") -> str:
    """`ratio` where `volume` reaches the floor, and `TOO_FEW` where it does not: a table cell
    or bar says "too few calls" instead of 0 % for one call, and the queue stays listed."""
    return f"{only_enough(ratio, volume, min_calls, on=on)} or {too_few(volume, min_calls)}"


def lowest(guarded_expr: str) -> str:
    """The lowest ratio of a guarded expression; `TOO_FEW` when no queue has enough calls."""
    return f"min(({guarded_expr}) >= 0) or max({guarded_expr})"


WA_RULE_LABELS = "pbx, queue, extension"


def wa_window_ratio(
    ratio_rule: str, calls_rule: str, window_seconds: float, min_calls: int, *, keep_few: bool
) -> str:
    """A Work Analytics queue ratio rule per (pbx, site, queue), guarded by the calls of its
    window as the alerts guard it (`calls_rule * window >= min_calls`). `keep_few` gives the
    queues below the floor `TOO_FEW` (tables, bars) instead of dropping them (time series)."""
    volume = f"{rule_series(calls_rule)} * {window_seconds:g}"
    build = guarded if keep_few else only_enough
    return queue_rule(build(rule_series(ratio_rule), volume, min_calls, on=WA_RULE_LABELS))


def rule_series(rule: str) -> str:
    """A queue recording rule narrowed by the variables it can be: pbx, queue and cluster."""
    return f"{rule}{{{PBX}, {QUEUE}, {RULE_CLUSTER}}}"


def queue_rule(expr: str) -> str:
    """A queue expression per (pbx, site, queue): `expr` (a recording rule or an expression of
    them, see `rule_series`) carries pbx, queue and extension only.

    The rules keep only pbx, queue and extension (they come from the call-leg counters, summed
    across targets), so the job, cluster and site filters, and the `site` label itself, are
    joined in from `eightbyeight_queue_info` on (pbx, extension): two queues of one PBX may
    share a name in two sites, but never an extension. `queue` comes from there too, so that
    a "too few calls" row built from a volume per (pbx, extension) gets its name. A rule series of a queue no selected
    job watches finds no partner and drops out: that is how `$job` reaches the rules."""
    return (
        f"max by (pbx, site, queue) (({expr})"
        f" * on (pbx, extension) group_left (site, queue)"
        f" max by (pbx, extension, site, queue) (eightbyeight_queue_info{sel(*WA_QUEUE)}))"
    )
