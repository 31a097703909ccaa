"""Panel builders: the fields every Grafana panel needs, and the stat, time series and bar
gauge panels the dashboards are made of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mixin.dashboards.grafana import DATASOURCE, REF_IDS, Json, Panel, json_number, plain


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def target(query: Query, ref: str, *, instant: bool = False, table: bool = False) -> Json:
    out: Json = {
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
    thresholds: Json | None = None,
    options: Json | None = None,
    custom: Json | None = None,
    overrides: Sequence[Json] = (),
    color_mode: str = "thresholds",
    minimum: float | None = None,
    maximum: float | None = None,
    mappings: Sequence[Json] = (),
    decimals: int | None = None,
    instant: bool = False,
    table: bool = False,
    transformations: Sequence[Json] = (),
    links: Sequence[Json] = (),
) -> Panel:
    """The fields every panel needs: the datasource variable, a unit, targets with refIds.
    `links` are data links: each value (bar, cell, point) opens them with its own labels."""
    defaults: Json = {
        "color": {"mode": color_mode},
        "mappings": list(mappings),
        "thresholds": thresholds or plain(),
        "unit": unit,
    }
    if custom is not None:
        defaults["custom"] = custom
    if minimum is not None:
        defaults["min"] = json_number(minimum)
    if maximum is not None:
        defaults["max"] = json_number(maximum)
    if decimals is not None:
        defaults["decimals"] = decimals
    if links:
        defaults["links"] = list(links)
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


def _reduce() -> Json:
    return {"calcs": ["lastNotNull"], "fields": "", "values": False}


def stat(
    title: str,
    query: Query | str,
    *,
    unit: str,
    description: str = "",
    thresholds: Json | None = None,
    w: int = 4,
    h: int = 4,
    color: str = "background",
    text_mode: str = "auto",
    graph: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    mappings: Sequence[Json] = (),
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
    thresholds: Json | None = None,
    threshold_style: str = "off",
    w: int = 12,
    h: int = 8,
    stack: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    overrides: Sequence[Json] = (),
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
    query: Query | Sequence[Query],
    *,
    unit: str,
    description: str = "",
    thresholds: Json | None = None,
    w: int = 6,
    h: int = 8,
    minimum: float | None = None,
    maximum: float | None = None,
    mappings: Sequence[Json] = (),
    overrides: Sequence[Json] = (),
    links: Sequence[Json] = (),
) -> Panel:
    """One bar per series of instant queries: compares queues at a glance."""
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
        [query] if isinstance(query, Query) else query,
        unit=unit,
        w=w,
        h=h,
        description=description,
        thresholds=thresholds,
        options=options,
        minimum=minimum,
        maximum=maximum,
        mappings=mappings,
        overrides=overrides,
        links=links,
        instant=True,
    )
