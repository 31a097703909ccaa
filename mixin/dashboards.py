"""Grafana dashboards for the exporter, generated from the mixin's settings.

Why generated rather than drawn by hand: the four dashboards share one datasource variable, one
`job` variable, the same label filters and the thresholds of the alerts (`MixinConfig`). A
threshold copied by hand onto a panel drifts away from the alert it mirrors; here both read the
same setting. `python -m mixin` writes `grafana_dashboards/*.json` with
`write_dashboards`; edit this module, not the JSON.

Every query filters on `job=~"$job"` and names only metrics of the catalogue
(`exporter.catalogue`) or the mixin's recording rules; `tests/test_dashboards.py` checks both,
and `panel_queries` with `expand` turn the panels back into PromQL a test can send to Prometheus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from mixin.config import MixinConfig

Panel = dict[str, Any]

# Panels name the datasource through the variable, never by uid: each Grafana has its own uids.
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
TAG = "eightbyeight"
GRID_WIDTH = 24
TOP_N = 10
JOB = 'job=~"$job"'
REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALL: dict[str, Any] = {"selected": True, "text": ["All"], "value": ["$__all"]}
# Realtime periods of the Contact Center API besides `rt` (now), for the `period` variable.
CC_PERIODS = ("int-15m", "int-30m", "int-1h", "int-4h", "int-8h", "int-12h", "today")
# The Call Queue Metric API is asked without dates: its aggregates cover the last 24 hours.
CALL_QUEUE_WINDOW = "24h"
LABEL_TITLES = {
    "pbx": "PBX",
    "site": "Site",
    "queue": "Queue",
    "tenant": "Tenant",
    "ring_group": "Ring group",
    "group": "Group",
    "collector": "Collector",
    "report": "Report",
    "extension": "Extension",
}
# Grafana's variable syntaxes: ${name}, ${name:format}, [[name]] and $name.
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*)\)\s*$", re.S)


# --- PromQL helpers ---------------------------------------------------------------------------


def sel(*matchers: str) -> str:
    """A selector that starts with the job filter, so no query can forget it."""
    return "{" + ", ".join((JOB, *matchers)) + "}"


def _num(value: float | None) -> float | int | None:
    """Whole numbers as ints, so the JSON says 300 rather than 300.0."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


# The label filters of the variables (constants: f-strings cannot hold their quotes' escapes).
PBX, SITE, QUEUE = 'pbx=~"$pbx"', 'site=~"$site"', 'queue=~"$queue"'
TENANT, RT = 'tenant=~"$tenant"', 'period="rt"'
WINDOW = 'window=~"$window"'
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


# --- Thresholds -------------------------------------------------------------------------------


def steps(*pairs: tuple[str, float | None]) -> dict[str, Any]:
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": _num(value)} for color, value in pairs],
    }


def plain() -> dict[str, Any]:
    return steps(("green", None))


def bad_above(limit: float) -> dict[str, Any]:
    """Green up to the limit, red from it: waits, abandon ratios, failures."""
    return steps(("green", None), ("red", limit))


def bad_below(limit: float) -> dict[str, Any]:
    """Red below the limit, green from it: service levels, available agents."""
    return steps(("red", None), ("green", limit))


# --- Panels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Column:
    """One column of a table panel: one instant query, merged with the others on its labels."""

    name: str
    expr: str
    unit: str = "short"
    thresholds: dict[str, Any] | None = None
    mappings: tuple[dict[str, Any], ...] = ()


def target(query: Query, ref: str, *, instant: bool = False, table: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "datasource": dict(DATASOURCE),
        "editorMode": "code",
        "expr": query.expr,
        "instant": instant,
        "range": not instant,
        "refId": ref,
    }
    if query.legend:
        out["legendFormat"] = query.legend
    if table:
        out["format"] = "table"
    return out


def panel(
    kind: str,
    title: str,
    queries: Sequence[Query],
    *,
    unit: str,
    w: int,
    h: int,
    description: str = "",
    thresholds: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
    overrides: Sequence[dict[str, Any]] = (),
    color_mode: str = "thresholds",
    minimum: float | None = None,
    maximum: float | None = None,
    mappings: Sequence[dict[str, Any]] = (),
    decimals: int | None = None,
    instant: bool = False,
    table: bool = False,
    transformations: Sequence[dict[str, Any]] = (),
) -> Panel:
    """The fields every panel needs: the datasource variable, a unit, targets with refIds."""
    defaults: dict[str, Any] = {
        "color": {"mode": color_mode},
        "mappings": list(mappings),
        "thresholds": thresholds or plain(),
        "unit": unit,
    }
    if custom is not None:
        defaults["custom"] = custom
    if minimum is not None:
        defaults["min"] = _num(minimum)
    if maximum is not None:
        defaults["max"] = _num(maximum)
    if decimals is not None:
        defaults["decimals"] = decimals
    out: Panel = {
        "datasource": dict(DATASOURCE),
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
        "gridPos": {"h": h, "w": w, "x": 0, "y": 0},
        "id": 0,
        "options": options or {},
        "targets": [
            target(q, ref, instant=instant, table=table)
            for ref, q in zip(REF_IDS, queries, strict=False)
        ],
        "title": title,
        "type": kind,
    }
    if transformations:
        out["transformations"] = list(transformations)
    return out


def _reduce() -> dict[str, Any]:
    return {"calcs": ["lastNotNull"], "fields": "", "values": False}


def stat(
    title: str,
    query: Query | str,
    *,
    unit: str,
    description: str = "",
    thresholds: dict[str, Any] | None = None,
    w: int = 4,
    h: int = 4,
    color: str = "background",
    text_mode: str = "auto",
    graph: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    mappings: Sequence[dict[str, Any]] = (),
    decimals: int | None = None,
) -> Panel:
    """One number, with a sparkline of the range, coloured by its thresholds."""
    query = Query(query) if isinstance(query, str) else query
    options = {
        "colorMode": color if thresholds else "none",
        "graphMode": "area" if graph else "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": _reduce(),
        "showPercentChange": False,
        "textMode": text_mode,
        "wideLayout": True,
    }
    return panel(
        "stat",
        title,
        [query],
        unit=unit,
        w=w,
        h=h,
        description=description,
        thresholds=thresholds,
        options=options,
        minimum=minimum,
        maximum=maximum,
        mappings=mappings,
        decimals=decimals,
    )


