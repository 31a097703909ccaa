"""The chart's files/ and its PrometheusRule: real files that `python -m mixin` writes from
mixin/config.yaml (the rules as a template whose thresholds come from
`prometheusRule.alerts`, a copy of every dashboard), and rules that, rendered by Helm, are
mixin/rules.yml with the default values and follow every changed value."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from mixin.chart import chart_rules_template, chart_settings, chart_values_schema
from mixin.config import MixinConfig, load_mixin_config
from mixin.rules import render_rules
from tests.support.helm_chart import CHART, REPO, by_kind, load_yaml, render, schema

FILES = CHART / "files"
MIXIN_CONFIG = REPO / "mixin" / "config.yaml"


def rendered_rules(alerts: dict[str, Any] | None = None) -> Any:
    """The spec of the PrometheusRule Helm renders with these `prometheusRule.alerts`."""
    rule_values: dict[str, Any] = {"enabled": True}
    if alerts is not None:
        rule_values["alerts"] = alerts
    (rule,) = by_kind(render({"prometheusRule": rule_values}), "PrometheusRule")
    return rule["spec"]


def changed_settings() -> dict[str, dict[str, Any]]:
    """A valid value, different from the default, for every setting the chart exposes."""
    defaults = load_mixin_config(MIXIN_CONFIG)
    alerts: dict[str, dict[str, Any]] = {}
    for index, setting in enumerate(chart_settings()):
        default = setting.value(defaults)
        if setting.kind == "duration":
            value: Any = f"{17 + index}m"
        elif setting.kind == "int":
            value = default + 5
        else:  # ratios stay within (0, 1]; the others double
            value = default / 2 if default * 2 > 1 and default <= 1 else default * 2
        assert value != default
        alerts.setdefault(setting.section, {})[setting.key] = value
    return alerts


# --- real files, in step with the generator -------------------------------------------------


def test_the_chart_holds_no_symlink() -> None:
    """`helm package` does not keep a symlink out of the chart: every file is a real one."""
    links = [
        str(Path(root, name).relative_to(CHART))
        for root, dirs, files in os.walk(CHART)
        for name in dirs + files
        if Path(root, name).is_symlink()
    ]
    assert links == []


def test_the_rules_template_is_the_generators() -> None:
    """files/rules.yml.tpl is what `python -m mixin` writes from mixin/config.yaml."""
    expected = chart_rules_template(load_mixin_config(MIXIN_CONFIG))
    assert (FILES / "rules.yml.tpl").read_text(encoding="utf-8") == expected, (
        "helm/eightbyeight-exporter/files/rules.yml.tpl is stale: run `python -m mixin`"
    )


def test_the_dashboards_are_copies_of_grafana_dashboards() -> None:
    source = {p.name: p.read_bytes() for p in (REPO / "grafana_dashboards").glob("*.json")}
    shipped = {p.name: p.read_bytes() for p in (FILES / "dashboards").iterdir()}
    assert source and shipped == source, "the chart's dashboards are stale: run `python -m mixin`"


def test_the_alerts_schema_is_the_generators() -> None:
    """values.schema.json's prometheusRule.alerts lists exactly the settings the template
    looks up, with the mixin's bounds."""
    node = schema()["properties"]["prometheusRule"]["properties"]["alerts"]
    assert node == chart_values_schema(), "values.schema.json is stale: run `python -m mixin`"
    listed = {f"{s}.{k}" for s, sub in node["properties"].items() for k in sub["properties"]}
    assert listed == {s.path for s in chart_settings()}


def test_the_templates_read_the_chart_files() -> None:
    rule = (CHART / "templates" / "prometheusrule.yaml").read_text(encoding="utf-8")
    assert 'tpl (.Files.Get "files/rules.yml.tpl") . | fromYaml' in rule
    dashboards = (CHART / "templates" / "dashboards-configmap.yaml").read_text(encoding="utf-8")
    assert '.Files.Glob "files/dashboards/*.json"' in dashboards


def test_the_readme_lists_every_alert_setting() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in readme.splitlines()
        if line.startswith("| `")
    }
    for setting in chart_settings():
        assert f"`{setting.key}`" in rows.get(setting.section, ""), setting.path


