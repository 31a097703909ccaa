"""Table panels: one column per instant query merged on the labels, or every label of one
query as a column; and the value mappings their cells use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixin.dashboards.grafana import REF_IDS, Json, Panel
from mixin.dashboards.panels import Query, panel

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
    "agent_id": "Agent",
}


@dataclass(frozen=True)
class Column:
    """One column of a table panel: one instant query, merged with the others on its labels."""

    name: str
    expr: str
    unit: str = "short"
    thresholds: Json | None = None
    mappings: tuple[Json, ...] = ()


def _override(name: str, *properties: tuple[str, Any]) -> Json:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def _table_options(sort_by: str | None) -> Json:
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
    links: Sequence[Json] = (),
    hidden: Sequence[str] = (),
) -> Panel:
    """One row per label set of `by`, one column per instant query.

    Each query aggregates `by` the same labels, so Grafana's merge lines them up; organize then
    hides the time, names the value columns and puts the labels first. Grafana names the
    value columns `Value #<refId>` only when there are two queries or more. The labels of
    `hidden` (among `by`) are not shown but stay in the data, for the data links to read
    (organize's exclude would remove them from the frame)."""
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
    overrides += [_override(label, ("custom.hidden", True)) for label in hidden]
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
        links=links,
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
