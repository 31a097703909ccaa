"""Issue #19's second "done when": today's service level of every simulated queue, as the
mixin's recording rules compute it from the exporter's series, equals the simulator's truth
computed with the definition of docs/service-levels.md, for Work Analytics and Contact Center
queues alike, under each denominator.

The simulator and the exporter run in process on a FakeClock, mid-afternoon in New York; the
exporter's page is evaluated by Debian's promtool (Prometheus's rule engine) with the rules of
`render_rules(MixinConfig(...))`. The truth comes from the simulator's own records, not from
its answers: Work Analytics from its call legs (ended before the call-leg poller's watermark,
as the counters count them), Contact Center from the interactions that left each queue since
local midnight, judged against the queue's threshold by their wait.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.logs import configure_logging
from exporter.core.windows import counting_day
from exporter.demo import demo_config_data
from mixin.config import MixinConfig
from mixin.rules import render_rules, rule_groups
from mixin.service_levels import ratio_rule
from simulator import Simulator
from simulator.cc.facts import LeaveOutcome
from tests.support.clock import FakeClock
from tests.support.end_to_end import BUSINESS_HOURS
from tests.support.page import PageReader
from tests.support.rule_series import SeriesRecorder, evaluate
from tests.support.rules import referenced_names

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.promtool]

# Tuesday 2025-11-18 15:00 in New York, 20:00 UTC: a day of calls in both products' zones.
NOW = BUSINESS_HOURS + 3 * 3600
WATERMARK = "eightbyeight_collector_watermark_timestamp_seconds"
DENOMINATORS = ("offered_without_short_abandons", "offered", "answered_and_abandoned")
OBJECTIVES = [
    {"queues": "VIP Line", "threshold_seconds": 5, "target": 0.9},
    {"queues": "Customer Care", "threshold_seconds": 30},
]
# 8x8's percentages have two decimals: a ratio derived from one is exact to this.
CC_TOLERANCE = 0.00005


@dataclass(frozen=True)
class Day:
    """The simulated day so far: the exporter's page, and the simulator kept for the truth."""

    page: str
    sim: Simulator
    wa_day_start: float
    wa_watermark: float
    wa_thresholds: dict[str, float]  # queue name -> seconds (the demo's objectives)
    cc_zone: ZoneInfo


def day_config(sim: Simulator) -> dict[str, Any]:
    data = demo_config_data({}, sim)
    wa, cc = data["work_analytics"], data["contact_center"]
    wa["request_budget_per_minute"] = 1_000_000
    for name in ("company_summary", "ring_groups", "ring_group_members", "extensions"):
        wa[name] = {"enabled": False}
    for name in ("call_records", "agent_activity", "live_calls", "call_queues", "queue_agents"):
        wa[name] = {"enabled": False}
    cc.update(groups={"enabled": False}, agents={"enabled": False}, reports=[])
    # Thresholds that part this day's waits differently from the default 20 s.
    wa["service_levels"] = OBJECTIVES
    return data


@pytest.fixture(scope="module")
def day() -> Iterator[Day]:
    clock = FakeClock(NOW)
    logging = structlog.get_config()
    configure_logging("warn")
    with Simulator(seed=19, host="127.0.0.1", port=0, clock=clock) as sim:
        data = day_config(sim)
        config = load_config_data(data)
        exporter = build_exporter(config, process_metrics=False, clock=clock)
        try:
            for runner in exporter.scheduler.runners:
                assert runner.run_once(), runner.name
            reader = PageReader(exporter.exposition)
            watermark = reader.get_sample_value(WATERMARK, {"collector": "call_legs"})
            assert watermark is not None and NOW - 600 < watermark <= NOW
            levels = config.work_analytics.queue_service_levels
            wa = config.work_analytics
            yield Day(
                page=reader.text(),
                sim=sim,
                wa_day_start=counting_day(
                    watermark, ZoneInfo(wa.time_zone), wa.call_legs.lookback
                ).start,
                wa_watermark=watermark,
                wa_thresholds={
                    q: levels.of(q).threshold_seconds
                    for q in ("VIP Line", "Customer Care", "Sales")
                },
                cc_zone=ZoneInfo(str(config.contact_center.time_zone)),
            )
        finally:
            exporter.close()
            structlog.configure(**logging)


