"""The dashboards' template variables: datasource, job, and the label filters (pbx, site,
queue, tenant, period) narrowed by the ones before them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mixin.config import MixinConfig
from mixin.dashboards.grafana import DATASOURCE, Json
from mixin.dashboards.promql import PBX, RT, SITE, TENANT, sel

ALL: Json = {"selected": True, "text": ["All"], "value": ["$__all"]}
# Realtime periods of the Contact Center API besides `rt` (now), for the `period` variable.
CC_PERIODS = ("int-15m", "int-30m", "int-1h", "int-4h", "int-8h", "int-12h", "today")


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
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
        "type": "query",
    }


def custom_variable(name: str, label: str, values: Sequence[str], default: str) -> Json:
    return {
        "current": {"selected": True, "text": default, "value": default},
        "hide": 0,
        "includeAll": False,
        "label": label,
        "multi": False,
        "name": name,
        "options": [
            {"selected": value == default, "text": value, "value": value} for value in values
        ],
        "query": ",".join(values),
        "skipUrlSync": False,
        "type": "custom",
    }


def job_default(selector: str) -> Json:
    """The `job` variable's default: the value of `job="..."` in the mixin's selector, so the
    dashboards open on the same targets the rules watch; All when the selector has none."""
    match = re.search(r'(?<![\w])job\s*=\s*"((?:[^"\\]|\\.)*)"', selector)
    if not match or not match.group(1):
        return ALL
    value = match.group(1)
    return {"selected": True, "text": [value], "value": [value]}


def job_variable(config: MixinConfig) -> Json:
    return variable(
        "job",
        "Job",
        "label_values(eightbyeight_exporter_build_info, job)",
        current=job_default(config.selector),
    )


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


def period_variable(config: MixinConfig) -> Json:
    """The period of the Contact Center ratios; defaults to the one the alerts read."""
    values = list(CC_PERIODS) if config.cc_period in CC_PERIODS else [config.cc_period, *CC_PERIODS]
    return custom_variable("period", "Period", values, config.cc_period)
