"""The Prometheus rules of the mixin: generated from mixin/config.yaml, valid for promtool, every
alert unit-tested on both sides of its threshold and its `for:`, and naming only metrics the
exporter exposes."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.catalogue import entries, listed
from exporter.core.errors import ConfigError
from mixin.config import MixinConfig, load_mixin_config, seconds
from mixin.rules import render_rules, rule_groups
from tests.support.rules import referenced_names

REPO = Path(__file__).resolve().parents[1]
MIXIN = REPO / "mixin"
RULES = MIXIN / "rules.yml"
UNIT_TESTS = MIXIN / "tests" / "alerts_test.yml"
RUNBOOKS = REPO / "docs" / "runbooks.md"

HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def promtool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/test.sh installs Debian's prometheus package"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def alerts(config: MixinConfig = MixinConfig()) -> list[dict[str, Any]]:
    return [
        rule
        for group in rule_groups(config)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_the_rules_file_is_the_generators_output_of_the_config() -> None:
    config = load_mixin_config(MIXIN / "config.yaml")
    assert config == MixinConfig(), "mixin/config.yaml states the defaults"
    assert RULES.read_text(encoding="utf-8") == render_rules(config), (
        "mixin/rules.yml is stale: run `python -m mixin`"
    )


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 27 rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_tests_fail_when_a_threshold_moves(tmp_path: Path) -> None:
    # The same unit tests against rules with other thresholds must fail: they test the
    # thresholds, not only that the rules parse.
    moved = MixinConfig.model_validate(
        {
            "longest_wait": {"threshold_seconds": 500},
            "abandon_ratio": {"threshold": 0.3},
            "service_level": {"min_calls": 5},
        }
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "rules.yml").write_text(render_rules(moved), encoding="utf-8")
    shutil.copy(UNIT_TESTS, tmp_path / "tests" / UNIT_TESTS.name)
    result = promtool("test", "rules", str(tmp_path / "tests" / UNIT_TESTS.name))
    assert result.returncode != 0
    assert "EightByEightQueueLongestWaitHigh" in result.stdout + result.stderr
    assert "EightByEightQueueAbandonRatioHigh" in result.stdout + result.stderr
    assert "EightByEightQueueServiceLevelLow" in result.stdout + result.stderr
    # The abandon ratio's volume guard alone: a queue of 6 and one of 9 calls then alert.
    guard = MixinConfig.model_validate({"abandon_ratio": {"min_calls": 5}})
    (tmp_path / "rules.yml").write_text(render_rules(guard), encoding="utf-8")
    result = promtool("test", "rules", str(tmp_path / "tests" / UNIT_TESTS.name))
    assert result.returncode != 0
    assert "EightByEightQueueAbandonRatioHigh" in result.stdout + result.stderr


def test_every_alert_is_tested_firing_before_its_for_and_silent() -> None:
    cases = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["tests"]
    for alert in alerts():
        name, hold = alert["alert"], seconds(alert["for"])
        fires = quiet_before = silent = False
        for case in cases:
            checks = [c for c in case.get("alert_rule_test", []) if c["alertname"] == name]
            firing = [seconds(c["eval_time"]) for c in checks if c["exp_alerts"]]
            empty = [seconds(c["eval_time"]) for c in checks if not c["exp_alerts"]]
            if firing:
                fires = True
                # Silent while the condition holds for less than `for:`.
                quiet_before |= any(t < min(firing) and min(firing) - t <= hold for t in empty)
            elif any(t >= hold for t in empty):
                silent = True  # a whole case on the good side of the threshold
        assert fires, f"{name}: no test shows it firing"
        assert quiet_before, f"{name}: no test shows it silent before its for: {alert['for']}"
        assert silent, f"{name}: no test shows it staying silent"


def test_alerts_follow_the_conventions() -> None:
    names = [a["alert"] for a in alerts()]
    assert len(names) == len(set(names)) == 14
    for alert in alerts():
        assert re.fullmatch(r"EightByEight(?:[A-Z][a-z]+)+", alert["alert"]), alert["alert"]
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        assert seconds(alert["for"]) > 0


def runbook_sections() -> dict[str, str]:
    """docs/runbooks.md by `## ` heading: GitHub's anchor (the heading in lower case) to text."""
    sections: dict[str, str] = {}
    anchor = ""
    for line in RUNBOOKS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            anchor = line[3:].strip().lower()
            sections[anchor] = ""
        elif anchor:
            sections[anchor] += line + "\n"
    return sections


