"""Grafana dashboards for the exporter, generated from the mixin's settings.

Why generated rather than drawn by hand: the four dashboards share one datasource variable, one
`job` variable, the same label filters and the thresholds of the alerts (`MixinConfig`). A
threshold copied by hand onto a panel drifts away from the alert it mirrors; here both read the
same setting. `python -m mixin` writes `grafana_dashboards/*.json` with
`write_dashboards`; edit this package, not the JSON.

One module per dashboard (`wallboard`, `work_analytics`, `contact_center`, `exporter_health`),
built from the Grafana pieces below them: `grafana` (JSON model, thresholds), `promql` (the
shared filters), `panels`, `tables`, `variables` and `layout` (rows, grid, frame).

Every query filters on `job=~"$job"` and names only metrics of the catalogue
(`exporter.catalogue`) or the mixin's recording rules; `tests/test_dashboards.py` checks both,
and `panel_queries` with `expand` (in `queries`) turn the panels back into PromQL a test can
send to Prometheus.
"""

from __future__ import annotations

import json
from pathlib import Path

from mixin.config import MixinConfig
from mixin.dashboards.contact_center import build_contact_center
from mixin.dashboards.exporter_health import build_exporter_health
from mixin.dashboards.grafana import Dashboard
from mixin.dashboards.queries import (
    expand,
    label_values,
    panel_expressions,
    panel_queries,
    panel_targets,
    query_result,
    template_variables,
    variable_query,
    variables_in,
)
from mixin.dashboards.variables import job_default
from mixin.dashboards.wallboard import build_wallboard
from mixin.dashboards.work_analytics import build_work_analytics

__all__ = [
    "build_dashboards",
    "expand",
    "job_default",
    "label_values",
    "panel_expressions",
    "panel_queries",
    "panel_targets",
    "query_result",
    "render",
    "template_variables",
    "variable_query",
    "variables_in",
    "write_dashboards",
]


def build_dashboards(config: MixinConfig) -> dict[str, Dashboard]:
    """File name -> dashboard JSON model; the same config always gives the same dashboards."""
    return {
        "eightbyeight-wallboard.json": build_wallboard(config),
        "eightbyeight-work-analytics.json": build_work_analytics(config),
        "eightbyeight-contact-center.json": build_contact_center(config),
        "eightbyeight-exporter.json": build_exporter_health(config),
    }


def render(dashboard: Dashboard) -> str:
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
