"""Expositions taken over simulated time as `promtool test rules` input, and what promtool
answered: the rules evaluated by Prometheus's own engine, with its `for:` and
`keep_firing_for`, over hours that a real Prometheus would need hours of wall time for."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A failed promql_expr_test in promtool's report: the expression, then its results, one a
# `got:` line, `{labels} value, {labels} value` (promtool 2.42 prints values in Go's %E form).
FAILED_EXPR = re.compile(r'^\s+expr: "((?:[^"\\]|\\.)*)", time: ')
GOT_SAMPLE = re.compile(r'\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\} ([^,\s]+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass
class SeriesRecorder:
    """The samples of the chosen metric names, one exposition a step, as a scrape of `job`
    and `instance` would store them (a series that vanishes gets a staleness marker)."""

    names: frozenset[str]
    target: str
    steps: int = 0
    values: dict[str, list[str]] = field(default_factory=dict)

    def add(self, exposition: str, extra: Iterable[str] = ()) -> None:
        for line in [*exposition.splitlines(), *extra]:
            if not line or line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            name, brace, labels = series.partition("{")
            if name not in self.names:
                continue
            inner = labels[:-1] if brace else ""
            key = f"{name}{{{','.join(filter(None, [inner, self.target]))}}}"
            column = self.values.setdefault(key, ["_"] * self.steps)
            column.append(promtool_number(value))
        self.steps += 1
        for column in self.values.values():
            if len(column) < self.steps:
                column.append("stale" if column and column[-1] not in ("_", "stale") else "_")

    def input_series(self) -> list[dict[str, str]]:
        return [{"series": k, "values": run_lengths(v)} for k, v in sorted(self.values.items())]


def promtool_number(text: str) -> str:
    value = float(text)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return repr(value)


def run_lengths(values: list[str]) -> str:
    """promtool's expanding notation: `v+0xN` is v N+1 times, `_xN` N missing samples."""
    out: list[str] = []
    index = 0
    while index < len(values):
        value, end = values[index], index + 1
        while end < len(values) and values[end] == value:
            end += 1
        count = end - index
        if count == 1 or value == "stale":
            out.extend([value] * count)
        elif value == "_":
            out.append(f"_x{count}")
        else:
            out.append(f"{value}+0x{count - 1}")
        index = end
    return " ".join(out)


Results = dict[str, list[tuple[dict[str, str], float]]]


def evaluate(
    directory: Path,
    rules: str,
    series: list[dict[str, str]],
    interval_seconds: float,
    queries: list[str],
) -> Results:
    """Each query's result at the end of the series, as promtool evaluated it with `rules`
    loaded: every query is expected to be empty, so promtool reports each one that is not,
    with its samples. A query of `vector(1)` is added and must come back: it shows the report
    was read (an empty answer is then an empty result, not a report that did not parse)."""
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/test.sh installs Debian's prometheus package"
    steps = max(len(s["values"].split()) for s in series) if series else 1
    (directory / "rules.yml").write_text(rules, encoding="utf-8")
    interval = f"{interval_seconds:g}s"
    sentinel = "vector(1)"
    tests: dict[str, Any] = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": interval,
        "tests": [
            {
                "interval": interval,
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": q,
                        "eval_time": f"{(steps - 1) * interval_seconds:g}s",
                        "exp_samples": [],
                    }
                    for q in [*queries, sentinel]
                ],
            }
        ],
    }
    (directory / "evening_test.yml").write_text(yaml.safe_dump(tests), encoding="utf-8")
    done = subprocess.run(
        [binary, "test", "rules", "evening_test.yml"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=directory,
    )
    results = parse_report(done.stdout + done.stderr)
    assert sentinel in results, f"promtool's report did not parse:\n{done.stdout}{done.stderr}"
    del results[sentinel]
    return results


def parse_report(report: str) -> Results:
    results: Results = {}
    current: list[tuple[dict[str, str], float]] | None = None
    for line in report.splitlines():
        expr = FAILED_EXPR.match(line)
        if expr:
            current = results.setdefault(expr.group(1).replace('\\"', '"'), [])
            continue
        if current is not None and line.strip().startswith("got: "):
            for inner, value in GOT_SAMPLE.findall(line):
                labels = {k: v.replace('\\"', '"') for k, v in LABEL.findall(inner)}
                current.append((labels, float(value)))
    return results
