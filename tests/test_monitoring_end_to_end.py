"""The rules and dashboards against the real thing: the exporter on the simulator, Debian's
Prometheus scraping it every second with the mixin's rules loaded, and Debian's Alertmanager
receiving its alerts, all on loopback.

The simulator is driven into a breach (a Contact Center queue whose agents are all taken away
while callers keep arriving): the alert must reach Alertmanager, and leave it once the queue is
staffed again. Every dashboard panel's query and every rule's expression is then evaluated by
Prometheus: none may fail, and every panel must show data, with every variable at All and at
each value the variable offers (its own query evaluated by Prometheus first).

Ratio panels are guarded as the alerts are: a queue with fewer calls than `min_calls` in the
window shows "too few calls" (tables, bars, stats) or a gap (time series). A guarded panel may
therefore be empty at a quiet queue of the demo; it passes when the same view with its guards
lifted (`lift_guards`: any volume, even none) has data, so only the guard emptied it.
The demo's scrape adds no `cluster` label: the `cluster` variable offers nothing and stays at
All, which must not empty any panel; a job or cluster naming no target must empty every one.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from exporter.demo import demo_config_data
from mixin.config import MixinConfig
from mixin.dashboards import (
    build_dashboards,
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
from mixin.rules import render_rules, rule_groups
from simulator import Simulator
from tests.support.alerting_stack import scraping_and_alerting
from tests.support.processes import (
    Process,
    Prometheus,
    binary,
    get_json,
    start,
    start_exporter,
    start_prometheus,
    wait_until,
)
from tests.support.rules import referenced_names
from tests.support.waiting import free_ports

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOB = "eightbyeight"
# The rules as shipped, but with a `for:` and a window of growth short enough for a test.
MIXIN = MixinConfig.model_validate(
    {"selector": f'job="{JOB}"', "no_agent_available": {"for": "3s", "window": "20s"}}
)
ALERT = "EightByEightQueueNoAgentAvailable"


def exporter_config(sim: Simulator) -> dict[str, Any]:
    """The demo's configuration against this simulator, with intervals of a few seconds."""
    data = demo_config_data({}, sim)
    wa, cc = data["work_analytics"], data["contact_center"]
    wa["call_queues"]["interval"] = "1s"
    for key in ("company_summary", "ring_groups", "ring_group_members", "extensions"):
        wa[key]["interval"] = "5s"
    for key in ("call_records", "call_legs", "agent_activity", "live_calls"):
        wa[key]["interval"] = "2s"
    wa["queue_agents"]["interval"] = "1s"
    cc["queues"] = {"interval": "1s"}
    cc["groups"] = {"interval": "2s"}
    cc["agents"] = {"enabled": True, "interval": "2s"}
    cc["report_status"] = {"initial_backoff": "200ms", "max_backoff": "1s"}
    cc["reports"] = [dict(report, interval="5s") for report in cc["reports"]]
    # Every queue in a team: the alerts carry it through the rules' join of the `_info` series.
    wa["teams"] = [{"team": "front-desk", "queues": ".*"}]
    cc["teams"] = [{"team": "care", "queues": ".*"}]
    return data


