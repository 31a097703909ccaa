"""Lint of the generated Grafana dashboards: no Grafana runs here, so these tests check what
Grafana would otherwise only show as an empty panel or a broken import: the committed JSON is
the generator's output, every panel names the datasource variable and a unit, every query
filters on the job and names a metric the exporter exposes (or a mixin recording rule), and
the thresholds come from the mixin's config."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.catalogue import entries, listed
from mixin.config import MixinConfig
from mixin.dashboards import (
    build_dashboards,
    expand,
    job_default,
    panel_queries,
    render,
    variable_query,
    write_dashboards,
)
from mixin.dashboards.agents import QUEUE_STATUSES, status_code
from mixin.rules import recording_rules
from mixin.service_levels import TARGET_RULE, THRESHOLD_RULE, calls_rule, ratio_rule
from tests.support.processes import binary

REPO = Path(__file__).resolve().parents[1]
DASHBOARDS = REPO / "grafana_dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Grafana unit ids the panels may use (a misspelt id shows raw numbers, silently).
UNITS = {
    "s",
    "ms",
    "percentunit",
    "percent",
    "short",
    "none",
    "reqps",
    "ops",
    "cps",
    "cpm",
    "opm",
    "dtdurations",
    "bytes",
    "dateTimeFromNow",
    "dateTimeAsIso",
}
WORK_ANALYTICS_QUEUES = ("eightbyeight-wallboard.json", "eightbyeight-work-analytics.json")
CONTACT_CENTER = "eightbyeight-contact-center.json"
WORK_ANALYTICS_JSON = "eightbyeight-work-analytics.json"
METRIC = re.compile(r"\b(eightbyeight_[a-z0-9_]+|[a-z_]+:eightbyeight_[a-z0-9_]+:[a-z0-9_]+)\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")

BUILT = build_dashboards(MixinConfig())


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside (collapsed) rows included."""

    def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from walk(item.get("panels", []))

    yield from walk(dashboard["panels"])


def data_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (p for p in panels(dashboard) if p["type"] not in ("row", "text"))


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {var["name"]: var for var in dashboard["templating"]["list"]}


@cache
def catalogue() -> tuple[frozenset[str], frozenset[str]]:
    """(names as exposed, histogram base names) of the metric catalogue."""
    rows = entries()
    return (
        frozenset(row.name for row in rows),
        frozenset(row.name for row in rows if row.type == "histogram"),
    )


def unknown_metrics(expr: str, config: MixinConfig = MixinConfig()) -> list[str]:
    """Metric names in a query that neither the exporter exposes nor the mixin records."""
    frozen_names, histograms = catalogue()
    names = set(frozen_names)  # listed() takes a set; the cached copy stays immutable
    rules = {rule["record"] for rule in recording_rules(config)}
    unknown = []
    for name in METRIC.findall(expr):
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in histograms:
                name = name.removesuffix(suffix)
        if not (listed(name, names) or name in rules):
            unknown.append(name)
    return unknown


def all_queries() -> list[tuple[str, str, str]]:
    return [
        (file, title, expr) for file, model in BUILT.items() for title, expr in panel_queries(model)
    ]


# --- the committed files ----------------------------------------------------------------------


def test_committed_dashboards_are_the_generators_output() -> None:
    committed = {path.name for path in DASHBOARDS.glob("*.json")}
    assert committed == set(BUILT), "stray or missing files: run `python -m mixin`"
    for name, model in BUILT.items():
        assert (DASHBOARDS / name).read_text(encoding="utf-8") == render(model), (
            f"{name} differs from the generator: run `python -m mixin`"
        )


