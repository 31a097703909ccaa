"""PromQL pieces the dashboards share: the job filter, the label filters of the variables,
and the join that gives the queue recording rules their site."""

from __future__ import annotations

JOB = 'job=~"$job"'


def sel(*matchers: str) -> str:
    """A selector that starts with the job filter, so no query can forget it."""
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


def queue_rule(rule: str) -> str:
    """A queue recording rule per (pbx, site, queue).

    The rules keep only pbx, queue and extension (they come from the call-leg counters), so the
    job and site filters, and the `site` label itself, are joined in from
    `eightbyeight_queue_info` on (pbx, extension): two queues of one PBX may share a name in two
    sites, but never an extension."""
    return (
        f"max by (pbx, site, queue) ({rule}{{{PBX}, {QUEUE}}}"
        f" * on (pbx, extension) group_left (site)"
        f" max by (pbx, extension, site) (eightbyeight_queue_info{sel(*WA_QUEUE)}))"
    )
