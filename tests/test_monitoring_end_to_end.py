"""The rules and dashboards against the real thing: the exporter on the simulator, Debian's
Prometheus scraping it every second with the mixin's rules loaded, and Debian's Alertmanager
receiving its alerts, all on loopback.

The simulator is driven into a breach (a Contact Center queue whose agents are all taken away
while callers keep arriving): the alert must reach Alertmanager, and leave it once the queue is
staffed again. Every dashboard panel's query and every rule's expression is then evaluated by
Prometheus: none may fail, and every panel must show data.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from exporter.cli import demo_config_data
from mixin.config import MixinConfig
from mixin.dashboards import build_dashboards, expand, panel_queries
from mixin.rules import render_rules, rule_groups
from simulator import Simulator
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
from tests.support.waiting import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOB = "eightbyeight"
# The rules as shipped, but with a `for:` short enough for a test.
MIXIN = MixinConfig.model_validate(
    {"selector": f'job="{JOB}"', "no_agent_available": {"for": "3s"}}
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
    exporter_port, prometheus_port, alertmanager_port = free_port(), free_port(), free_port()
    (directory / "exporter.yaml").write_text(yaml.safe_dump(exporter_config(sim)))
    (directory / "rules.yml").write_text(render_rules(MIXIN))
    prometheus_config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]
        },
        "scrape_configs": [
            {"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}
        ],
    }
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
    assert labels["severity"] == "critical" and labels["queue"] == queue.name
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


def test_every_dashboard_query_returns_data(stack: Stack) -> None:
    # Rates need a few scrapes, reports a first run: wait until the slowest panel has data.
    wait_until(
        "a Contact Center report in Prometheus",
        lambda: stack.query("eightbyeight_cc_report_rows").get("data", {}).get("result"),
        timeout=60,
    )
    time.sleep(5)
    checked, empty = 0, []
    for file_name, dashboard in build_dashboards(MIXIN).items():
        for title, expr in panel_queries(dashboard):
            query = expand(expr, {"job": JOB, "__rate_interval": "30s", "__interval": "5s"})
            checked += 1
            if not result_of(stack, f"{file_name}: {title}", query):
                empty.append(f"{file_name}: {title}: {query}")
    assert checked > 40
    assert empty == [], "panels without data in the demo:\n" + "\n".join(empty)


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
    assert missing == [], "rules name series Prometheus never saw"
    # The recording rules are what Prometheus evaluates from the file it loaded.
    loaded = get_json(f"{stack.prometheus.url}/api/v1/rules")
    assert loaded and sum(len(g["rules"]) for g in loaded["data"]["groups"]) == len(rules)