def wa_truth(day: Day, denominator: str) -> dict[tuple[str, str, str], float]:
    """(pbx, queue, extension) -> answered within the queue's threshold / calls counted."""
    answered: Counter[tuple[str, str, str]] = Counter()
    counted: Counter[tuple[str, str, str]] = Counter()
    config = load_config_data(day_config(day.sim)).work_analytics.queue_service_levels
    for leg in day.sim.model.call_legs(day.wa_day_start, math.floor(day.wa_watermark)):
        group = leg.group
        if leg.parent_call_id is not None or group is None or group.kind.value != "queue":
            continue
        queue = (leg.pbx, group.name, group.extension)
        threshold_ms = config.of(group.name, group.extension).threshold_seconds * 1000
        in_time = leg.wait_ms <= threshold_ms
        if denominator == "answered_and_abandoned":
            counted[queue] += leg.outcome in ("answered", "abandoned")
        elif denominator == "offered":
            counted[queue] += 1
        else:
            counted[queue] += not (leg.outcome == "abandoned" and in_time)
        answered[queue] += leg.outcome == "answered" and in_time
    return {q: answered[q] / n for q, n in counted.items() if n}


def cc_truth(day: Day, denominator: str) -> dict[tuple[str, str], float]:
    """(tenant, queue id) -> accepted within the queue's threshold / interactions counted."""
    truth: dict[tuple[str, str], float] = {}
    midnight = datetime.fromtimestamp(NOW, day.cc_zone).replace(hour=0, minute=0, second=0)
    start = midnight.timestamp()
    for tenant in day.sim.cc.tenants:
        model = day.sim.cc.model(tenant)
        with model.lock:
            leaves = list(model.leaves.window(start, NOW, include_end=True))
            thresholds = {q.id: q.sla_threshold_seconds for q in model.tenant.queues}
        answered: Counter[str] = Counter()
        counted: Counter[str] = Counter()
        for leave in leaves:
            outcome = leave.outcome
            accepted = outcome is LeaveOutcome.ACCEPTED
            answered[leave.queue] += accepted and leave.wait_ms <= thresholds[leave.queue] * 1000
            if denominator == "offered":
                counted[leave.queue] += 1
            elif denominator == "answered_and_abandoned":
                counted[leave.queue] += outcome is not LeaveOutcome.DIVERTED
            else:
                counted[leave.queue] += outcome is not LeaveOutcome.SHORT_ABANDONED
        truth |= {(tenant, q): answered[q] / n for q, n in counted.items() if n}
    return truth


def recorded(day: Day, tmp_path: Path, denominator: str) -> list[tuple[dict[str, str], float]]:
    config = MixinConfig.model_validate({"service_level": {"denominator": denominator}})
    names = {
        name
        for group in rule_groups(config)["groups"]
        for rule in group["rules"]
        for name in referenced_names(rule["expr"])
    }
    recorder = SeriesRecorder(frozenset(names), 'instance="exporter:9090",job="eightbyeight"')
    for _ in range(2):
        recorder.add(day.page)
    query = ratio_rule("today")
    return evaluate(tmp_path, render_rules(config), recorder.input_series(), 30, [query])[query]


@pytest.mark.parametrize("denominator", DENOMINATORS)
def test_todays_service_level_is_the_simulators_truth(
    day: Day, tmp_path: Path, denominator: str
) -> None:
    found = recorded(day, tmp_path, denominator)
    wa = {
        (labels["pbx"], labels["queue"], labels["extension"]): value
        for labels, value in found
        if labels["product"] == "work_analytics"
    }
    cc = {
        (labels["tenant"], labels["queue_id"]): value
        for labels, value in found
        if labels["product"] == "contact_center"
    }
    wa_expected, cc_expected = wa_truth(day, denominator), cc_truth(day, denominator)
    # Not vacuous: queues of both products, with different thresholds, and a level below 1.
    assert len(wa_expected) >= 5 and len(cc_expected) >= 4
    assert any(name == "VIP Line" for _, name, _ in wa_expected)
    assert min(wa_expected.values()) < 1 and min(cc_expected.values()) < 1
    assert wa == pytest.approx(wa_expected, abs=1e-12)
    assert cc == pytest.approx(cc_expected, abs=CC_TOLERANCE)


def test_the_queues_have_their_own_thresholds(day: Day) -> None:
    # The truth above judges each queue by its own threshold: with 20 s for every queue, the
    # comparison fails (checked by hand when the test was written).
    assert day.wa_thresholds == {"VIP Line": 5.0, "Customer Care": 30.0, "Sales": 20.0}
