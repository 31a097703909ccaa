"""The dashboard's frame: rows of panels placed on Grafana's grid, ids, links, tags, the
firing alerts as annotations, and the data links from a queue to its detail dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count

from mixin.dashboards.grafana import DATASOURCE, Dashboard, Json, Panel
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


# Every alert of the mixin, whichever dashboard: a stale collector or a failing API explains a
# queue panel's gap as well as an exporter panel's. Not filtered on `$job`: the Work Analytics
# queue alerts come from recording rules, which keep no `job` label. The `cluster` filter
# keeps alerts without the label (rules that drop it) in every cluster's view.
FIRING_ALERTS = 'ALERTS{alertstate="firing", alertname=~"EightByEight.*", cluster=~"$cluster|"}'


def alert_annotations() -> Json:
    """The firing alerts, from Prometheus's own `ALERTS` series, drawn on every time series."""
    return {
        "datasource": dict(DATASOURCE),
        "enable": True,
        "expr": FIRING_ALERTS,
        "hide": False,
        "iconColor": "red",
        "name": "Firing alerts",
        "step": "1m",
        "tagKeys": "severity,alertname",
        "textFormat": "{{queue}} {{pbx}}{{tenant}}{{collector}}{{api}}",
        "titleFormat": "{{alertname}}",
        "useValueForTime": False,
    }


def detail_link(title: str, uid: str, params: Sequence[tuple[str, str]]) -> Json:
    """A data link to the dashboard `uid` with the clicked queue's labels as its variables
    (`params`: variable, `${...}` of the value), the scrape filters and time range kept."""
    query = "&".join(
        [
            "${cluster:queryparam}",
            "${job:queryparam}",
            *(f"var-{name}={value}" for name, value in params),
            "${__url_time_range}",
        ]
    )
    return {"targetBlank": False, "title": title, "url": f"/d/{uid}?{query}"}


def from_cell(label: str) -> str:
    """The value of a table row's label column, for a data link (URL-encoded)."""
    return f"${{__data.fields.{label}:percentencode}}"


def from_series(label: str) -> str:
    """The label of a bar's or line's series, for a data link (URL-encoded)."""
    return f"${{__field.labels.{label}:percentencode}}"


WORK_ANALYTICS_UID = "eightbyeight-work-analytics"
CONTACT_CENTER_UID = "eightbyeight-contact-center"


def work_analytics_links(value: Callable[[str], str]) -> tuple[Json, ...]:
    """From a Work Analytics queue (a table row or a bar) to the Work Analytics dashboard."""
    params = [(name, value(name)) for name in ("pbx", "site", "queue")]
    return (detail_link("Open the queue in Work Analytics", WORK_ANALYTICS_UID, params),)


def contact_center_links(value: Callable[[str], str]) -> tuple[Json, ...]:
    """From a Contact Center queue to the Contact Center dashboard (its `queue` variable)."""
    params = [(name, value(name)) for name in ("tenant", "queue")]
    return (detail_link("Open the queue in Contact Center", CONTACT_CENTER_UID, params),)


def queue_detail_links(dashboard_label: str) -> tuple[Json, ...]:
    """From a table row of either product's queue to its detail dashboard, whose uid the row
    carries in the label `dashboard_label`: one link for rows of both products. Each dashboard
    takes the variables it has (Work Analytics pbx, site, queue; Contact Center tenant,
    queue) and ignores the others."""
    params = [(name, from_cell(name)) for name in ("pbx", "site", "tenant", "queue")]
    uid = f"${{__data.fields.{dashboard_label}}}"
    return (detail_link("Open the queue's dashboard", uid, params),)


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
        "annotations": {"list": [alert_annotations()]},
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
