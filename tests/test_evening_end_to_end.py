"""Issue #19's first "done when": a normal evening pages nobody; a queue whose agents are all
taken out pages its team, once; a queue whose agents are all busy while the wait grows only
warns.

1. **The evening** runs in simulated time: the demo's account, teams and traffic from 17:00 to
   22:00 New York time (Berlin's night, San Jose's afternoon, Manila's morning), the exporter
   polling the simulator on a FakeClock every `STEP` seconds and its exposition taken as a
   scrape would store it. Prometheus's own rule engine (`promtool test rules`) evaluates the
   mixin's rules as shipped (`render_rules(MixinConfig())`) over it, with exact `for:` and
   `keep_firing_for` semantics: no critical alert may fire. Run this module as a script
   (`python -m tests.test_evening_end_to_end 7 42 1234`) for the longest pending streak of
   every alert over those seeds: the data for its `for:` (docs/alert-tuning.md).
2. **The page and the warning** run on the wall clock, as Prometheus and Alertmanager do: the
   exporter on the simulator, Debian's Prometheus scraping it every second with the rules of
   `LIVE_MIXIN` (the agent alerts' `for:`, `keep_firing_for` and growth window shortened so
   that the phase takes well under two minutes; every other alert as shipped), and Debian's
   Alertmanager with mixin/alertmanager.example.yml, each receiver pointed at a loopback
   webhook that records what it is sent. The exporter watches the one queue the scenario
   acts on: the other queues' normal traffic with shortened `for:` values would be noise the
   evening above already judges with the real ones.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.logs import configure_logging
from exporter.demo import demo_config_data
from mixin.config import MixinConfig
from mixin.rules import render_rules, rule_groups
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.end_to_end import BUSINESS_HOURS
from tests.support.page import PageReader
from tests.support.rule_series import Results, SeriesRecorder, evaluate
from tests.support.rules import referenced_names

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.promtool]

JOB = "eightbyeight"
# Tuesday 2025-11-18 17:00 in New York (UTC-5): the demo's Contact Center time zone.
EVENING_START = BUSINESS_HOURS + 5 * 3600
EVENING_HOURS = 5
# A poll of each queue poller and a scrape every 30 simulated seconds (a common scrape
# interval; the demo polls every 10-15 s, but each step costs ~50 ms of real time).
STEP = 30.0
DISCOVERY_EVERY = 300.0
QUEUE_POLLERS = ("call_queues", "queue_agents", "call_legs", "cc_queues")
# Firing critical alerts; every alert that fired; and the longest time each alert series was
# pending (seen at the evaluations, so up to one STEP short of the truth).
WHOLE = f"{EVENING_HOURS}h"
CRITICAL = f'max_over_time(ALERTS{{alertstate="firing", severity="critical"}}[{WHOLE}])'
FIRED = f'max_over_time(ALERTS{{alertstate="firing"}}[{WHOLE}])'
PENDING = (
    "max_over_time(((time() - ALERTS_FOR_STATE) and ignoring(alertstate) "
    f'ALERTS{{alertstate="pending"}})[{WHOLE}:{STEP:g}s])'
)


def evening_config(sim: Simulator) -> dict[str, Any]:
    """The demo's configuration (its teams: sales = Sales|VIP Line|Partners, else support),
    with only the pollers the queue alerts read, each polled every STEP."""
    data = demo_config_data({}, sim)
    wa, cc = data["work_analytics"], data["contact_center"]
    wa["request_budget_per_minute"] = 1_000_000  # hours of polls in a minute of real time
    wa["personal_data"] = False
    for name in ("company_summary", "ring_groups", "ring_group_members", "extensions"):
        wa[name] = {"enabled": False}
    for name in ("call_records", "agent_activity", "live_calls"):
        wa[name] = {"enabled": False}
    wa["discovery"] = {"interval": f"{DISCOVERY_EVERY:g}s"}
    for name in ("call_queues", "call_legs"):
        wa[name] = {**wa[name], "interval": f"{STEP:g}s"}
    wa["queue_agents"] = {"interval": f"{STEP:g}s", "per_agent": False}
    cc.update(
        personal_data=False,
        queues={"interval": f"{STEP:g}s"},
        groups={"enabled": False},
        agents={"enabled": False},
        reports=[],
    )
    return data


@dataclass
class Evening:
    seed: int
    critical: list[tuple[dict[str, str], float]]
    fired: list[tuple[dict[str, str], float]]
    pending: list[tuple[dict[str, str], float]]
    series: int


def run_evening(seed: int, directory: Path) -> Evening:
    """The evening of `seed`, polled and evaluated as the module docstring says."""
    clock = FakeClock(EVENING_START)
    rules = render_rules(MixinConfig())
    names = {
        name
        for group in rule_groups(MixinConfig())["groups"]
        for rule in group["rules"]
        for name in referenced_names(rule["expr"])
    }
    # Thousands of polls: their info lines would cost more than the polls themselves.
    logging = structlog.get_config()
    configure_logging("warn")
    recorder = SeriesRecorder(frozenset(names | {"up"}), f'instance="exporter:9090",job="{JOB}"')
    with Simulator(seed=seed, host="127.0.0.1", port=0, clock=clock) as sim:
        exporter = build_exporter(
            load_config_data(evening_config(sim)), process_metrics=False, clock=clock
        )
        try:
            page = PageReader(exporter.exposition)
            runners = exporter.scheduler.runners
            assert {r.name.partition("@")[0] for r in runners} == {"discovery", *QUEUE_POLLERS}
            for step in range(int(EVENING_HOURS * 3600 / STEP) + 1):
                elapsed = step * STEP
                for runner in runners:
                    if runner.name != "discovery" or elapsed % DISCOVERY_EVERY == 0:
                        assert runner.run_once(), f"{runner.name} failed at +{elapsed:g}s"
                recorder.add(page.text(), ["up 1"])
                clock.advance(STEP)
        finally:
            exporter.close()
            structlog.configure(**logging)
    found = evaluate(directory, rules, recorder.input_series(), STEP, [CRITICAL, FIRED, PENDING])
    return Evening(
        seed,
        found.get(CRITICAL, []),
        found.get(FIRED, []),
        found.get(PENDING, []),
        len(recorder.values),
    )


def describe(results: Results | list[tuple[dict[str, str], float]]) -> list[str]:
    rows = results if isinstance(results, list) else [r for v in results.values() for r in v]
    keys = ("alertname", "severity", "pbx", "tenant", "site", "queue", "queue_id", "team")
    return sorted(
        f"{' '.join(labels.get(k, '') for k in keys if labels.get(k))}: {value:g}"
        for labels, value in rows
    )


def test_a_normal_evening_pages_nobody(tmp_path: Path) -> None:
    started = time.monotonic()
    evening = run_evening(7, tmp_path)
    # Not vacuous: the queues' series were there all evening, and some alert went pending.
    assert evening.series > 500
    print(f"evening of seed 7 in {time.monotonic() - started:.1f}s, {evening.series} series")
    print("longest pending (s):\n" + "\n".join(describe(evening.pending)))
    print("fired:\n" + "\n".join(describe(evening.fired)))
    assert evening.critical == [], "a normal evening paged:\n" + "\n".join(
        describe(evening.critical)
    )


def findings(seeds: list[int]) -> str:
    """A table per alert: its longest pending streak (which seed, which queue) and the
    seeds in which it fired."""
    longest: dict[str, tuple[float, str]] = {}
    fired: dict[str, set[int]] = {}
    for seed in seeds:
        with tempfile.TemporaryDirectory() as directory:
            evening = run_evening(seed, Path(directory))
        for labels, value in evening.pending:
            name = labels["alertname"]
            where = f"seed {seed}, {labels.get('queue', '')} {labels.get('queue_id', '')}"
            if value > longest.get(name, (-1.0, ""))[0]:
                longest[name] = (value, where)
        for labels, _value in evening.fired:
            fired.setdefault(labels["alertname"], set()).add(seed)
    rules = [r for g in rule_groups(MixinConfig())["groups"] for r in g["rules"] if "alert" in r]
    lines = [
        "| alert | for | longest pending (s) | where | fired in seeds |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        name = rule["alert"]
        value, where = longest.get(name, (0.0, "never pending"))
        seeds_fired = ", ".join(map(str, sorted(fired.get(name, ())))) or "none"
        lines.append(f"| {name} | {rule['for']} | {value:g} | {where} | {seeds_fired} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(findings([int(seed) for seed in sys.argv[1:]] or [7]))