def timeseries(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str,
    description: str = "",
    thresholds: dict[str, Any] | None = None,
    threshold_style: str = "off",
    w: int = 12,
    h: int = 8,
    stack: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    overrides: Sequence[dict[str, Any]] = (),
    legend_calcs: Sequence[str] = (),
    draw: str = "line",
    interpolation: str = "linear",
) -> Panel:
    """A graph; with `threshold_style` the alert's threshold shows as a line on it."""
    custom = {
        "drawStyle": draw,
        "fillOpacity": 20 if stack else 10,
        "lineInterpolation": interpolation,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        "thresholdsStyle": {"mode": threshold_style},
    }
    legend = {
        "calcs": list(legend_calcs),
        "displayMode": "table" if legend_calcs else "list",
        "placement": "bottom",
        "showLegend": True,
    }
    options = {"legend": legend, "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel(
        "timeseries",
        title,
        queries,
        unit=unit,
        w=w,
        h=h,
        description=description,
        thresholds=thresholds,
        options=options,
        custom=custom,
        overrides=overrides,
        color_mode="palette-classic",
        minimum=minimum,
        maximum=maximum,
    )


def bargauge(
    title: str,
    query: Query,
    *,
    unit: str,
    description: str = "",
    thresholds: dict[str, Any] | None = None,
    w: int = 6,
    h: int = 8,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Panel:
    """One bar per series of an instant query: compares queues at a glance."""
    options = {
        "displayMode": "gradient",
        "maxVizHeight": 300,
        "minVizHeight": 16,
        "minVizWidth": 8,
        "namePlacement": "auto",
        "orientation": "horizontal",
        "reduceOptions": _reduce(),
        "showUnfilled": True,
        "sizing": "auto",
        "valueMode": "color",
    }
    return panel(
        "bargauge",
        title,
        [query],
        unit=unit,
        w=w,
        h=h,
        description=description,
        thresholds=thresholds,
        options=options,
        minimum=minimum,
        maximum=maximum,
        instant=True,
    )


def _override(name: str, *properties: tuple[str, Any]) -> dict[str, Any]:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def _table_options(sort_by: str | None) -> dict[str, Any]:
    return {
        "cellHeight": "sm",
        "footer": {"countRows": False, "fields": "", "reducer": ["sum"], "show": False},
        "showHeader": True,
        "sortBy": [{"desc": True, "displayName": sort_by}] if sort_by else [],
    }


def table(
    title: str,
    columns: Sequence[Column],
    *,
    by: Sequence[str],
    description: str = "",
    w: int = 24,
    h: int = 8,
    sort_by: str | None = None,
) -> Panel:
    """One row per label set of `by`, one column per instant query.

    Each query aggregates `by` the same labels, so Grafana's merge lines them up; organize then
    hides the time, names the value columns and puts the labels first. Grafana names the
    value columns `Value #<refId>` only when there are two queries or more."""
    if len(columns) < 2:
        raise ValueError(f"{title}: a merged table needs two columns or more; use raw_table")
    values = [f"Value #{ref}" for ref in REF_IDS[: len(columns)]]
    rename = {value: column.name for value, column in zip(values, columns, strict=True)}
    rename.update({label: LABEL_TITLES.get(label, label) for label in by})
    index = {name: i for i, name in enumerate([*by, *values])}
    overrides = []
    for column in columns:
        properties: list[tuple[str, Any]] = [("unit", column.unit)]
        if column.thresholds:
            properties += [("thresholds", column.thresholds), ("color", {"mode": "thresholds"})]
        if column.mappings:
            properties.append(("mappings", list(column.mappings)))
        if column.thresholds or column.mappings:
            properties.append(("custom.cellOptions", {"type": "color-background"}))
        overrides.append(_override(column.name, *properties))
    transformations = [
        {"id": "merge", "options": {}},
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True},
                "indexByName": index,
                "renameByName": rename,
            },
        },
    ]
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}
    return panel(
        "table",
        title,
        [Query(column.expr) for column in columns],
        unit="short",
        w=w,
        h=h,
        description=description,
        options=_table_options(sort_by),
        custom=custom,
        overrides=overrides,
        instant=True,
        table=True,
        transformations=transformations,
    )


def raw_table(
    title: str,
    query: str,
    *,
    value: str | None,
    unit: str,
    description: str = "",
    hide: Sequence[str] = ("job", "instance"),
    w: int = 24,
    h: int = 8,
) -> Panel:
    """Every label of one instant query as a column: for series whose labels vary (reports).
    `value` names the value column; None hides it (info metrics, whose value is always 1)."""
    exclude = dict.fromkeys(("Time", "__name__", *hide), True)
    if value is None:
        exclude["Value"] = True
    rename = {"Value": value} if value else {}
    transformations = [
        {
            "id": "organize",
            "options": {"excludeByName": exclude, "indexByName": {}, "renameByName": rename},
        }
    ]
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}
    return panel(
        "table",
        title,
        [Query(query)],
        unit=unit,
        w=w,
        h=h,
        description=description,
        options=_table_options(value),
        custom=custom,
        instant=True,
        table=True,
        transformations=transformations,
    )


YES_NO = (
    {
        "options": {
            "0": {"color": "green", "index": 0, "text": "no"},
            "1": {"color": "red", "index": 1, "text": "yes"},
        },
        "type": "value",
    },
)
UP_DOWN = (
    {
        "options": {
            "0": {"color": "red", "index": 1, "text": "failing"},
            "1": {"color": "green", "index": 0, "text": "ok"},
        },
        "type": "value",
    },
)


# --- Layout -----------------------------------------------------------------------------------


@dataclass
class Row:
    """A titled band of panels, laid out left to right and wrapped at the grid's width."""

    title: str
    panels: list[Panel] = field(default_factory=list)
    collapsed: bool = False


def layout(rows: Sequence[Row]) -> list[Panel]:
    """Positions and ids: computed here so adding a panel never means renumbering by hand."""
    ids: Iterator[int] = count(1)
    out: list[Panel] = []
    y = 0
    for row in rows:
        header: Panel = {
            "collapsed": row.collapsed,
            "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
            "id": next(ids),
            "panels": [],
            "title": row.title,
            "type": "row",
        }
        out.append(header)
        top = y = y + 1
        x = line_height = 0
        for item in row.panels:
            w, h = item["gridPos"]["w"], item["gridPos"]["h"]
            if x + w > GRID_WIDTH:
                y, x, line_height = y + line_height, 0, 0
            item["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            item["id"] = next(ids)
            x, line_height = x + w, max(line_height, h)
        y += line_height
        if row.collapsed:  # a collapsed row holds its panels; the next row follows at once
            header["panels"] = row.panels
            y = top
        else:
            out.extend(row.panels)
    return out


# --- Variables --------------------------------------------------------------------------------


def datasource_variable() -> dict[str, Any]:
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
    current: dict[str, Any] | None = None,
    include_all: bool = True,
    multi: bool = True,
) -> dict[str, Any]:
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