def test_the_generator_writes_the_chart_files_with_the_users_defaults(tmp_path: Path) -> None:
    from mixin.__main__ import main

    config = tmp_path / "config.yaml"
    config.write_text("longest_wait: {threshold_seconds: 120, for: 30s}\n")
    chart_files = tmp_path / "chart" / "files"
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "values.schema.json").write_text(
        (CHART / "values.schema.json").read_text()
    )
    arguments = ["--config", str(config), "--rules-out", str(tmp_path / "rules.yml")]
    arguments += ["--dashboards-out", str(tmp_path / "dashboards")]
    before = (FILES / "rules.yml.tpl").read_bytes()
    assert main(arguments) == 0
    assert (FILES / "rules.yml.tpl").read_bytes() == before, "a run elsewhere left the chart"
    assert main([*arguments, "--chart-files", str(chart_files)]) == 0
    text = (chart_files / "rules.yml.tpl").read_text()
    assert 'dig "longest_wait" "threshold_seconds" 120.0 $alerts' in text
    assert 'dig "longest_wait" "for" "30s" $alerts' in text
    assert sorted(p.name for p in (chart_files / "dashboards").iterdir()) == sorted(
        p.name for p in (tmp_path / "dashboards").iterdir()
    )
    written = load_yaml(tmp_path / "chart" / "values.schema.json")
    assert written == schema(), "the schema's alerts do not depend on the user's defaults"


# --- rendered by Helm ---------------------------------------------------------------------------


@pytest.mark.parametrize("alerts", [None, {}], ids=["no alerts value", "empty alerts"])
def test_with_the_default_values_the_rules_are_mixin_rules_yml(alerts: Any) -> None:
    assert rendered_rules(alerts) == load_yaml(REPO / "mixin" / "rules.yml")


def test_every_setting_of_the_values_reaches_the_rules() -> None:
    """All settings changed at once: Helm's rules are the generator's for the same settings,
    expressions, `for:`, `keep_firing_for:` and descriptions alike."""
    alerts = changed_settings()
    defaults = load_yaml(MIXIN_CONFIG)
    merged = {k: (v | alerts[k] if k in alerts else v) for k, v in defaults.items()}
    expected = yaml.safe_load(render_rules(MixinConfig.model_validate(merged)))
    rendered = rendered_rules(alerts)
    assert rendered == expected
    assert rendered != load_yaml(REPO / "mixin" / "rules.yml")


def test_one_changed_threshold_changes_only_its_alert() -> None:
    spec = rendered_rules(
        {
            "longest_wait": {"threshold_seconds": 600, "for": "7m"},
            "abandon_ratio": {"threshold": 0.25},
        }
    )
    default = load_yaml(REPO / "mixin" / "rules.yml")
    changed = {
        rule.get("alert") or rule["record"]
        for group, base in zip(spec["groups"], default["groups"])
        for rule, old in zip(group["rules"], base["rules"])
        if rule != old
    }
    assert changed == {"EightByEightQueueLongestWaitHigh", "EightByEightQueueAbandonRatioHigh"}
    rules = {r.get("alert"): r for g in spec["groups"] for r in g["rules"]}
    wait = rules["EightByEightQueueLongestWaitHigh"]
    assert wait["for"] == "7m" and "> 600\n" in wait["expr"] and "> 300" not in wait["expr"]
    assert "more than 600s." in wait["annotations"]["description"]
    abandon = rules["EightByEightQueueAbandonRatioHigh"]
    assert (
        "> 0.25\n" in abandon["expr"] and "more than 25%." in abandon["annotations"]["description"]
    )
    assert abandon["for"] == "10m"


def test_the_runbook_links_follow_the_charts_runbook_url() -> None:
    """A notification's link must open: the relative docs/runbooks.md of the mixin cannot."""
    url = "https://wiki.example.test/8x8/runbooks.md"
    (rule,) = by_kind(
        render({"prometheusRule": {"enabled": True, "runbookUrl": url}}), "PrometheusRule"
    )
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and all(
        a["annotations"]["runbook_url"] == f"{url}#{a['alert'].lower()}" for a in alerts
    )
    default = [r for g in rendered_rules()["groups"] for r in g["rules"] if "alert" in r]
    assert all(a["annotations"]["runbook_url"].startswith("docs/runbooks.md#") for a in default)
