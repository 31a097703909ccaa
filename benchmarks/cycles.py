"""The collection cycles of one size in the exporter under test: the first (it reads the whole
day, not counted), then the measured ones, each paired with `json.loads` of its own answers."""

from __future__ import annotations

import json
import statistics
import urllib.request
from dataclasses import dataclass
from typing import Any

from benchmarks.children import Child, ChildFailed

# Bounds of the waits, in seconds: generous (a 500k account is slow), never unbounded.
CYCLE_TIMEOUT = 900.0
COMMAND_TIMEOUT = 300.0


def simulator_log(announcement: dict[str, Any], clear: bool = False) -> list[dict[str, Any]]:
    """The simulator's request log (/_sim/requests), emptied afterwards with `clear`."""
    url = announcement["root_url"] + "/_sim/requests"
    with urllib.request.urlopen(url, timeout=COMMAND_TIMEOUT) as answer:
        log: list[dict[str, Any]] = json.load(answer)
    if clear:
        request = urllib.request.Request(url, method="DELETE")
        urllib.request.urlopen(request, timeout=COMMAND_TIMEOUT).close()
    return log


def run_cycle(exp: Child, command: str) -> dict[str, Any]:
    """One `cycle` command's answer; a collector that failed would leave its series off the
    page and its requests out of the counts, so every figure after it would be of a partial
    page: the size fails instead, naming the collectors."""
    answer = exp.ask(command, CYCLE_TIMEOUT)
    if not answer["ok"] or answer["failed"]:
        raise ChildFailed(
            f"{exp.name}: {command}: collectors failed: "
            f"{', '.join(answer['failed']) or '(none named)'}"
        )
    return answer


@dataclass
class CyclePairs:
    """Measured cycles, each followed by `json.loads` over the answers it decoded (the mean of
    a few passes in a row): the two sides see the same moments of a shared machine, and take
    the same statistic (CPU averaged over its span; the median over the pairs)."""

    cycles: list[dict[str, Any]]
    passes: list[dict[str, Any]]
    first_log: list[dict[str, Any]]
    # VmRSS after the first two cycles, before any json.loads pass (which gives its garbage
    # back with malloc_trim, and would give back the exporter's with it).
    rss_after_two: int = 0

    def ratios(self) -> list[float]:
        return [
            c["cpu_seconds"] / p["cpu_seconds"]
            for c, p in zip(self.cycles, self.passes, strict=True)
        ]

    def as_dict(self) -> dict[str, Any]:
        cycle_cpu = [c["cpu_seconds"] for c in self.cycles]
        json_cpu = [p["cpu_seconds"] for p in self.passes]
        return {
            "pairs": len(self.cycles),
            "cycle_seconds": cycle_cpu,
            "json_seconds": json_cpu,
            "ratios": self.ratios(),
            "median_ratio": statistics.median(self.ratios()),
            "median_cycle_seconds": statistics.median(cycle_cpu),
            "median_json_seconds": statistics.median(json_cpu),
            "median_wall_seconds": statistics.median(c["wall_seconds"] for c in self.cycles),
            "json_passes": len(self.passes[0]["passes"]),
            "answers": self.passes[0]["answers"],
            "answer_bytes": self.passes[0]["answer_bytes"],
        }


def measured_cycles(exp: Child, sim: dict[str, Any], count: int) -> CyclePairs:
    """`count` cycles after the first (which reads the whole day, once), each right after its
    tokens' renewal and followed by `json.loads` of its own answers; the simulator's request
    log of the first of them is kept for the repeated-request check, the others are cleared
    (the log would grow)."""
    pairs = CyclePairs([], [], [])
    for index in range(count):
        pairs.cycles.append(run_cycle(exp, "cycle capture"))
        log = simulator_log(sim, clear=True)
        if index == 0:
            pairs.first_log = log
            pairs.rss_after_two = exp.ask("rss", COMMAND_TIMEOUT)["rss_bytes"]
        pairs.passes.append(exp.ask("json", CYCLE_TIMEOUT))
    return pairs