def custom_variable(name: str, label: str, values: Sequence[str], default: str) -> dict[str, Any]:
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


def job_default(selector: str) -> dict[str, Any]:
    """The `job` variable's default: the value of `job="..."` in the mixin's selector, so the
    dashboards open on the same targets the rules watch; All when the selector has none."""
    match = re.search(r'(?<![\w])job\s*=\s*"((?:[^"\\]|\\.)*)"', selector)
    if not match or not match.group(1):
        return ALL
    value = match.group(1)
    return {"selected": True, "text": [value], "value": [value]}


def job_variable(config: MixinConfig) -> dict[str, Any]:
    return variable(
        "job",
        "Job",
        "label_values(eightbyeight_exporter_build_info, job)",
        current=job_default(config.selector),
    )


def wa_queue_variables() -> list[dict[str, Any]]:
    """pbx, site and queue, each narrowed by the ones before it."""
    info = "eightbyeight_queue_info"
    return [
        variable("pbx", "PBX", f"label_values({info}{sel()}, pbx)"),
        variable("site", "Site", f"label_values({info}{sel(PBX)}, site)"),
        variable("queue", "Queue", f"label_values({info}{sel(PBX, SITE)}, queue)"),
    ]


def tenant_variable() -> dict[str, Any]:
    return variable(
        "tenant",
        "Tenant",
        f"label_values(eightbyeight_cc_queue_waiting_interactions{sel(RT)}, tenant)",
    )


def cc_queue_variable(name: str, label: str) -> dict[str, Any]:
    selector = sel(TENANT, RT)
    return variable(
        name, label, f"label_values(eightbyeight_cc_queue_waiting_interactions{selector}, queue)"
    )


def period_variable(config: MixinConfig) -> dict[str, Any]:
    """The period of the Contact Center ratios; defaults to the one the alerts read."""
    values = list(CC_PERIODS) if config.cc_period in CC_PERIODS else [config.cc_period, *CC_PERIODS]
    return custom_variable("period", "Period", values, config.cc_period)


