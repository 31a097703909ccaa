"""The service-level recording rules under each denominator of docs/service-levels.md, evaluated
by Debian's promtool: the same calls give the ratios the definition says, for a Work Analytics
and a Contact Center queue, and a reload that changes a queue's threshold reads the other
bucket at once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mixin.config import MixinConfig
from mixin.rules import render_rules
from mixin.service_levels import answered_rule, calls_rule, ratio_rule

pytestmark = pytest.mark.promtool

JOB = 'job="eightbyeight", instance="x:9878"'
WA = f'{JOB}, pbx="acme", group_type="queue", group="Sales", extension="7001"'
WA_RULE = '{product="work_analytics", pbx="acme", site="Berlin", queue="Sales", extension="7001", queue_id="q1", team="sales"}'
CC_RULE = '{product="contact_center", tenant="t1", queue="Care", queue_id="971", team="care"}'

# Per minute, Work Analytics queue legs: 10 answered (8 within the 20 s threshold), 4
# abandoned (1 within it), 1 to voicemail.
WA_SERIES = {
    f'eightbyeight_group_calls_total{{{WA}, outcome="answered"}}': "0+10x40",
    f'eightbyeight_group_calls_total{{{WA}, outcome="abandoned"}}': "0+4x40",
    f'eightbyeight_group_calls_total{{{WA}, outcome="voicemail"}}': "0+1x40",
    f'eightbyeight_group_call_wait_seconds_bucket{{{WA}, outcome="answered", le="20.0"}}': "0+8x40",
    f'eightbyeight_group_call_wait_seconds_bucket{{{WA}, outcome="answered", le="30.0"}}': "0+9x40",
    f'eightbyeight_group_call_wait_seconds_bucket{{{WA}, outcome="abandoned", le="20.0"}}': "0+1x40",
    f'eightbyeight_group_call_wait_seconds_bucket{{{WA}, outcome="abandoned", le="30.0"}}': "0+2x40",
    f'eightbyeight_queue_info{{{JOB}, pbx="acme", site="Berlin", queue="Sales", extension="7001", queue_id="q1", team="sales"}}': "1x40",
    # The threshold is 20 s, then 30 s from minute 25 (a reload of the exporter's config).
    f'eightbyeight_queue_service_level_threshold_seconds{{{JOB}, pbx="acme", queue="Sales", extension="7001", queue_id="q1", wait_bucket_le="20.0"}}': "20x25",
    f'eightbyeight_queue_service_level_threshold_seconds{{{JOB}, pbx="acme", queue="Sales", extension="7001", queue_id="q1", wait_bucket_le="30.0"}}': "_x25 30x15",
}
# Contact Center, the last 15 minutes: 8x8 says 80 %, of 40 accepted, 6 abandoned after the
# short-abandon threshold, 4 short abandons and 4 diverted: 0.8 x (40 + 6 + 4) = 40 in time.
CC = f'{JOB}, tenant="t1", queue_id="971", queue="Care", period="int-15m"'
CC_SERIES = {
    f"eightbyeight_cc_queue_service_level_ratio{{{CC}}}": "0.8x40",
    f"eightbyeight_cc_queue_accepted_interactions{{{CC}}}": "40x40",
    f"eightbyeight_cc_queue_abandoned_interactions{{{CC}}}": "6x40",
    f"eightbyeight_cc_queue_total_abandoned_interactions{{{CC}}}": "10x40",
    f"eightbyeight_cc_queue_diverted_interactions{{{CC}}}": "4x40",
    f'eightbyeight_cc_queue_service_level_ratio{{{JOB}, tenant="t1", queue_id="971", queue="Care", period="int-1h"}}': "0.75x40",
    f'eightbyeight_cc_queue_info{{{JOB}, tenant="t1", queue_id="971", queue="Care", team="care"}}': "1x40",
}

# denominator -> (Work Analytics 15m ratio at minute 20, Contact Center 15m ratio).
EXPECTED = {
    "offered": (8 / 15, 40 / (40 + 10 + 4)),
    # 8x8's own: the Contact Center figure is 8x8's.
    "offered_without_short_abandons": (8 / (15 - 1), 0.8),
    "answered_and_abandoned": (8 / 14, 40 / (40 + 10)),
}


def run_promtool(tmp_path: Path, config: MixinConfig, tests: list[dict[str, Any]]) -> str:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/test.sh installs Debian's prometheus package"
    (tmp_path / "rules.yml").write_text(render_rules(config), encoding="utf-8")
    series = [{"series": k, "values": v} for k, v in (WA_SERIES | CC_SERIES).items()]
    unit = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(unit, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [binary, "test", "rules", "test.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    return result.stdout + result.stderr if result.returncode else ""


def sample(rule: str, labels: str, value: float) -> dict[str, Any]:
    return {"labels": f"{rule}{labels}", "value": value}


@pytest.mark.parametrize("denominator", sorted(EXPECTED))
def test_each_denominator_gives_the_documented_ratio(tmp_path: Path, denominator: str) -> None:
    wa, cc = EXPECTED[denominator]
    config = MixinConfig.model_validate({"service_level": {"denominator": denominator}})
    tests = [
        {
            "expr": ratio_rule("15m"),
            "eval_time": "20m",
            "exp_samples": [
                sample(ratio_rule("15m"), WA_RULE, wa),
                sample(ratio_rule("15m"), CC_RULE, cc),
            ],
        },
        # The Contact Center 1h figure is 8x8's own: only with 8x8's denominator.
        {
            "expr": ratio_rule("1h"),
            "eval_time": "20m",
            "exp_samples": [sample(ratio_rule("1h"), WA_RULE, wa)]
            + (
                [sample(ratio_rule("1h"), CC_RULE, 0.75)]
                if denominator == "offered_without_short_abandons"
                else []
            ),
        },
        # Today's counters are the day so far: at minute 20, twenty minutes of calls.
        {
            "expr": ratio_rule("today"),
            "eval_time": "20m",
            "exp_samples": [sample(ratio_rule("today"), WA_RULE, wa)],
        },
    ]
    assert run_promtool(tmp_path, config, tests) == ""


def test_the_check_fails_on_a_wrong_ratio(tmp_path: Path) -> None:
    # The harness reports a wrong expectation: the test above can fail.
    tests = [
        {
            "expr": ratio_rule("15m"),
            "eval_time": "20m",
            "exp_samples": [sample(ratio_rule("15m"), WA_RULE, 0.9)],
        }
    ]
    assert "FAILED" in run_promtool(tmp_path, MixinConfig(), tests)


def test_a_new_threshold_reads_its_own_bucket_at_once(tmp_path: Path) -> None:
    # From minute 25 the threshold is 30 s: 9 of the 15 calls a minute were answered within
    # it, and 2 abandoned within it are no longer counted (the default denominator), over the
    # whole window: the buckets have counted from the start of the day.
    tests = [
        {
            "expr": answered_rule("15m") + '{product="work_analytics"}',
            "eval_time": "35m",
            "exp_samples": [sample(answered_rule("15m"), WA_RULE, 9 * 15)],
        },
        {
            "expr": calls_rule("15m") + '{product="work_analytics"}',
            "eval_time": "35m",
            "exp_samples": [sample(calls_rule("15m"), WA_RULE, 13 * 15)],
        },
    ]
    assert run_promtool(tmp_path, MixinConfig(), tests) == ""
