"""The dashboards' variables offer only values their panels have data for: each Work Analytics
row reads the windows of its own summary, the Contact Center `period` only the periods every
metric read at `$period` has. (The end-to-end test evaluates every value against Prometheus.)"""

from __future__ import annotations

import re
from typing import Any

from mixin.config import MixinConfig
from mixin.dashboards import (
    build_dashboards,
    label_values,
    panel_targets,
    query_result,
    template_variables,
    variable_query,
    variables_in,
)

BUILT = build_dashboards(MixinConfig())
CC_QUEUE_METRIC = re.compile(r"eightbyeight_cc_queue_\w+")
# A metric read at the selected period (a panel may compare it with the `today` target).
AT_PERIOD = re.compile(r"(eightbyeight_cc_queue_\w+)\{[^}]*period=~\"\$period\"")


def variables(name: str) -> dict[str, dict[str, Any]]:
    return {var["name"]: var for var in template_variables(BUILT[name])}


def test_contact_center_period_is_the_periods_every_panel_metric_has() -> None:
    dashboard = BUILT["eightbyeight-contact-center.json"]
    period = variables("eightbyeight-contact-center.json")["period"]
    assert period["type"] == "query" and period["current"]["value"] == MixinConfig().cc_period
    assert not period["multi"] and not period["includeAll"] and period["refresh"] == 2
    common = query_result(variable_query(period))
    # Never the live `rt`; Grafana lists `{period="int-15m"} 4 ...`, the regex keeps the value.
    assert common and 'period!="rt"' in common and period["regex"] == '/period="([^"]+)"/'
    assert " and count by (period) (" in common
    read_at_period = {
        name for _title, expr in panel_targets(dashboard) for name in AT_PERIOD.findall(expr)
    }
    assert len(read_at_period) == 3
    assert set(CC_QUEUE_METRIC.findall(common)) == read_at_period
    # Narrowed like the panels: by the tenants and queues selected.
    assert common.count('tenant=~"$tenant", queue=~"$queue"') == len(read_at_period)


def test_work_analytics_windows_come_from_the_rows_metrics() -> None:
    """Each row's window variable lists the windows of the summary that row reads."""
    model = BUILT["eightbyeight-work-analytics.json"]
    found = variables("eightbyeight-work-analytics.json")
    for name in ("window", "ring_group_window", "extension_window"):
        var = found[name]
        listed = label_values(variable_query(var))
        assert listed and listed[1] == "window", name
        assert not var["multi"] and not var["includeAll"] and var["current"]["value"] == "today"
        family = re.sub(r"_(calls|inbound_calls)$", "", listed[0].split("{")[0])
        users = [expr for _title, expr in panel_targets(model) if f"${name}" in expr]
        assert users, name
        for expr in users:
            assert f'window=~"${name}"' in expr and family in expr, (name, expr)
            assert "window=" not in expr.replace(f'window=~"${name}"', ""), (name, expr)


def test_variable_query_readers() -> None:
    assert label_values('label_values(x{a="b"}, window)') == ('x{a="b"}', "window")
    assert label_values("query_result(x)") is None
    assert query_result("query_result(count by (p) (a))") == "count by (p) (a)"
    assert query_result("label_values(x, y)") is None
    expr = 'x{a=~"$pbx", b="${site:regex}"}[$__rate_interval] [[queue]]'
    assert variables_in(expr) == {"pbx", "site", "queue"}
