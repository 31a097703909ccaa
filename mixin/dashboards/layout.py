"""The dashboard's frame: rows of panels placed on Grafana's grid, ids, links and tags."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count

from mixin.dashboards.grafana import Dashboard, Json, Panel
from mixin.dashboards.variables import datasource_variable

SCHEMA_VERSION = 39
TAG = "eightbyeight"
GRID_WIDTH = 24


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


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    tags: Sequence[str],
    variables: list[Json],
    rows: Sequence[Row],
    refresh: str,
    time_from: str,
) -> Dashboard:
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