@dataclass
class Stack:
    sim: Simulator
    prometheus: Prometheus
    alertmanager: str
    processes: list[Process]

    def query(self, expr: str) -> dict[str, Any]:
        return self.prometheus.query(expr)

    def alerts(self) -> list[dict[str, Any]]:
        filter_ = urllib.parse.urlencode({"filter": f'alertname="{ALERT}"', "active": "true"})
        return get_json(f"{self.alertmanager}/api/v2/alerts?{filter_}") or []

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail()}" for p in self.processes)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("monitoring")
    alertmanager_bin = binary("prometheus-alertmanager", "alertmanager")
    # Forty agents a tenant: even at night (a quarter of them logged in) a queue has idle
    # agents to take its callers once it is staffed again.
    sim = Simulator(
        seed=42, host="127.0.0.1", port=0, cc_report_delay_seconds=0.5, cc_agents_per_tenant=40
    ).start()
    exporter_port, prometheus_port, alertmanager_port = free_ports(3)
    (directory / "exporter.yaml").write_text(yaml.safe_dump(exporter_config(sim)))
    (directory / "rules.yml").write_text(render_rules(MIXIN))
    prometheus_config = scraping_and_alerting(JOB, exporter_port, alertmanager_port)
    (directory / "alertmanager.yml").write_text(
        yaml.safe_dump(
            {
                "route": {
                    "receiver": "nobody",
                    "group_wait": "1s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [{"name": "nobody"}],
            }
        )
    )
    processes: list[Process] = []
    try:
        processes.append(
            start_exporter("exporter", directory / "exporter.yaml", exporter_port, directory)
        )
        processes.append(
            start(
                "alertmanager",
                [
                    alertmanager_bin,
                    f"--config.file={directory / 'alertmanager.yml'}",
                    f"--storage.path={directory / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{alertmanager_port}",
                    "--cluster.listen-address=",
                ],
                directory,
            )
        )
        prometheus_process, prometheus = start_prometheus(
            directory, prometheus_port, prometheus_config, "--rules.alert.resend-delay=1s"
        )
        processes.append(prometheus_process)
        stack = Stack(sim, prometheus, f"http://127.0.0.1:{alertmanager_port}", processes)

        def scraped() -> bool:
            answer = stack.query(f'up{{job="{JOB}"}} == 1')
            return bool(answer.get("data", {}).get("result"))

        try:
            wait_until("Prometheus to scrape the exporter", scraped, timeout=60)
            wait_until(
                "Alertmanager to answer",
                lambda: get_json(f"{stack.alertmanager}/api/v2/status"),
                timeout=30,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.logs()}") from None
        yield stack
    finally:
        for process in reversed(processes):
            process.stop()
        sim.stop()


def test_a_queue_without_agents_pages_and_the_page_resolves(stack: Stack) -> None:
    sim = stack.sim
    # The queue with the most idle agents now: staffed again, they answer its few callers.
    idle, tenant, queue = max(
        (sim.cc.realtime_values(t, "queues", q.id)["availableIdle.rt"], t, q)
        for t in sim.cc.tenants
        for q in sim.cc.queues(t)
    )
    assert idle >= 2

    def ours() -> list[dict[str, Any]]:
        return [
            a
            for a in stack.alerts()
            if a["labels"].get("tenant") == tenant and a["labels"].get("queue_id") == queue.id
        ]

    assert ours() == []
    # Nobody answers the queue while callers keep arriving (one every 10 s on average).
    sim.cc.set_staffing(tenant, queue.id, 0)
    sim.cc.set_arrival_rate(tenant, queue.id, 360)
    breached = time.monotonic()
    try:
        fired = wait_until(f"{ALERT} in Alertmanager", ours, timeout=120)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.logs()}") from None
    labels = fired[0]["labels"]
    # Nobody answers and the wait grows: the warning (the eligible agents are gone too, so
    # EightByEightQueueNoAgentLoggedIn pages as well; Alertmanager's inhibit rule keeps that).
    assert labels["severity"] == "warning" and labels["queue"] == queue.name
    assert labels["team"] == "care"
    assert labels["job"] == JOB and labels["period"] == "rt"
    assert "no agent is available" in fired[0]["annotations"]["summary"]
    # The queue is staffed again and the surge ends: the few waiting callers are answered.
    paged = time.monotonic()
    sim.cc.set_arrival_rate(tenant, queue.id, 0)
    sim.cc.set_staffing(tenant, queue.id, None)
    try:
        wait_until(f"{ALERT} to resolve", lambda: not ours() or None, timeout=120)
    except AssertionError as exc:
        where = f'{{tenant="{tenant}", queue_id="{queue.id}", period="rt"}}'
        state = {
            expr: stack.query(expr).get("data")
            for expr in (
                f"eightbyeight_cc_queue_waiting_interactions{where}",
                f"eightbyeight_cc_queue_available_idle_agents{where}",
                f'ALERTS{{alertname="{ALERT}"}}',
            )
        }
        raise AssertionError(
            f"{exc}\n{json.dumps(state)}\n{ours()}\n"
            f"{sim.cc.realtime_values(tenant, 'queues', queue.id)}"
        ) from None
    sim.cc.set_arrival_rate(tenant, queue.id, None)
    print(
        f"breach to alert in Alertmanager: {paged - breached:.1f}s; "
        f"staffed to resolved: {time.monotonic() - paged:.1f}s"
    )


def result_of(stack: Stack, where: str, expr: str) -> list[Any]:
    answer = stack.query(expr)
    assert answer.get("status") == "success", f"{where}: {expr}\n{answer.get('error')}"
    return answer["data"]["result"]


def panels_have_data(stack: Stack) -> None:
    # Rates need a few scrapes, reports a first run: wait until the slowest panel has data.
    wait_until(
        "a Contact Center report in Prometheus",
        lambda: stack.query("eightbyeight_cc_report_rows").get("data", {}).get("result"),
        timeout=60,
    )
    time.sleep(5)


