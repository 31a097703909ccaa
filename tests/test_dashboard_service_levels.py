"""The service-level panels evaluated by promtool on known rule series: each queue is coloured
by its side of its own target (not a fixed 0.8), a quiet queue says "too few calls", and the
one table of the wallboard holds both products' queues."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mixin.config import MixinConfig
from mixin.dashboards import build_dashboards, expand
from mixin.service_levels import TARGET_RULE, calls_rule, ratio_rule
from tests.support.processes import binary

pytestmark = pytest.mark.promtool

BUILT = build_dashboards(MixinConfig())
JOB = "eightbyeight"
WA = {"product": "work_analytics", "pbx": "p1", "site": "HQ", "team": "front"}
CC = {"product": "contact_center", "tenant": "t1", "team": "care"}
# queue -> (labels, service level, target or None (unknown: the fallback 0.8), calls)
QUEUES: dict[str, tuple[dict[str, str], float, float | None, int]] = {
    # Above a fixed 0.8, below its own target: must show on the "below" side.
    "Sales": (WA | {"queue": "Sales", "extension": "100", "queue_id": "q1"}, 0.82, 0.85, 20),
    # No target of its own: compared with the fallback, 0.8.
    "Support": (WA | {"queue": "Support", "extension": "101", "queue_id": "q2"}, 0.82, None, 20),
    # Fewer calls than min_calls (5): "too few calls", whatever its ratio.
    "Quiet": (WA | {"queue": "Quiet", "extension": "102", "queue_id": "q3"}, 0.1, 0.85, 2),
    "Care": (CC | {"queue": "Care", "queue_id": "c1"}, 0.9, 0.95, 30),
}


def selector(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def input_series() -> list[dict[str, str]]:
    series = []
    for labels, level, target, calls in QUEUES.values():
        for window in ("15m", "today"):
            series.append({"series": ratio_rule(window) + selector(labels), "values": f"{level}x2"})
            series.append({"series": calls_rule(window) + selector(labels), "values": f"{calls}x2"})
        if target is not None:
            series.append({"series": TARGET_RULE + selector(labels), "values": f"{target}x2"})
        info = {k: v for k, v in labels.items() if k != "product"} | {"job": JOB}
        name = "eightbyeight_queue_info" if "pbx" in labels else "eightbyeight_cc_queue_info"
        series.append({"series": name + selector(info), "values": "1x2"})
    # A queue of another job: the panels must leave it out.
    other = {"job": "other", "pbx": "p2", "site": "X", "queue": "Sales", "extension": "100"}
    series.append({"series": "eightbyeight_queue_info" + selector(other), "values": "1x2"})
    return series


def panel(file: str, title: str) -> dict[str, Any]:
    [found] = [p for p in BUILT[file]["panels"] if p.get("title") == title]
    return found


def shown(queue: str, **extra: str) -> str:
    """The labels a panel keeps for `queue` (those of `service_levels.QUEUE_KEY`)."""
    labels = QUEUES[queue][0]
    kept = {k: v for k, v in labels.items() if k not in ("extension", "queue_id")}
    return selector(kept | extra)


def run(tmp_path: Path, checks: list[tuple[str, list[tuple[str, float]]]]) -> None:
    test = {
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": input_series(),
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": "1m",
                        "exp_samples": [{"labels": lbl, "value": v} for lbl, v in samples],
                    }
                    for expr, samples in checks
                ],
            }
        ],
    }
    path = tmp_path / "service_level_test.yml"
    path.write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [binary("promtool"), "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def query(item: dict[str, Any], ref: str) -> str:
    [target] = [t for t in item["targets"] if t["refId"] == ref]
    return expand(target["expr"], {"job": JOB})


def test_the_wallboard_table_colours_each_queue_by_its_own_target(tmp_path: Path) -> None:
    """The 15m cell is the margin to the queue's target, red below 0: Sales at 0.82 with a
    target of 0.85 is below (-3 points) where a fixed 0.8 would call it fine; Support at 0.82
    with no target of its own is above the fallback 0.8; Quiet has too few calls (-1)."""
    table = panel("eightbyeight-wallboard.json", "Service level")
    wa_link = {"dashboard": "eightbyeight-work-analytics"}
    cc_link = {"dashboard": "eightbyeight-contact-center"}
    # Rounded to whole points: the margins are differences of floats.
    margin = f"round(100 * ({query(table, 'A')}))"
    run(
        tmp_path,
        [
            (
                margin,
                [
                    (shown("Sales", **wa_link), -3),
                    (shown("Support", **wa_link), 2),
                    (shown("Quiet", **wa_link), -100),
                    (shown("Care", **cc_link), -5),
                ],
            ),
            (
                query(table, "D"),  # the targets, the fallback where a queue has none
                [
                    (shown("Sales", **wa_link), 0.85),
                    (shown("Support", **wa_link), 0.8),
                    (shown("Quiet", **wa_link), 0.85),
                    (shown("Care", **cc_link), 0.95),
                ],
            ),
        ],
    )


def test_bars_and_counts_split_the_queues_at_their_own_targets(tmp_path: Path) -> None:
    bars = panel("eightbyeight-work-analytics.json", "Service level today by queue")
    wallboard = "eightbyeight-wallboard.json"
    [wa_below, cc_below] = [
        p["targets"][0]["expr"]
        for p in BUILT[wallboard]["panels"]
        if p.get("title") == "Queues below their target (15m)"
    ]
    run(
        tmp_path,
        [
            (query(bars, "A"), [(shown("Sales"), 0.82)]),  # red: below its target
            (query(bars, "B"), [(shown("Support"), 0.82)]),  # green: at or above
            (query(bars, "C"), [(shown("Quiet"), -1)]),  # too few calls
            (expand(wa_below, {"job": JOB}), [("{}", 1)]),
            (expand(cc_below, {"job": JOB}), [("{}", 1)]),
            # Another job selected: its queues only, none of which has a service level.
            (expand(wa_below, {"job": "nobody"}), [("{}", 0)]),
        ],
    )