def test_every_alert_has_a_runbook_url_to_its_own_section() -> None:
    sections = runbook_sections()
    for alert in alerts():
        assert "runbook_url" in alert["annotations"], f"{alert['alert']} has no runbook_url"
        base, _, anchor = alert["annotations"]["runbook_url"].partition("#")
        assert base == MixinConfig().runbooks and anchor == alert["alert"].lower()
        assert anchor in sections, f"docs/runbooks.md has no section {alert['alert']}"
        for part in ("**Meaning.**", "**Impact.**", "**Diagnosis.**", "**Mitigation.**"):
            assert part in sections[anchor], f"{alert['alert']}: its runbook has no {part}"
    # No section for an alert that does not exist (renamed, removed).
    assert set(sections) == {a["alert"].lower() for a in alerts()}
    moved = alerts(MixinConfig(runbooks="https://wiki.example.com/8x8"))
    assert {a["annotations"]["runbook_url"] for a in moved} >= {
        "https://wiki.example.com/8x8#eightbyeightapiclockskewed",
        "https://wiki.example.com/8x8#eightbyeightexporterdown",
    }


LOG_METHODS = {"debug", "info", "warning", "error", "exception"}
# "event `a`", "events `a`, `b` and `c`": how the runbooks name the exporter's log events.
EVENT_MENTION = re.compile(r"\bevents?\s+((?:`[^`]+`(?:,\s*|\s+(?:and|or)\s+)?)+)", re.I)