# The guard of a ratio, `and [on (...)] <volume> >= <min_calls>)`, and its "too few calls"
# part, `(<volume> < <min_calls>) * 0 - 1` (mixin.dashboards.promql).
GUARD_FLOOR = re.compile(r" >= [1-9][0-9]*\)")
TOO_FEW_FLOOR = re.compile(r" < [1-9][0-9]*\) \* 0 - 1")


def lift_guards(expr: str) -> str:
    """The query with every volume guard's floor at 0: the ratio wherever its volume exists
    (and no "too few calls" row, which would then duplicate the queue's ratio)."""
    return TOO_FEW_FLOOR.sub(" < 0) * 0 - 1", GUARD_FLOOR.sub(" >= 0)", expr))


def test_every_dashboard_query_returns_data(stack: Stack) -> None:
    """Every query is valid; every panel (any of its queries) and every variable has data,
    a guarded panel at least with its guards lifted."""
    panels_have_data(stack)
    chosen = {"job": JOB, "__rate_interval": "30s", "__interval": "5s"}
    checked, empty, below_guard = 0, [], []
    for file_name, dashboard in build_dashboards(MIXIN).items():
        variables = [(t, [e]) for t, e in panel_queries(dashboard) if t.startswith("variable ")]
        for title, exprs in panel_expressions(dashboard) + variables:
            where = f"{file_name}: {title}"
            queries = [expand(expr, chosen) for expr in exprs]
            checked += 1
            results = [result_of(stack, where, query) for query in queries]  # each valid
            if any(results):
                continue
            lifted = [lift_guards(query) for query in queries]
            if lifted != queries and any(result_of(stack, where, q) for q in lifted):
                below_guard.append(where)
            else:
                empty.append(f"{where}: {queries}")
    print(f"{checked} panels and variables, empty below their guard only: {below_guard}")
    assert checked > 40
    assert empty == [], "panels without data in the demo:\n" + "\n".join(empty)


def grafana_escape(value: str, var: dict[str, Any]) -> str:
    """A value as Grafana's Prometheus data source writes it into a query: regex-escaped
    (inside a PromQL string, hence two backslashes) for a multi-value or All variable."""
    if not var.get("multi") and not var.get("includeAll"):
        return value.replace("\\", "\\\\").replace("'", "\\\\'")
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value)


def grafana_text(series: dict[str, Any]) -> str:
    """One `query_result` answer as Grafana lists it before the variable's regex."""
    labels = dict(series["metric"])
    name = labels.pop("__name__", "")
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    at, value = series["value"]
    return f"{name}{{{inner}}} {value} {int(float(at) * 1000)}"


def offered_values(stack: Stack, var: dict[str, Any], at: float) -> list[str]:
    """What Grafana's dropdown lists for `var` (every other variable at All, the time range
    the last six hours): a custom variable's options, else its own query evaluated by
    Prometheus (`label_values` through the label values API, `query_result` as a query) and
    cut by the variable's regex."""
    if var["type"] == "custom":
        return [option["value"] for option in var["options"]]
    query = expand(variable_query(var), {"job": JOB})
    listed = label_values(query)
    if listed:
        selector, label = listed
        params = {"match[]": selector, "start": f"{at - 6 * 3600:.0f}", "end": f"{at:.3f}"}
        url = f"{stack.prometheus.url}/api/v1/label/{label}/values?"
        answer = get_json(url + urllib.parse.urlencode(params))
        assert answer and answer["status"] == "success", (var["name"], answer)
        texts: list[str] = answer["data"]
    else:
        expr = query_result(query)
        assert expr, f"variable {var['name']}: neither label_values nor query_result"
        answer = stack.prometheus.query(expr, at)
        assert answer.get("status") == "success", (var["name"], expr, answer.get("error"))
        texts = [grafana_text(series) for series in answer["data"]["result"]]
    pattern = re.compile(var["regex"].strip("/")) if var.get("regex") else None
    if pattern is None:
        return sorted(set(texts))
    found = (pattern.search(text) for text in texts)
    return sorted({m.group(1) if m.groups() else m.group(0) for m in found if m})