# --- Dashboards -------------------------------------------------------------------------------


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    tags: Sequence[str],
    variables: list[dict[str, Any]],
    rows: Sequence[Row],
    refresh: str,
    time_from: str,
) -> dict[str, Any]:
    """The dashboard's frame; no timestamps and a fixed uid so the output is reproducible."""
    links = [
        {
            "asDropdown": True,
            "icon": "external link",
            "includeVars": False,
            "keepTime": True,
            "tags": [TAG],
            "targetBlank": False,
            "title": "8x8 dashboards",
            "tooltip": "",
            "type": "dashboards",
            "url": "",
        }
    ]
    return {
        "annotations": {"list": []},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": links,
        "liveNow": False,
        "panels": layout(rows),
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": [TAG, "8x8", *tags],
        "templating": {"list": [datasource_variable(), *variables]},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


def wallboard(config: MixinConfig) -> dict[str, Any]:
    """What a supervisor watches on a wall screen: who waits, how long, who can answer."""
    target, wait_limit = config.service_level.target, config.longest_wait.threshold_seconds
    wa = sel(*WA_QUEUE)
    by_queue = "{{queue}} ({{site}})"
    sl_rule = queue_rule(config.queue_service_level)
    window = config.queue_window
    waiting = f"max by (pbx, site, queue) (eightbyeight_queue_ongoing_waiting_calls{wa})"
    longest = (
        f"max by (pbx, site, queue) (eightbyeight_queue_ongoing_longest_waiting_time_seconds{wa})"
    )
    available = f"max by (pbx, site, queue) (eightbyeight_queue_available_agents{wa})"
    wa_row = Row(
        "Work Analytics call queues",
        [
            stat(
                "Calls waiting",
                f"sum({waiting})",
                unit="short",
                description="Calls waiting now in the selected call queues.",
            ),
            stat(
                "Longest wait",
                f"max({longest})",
                unit="s",
                thresholds=bad_above(wait_limit),
                description="The longest current wait among the selected queues; red from the "
                "LongestWait alert's threshold.",
            ),
            stat(
                "Available agents",
                f"sum({available})",
                unit="short",
                thresholds=bad_below(1),
                description="Agents logged in and Available in the selected queues (an agent in "
                "two queues counts twice).",
            ),
            stat(
                f"Lowest service level ({window})",
                f"min({sl_rule})",
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
                w=6,
                description=f"The worst queue's service level over {window}: calls answered "
                f"within {_num(config.service_level.answered_within_seconds)} s over "
                "answered + abandoned (recording rule); red below the target.",
            ),
            stat(
                "Queues with callers waiting",
                f"count({waiting} > 0) or vector(0)",
                unit="none",
                w=6,
                description="How many of the selected queues have at least one caller waiting.",
            ),
            bargauge(
                "Calls waiting by queue",
                Query(waiting, by_queue),
                unit="short",
                minimum=0,
                description="Calls waiting now, per queue.",
            ),
            bargauge(
                "Longest wait by queue",
                Query(longest, by_queue),
                unit="s",
                thresholds=bad_above(wait_limit),
                minimum=0,
                description="The current longest wait per queue; red from the alert's threshold.",
            ),
            bargauge(
                "Available agents by queue",
                Query(available, by_queue),
                unit="short",
                thresholds=bad_below(1),
                minimum=0,
                description="Agents logged in and Available, per queue; red when none.",
            ),
            bargauge(
                f"Service level by queue ({window})",
                Query(sl_rule, by_queue),
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
                description="Answered within the service-level time over answered + "
                "abandoned, from the call legs (recording rule).",
            ),
            table(
                "Call queues now",
                [
                    Column("Waiting", waiting),
                    Column("Longest wait", longest, "s", bad_above(wait_limit)),
                    Column("Available agents", available, thresholds=bad_below(1)),
                    Column(
                        "Agents in conversation",
                        f"max by (pbx, site, queue) (eightbyeight_queue_ongoing_talking_calls{wa})",
                    ),
                    Column(
                        "Eligible agents",
                        f"max by (pbx, site, queue) (eightbyeight_queue_eligible_agents{wa})",
                    ),
                    Column("Service level", sl_rule, "percentunit", bad_below(target)),
                ],
                by=("pbx", "site", "queue"),
                sort_by="Waiting",
                h=9,
                description="Every selected call queue now; service level over "
                f"{window} from the recording rule.",
            ),
        ],
    )
    cc_rt = sel(TENANT, 'queue=~"$cc_queue"', RT)
    cc_period = sel(TENANT, 'queue=~"$cc_queue"', f'period="{config.cc_period}"')
    by_cc = "{{queue}} ({{tenant}})"
    cc_waiting = f"max by (tenant, queue) (eightbyeight_cc_queue_waiting_interactions{cc_rt})"
    cc_longest = f"max by (tenant, queue) (eightbyeight_cc_queue_longest_wait_time_seconds{cc_rt})"
    cc_available = f"max by (tenant, queue) (eightbyeight_cc_queue_available_idle_agents{cc_rt})"
    cc_sl = f"max by (tenant, queue) (eightbyeight_cc_queue_service_level_ratio{cc_period})"
    cc_row = Row(
        "Contact Center queues",
        [
            stat(
                "Interactions waiting",
                f"sum({cc_waiting})",
                unit="short",
                description="Interactions waiting now in the selected Contact Center queues.",
            ),
            stat(
                "Longest wait",
                f"max({cc_longest})",
                unit="s",
                thresholds=bad_above(wait_limit),
                description="The longest current wait among the selected Contact Center queues.",
            ),
            stat(
                "Available agents",
                f"sum({cc_available})",
                unit="short",
                thresholds=bad_below(1),
                description="Agents available and idle in the selected queues.",
            ),
            stat(
                f"Lowest service level ({config.cc_period})",
                f"min({cc_sl})",
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
                w=6,
                description=f"The worst queue's service level over the period {config.cc_period}"
                " (the one the alerts read), as 8x8 computes it.",
            ),
            stat(
                "Queues with interactions waiting",
                f"count({cc_waiting} > 0) or vector(0)",
                unit="none",
                w=6,
                description="How many of the selected queues have an interaction waiting.",
            ),
            bargauge(
                "Interactions waiting by queue",
                Query(cc_waiting, by_cc),
                unit="short",
                minimum=0,
                description="Interactions waiting now, per queue.",
            ),
            bargauge(
                "Longest wait by queue",
                Query(cc_longest, by_cc),
                unit="s",
                thresholds=bad_above(wait_limit),
                minimum=0,
                description="The longest wait of the interactions waiting now, per queue.",
            ),
            bargauge(
                "Available agents by queue",
                Query(cc_available, by_cc),
                unit="short",
                thresholds=bad_below(1),
                minimum=0,
                description="Agents available and idle, per queue; red when none.",
            ),
            bargauge(
                f"Service level by queue ({config.cc_period})",
                Query(cc_sl, by_cc),
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
                description="Interactions accepted within the queue's service-level time "
                "over those that entered.",
            ),
        ],
    )
    return dashboard(
        uid="eightbyeight-wallboard",
        title="8x8 / Live queues",
        tags=["wallboard"],
        description="Live call-queue wallboard for supervisors: calls waiting, longest wait, "
        "available agents and service level, for Work Analytics call queues and "
        "Contact Center queues.",
        variables=[
            job_variable(config),
            *wa_queue_variables(),
            tenant_variable(),
            cc_queue_variable("cc_queue", "CC queue"),
        ],
        rows=[wa_row, cc_row],
        refresh="30s",
        time_from="now-1h",
    )


def work_analytics(config: MixinConfig) -> dict[str, Any]:
    """The day so far: PBX totals, queues, ring groups, extensions and call durations."""
    target, abandon = config.service_level.target, config.abandon_ratio.threshold
    wait_limit, window = config.longest_wait.threshold_seconds, config.queue_window
    pbx_window = sel(PBX, WINDOW)

    def pbx_total(metric: str) -> str:
        return f"sum(eightbyeight_pbx_{metric}{pbx_window})"

    totals = Row(
        "PBX totals ($window)",
        [
            stat("Calls", pbx_total("calls"), unit="short"),
            stat("Answered", pbx_total("answered_calls"), unit="short"),
            stat("Missed", pbx_total("missed_calls"), unit="short"),
            stat("Abandoned", pbx_total("abandoned_calls"), unit="short"),
            stat("Voicemail", pbx_total("voicemail_calls"), unit="short"),
            stat("Talk time", pbx_total("talk_time_seconds"), unit="s"),
            timeseries(
                "Calls by PBX",
                [Query(f"sum by (pbx) (eightbyeight_pbx_calls{pbx_window})", "{{pbx}}")],
                unit="short",
                description="Calls in the window, per PBX (company summary); a rolling window "
                "rises and falls, a calendar window (today) only rises.",
            ),
            timeseries(
                "Answered, missed, abandoned",
                [
                    Query(pbx_total("answered_calls"), "answered"),
                    Query(pbx_total("missed_calls"), "missed"),
                    Query(pbx_total("abandoned_calls"), "abandoned"),
                    Query(pbx_total("voicemail_calls"), "voicemail"),
                ],
                unit="short",
                description="Outcomes of the calls in the window (company summary).",
            ),
        ],
    )
    wa = sel(*WA_QUEUE, f'window="{CALL_QUEUE_WINDOW}"')

    def queue_metric(metric: str) -> str:
        return f"max by (pbx, site, queue) (eightbyeight_queue_{metric}{wa})"

    by_queue = "{{queue}} ({{site}})"
    queues = Row(
        f"Call queues ({window} recording rules)",
        [
            timeseries(
                "Service level by queue",
                [Query(queue_rule(config.queue_service_level), by_queue)],
                unit="percentunit",
                thresholds=bad_below(target),
                threshold_style="dashed",
                minimum=0,
                maximum=1,
                w=8,
                description=f"Calls answered within "
                f"{_num(config.service_level.answered_within_seconds)} s over "
                f"answered + abandoned, over {window}; dashed: the target.",
            ),
            timeseries(
                "Abandon ratio by queue",
                [Query(queue_rule(config.queue_abandon_ratio), by_queue)],
                unit="percentunit",
                thresholds=bad_above(abandon),
                threshold_style="dashed",
                minimum=0,
                w=8,
                description=f"Abandoned over answered + abandoned, over {window}; dashed: "
                "the AbandonRatio alert's threshold.",
            ),
            timeseries(
                "Answered + abandoned calls by queue",
                [Query(f"60 * {queue_rule(config.queue_calls_rate)}", by_queue)],
                unit="cpm",
                w=8,
                description=f"Calls per minute that ended answered or abandoned, over {window}.",
            ),
            table(
                f"Call queues, last {CALL_QUEUE_WINDOW}",
                [
                    Column("Entered", queue_metric("entered_calls")),
                    Column("Answered", queue_metric("accepted_calls")),
                    Column("Abandoned", queue_metric("abandoned_calls")),
                    Column("Missed", queue_metric("missed_calls")),
                    Column("Voicemail", queue_metric("voicemail_calls")),
                    Column("Answered ratio", queue_metric("accepted_calls_ratio"), "percentunit"),
                    Column(
                        "Abandoned ratio",
                        queue_metric("abandoned_calls_ratio"),
                        "percentunit",
                        bad_above(abandon),
                    ),
                    Column("Average wait", queue_metric("average_waiting_time_seconds"), "s"),
                    Column(
                        "Longest wait",
                        queue_metric("longest_waiting_time_seconds"),
                        "s",
                        bad_above(wait_limit),
                    ),
                    Column("Average talk", queue_metric("average_talk_time_seconds"), "s"),
                ],
                by=("pbx", "site", "queue"),
                sort_by="Entered",
                description="The Call Queue Metric API's rolling last 24 hours, per queue.",
            ),
        ],
    )
    calls = sel(PBX)
    rate = "[$__rate_interval]"
    volume = Row(
        "Call volume (call records)",
        [
            timeseries(
                "Calls by outcome",
                [
                    Query(
                        f"60 * sum by (outcome) (rate(eightbyeight_calls_total{calls}{rate}))",
                        "{{outcome}}",
                    )
                ],
                unit="cpm",
                stack=True,
                description="Calls per minute that ended, by outcome, from the call records.",
            ),
            timeseries(
                "Calls by direction",
                [
                    Query(
                        f"60 * sum by (direction) (rate(eightbyeight_calls_total{calls}{rate}))",
                        "{{direction}}",
                    )
                ],
                unit="cpm",
                stack=True,
                description="Calls per minute that ended, by direction, from the call records.",
            ),
        ],
    )

    def quantiles(metric: str, matchers: str, by: str = "") -> list[Query]:
        return [
            Query(
                f"histogram_quantile({q}, sum by (le{by}) (rate({metric}_bucket{matchers}{rate})))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.9, 0.99)
        ]

    group_queue = sel(PBX, 'group_type="queue"', 'group=~"$queue"')
    durations = Row(
        "Wait and talk durations",
        [
            timeseries(
                "Wait of inbound calls",
                quantiles("eightbyeight_call_wait_seconds", sel(PBX, 'direction="inbound"')),
                unit="s",
                w=8,
                legend_calcs=("mean", "max"),
                description="How long inbound callers waited before an answer or giving up "
                "(quantiles of the call records' histogram).",
            ),
            timeseries(
                "Talk time of answered calls",
                quantiles("eightbyeight_call_talk_seconds", calls),
                unit="s",
                w=8,
                legend_calcs=("mean", "max"),
                description="Talk time of answered calls (quantiles of the call records' "
                "histogram).",
            ),
            timeseries(
                "Queue wait p90 by queue",
                [
                    Query(
                        "histogram_quantile(0.9, sum by (le, pbx, group) "
                        f"(rate(eightbyeight_group_call_wait_seconds_bucket{group_queue}{rate})))",
                        "{{group}} ({{pbx}})",
                    )
                ],
                unit="s",
                w=8,
                thresholds=bad_above(config.service_level.answered_within_seconds),
                threshold_style="dashed",
                description="90th percentile of the wait in each call queue, from the call legs; "
                "dashed: the service level's answer time.",
            ),
        ],
    )
    rg = sel(PBX, SITE, WINDOW)

    def ring_group(metric: str) -> str:
        return f"max by (pbx, site, ring_group) (eightbyeight_ring_group_{metric}{rg})"

    ring_groups = Row(
        "Ring groups ($window)",
        [
            table(
                "Ring groups",
                [
                    Column("Calls", ring_group("calls")),
                    Column("Answered", ring_group("answered_calls")),
                    Column("Missed", ring_group("missed_calls")),
                    Column("Abandoned", ring_group("abandoned_calls")),
                    Column("Voicemail", ring_group("voicemail_calls")),
                    Column("Talk time", ring_group("talk_time_seconds"), "s"),
                    Column("Average talk", ring_group("average_talk_time_seconds"), "s"),
                ],
                by=("pbx", "site", "ring_group"),
                sort_by="Calls",
                w=14,
                description="Ring group summary for the selected window.",
            ),
            timeseries(
                "Calls by ring group",
                [Query(ring_group("calls"), "{{ring_group}}")],
                unit="short",
                w=10,
                description="Calls in the window, per ring group.",
            ),
        ],
    )
    ext = sel(PBX, WINDOW)

    def top(metric: str) -> str:
        return (
            f"sort_desc(topk({TOP_N}, max by (pbx, extension) "
            f"(eightbyeight_extension_{metric}{ext})))"
        )

    calls_per_ext = (
        f"sort_desc(topk({TOP_N}, "
        f"max by (pbx, extension) (eightbyeight_extension_inbound_calls{ext}) + "
        f"max by (pbx, extension) (eightbyeight_extension_outbound_calls{ext})))"
    )
    extensions = Row(
        "Extensions ($window)",
        [
            bargauge(
                f"Top {TOP_N} extensions by calls",
                Query(calls_per_ext, "{{extension}}"),
                unit="short",
                w=8,
                h=9,
                minimum=0,
                description="Inbound + outbound calls in the window.",
            ),
            bargauge(
                f"Top {TOP_N} extensions by talk time",
                Query(top("talk_time_seconds"), "{{extension}}"),
                unit="s",
                w=8,
                h=9,
                minimum=0,
                description="Summed talk time in the window.",
            ),
            bargauge(
                f"Top {TOP_N} extensions by missed calls",
                Query(top("missed_calls"), "{{extension}}"),
                unit="short",
                w=8,
                h=9,
                minimum=0,
                description="Calls not answered in the window.",
            ),
        ],
    )
    window_variable = variable(
        "window",
        "Window",
        f"label_values(eightbyeight_pbx_calls{sel()}, window)",
        current={"selected": True, "text": "today", "value": "today"},
        include_all=False,
        multi=False,
    )
    return dashboard(
        uid="eightbyeight-work-analytics",
        title="8x8 / Work Analytics",
        tags=["work-analytics"],
        description="8x8 Work Analytics: PBX totals, call queues, ring groups, extensions, "
        "call volume and durations.",
        variables=[job_variable(config), *wa_queue_variables(), window_variable],
        rows=[totals, queues, volume, durations, ring_groups, extensions],
        refresh="1m",
        time_from="now-6h",
    )


def contact_center(config: MixinConfig) -> dict[str, Any]:
    """Contact Center queues now and over time, agent groups, agents and the reports."""
    target, abandon = config.service_level.target, config.abandon_ratio.threshold
    wait_limit = config.longest_wait.threshold_seconds
    rt = sel(TENANT, QUEUE, RT)
    per = sel(TENANT, QUEUE, 'period=~"$period"')
    today = sel(TENANT, QUEUE, 'period="today"')

    def queue(metric: str, matchers: str) -> str:
        return f"max by (tenant, queue) (eightbyeight_cc_queue_{metric}{matchers})"

    waiting, longest = queue("waiting_interactions", rt), queue("longest_wait_time_seconds", rt)
    idle, handling = queue("available_idle_agents", rt), queue("handling_interactions", rt)
    sl, abandoned = queue("service_level_ratio", per), queue("abandoned_interactions_ratio", per)
    sl_target = queue("service_level_target_ratio", today)
    by_queue = "{{queue}} ({{tenant}})"
    now = Row(
        "Queues now",
        [
            stat("Interactions waiting", f"sum({waiting})", unit="short"),
            stat(
                "Longest wait",
                f"max({longest})",
                unit="s",
                thresholds=bad_above(wait_limit),
                description="The longest wait among the interactions waiting now.",
            ),
            stat("Available idle agents", f"sum({idle})", unit="short", thresholds=bad_below(1)),
            stat(
                "Interactions handled",
                f"sum({handling})",
                unit="short",
                description="Interactions being handled now.",
            ),
            stat(
                "Lowest service level ($period)",
                f"min({sl})",
                unit="percentunit",
                thresholds=bad_below(target),
                minimum=0,
                maximum=1,
            ),
            stat(
                "Highest abandoned ratio ($period)",
                f"max({abandoned})",
                unit="percentunit",
                thresholds=bad_above(abandon),
                minimum=0,
                maximum=1,
            ),
            table(
                "Queues",
                [
                    Column("Waiting", waiting),
                    Column("Longest wait", longest, "s", bad_above(wait_limit)),
                    Column("Available idle agents", idle, thresholds=bad_below(1)),
                    Column("Handling", handling),
                    Column("Entered ($period)", queue("entered_interactions", per)),
                    Column("Accepted ($period)", queue("accepted_interactions", per)),
                    Column("Service level", sl, "percentunit", bad_below(target)),
                    Column("Target", sl_target, "percentunit"),
                    Column("Abandoned ratio", abandoned, "percentunit", bad_above(abandon)),
                ],
                by=("tenant", "queue"),
                sort_by="Waiting",
                description="Live values (period rt) and the ratios of the selected period; the "
                "target is each queue's own, set in 8x8.",
            ),
        ],
    )
    over_time = Row(
        "Queues over time",
        [
            timeseries("Interactions waiting", [Query(waiting, by_queue)], unit="short", w=8),
            timeseries(
                "Longest wait",
                [Query(longest, by_queue)],
                unit="s",
                w=8,
                thresholds=bad_above(wait_limit),
                threshold_style="dashed",
                description="Dashed: the LongestWait alert's threshold.",
            ),
            timeseries("Available idle agents", [Query(idle, by_queue)], unit="short", w=8),
            timeseries(
                "Service level ($period) vs target",
                [Query(sl, by_queue), Query(sl_target, "{{queue}} ({{tenant}}) target")],
                unit="percentunit",
                thresholds=bad_below(target),
                threshold_style="dashed",
                minimum=0,
                maximum=1,
                overrides=[
                    {
                        "matcher": {"id": "byFrameRefID", "options": "B"},
                        "properties": [
                            {"id": "custom.lineStyle", "value": {"dash": [2, 6], "fill": "dot"}}
                        ],
                    }
                ],
                description="Service level per queue; dotted: each queue's own target from 8x8; "
                "dashed: the mixin's alert target.",
            ),
            timeseries(
                "Abandoned ratio ($period)",
                [Query(abandoned, by_queue)],
                unit="percentunit",
                thresholds=bad_above(abandon),
                threshold_style="dashed",
                minimum=0,
                description="Dashed: the AbandonRatio alert's threshold.",
            ),
        ],
    )
    group_rt = sel(TENANT, RT)
    # The spec's group metrics (no `busy` for groups, unlike queues).
    states = (
        ("available_idle", "Available idle"),
        ("handling", "Handling"),
        ("wrap_up", "Wrap-up"),
        ("on_break", "On break"),
        ("working_offline", "Working offline"),
    )

    def group(state: str) -> str:
        return f"max by (tenant, group) (eightbyeight_cc_group_{state}_agents{group_rt})"

    groups = Row(
        "Agent groups",
        [
            timeseries(
                "Agents by state",
                [
                    Query(f"sum(eightbyeight_cc_group_{state}_agents{group_rt})", label)
                    for state, label in states
                ],
                unit="short",
                w=10,
                description="Agents of the selected tenants' groups, by state (an agent in two "
                "groups counts twice).",
            ),
            table(
                "Agent groups now",
                [
                    Column("Enabled", group("enabled")),
                    Column("Eligible", group("eligible")),
                    *(Column(label, group(state)) for state, label in states),
                ],
                by=("tenant", "group"),
                w=14,
                sort_by="Eligible",
            ),
        ],
    )
    status = f"count by (status) (eightbyeight_cc_agent_status_info{sel(TENANT)})"
    agents = Row(
        "Agents",
        [
            bargauge(
                "Agents by status",
                Query(status, "{{status}}"),
                unit="short",
                w=8,
                minimum=0,
                description="Agents per current status (status.rt).",
            ),
            timeseries(
                "Agents by status over time",
                [Query(status, "{{status}}")],
                unit="short",
                w=16,
                stack=True,
            ),
        ],
    )
    report = sel(TENANT)

    def meta(metric: str) -> str:
        return f"max by (tenant, report) (eightbyeight_cc_report_{metric}{report})"

    reports = Row(
        "Reports",
        [
            table(
                "Reports",
                [
                    Column("Rows", meta("rows")),
                    Column("Truncated", meta("truncated"), "none", mappings=YES_NO),
                    Column("Generation time", meta("generation_seconds"), "s"),
                    Column("Status polls", meta("status_polls")),
                    Column(
                        "Range end",
                        f"1000 * {meta('range_end_timestamp_seconds')}",
                        "dateTimeFromNow",
                    ),
                ],
                by=("tenant", "report"),
                w=12,
                h=7,
                sort_by="Rows",
                description="Each configured report's last good result: truncated means 8x8's "
                "cap of 10,000 records was reached and rows are missing.",
            ),
            bargauge(
                "Report data age",
                Query(
                    "max by (collector) (eightbyeight_collector_snapshot_age_seconds"
                    f"{sel(REPORT_COLLECTORS)})",
                    "{{collector}}",
                ),
                unit="s",
                w=12,
                h=7,
                minimum=0,
                description="Age of each report collector's last good result.",
            ),
            timeseries(
                "Report generation time",
                [Query(meta("generation_seconds"), "{{report}} ({{tenant}})")],
                unit="s",
                w=12,
                description="How long 8x8 took to generate each report.",
            ),
            timeseries(
                "Report rows", [Query(meta("rows"), "{{report}} ({{tenant}})")], unit="short", w=12
            ),
            raw_table(
                "Accepted interactions (reports)",
                f"eightbyeight_cc_report_accepted{sel(TENANT, QUEUE)}",
                value="Accepted",
                unit="short",
                h=9,
                description="The `accepted` metric of every configured report, one row per "
                "report row (its dimensions as columns).",
            ),
        ],
    )
    return dashboard(
        uid="eightbyeight-contact-center",
        title="8x8 / Contact Center",
        tags=["contact-center"],
        description="8x8 Contact Center: realtime queues, agent groups, agents and the "
        "configured historical reports.",
        variables=[
            job_variable(config),
            tenant_variable(),
            cc_queue_variable("queue", "Queue"),
            period_variable(config),
        ],
        rows=[now, over_time, groups, agents, reports],
        refresh="1m",
        time_from="now-6h",
    )


def exporter_health(config: MixinConfig) -> dict[str, Any]:
    """Is the exporter itself healthy: collectors, data age, the 8x8 APIs, series ceilings."""
    c = sel('collector=~"$collector"')
    rate = "[$__rate_interval]"
    stale = config.data_stale.intervals

    def per_collector(metric: str) -> str:
        return f"max by (collector) (eightbyeight_{metric}{c})"

    age_ratio = (
        "max by (collector) (eightbyeight_collector_snapshot_age_seconds"
        f"{c} / eightbyeight_collector_interval_seconds{c})"
    )
    collectors = Row(
        "Collectors",
        [
            stat("Collectors up", f"sum(eightbyeight_up{c})", unit="none", w=4),
            stat(
                "Collectors failing",
                f"count(eightbyeight_up{c} == 0) or vector(0)",
                unit="none",
                thresholds=bad_above(1),
                w=4,
            ),
            stat(
                "Oldest data, in intervals",
                f"max({age_ratio})",
                unit="none",
                thresholds=bad_above(stale),
                decimals=1,
                w=4,
                description="The stalest collector's data age over its polling interval; red "
                "from the DataStale alert's threshold.",
            ),
            stat(
                "Series dropped",
                f"sum(eightbyeight_collector_series_dropped{c})",
                unit="none",
                thresholds=bad_above(1),
                w=4,
                description="Series left out or folded into `_other` because of max_series.",
            ),
            stat(
                "Exporter version",
                Query(f"eightbyeight_exporter_build_info{sel()}", "{{version}}"),
                unit="none",
                text_mode="name",
                graph=False,
                w=8,
            ),
            table(
                "Collectors",
                [
                    Column("Status", per_collector("up"), "none", mappings=UP_DOWN),
                    Column("Data age", per_collector("collector_snapshot_age_seconds"), "s"),
                    Column("Interval", per_collector("collector_interval_seconds"), "s"),
                    Column("Run time", per_collector("collector_duration_seconds"), "s"),
                    Column(
                        "Last success",
                        f"1000 * {per_collector('collector_last_success_timestamp_seconds')}",
                        "dateTimeFromNow",
                    ),
                    Column("Series", per_collector("collector_series")),
                    Column("Series limit", per_collector("collector_series_limit")),
                    Column(
                        "Dropped",
                        per_collector("collector_series_dropped"),
                        thresholds=bad_above(1),
                    ),
                ],
                by=("collector",),
                h=10,
                description="Each collector's last run.",
            ),
            timeseries(
                "Collector success",
                [Query(per_collector("up"), "{{collector}}")],
                unit="none",
                minimum=0,
                maximum=1,
                interpolation="stepAfter",
                w=8,
                description="1 when the collector's last run got a valid answer.",
            ),
            timeseries(
                "Data age",
                [Query(per_collector("collector_snapshot_age_seconds"), "{{collector}}")],
                unit="s",
                w=8,
                description="Age of each collector's last good snapshot.",
            ),
            timeseries(
                "Data age / interval",
                [Query(age_ratio, "{{collector}}")],
                unit="none",
                thresholds=bad_above(stale),
                threshold_style="dashed",
                w=8,
                description="Data age in polling intervals; dashed: the DataStale alert's "
                "threshold.",
            ),
            timeseries(
                "Collection duration",
                [Query(per_collector("collector_duration_seconds"), "{{collector}}")],
                unit="s",
            ),
            timeseries(
                "Collector failures",
                [
                    Query(
                        f"60 * sum by (collector) (rate(eightbyeight_collector_failures_total{c}{rate}))",
                        "{{collector}}",
                    )
                ],
                unit="cpm",
                description="Failed runs per minute.",
            ),
        ],
    )
    api = sel()
    requests = f"rate(eightbyeight_api_requests_total{api}{rate})"
    failures = f"rate(eightbyeight_api_request_failures_total{api}{rate})"
    token = sel('endpoint=~".*oauth.*token"')
    latency = "eightbyeight_api_request_duration_seconds_bucket"
    apis = Row(
        "8x8 APIs",
        [
            timeseries(
                "Requests by endpoint",
                [Query(f"sum by (api, endpoint) ({requests})", "{{api}} {{endpoint}}")],
                unit="reqps",
                description="HTTP requests to the 8x8 APIs, retries included.",
            ),
            timeseries(
                "Failures by endpoint",
                [Query(f"sum by (api, endpoint) ({failures})", "{{api}} {{endpoint}}")],
                unit="reqps",
                description="Requests with no answer or a status other than 2xx.",
            ),
            timeseries(
                "Failure ratio by API",
                [Query(f"sum by (api) ({failures}) / sum by (api) ({requests})", "{{api}}")],
                unit="percentunit",
                thresholds=bad_above(config.api_errors.ratio),
                threshold_style="dashed",
                minimum=0,
                w=8,
                description="Dashed: the ApiErrors alert's threshold.",
            ),
            timeseries(
                "Latency by API",
                [
                    Query(
                        f"histogram_quantile({q}, sum by (le, api) (rate({latency}{api}{rate})))",
                        f"{{{{api}}}} p{round(q * 100)}",
                    )
                    for q in (0.5, 0.9, 0.99)
                ],
                unit="s",
                w=8,
                description="Quantiles of the time the 8x8 APIs took to answer.",
            ),
            timeseries(
                "Token requests",
                [
                    Query(
                        "3600 * sum by (api, endpoint) "
                        f"(rate(eightbyeight_api_requests_total{token}{rate}))",
                        "{{api}} {{endpoint}}",
                    )
                ],
                unit="short",
                w=8,
                description="OAuth token requests per hour: a token lasts about an hour, so many "
                "more mean tokens are being refused or lost.",
            ),
            timeseries(
                "Latency p90 by endpoint",
                [
                    Query(
                        "histogram_quantile(0.9, sum by (le, api, endpoint) "
                        f"(rate({latency}{api}{rate})))",
                        "{{api}} {{endpoint}}",
                    )
                ],
                unit="s",
                w=24,
                legend_calcs=("mean", "max"),
            ),
        ],
    )
    quality = Row(
        "Series and data quality",
        [
            bargauge(
                "Series used of limit",
                Query(
                    f"max by (collector) (eightbyeight_collector_series{c} / "
                    f"(eightbyeight_collector_series_limit{c} > 0))",
                    "{{collector}}",
                ),
                unit="percentunit",
                thresholds=steps(("green", None), ("orange", 0.8), ("red", 1)),
                minimum=0,
                maximum=1,
                w=8,
                h=9,
                description="Series exported over the collector's max_series ceiling.",
            ),
            timeseries(
                "Series",
                [Query(per_collector("collector_series"), "{{collector}}")],
                unit="short",
                w=8,
                h=9,
            ),
            timeseries(
                "Series dropped",
                [Query(per_collector("collector_series_dropped"), "{{collector}}")],
                unit="short",
                w=8,
                h=9,
                thresholds=bad_above(1),
                threshold_style="dashed",
            ),
            timeseries(
                "Unknown metric keys",
                [Query(per_collector("collector_unknown_metrics"), "{{collector}}")],
                unit="short",
                w=8,
                description="Metric keys 8x8 sent that the exporter does not know (logged "
                "once each): a new API field, worth a look.",
            ),
            timeseries(
                "Unusable values",
                [
                    Query(
                        "60 * sum by (collector) "
                        f"(rate(eightbyeight_collector_values_unusable_total{c}{rate}))",
                        "{{collector}}",
                    )
                ],
                unit="cpm",
                w=8,
                description="Values per minute left out because they were not a number.",
            ),
            timeseries(
                "Invalid and duplicate records",
                [
                    Query(
                        "60 * sum by (collector) "
                        f"(rate(eightbyeight_collector_records_invalid_total{c}{rate}))",
                        "{{collector}} invalid",
                    ),
                    Query(
                        "60 * sum by (collector) "
                        f"(rate(eightbyeight_collector_records_duplicate_total{c}{rate}))",
                        "{{collector}} duplicate",
                    ),
                ],
                unit="cpm",
                w=8,
                description="Records per minute left out (no id, unusable fields) or read again "
                "by an overlapping poll.",
            ),
            raw_table(
                "Build",
                f"eightbyeight_exporter_build_info{sel()}",
                value=None,
                unit="none",
                hide=(),
                h=5,
                description="The exporter's version on each target.",
            ),
        ],
    )
    collector_variable = variable(
        "collector", "Collector", f"label_values(eightbyeight_up{sel()}, collector)"
    )
    return dashboard(
        uid="eightbyeight-exporter",
        title="8x8 / Exporter health",
        tags=["exporter"],
        description="Health of the 8x8 exporter: collectors, data age, API requests, failures "
        "and latency, series ceilings and data quality.",
        variables=[job_variable(config), collector_variable],
        rows=[collectors, apis, quality],
        refresh="1m",
        time_from="now-6h",
    )


# --- Public API -------------------------------------------------------------------------------


def build_dashboards(config: MixinConfig) -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON model; the same config always gives the same dashboards."""
    return {
        "eightbyeight-wallboard.json": wallboard(config),
        "eightbyeight-work-analytics.json": work_analytics(config),
        "eightbyeight-contact-center.json": contact_center(config),
        "eightbyeight-exporter.json": exporter_health(config),
    }


def render(dashboard: dict[str, Any]) -> str:
    """The file's text: sorted keys and a final newline, so diffs show only real changes."""
    return json.dumps(dashboard, indent=2, sort_keys=True) + "\n"


def write_dashboards(config: MixinConfig, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, model in build_dashboards(config).items():
        path = directory / name
        path.write_text(render(model), encoding="utf-8")
        paths.append(path)
    return paths


def _panels(panels: Sequence[Panel]) -> Iterator[Panel]:
    for item in panels:
        yield item
        yield from _panels(item.get("panels", []))


def variable_query(var: dict[str, Any]) -> str:
    """A query variable's query text, whether Grafana stored it as a string or an object."""
    query = var.get("query", "")
    return query.get("query", "") if isinstance(query, dict) else str(query)


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, PromQL) of every panel target, rows' nested panels included, and of every query
    variable (`label_values(selector, label)` gives its selector): all a test sends to
    Prometheus."""
    out = [
        (item.get("title", ""), t["expr"])
        for item in _panels(dashboard.get("panels", []))
        for t in item.get("targets", [])
        if t.get("expr")
    ]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = variable_query(var)
        match = _LABEL_VALUES.match(query)
        if match:
            selector, _, _label = match.group(1).rpartition(",")
            query = selector.strip()
        if query:
            out.append((f"variable {var['name']}", query))
    return out


def expand(expr: str, variables: dict[str, str] | None = None) -> str:
    """The query as Grafana would send it, for Prometheus's HTTP API: `$__rate_interval` and
    `$__interval` become 1m and every template variable `.*`, unless `variables` says
    otherwise. Equality matchers on single-value variables (`period`, `window`) are written
    `=~` in the dashboards so that `.*` still selects series."""
    values = {"__rate_interval": "1m", "__interval": "1m", **(variables or {})}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in values:
            return values[name]
        return match.group(0) if name.startswith("__") else ".*"

    return _VARIABLE.sub(substitute, expr)