def _literals(node: ast.AST) -> set[str]:
    """The event names an argument can be: a literal, or either literal of `"a" if x else "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literals(node.body) | _literals(node.orelse)
    return set()


def logged_events() -> set[str]:
    """The event names the exporter logs: the first argument of its log calls (`log.warning(
    "name", ...)`, also through `(log.warning if x else log.info)(event, ...)` with `event = "a"
    if x else "b"`) and of `LeftOut.add(event, kind, ...)`, which logs each kind once."""
    events: set[str] = set()
    for path in sorted((REPO / "exporter").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                called = [func.body, func.orelse] if isinstance(func, ast.IfExp) else [func]
                methods = {f.attr for f in called if isinstance(f, ast.Attribute)}
                if methods & LOG_METHODS or (methods == {"add"} and len(node.args) >= 2):
                    events |= _literals(node.args[0])
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "event" for target in node.targets
            ):
                events |= _literals(node.value)
    return events


def test_the_runbooks_name_only_metrics_and_events_that_exist() -> None:
    text = RUNBOOKS.read_text(encoding="utf-8")
    recorded = {
        r["record"]
        for g in rule_groups(MixinConfig())["groups"]
        for r in g["rules"]
        if "record" in r
    }
    assert len(referenced_names(text)) > 40
    assert unknown_names([text], recorded) == []
    events = logged_events()
    # The extractor finds the exporter's events, whichever way they are logged, and only those.
    assert {
        "collector_run_failed",
        "api_clock_skew",
        "api_clock_skew_cleared",
        "summary_row_invalid",
    } <= events
    assert "collector_run_broken" not in events
    mentioned = {
        name
        for mention in EVENT_MENTION.finditer(text)
        for name in re.findall(r"`([^`]+)`", mention.group(1))
    }
    assert len(mentioned) > 15
    assert sorted(mentioned - events) == [], "docs/runbooks.md names events the exporter never logs"


def unknown_names(exprs: list[str], recorded: set[str]) -> list[str]:
    """Names in the expressions that neither the exporter exposes nor a recording rule makes."""
    catalogue = {e.name for e in entries()}
    histograms = {e.name for e in entries() if e.type == "histogram"}
    unknown = []
    for expr in exprs:
        for name in sorted(referenced_names(expr)):
            base = next(
                (
                    name[: -len(s)]
                    for s in HISTOGRAM_SUFFIXES
                    if name.endswith(s) and name[: -len(s)] in histograms
                ),
                name,
            )
            if base not in recorded and not listed(base, catalogue):
                unknown.append(name)
    return unknown


def test_rules_name_only_metrics_the_exporter_exposes() -> None:
    rules = [r for g in rule_groups(MixinConfig())["groups"] for r in g["rules"]]
    recorded = {r["record"] for r in rules if "record" in r}
    exprs = [r["expr"] for r in rules]
    assert sum(len(referenced_names(e)) for e in exprs) > 20
    assert unknown_names(exprs, recorded) == []
    # The check can fail: a misspelt name, and a histogram suffix on a gauge, are caught.
    assert unknown_names(
        ["eightbyeight_queue_ongoing_waitng_calls > 0", "eightbyeight_up_bucket"], recorded
    ) == ["eightbyeight_queue_ongoing_waitng_calls", "eightbyeight_up_bucket"]


def test_a_bad_mixin_config_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("longest_wait: {for: soon}\nservice_level: {fallback_target: 2}\ncolour: red\n")
    with pytest.raises(ConfigError) as caught:
        load_mixin_config(path)
    assert caught.value.problems == [
        "service_level.fallback_target: Input should be less than or equal to 1",
        "longest_wait.for: 'soon' is not a Prometheus duration such as 30s, 5m or 1h30m",
        "colour: Extra inputs are not permitted",
    ]


def test_the_service_level_settings_that_moved_to_the_exporter_say_where(tmp_path: Path) -> None:
    # Before each queue had its own objective, the mixin held one threshold and target.
    path = tmp_path / "config.yaml"
    path.write_text("service_level: {answered_within_seconds: 30, target: 0.9, min_calls: 3}\n")
    with pytest.raises(ConfigError) as caught:
        load_mixin_config(path)
    [problem] = caught.value.problems
    assert problem.startswith("service_level: answered_within_seconds, target: ")
    assert "work_analytics.service_levels" in problem and "docs/migration.md" in problem


def test_the_generator_writes_rules_with_the_users_thresholds(tmp_path: Path) -> None:
    from mixin.__main__ import main

    config = tmp_path / "config.yaml"
    config.write_text('selector: job="8x8"\nlongest_wait: {threshold_seconds: 120, for: 30s}\n')
    rules, dashboards = tmp_path / "rules.yml", tmp_path / "dashboards"
    assert (
        main(
            [
                "--config",
                str(config),
                "--rules-out",
                str(rules),
                "--dashboards-out",
                str(dashboards),
            ]
        )
        == 0
    )
    written = yaml.safe_load(rules.read_text())
    wait = next(
        r
        for g in written["groups"]
        for r in g["rules"]
        if r.get("alert") == "EightByEightQueueLongestWaitHigh"
    )
    assert wait["for"] == "30s" and "> 120" in wait["expr"] and 'job="8x8"' in wait["expr"]
    assert sorted(p.name for p in dashboards.glob("*.json"))
    assert promtool("check", "rules", str(rules)).returncode == 0
    config.write_text("longest_wait: {threshold_seconds: -1}\n")
    assert (
        main(
            [
                "--config",
                str(config),
                "--rules-out",
                str(rules),
                "--dashboards-out",
                str(dashboards),
            ]
        )
        == 2
    )


def test_the_example_prometheus_config_loads_the_rules() -> None:
    result = promtool("check", "config", "prometheus.example.yml", cwd=MIXIN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 27 rules found" in result.stdout


@pytest.mark.parametrize(
    ("alert", "severity", "team", "receiver"),
    [
        ("EightByEightQueueNoAgentLoggedIn", "critical", "", "supervisors-pager"),
        ("EightByEightQueueNoAgentLoggedIn", "critical", "sales", "sales-pager"),
        ("EightByEightQueueNoAgentAvailable", "warning", "sales", "sales-supervisors"),
        ("EightByEightQueueNoAgentAvailable", "warning", "support", "support-supervisors"),
        ("EightByEightQueueLongestWaitHigh", "warning", "support", "support-supervisors"),
        ("EightByEightQueueServiceLevelLow", "warning", "", "supervisors"),
        ("EightByEightQueueServiceLevelLow", "warning", "billing", "supervisors"),
        ("EightByEightDataStale", "warning", "", "monitoring-team"),
        ("EightByEightAuthenticationFailing", "critical", "", "monitoring-team"),
    ],
)
def test_the_example_alertmanager_config_routes_the_alerts(
    alert: str, severity: str, team: str, receiver: str
) -> None:
    amtool = shutil.which("amtool")
    assert amtool, "amtool is missing: scripts/test.sh installs prometheus-alertmanager"
    config = str(MIXIN / "alertmanager.example.yml")
    checked = subprocess.run(
        [amtool, "check-config", config], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert alert in {a["alert"] for a in alerts()}
    routed = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"alertname={alert}",
            f"severity={severity}",
            *([f"team={team}"] if team else []),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert routed.returncode == 0 and routed.stdout.strip() == receiver, routed.stdout
