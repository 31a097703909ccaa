"""The dashboards' template variables: datasource, cluster, job, and the label filters (pbx,
site, queue, tenant, period, window) narrowed by the ones before them. Each offers only values that
the panels using it have data for: a value read from the very series those panels read."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mixin.config import MixinConfig
from mixin.dashboards.grafana import DATASOURCE, Json
from mixin.dashboards.promql import PBX, QUEUE, RT, SITE, TENANT, sel

ALL: Json = {"selected": True, "text": ["All"], "value": ["$__all"]}


def datasource_variable() -> Json:
    return {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "type": "datasource",
    }


def variable(
    name: str,
    label: str,
    query: str,
    *,
    current: Json | None = None,
    include_all: bool = True,
    multi: bool = True,
    regex: str = "",
) -> Json:
    """A query variable, refreshed when the time range changes (refresh 2) so new queues and
    tenants appear without reloading. All is `.*`, not the list of values: series whose label
    is not in the list (`_other`, a queue discovered since) still match."""
    return {
        "allValue": ".*" if include_all else None,
        "current": current if current is not None else (ALL if include_all else {}),
        "datasource": dict(DATASOURCE),
        "definition": query,
        "hide": 0,
        "includeAll": include_all,
        "label": label,
        "multi": multi,
        "name": name,
        "options": [],
        "query": query,
        "refresh": 2,
        "regex": regex,
        "skipUrlSync": False,
        "sort": 1,
        "type": "query",
    }


def job_default(selector: str) -> Json:
    """The `job` variable's default: the value of `job="..."` in the mixin's selector, so the
    dashboards open on the same targets the rules watch; All when the selector has none."""
    match = re.search(r'(?<![\w])job\s*=\s*"((?:[^"\\]|\\.)*)"', selector)
    if not match or not match.group(1):
        return ALL
    value = match.group(1)
    return {"selected": True, "text": [value], "value": [value]}


def cluster_variable() -> Json:
    """The `cluster` label a multi-cluster scrape adds. Where no series has it the list is
    empty and the variable stays at All (`.*`), which matches the missing label: no panel is
    emptied by a filter on a label nobody sets."""
    return variable("cluster", "Cluster", "label_values(eightbyeight_exporter_build_info, cluster)")


def job_variable(config: MixinConfig) -> Json:
    return variable(
        "job",
        "Job",
        'label_values(eightbyeight_exporter_build_info{cluster=~"$cluster"}, job)',
        current=job_default(config.selector),
    )


def scrape_variables(config: MixinConfig) -> list[Json]:
    """cluster, then job narrowed by it: the filters every query of every dashboard has."""
    return [cluster_variable(), job_variable(config)]


def wa_queue_variables() -> list[Json]:
    """pbx, site and queue, each narrowed by the ones before it."""
    info = "eightbyeight_queue_info"
    return [
        variable("pbx", "PBX", f"label_values({info}{sel()}, pbx)"),
        variable("site", "Site", f"label_values({info}{sel(PBX)}, site)"),
        variable("queue", "Queue", f"label_values({info}{sel(PBX, SITE)}, queue)"),
    ]


def tenant_variable() -> Json:
    return variable(
        "tenant",
        "Tenant",
        f"label_values(eightbyeight_cc_queue_waiting_interactions{sel(RT)}, tenant)",
    )


def cc_queue_variable(name: str, label: str) -> Json:
    selector = sel(TENANT, RT)
    return variable(
        name, label, f"label_values(eightbyeight_cc_queue_waiting_interactions{selector}, queue)"
    )


def single(value: str) -> Json:
    return {"selected": True, "text": value, "value": value}


def window_variable(name: str, label: str, metric: str, *matchers: str) -> Json:
    """One summary's windows (`15m`, `today`...), read from the metric its row shows: the
    company summary, ring groups and extensions are each configured with their own windows,
    so one shared variable would offer windows where some rows are empty."""
    return variable(
        name,
        label,
        f"label_values({metric}{sel(*matchers)}, window)",
        current=single("today"),
        include_all=False,
        multi=False,
    )


def period_variable(config: MixinConfig, metrics: Sequence[str]) -> Json:
    """The period of the Contact Center panels: only the periods every one of `metrics` has
    for the selected tenants and queues. 8x8 serves `slaPercentage` over int-1h..int-12h too,
    but the counts and the other ratios only over int-15m, int-30m and today; one table shows
    them side by side. Defaults to the period the alerts read."""
    selector = sel(TENANT, QUEUE, 'period!="rt"')
    common = " and ".join(f"count by (period) ({metric}{selector})" for metric in metrics)
    return variable(
        "period",
        "Period",
        f"query_result({common})",
        current=single(config.cc_period),
        include_all=False,
        multi=False,
        # Grafana lists a query_result answer as `{period="int-15m"} 4 1700000000000`.
        regex='/period="([^"]+)"/',
    )