def test_output_is_deterministic_and_written_where_asked(tmp_path: Path) -> None:
    assert render(BUILT["eightbyeight-exporter.json"]) == render(
        build_dashboards(MixinConfig())["eightbyeight-exporter.json"]
    )
    paths = write_dashboards(MixinConfig(), tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted(BUILT)
    for path in paths:
        assert json.loads(path.read_text(encoding="utf-8")) == BUILT[path.name]
        assert path.read_text(encoding="utf-8").endswith("}\n")


def test_provisioning_examples() -> None:
    provider = yaml.safe_load((DASHBOARDS / "provisioning" / "dashboards.yaml").read_text())
    assert provider["apiVersion"] == 1
    [entry] = provider["providers"]
    assert entry["folder"] == "8x8" and entry["type"] == "file"
    assert entry["options"]["path"] == "/var/lib/grafana/dashboards/eightbyeight"
    assert entry["options"]["foldersFromFilesStructure"] is False
    datasource = yaml.safe_load((DASHBOARDS / "provisioning" / "datasource.yaml").read_text())
    [prometheus] = datasource["datasources"]
    assert prometheus["type"] == "prometheus" and prometheus["uid"] == "prometheus"
    assert prometheus["url"] == "http://prometheus:9090"


# --- dashboards, variables and panels ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILT))
def test_dashboard_frame(name: str) -> None:
    model = BUILT[name]
    assert model["uid"] and len(model["uid"]) <= 40 and model["uid"] == name.removesuffix(".json")
    assert model["title"].startswith("8x8 / ")
    assert "eightbyeight" in model["tags"]
    assert model["schemaVersion"] == 39
    assert model["editable"] is True
    assert model["id"] is None and "version" in model
    first = model["templating"]["list"][0]
    assert (first["name"], first["type"], first["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    assert "job" in variables(model)


def assert_label_values_variable(var: dict[str, Any]) -> None:
    assert var["type"] == "query"
    assert variable_query(var).startswith("label_values(")
    assert var["includeAll"] is True and var["multi"] is True
    assert var["refresh"] == 2
    assert var["datasource"] == DATASOURCE


@pytest.mark.parametrize("name", sorted(BUILT))
def test_job_variable(name: str) -> None:
    job = variables(BUILT[name])["job"]
    assert_label_values_variable(job)
    assert variable_query(job) == (
        'label_values(eightbyeight_exporter_build_info{cluster=~"$cluster"}, job)'
    )
    assert job["current"]["value"] == ["eightbyeight"]


@pytest.mark.parametrize("name", sorted(BUILT))
def test_cluster_variable(name: str) -> None:
    """Before job, which it narrows; All is `.*`, which also matches series without the label,
    so a scrape that sets no `cluster` loses no panel."""
    found = BUILT[name]["templating"]["list"]
    assert [var["name"] for var in found[1:3]] == ["cluster", "job"]
    cluster = found[1]
    assert_label_values_variable(cluster)
    assert variable_query(cluster) == "label_values(eightbyeight_exporter_build_info, cluster)"
    assert cluster["allValue"] == ".*" and cluster["current"]["value"] == ["$__all"]


def test_job_default_comes_from_the_selector() -> None:
    assert job_default('job="eightbyeight"')["value"] == ["eightbyeight"]
    assert job_default('namespace="tel", job = "8x8-prod"')["value"] == ["8x8-prod"]
    assert job_default('job=~"8x8.*"')["value"] == ["$__all"]
    assert job_default('service="exporter"')["value"] == ["$__all"]
    assert job_default("")["value"] == ["$__all"]
    model = build_dashboards(MixinConfig(selector='job="telephony"'))["eightbyeight-exporter.json"]
    assert variables(model)["job"]["current"]["value"] == ["telephony"]


@pytest.mark.parametrize("name", WORK_ANALYTICS_QUEUES)
def test_work_analytics_queue_variables(name: str) -> None:
    found = variables(BUILT[name])
    for var in ("pbx", "site", "queue"):
        assert_label_values_variable(found[var])


def test_contact_center_variables() -> None:
    found = variables(BUILT[CONTACT_CENTER])
    for var in ("tenant", "queue"):
        assert_label_values_variable(found[var])


@pytest.mark.parametrize("name", sorted(BUILT))
def test_panels(name: str) -> None:
    model = BUILT[name]
    ids = [p["id"] for p in panels(model)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for item in panels(model):
        grid = item["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}, item["title"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, item["title"]
        assert item["title"], item
    for item in data_panels(model):
        title = item["title"]
        assert item["type"] in ("stat", "timeseries", "table", "bargauge"), title
        assert item["datasource"] == DATASOURCE, title
        assert item["targets"], title
        refs = [t["refId"] for t in item["targets"]]
        assert len(refs) == len(set(refs)), title
        for t in item["targets"]:
            assert t["datasource"] == DATASOURCE and t["expr"] and t["refId"], title
        assert item["fieldConfig"]["defaults"]["unit"] in UNITS, title
        for override in item["fieldConfig"]["overrides"]:
            for prop in override["properties"]:
                if prop["id"] == "unit":
                    assert prop["value"] in UNITS, title


@pytest.mark.parametrize("name", sorted(BUILT))
def test_panels_do_not_overlap(name: str) -> None:
    taken: set[tuple[int, int]] = set()
    for item in BUILT[name]["panels"]:  # the top level: what an opened dashboard shows
        grid = item["gridPos"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, item["title"]
        taken |= cells


def datasource_refs(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            yield from datasource_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from datasource_refs(value)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_no_hard_coded_datasource(name: str) -> None:
    text = render(BUILT[name])
    assert '"uid": "prometheus"' not in text
    assert "-- Grafana --" not in text and '"datasource": "' not in text
    for ref in datasource_refs(BUILT[name]):
        if isinstance(ref, dict):  # the datasource variable's own `datasource` is absent
            assert ref == DATASOURCE, ref
    dashboard_uid = BUILT[name]["uid"]
    uids = set(re.findall(r'"uid": "([^"]*)"', text))
    assert uids == {"${datasource}", dashboard_uid}


# --- queries ----------------------------------------------------------------------------------


def test_every_query_filters_on_the_job_and_cluster() -> None:
    for file, title, expr in all_queries():
        if title == "variable cluster":  # the first filter: it lists the clusters
            continue
        assert 'cluster=~"$cluster"' in expr, (file, title, expr)
        if title == "variable job":  # the job variable lists the jobs
            continue
        assert 'job=~"$job"' in expr, (file, title, expr)


def test_recording_rules_are_read_through_the_job_filter() -> None:
    """The queue rules keep no job: every panel reading one joins it with its product's queue
    `_info` series, filtered by the job, the cluster and the variables (the e2e test checks the
    effect). Rule series without a product are the Work Analytics queue rules."""
    rules = [rule["record"] for rule in recording_rules(MixinConfig())]
    joins = {
        "work_analytics": (
            "* on (pbx, extension) group_left (site, queue)",
            'eightbyeight_queue_info{job=~"$job", cluster=~"$cluster", pbx=~"$pbx", '
            'site=~"$site", queue=~"$queue"}',
        ),
        "contact_center": (
            "* on (tenant, queue_id) group_left (queue)",
            'eightbyeight_cc_queue_info{job=~"$job", cluster=~"$cluster", tenant=~"$tenant", '
            "queue=~",
        ),
    }
    checked = set()
    for _file, title, expr in all_queries():
        for rule in rules:
            for found in re.finditer(re.escape(rule) + r"(\{[^}]*\})?", expr):
                selector = found.group(1)
                assert selector and 'cluster=~"$cluster|"' in selector, (title, expr)
                product = re.search(r'product="(\w+)"', selector)
                join, info = joins[product.group(1) if product else "work_analytics"]
                assert join in expr and info in expr, (title, selector)
                checked.add(product.group(1) if product else "work_analytics")
    assert checked == set(joins)


def test_rate_ranges_use_the_rate_interval() -> None:
    for file, title, expr in all_queries():
        for window in re.findall(r"\[([^\]]*)\]", expr):
            assert window == "$__rate_interval", (file, title, expr)


def test_queries_are_balanced() -> None:
    pairs = {")": "(", "}": "{", "]": "["}
    for file, title, expr in all_queries():
        stack: list[str] = []
        for char in re.sub(r'"[^"]*"', '""', expr):
            if char in "({[":
                stack.append(char)
            elif char in pairs:
                assert stack and stack.pop() == pairs[char], (file, title, expr)
        assert not stack and expr.count('"') % 2 == 0, (file, title, expr)


# A Contact Center queue's `_info` series: the only Contact Center queue series without period.
CC_QUEUE_INFO = re.compile(r"eightbyeight_cc_queue_info\{[^}]*\}")


def test_queries_use_the_variables_where_the_label_exists() -> None:
    for file, title, expr in all_queries():
        metrics = CC_QUEUE_INFO.sub("", expr)
        if re.search(r'period!?=~?"', metrics) is None and "eightbyeight_cc_queue_" in metrics:
            raise AssertionError((file, title, "pick the period"))
        if title.startswith("variable "):  # a variable filters on the ones before it only
            continue
        # The exporter's Work Analytics queue series, or the rules of its queues.
        if re.search(r"(?<!:)eightbyeight_queue_", expr) or 'product="work_analytics"' in expr:
            assert 'pbx=~"$pbx"' in expr and 'site=~"$site"' in expr, (file, title)
            assert 'queue=~"$queue"' in expr, (file, title)
        if "eightbyeight_cc_queue_" in expr and file == CONTACT_CENTER:
            assert 'tenant=~"$tenant"' in expr and 'queue=~"$queue"' in expr, title
        if "eightbyeight_cc_" in expr or 'product="contact_center"' in expr:
            assert 'tenant=~"$tenant"' in expr, (file, title)
        if re.search(r"eightbyeight_cc_(queue|group)_", metrics):
            assert re.search(r'period=~?"', metrics), (file, title, "pick the period")


def test_every_metric_is_in_the_catalogue_or_a_recording_rule() -> None:
    checked = 0
    for file, title, expr in all_queries():
        assert METRIC.search(expr), (file, title, expr)
        assert not unknown_metrics(expr), (file, title, unknown_metrics(expr))
        checked += 1
    assert checked >= 150


def test_the_metric_check_rejects_unknown_names() -> None:
    assert unknown_metrics('eightbyeight_queue_ongoing_waitng_calls{job=~"$job"}') == [
        "eightbyeight_queue_ongoing_waitng_calls"
    ]
    assert unknown_metrics("rate(eightbyeight_calls[5m])") == ["eightbyeight_calls"]
    assert unknown_metrics("eightbyeight_up_bucket") == ["eightbyeight_up_bucket"]
    assert unknown_metrics("queue:eightbyeight_queue_calls:rate5m") == [
        "queue:eightbyeight_queue_calls:rate5m"
    ]
    assert unknown_metrics("eightbyeight_group_call_wait_seconds_bucket") == []
    assert unknown_metrics("eightbyeight_cc_report_any_metric_ratio") == []
    for window in ("15m", "1h", "today"):
        assert unknown_metrics(f"{ratio_rule(window)} / {calls_rule(window)}") == []
    assert unknown_metrics(f"{TARGET_RULE} - {THRESHOLD_RULE}") == []
    assert unknown_metrics("queue:eightbyeight_queue_service_level:ratio_rate15m") == [
        "queue:eightbyeight_queue_service_level:ratio_rate15m"
    ]


def test_panel_queries_reads_rows_and_variables() -> None:
    model = {
        "panels": [
            {
                "type": "row",
                "title": "r",
                "collapsed": True,
                "panels": [
                    {"type": "stat", "title": "inner", "targets": [{"expr": "up", "refId": "A"}]}
                ],
            }
        ],
        "templating": {
            "list": [
                {
                    "type": "query",
                    "name": "site",
                    "query": 'label_values(eightbyeight_site_info{job=~"$job", pbx=~"$pbx"}, site)',
                },
                {
                    "type": "query",
                    "name": "obj",
                    "query": {"query": "label_values(eightbyeight_pbx_info, pbx)", "refId": "X"},
                },
                {"type": "custom", "name": "period", "query": "rt,today"},
                {"type": "query", "name": "common", "query": "query_result(count by (p) (a))"},
            ]
        },
    }
    assert panel_queries(model) == [
        ("inner", "up"),
        ("variable site", 'eightbyeight_site_info{job=~"$job", pbx=~"$pbx"}'),
        ("variable obj", "eightbyeight_pbx_info"),
        ("variable common", "count by (p) (a)"),
    ]


def test_expand() -> None:
    expr = (
        'sum by (le) (rate(x{job=~"$job", q=~"${queue}", s=~"${site:regex}", '
        'p=~"$period"}[$__rate_interval])) / $__interval'
    )
    assert expand(expr) == ('sum by (le) (rate(x{job=~".*", q=~".*", s=~".*", p=~".*"}[1m])) / 1m')
    assert expand(expr, {"job": "eightbyeight", "__rate_interval": "5m", "period": "rt"}) == (
        'sum by (le) (rate(x{job=~"eightbyeight", q=~".*", s=~".*", p=~"rt"}[5m])) / 1m'
    )
    for _file, _title, query in all_queries():
        assert "$" not in expand(query)
        # A `$1` of label_replace would be taken for a variable (by Grafana's look-alikes too).
        assert not re.search(r"\$\{?[0-9]", query), query


@pytest.mark.promtool
def test_queries_parse_as_promql(tmp_path: Path) -> None:
    """promtool parses each expanded query as a recording rule's expression."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/test.sh installs Debian's prometheus package"
    rules = [
        {"record": f"dashboard:query_{i}:check", "expr": expand(expr)}
        for i, (_file, _title, expr) in enumerate(all_queries())
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- thresholds -------------------------------------------------------------------------------


def threshold_values(item: dict[str, Any], column: str | None = None) -> set[float]:
    """Step values of a panel's thresholds, or of one table column's override."""
    if column is None:
        found = [item["fieldConfig"]["defaults"].get("thresholds")]
    else:
        found = [
            prop["value"]
            for override in item["fieldConfig"]["overrides"]
            if override["matcher"]["options"] == column
            for prop in override["properties"]
            if prop["id"] == "thresholds"
        ]
    return {
        step["value"]
        for thresholds in found
        if thresholds
        for step in thresholds["steps"]
        if step["value"] is not None
    }


def subjects(item: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(what is coloured, the column it is or None for the whole panel) of a panel."""
    return [(item["title"], None)] + [
        (o["matcher"]["options"], o["matcher"]["options"])
        for o in item["fieldConfig"]["overrides"]
        if o["matcher"]["id"] == "byName"
    ]


def test_thresholds_come_from_the_config() -> None:
    config = MixinConfig.model_validate(
        {"longest_wait": {"threshold_seconds": 123}, "abandon_ratio": {"threshold": 0.07}}
    )
    default = MixinConfig()
    expected = {
        r"longest wait": (
            config.longest_wait.threshold_seconds,
            default.longest_wait.threshold_seconds,
        ),
        r"abandon(ed)? ratio": (config.abandon_ratio.threshold, default.abandon_ratio.threshold),
    }
    seen = dict.fromkeys(expected, 0)
    for model in build_dashboards(config).values():
        for item in data_panels(model):
            for subject, column in subjects(item):
                for pattern, (value, old) in expected.items():
                    if re.search(pattern, subject, re.I):
                        values = threshold_values(item, column)
                        assert value in values and old not in values, (item["title"], subject)
                        seen[pattern] += 1
    assert all(seen.values()), seen


def test_service_levels_have_no_fixed_threshold() -> None:
    """Each queue has its own target: no service-level panel or column is coloured at a fixed
    level (the fallback target included); only a margin to the queue's target has one, 0."""
    config = MixinConfig.model_validate({"service_level": {"fallback_target": 0.93}})
    checked = 0
    for model in build_dashboards(config).values():
        for item in data_panels(model):
            for subject, column in subjects(item):
                if re.search("service level|vs target|margin", subject, re.I):
                    assert threshold_values(item, column) <= {0}, (item["title"], subject)
                    checked += 1
    assert checked >= 8


SL_RULES = tuple(ratio_rule(window) for window in ("15m", "1h", "today"))


def reads_service_level(expr: str) -> bool:
    return any(rule in expr for rule in SL_RULES)


def columns_by_name(item: dict[str, Any]) -> dict[str, str]:
    """A merged table's column names and their queries."""
    [organize] = [t for t in item["transformations"] if t["id"] == "organize"]
    names = organize["options"]["renameByName"]
    return {names[f"Value #{t['refId']}"]: t["expr"] for t in item["targets"]}


def test_service_levels_are_coloured_against_each_queues_own_target() -> None:
    """Grafana's thresholds are one list per field: the comparison with each queue's target
    (the mixin's fallback_target where it has none) is made in PromQL, and the colour follows
    from it: bars split below (red) / at or above (green), table cells as the margin to the
    target (thresholds at 0), counts of the queues below, lines beside their target."""
    fallback = MixinConfig().service_level.fallback_target
    goal = f"({TARGET_RULE}{{"
    kinds: dict[str, int] = {}
    for model in BUILT.values():
        for item in data_panels(model):
            exprs = [t["expr"] for t in item["targets"]]
            if not any(reads_service_level(e) for e in exprs):
                continue
            kinds[item["type"]] = kinds.get(item["type"], 0) + 1
            overrides = {o["matcher"]["options"]: o for o in item["fieldConfig"]["overrides"]}
            if item["type"] == "bargauge":  # below (red), at or above (green), too few
                below, met, few = exprs
                assert f" < {goal}" in below and f" >= {goal}" in met, item["title"]
                assert f"* 0 + {fallback:g})" in below, "the fallback where the target is unknown"
                assert overrides["A"]["properties"][0]["value"]["fixedColor"] == "red"
                assert overrides["B"]["properties"][0]["value"]["fixedColor"] == "green"
                assert "* 0 - 1" in few and not reads_service_level(few)
            elif item["type"] == "table":
                for name, expr in columns_by_name(item).items():
                    if reads_service_level(expr):
                        compared = f" - {goal}" in expr
                        assert threshold_values(item, name) == ({0} if compared else set()), name
                assert any(f" - {goal}" in e for e in exprs), item["title"]
            elif item["type"] == "stat":  # how many queues are below their own target
                assert "below their target" in item["title"] and f" < {goal}" in exprs[0]
                assert threshold_values(item) == {1}
            else:  # a time series: each queue's line and its target's, dotted
                [line, target] = exprs
                assert reads_service_level(line) and TARGET_RULE in target
                assert not reads_service_level(target) and threshold_values(item) == set()
                assert overrides["B"]["properties"][0]["id"] == "custom.lineStyle"
    assert kinds == {"table": 2, "stat": 3, "bargauge": 1, "timeseries": 2}


@pytest.mark.promtool
def test_an_agents_status_cell_shows_one_replicas_status_when_replicas_disagree(
    tmp_path: Path,
) -> None:
    # An HA pair polls a moment apart: one target says available_idle, the other alerting.
    # The cell must show one of the two codes (1 or 2), never their sum (3: "Handling").
    statuses = [status for status, _, _ in QUEUE_STATUSES]
    matchers = 'job=~".*"'
    expr = status_code(
        "eightbyeight_queue_agent_status", "queue_status", "agent_id", matchers, statuses
    )
    series = []
    for instance, current in (("a:9878", "available_idle"), ("b:9878", "alerting")):
        for status in statuses:
            labels = f'job="x", instance="{instance}", agent_id="u1", queue_status="{status}"'
            value = 1 if status == current else 0
            series.append(
                {"series": f"eightbyeight_queue_agent_status{{{labels}}}", "values": f"{value}x2"}
            )
    test = {
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": expand(expr),
                        "eval_time": "1m",
                        "exp_samples": [{"labels": '{agent_id="u1"}', "value": 2}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "status_test.yml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- guards, annotations, links ---------------------------------------------------------------

RATIOS = re.compile(r"\w+_ratio\b|\w+:ratio_\w+")
GUARD = re.compile(r" >= ([1-9][0-9]*)\)")


def test_every_ratio_panel_is_guarded_by_the_alerts_volume() -> None:
    """A service level or abandon ratio is shown only over `min_calls` calls (as the alerts
    read it): a queue with one call is not 0 % in red, an idle Contact Center queue not 1.0.
    Cells and bars that keep the queue show the "too few calls" mapping instead."""
    config = MixinConfig.model_validate(
        {"service_level": {"min_calls": 7}, "abandon_ratio": {"min_calls": 9}}
    )
    checked = 0
    for model in build_dashboards(config).values():
        for item in data_panels(model):
            for target in item["targets"]:
                ratios = RATIOS.findall(target["expr"])
                if not ratios or ratios[0].endswith("target_ratio"):  # a queue's target
                    continue
                floors = {int(f) for f in GUARD.findall(target["expr"])}
                assert floors and floors <= {7, 9}, (item["title"], target["expr"])
                if "* 0 - 1" in target["expr"]:  # "too few calls": mapped, wherever shown
                    mapped = [item["fieldConfig"]["defaults"]["mappings"]] + [
                        p["value"]
                        for o in item["fieldConfig"]["overrides"]
                        for p in o["properties"]
                        if p["id"] == "mappings"
                    ]
                    assert any("too few calls" in json.dumps(m) for m in mapped), item["title"]
                checked += 1
    assert checked >= 15


@pytest.mark.parametrize("name", sorted(BUILT))
def test_firing_alerts_are_annotations(name: str) -> None:
    [annotation] = BUILT[name]["annotations"]["list"]
    assert annotation["datasource"] == DATASOURCE and annotation["enable"] is True
    expr = annotation["expr"]
    assert expr.startswith('ALERTS{alertstate="firing", alertname=~"EightByEight.*"')
    assert 'job=~"$job"' not in expr, "the queue rules' alerts have no job label"
    names = [
        rule["alert"]
        for group in yaml.safe_load((REPO / "mixin" / "rules.yml").read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert names and all(re.fullmatch("EightByEight.*", n) for n in names)
    assert annotation["titleFormat"] == "{{alertname}}"


def test_wallboard_queues_link_to_their_detail_dashboard() -> None:
    """Every bar and table of the wallboard that lists queues opens the queue's dashboard with
    the queue's labels as that dashboard's variables, the scrape filters and time kept."""
    wallboard = BUILT["eightbyeight-wallboard.json"]
    linked = 0
    for item in data_panels(wallboard):
        if item["type"] not in ("bargauge", "table"):
            continue
        exprs = " ".join(t["expr"] for t in item["targets"])
        [link] = item["fieldConfig"]["defaults"]["links"]
        path, _, query = link["url"].partition("?")
        source = "__data.fields" if item["type"] == "table" else "__field.labels"
        if reads_service_level(exprs):  # both products: each row names its dashboard
            assert path == "/d/${__data.fields.dashboard}", item["title"]
            for t in item["targets"]:
                parts = t["expr"].split("\nor\n")
                assert len(parts) == 2 and 'product="work_analytics"' in parts[0]
                assert parts[0].endswith('"dashboard", "eightbyeight-work-analytics", "", "")')
                assert parts[1].endswith('"dashboard", "eightbyeight-contact-center", "", "")')
            hidden = {
                o["matcher"]["options"]
                for o in item["fieldConfig"]["overrides"]
                if {"id": "custom.hidden", "value": True} in o["properties"]
            }
            assert hidden == {"dashboard"}
            expected = ["${cluster:queryparam}", "${job:queryparam}"]
            expected += [
                f"var-{p}=${{{source}.{p}:percentencode}}"
                for p in ("pbx", "site", "tenant", "queue")
            ]
            assert query.split("&") == [*expected, "${__url_time_range}"], item["title"]
            assert {"pbx", "site", "queue"} <= set(variables(BUILT[WORK_ANALYTICS_JSON]))
            assert {"tenant", "queue"} <= set(variables(BUILT[CONTACT_CENTER]))
            linked += 1
            continue
        cc = "eightbyeight_cc_" in exprs
        uid = "eightbyeight-contact-center" if cc else "eightbyeight-work-analytics"
        params = ("tenant", "queue") if cc else ("pbx", "site", "queue")
        assert path == f"/d/{uid}", item["title"]
        target_variables = variables(BUILT[f"{uid}.json"])
        expected = ["${cluster:queryparam}", "${job:queryparam}"]
        expected += [f"var-{p}=${{{source}.{p}:percentencode}}" for p in params]
        assert query.split("&") == [*expected, "${__url_time_range}"], item["title"]
        assert set(params) <= set(target_variables)
        linked += 1
    assert linked >= 11