def test_every_panel_has_data_for_every_value_its_variables_offer(stack: Stack) -> None:
    """Each variable at each value it offers, the others at All: no panel using it is empty.
    Evaluated at one instant, over what Prometheus already holds (no scrape waited for)."""
    panels_have_data(stack)
    at = time.time()
    # (where, the panel's queries at that value): a panel is empty when all of them are.
    views: list[tuple[str, list[str]]] = []
    silent: list[str] = []
    for file_name, dashboard in build_dashboards(MIXIN).items():
        variables = {
            v["name"]: v for v in template_variables(dashboard) if v["type"] in ("query", "custom")
        }
        offered = {name: offered_values(stack, var, at) for name, var in variables.items()}
        silent += [f"{file_name}: variable {name}" for name, got in offered.items() if not got]
        for title, exprs in panel_expressions(dashboard):
            used = set().union(*(variables_in(expr) for expr in exprs)) & set(offered)
            for name in sorted(used):
                for value in offered[name]:
                    chosen = {"job": JOB, "__rate_interval": "30s", "__interval": "5s"}
                    chosen[name] = grafana_escape(value, variables[name])
                    where = f"{file_name}: {title} at {name}={value}"
                    views.append((where, [expand(expr, chosen) for expr in exprs]))
    # No demo series has a `cluster` label: the variable lists nothing and stays at All.
    assert silent == [f"{file_name}: variable cluster" for file_name in build_dashboards(MIXIN)], (
        "variables that offer nothing"
    )
    lifted = [(where, [lift_guards(expr) for expr in exprs]) for where, exprs in views]
    queries = sorted({expr for _where, exprs in views + lifted for expr in exprs})
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(zip(queries, pool.map(lambda q: stack.prometheus.query(q, at), queries)))
    bad = [f"{q}: {a.get('error')}" for q, a in answers.items() if a["status"] != "success"]
    assert bad == [], "queries Prometheus refused:\n" + "\n".join(bad)

    def shows(exprs: list[str]) -> bool:
        return any(answers[expr]["data"]["result"] for expr in exprs)

    empty, below_guard = [], []
    for (where, exprs), (_where, unguarded) in zip(views, lifted, strict=True):
        if shows(exprs):
            continue
        if unguarded != exprs and shows(unguarded):
            below_guard.append(where)
        else:
            empty.append(f"{where}: {exprs}")
    print(f"{len(views)} panel views, {len(queries)} queries, {len(below_guard)} guarded empty")
    # The guards must not empty the dashboards: most views of a guarded panel show data.
    assert len(below_guard) < len(views) // 4, below_guard
    assert len(views) > 200
    assert empty == [], f"{len(empty)} empty panels at values a variable offers:\n" + "\n".join(
        empty
    )


def test_a_job_or_cluster_that_names_nothing_empties_every_panel(stack: Stack) -> None:
    """Every panel honours `$job` and `$cluster`, those reading recording rules (which keep
    neither label) included. `or vector(0)` counts (a bare 0) are no data from a target."""
    panels_have_data(stack)
    leaks = []
    for file_name, dashboard in build_dashboards(MIXIN).items():
        for title, expr in panel_targets(dashboard):
            for chosen in ({"job": "nobody"}, {"job": JOB, "cluster": "nowhere"}):
                query = expand(expr, {**chosen, "__rate_interval": "30s", "__interval": "5s"})
                found = result_of(stack, f"{file_name}: {title}", query)
                if [r for r in found if r["metric"] or float(r["value"][1]) != 0]:
                    leaks.append(f"{file_name}: {title} at {chosen}: {found}")
    assert leaks == [], "\n".join(leaks)


def test_every_rule_evaluates_and_names_series_that_exist(stack: Stack) -> None:
    rules = [r for g in rule_groups(MIXIN)["groups"] for r in g["rules"]]
    for rule in rules:
        result = result_of(stack, rule.get("alert") or rule["record"], rule["expr"])
        if "record" in rule:
            assert result, f"recording rule {rule['record']} has no data"
    names = sorted(
        {n for r in rules for n in referenced_names(r["expr"]) if not n.startswith("queue:")}
    )
    missing = [n for n in names if not result_of(stack, n, f"count({n})")]
    absent_in_demo = {
        # Exported only for a Contact Center queue 8x8 gives no objective; every demo queue
        # has one.
        "eightbyeight_cc_queue_configured_service_level_target_ratio",
        "eightbyeight_cc_queue_configured_service_level_threshold_seconds",
        # From an endpoint's first failure on (its `code` is known only then): the demo's
        # simulator does not fail.
        "eightbyeight_api_request_failures_total",
    }
    assert absent_in_demo <= set(names)
    assert sorted(set(missing) - absent_in_demo) == [], "rules name series Prometheus never saw"
    # The recording rules are what Prometheus evaluates from the file it loaded.
    loaded = get_json(f"{stack.prometheus.url}/api/v1/rules")
    assert loaded and sum(len(g["rules"]) for g in loaded["data"]["groups"]) == len(rules)
