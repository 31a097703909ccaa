"""`python3 -m benchmarks.cycle_phases [--size 100k]`: where one collection
cycle's CPU goes, as ratios to `json.loads` of the same answers in the same process.

A simulator account of the size (its own process), the exporter built in this process from the
harness's configuration (benchmarks/account.py) with tokens that outlive the run (a renewal
recompiles the redaction pattern: a cost of every 30 minutes in production, not of a cycle).
After a warm-up cycle, one cycle is timed whole (`time.process_time()`) with the phases timed
inside it: the HTTP client (`HttpClient.request`, less its JSON decoding), JSON decoding,
compression (`deflate_segment`, after a gzip scrape); formatting is the sample lines written by the run's families,
replayed alone afterwards; parsing and labelling is the rest. `--pairs N` then runs N more
cycles, each paired with `json.loads` of its own answers, and prints the median ratio: the way
to compare two trees (run them one after the other, a few times each). The daemon's memory is
benchmarks/daemon_rss.py's.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import exporter.api.http
import exporter.api.json_answers
import exporter.serving.segments as segments
from benchmarks.account import account_for, exporter_config, parse_size
from benchmarks.children import Child
from benchmarks.sampling_profile import SamplingProfile
from exporter.app import build_exporter
from exporter.cli import check_reports_or_fail
from exporter.config import load_config_data
from exporter.core.garbage import tune_garbage_collection
from exporter.core.logs import configure_logging
from exporter.core.memory import limit_malloc_arenas
from exporter.metrics.rendering import (
    HistogramFamily,
    LabelCache,
    TextFamily,
    ValueFamily,
    deflate_segment,
)

LONG_TOKEN_TTL = "3600"


class PhaseClock:
    """CPU seconds per phase, from wrappers around the functions that make each phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"client": 0.0, "json": 0.0, "compression": 0.0}
        self.bodies: list[bytes] = []
        self.on = False

    def timed(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return function(*args, **kwargs)
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase] += time.process_time() - started

        return wrapper


class TimedJson:
    """Stands in for the `json` module of exporter/api/json_answers.py: `loads` timed, the rest
    as is."""

    def __init__(self, loads: Callable[..., Any]) -> None:
        self.loads = loads

    def __getattr__(self, name: str) -> Any:
        return getattr(json, name)


class RecordedLines:
    """Every series a run's families were given (`add_metric` of the value families and the
    histograms, where the sample lines are written), to write them again alone."""

    def __init__(self) -> None:
        self.calls: list[tuple[TextFamily, Callable[..., None], tuple[Any, ...]]] = []
        self.real: dict[type[TextFamily], Callable[..., None]] = {
            kind: kind.add_metric for kind in (ValueFamily, HistogramFamily)
        }

    def recording(self, kind: type[TextFamily]) -> Callable[..., None]:
        real = self.real[kind]

        def record(family: TextFamily, labels: Any, *args: Any) -> None:
            self.calls.append((family, real, (tuple(labels), *args)))
            real(family, labels, *args)

        return record

    def replay_seconds(self) -> float:
        """Into fresh families (one shared label cache, as a run's FamilySet has)."""
        cache: LabelCache = {}
        made = [
            (f, type(f)(f.name, f.documentation, labels=f._label_names, label_cache=cache))
            for f in {id(c[0]): c[0] for c in self.calls}.values()
        ]
        fresh = {id(old): new for old, new in made}
        started = time.process_time()
        for family, add_metric, args in self.calls:
            add_metric(fresh[id(family)], *args)
        return time.process_time() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="CPython's garbage collector as it starts, not tuned as exporter/cli.py tunes it",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="CYCLES",
        help="after the measurement, this many more cycles under a CPU sampling profile",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        metavar="CYCLES",
        help="after the measurement, this many more cycles, each paired with json.loads of its "
        "own answers (best of 3 passes): the median and range of their ratios, for comparing "
        "two trees on a machine whose speed varies",
    )
    parser.add_argument(
        "--as-harness",
        action="store_true",
        help="as benchmarks/exporter_process.py runs its cycle: the simulator's short tokens, "
        "logging at info, the worker threads of the ring group members and the live calls",
    )
    options = parser.parse_args(argv)
    configure_logging("info" if options.as_harness else "warn", "json")
    account = account_for(parse_size(options.size))
    args = account.simulator_args()
    for flag in () if options.as_harness else ("--token-ttl", "--cc-token-ttl"):
        args[args.index(flag) + 1] = LONG_TOKEN_TTL
    phases = PhaseClock()
    http = exporter.api.http
    real_loads = json.loads

    def loads(content: Any, **kwargs: Any) -> Any:
        if phases.on:
            phases.bodies.append(content.encode() if isinstance(content, str) else bytes(content))
        return real_loads(content, **kwargs)

    vars(exporter.api.json_answers)["json"] = TimedJson(phases.timed("json", loads))
    patch(http.HttpClient, "request", phases.timed("client", http.HttpClient.request))
    # Compression is the data part's segments, deflated in the poller's thread once a gzip
    # answer has been asked for (a scrape before the measured cycle asks for one).
    vars(segments)["deflate_segment"] = phases.timed("compression", deflate_segment)
    with tempfile.TemporaryDirectory() as work, simulator_with(args, Path(work)) as sim:
        config = exporter_config(sim)
        # Phases are timed with the process's CPU clock: requests running in threads at once
        # would be counted once per thread. One at a time costs the same CPU.
        for one_at_a_time in () if options.as_harness else ("ring_group_members", "live_calls"):
            config["work_analytics"].setdefault(one_at_a_time, {})["concurrency"] = 1
        limit_malloc_arenas()  # as exporter/cli.py does, before any thread
        exp = build_exporter(load_config_data(config))
        check_reports_or_fail(exp, strict=False)
        if not options.default_gc:
            tune_garbage_collection()  # as exporter/cli.py does
        assert exp.scheduler.run_once(), "the warm-up cycle failed"
        exp.exposition.answer(openmetrics=False, gzip=True)  # as Prometheus asks, gzip
        gc.collect()
        phases.on = True
        started = time.process_time()
        assert exp.scheduler.run_once(), "the measured cycle failed"
        cycle = time.process_time() - started
        phases.on = False
        lines = RecordedLines()
        for kind in lines.real:
            patch(kind, "add_metric", lines.recording(kind))
        exp.scheduler.run_once()
        for kind, real in lines.real.items():
            patch(kind, "add_metric", real)
        formatting = lines.replay_seconds()
        lines.calls.clear()
        decoding = min(decoding_seconds(phases.bodies) for _ in range(3))
        report(options.size, cycle, decoding, phases, formatting)
        if options.pairs:
            paired_cycles(exp.scheduler.run_once, phases, options.pairs)
        if options.profile:
            profile_cycles(exp.scheduler.run_once, options.profile)
        exp.scheduler.stop()
    return 0


def paired_cycles(run_once: Callable[[], bool], phases: PhaseClock, count: int) -> None:
    """Cycles each paired with `json.loads` of their own answers, right after: a machine that
    slows down or speeds up moves both sides of a pair alike."""
    ratios, cycles, passes = [], [], []
    for _ in range(count):
        phases.bodies.clear()
        phases.on = True
        started = time.process_time()
        assert run_once(), "a paired cycle failed"
        cycle = time.process_time() - started
        phases.on = False
        best = min(decoding_seconds(phases.bodies) for _ in range(3))
        ratios.append(cycle / best)
        cycles.append(cycle)
        passes.append(best)
    print(
        f"{count} paired cycles: cycle ÷ json.loads median {statistics.median(ratios):.1f}x "
        f"({min(ratios):.1f}-{max(ratios):.1f}); cycle {statistics.median(cycles) * 1000:.0f} ms, "
        f"json.loads {statistics.median(passes) * 1000:.1f} ms (medians); the last: "
        f"{len(phases.bodies)} answers, {sum(map(len, phases.bodies))} bytes"
    )


def decoding_seconds(bodies: list[bytes]) -> float:
    started = time.process_time()
    for body in bodies:
        json.loads(body)
    return time.process_time() - started


def profile_cycles(run_once: Callable[[], bool], cycles: int) -> None:
    """More cycles under a CPU sampling profile (its own and inclusive shares to stderr): the
    kernel's timer ticks every few ms, a cycle at 100k gives a few hundred samples."""
    profile = SamplingProfile()
    for _ in range(cycles):
        profile.run(run_once)
    profile.print(top=70)


def patch(owner: type, name: str, value: Any) -> None:
    """A method replaced for this process's measurement."""
    setattr(owner, name, value)


@contextmanager
def simulator_with(args: list[str], work_dir: Path) -> Iterator[dict[str, Any]]:
    """benchmarks.children.simulator with the arguments given (the tokens' lifetimes)."""
    base = ["--host", "127.0.0.1", "--port", "0", "--seed", "42"]
    with Child("simulator", "simulator", [*base, *args], work_dir) as child:
        announcement = child.read(600.0)
        root = announcement["base_url"].rsplit("/analytics/work", 1)[0]
        yield {**announcement, "pid": child.pid, "root_url": root}


def report(size: str, cycle: float, decoding: float, phases: PhaseClock, formatting: float) -> None:
    client = phases.seconds["client"] - phases.seconds["json"]  # decoding is inside request
    shares = {
        "client (HTTP, less JSON)": client,
        "JSON decoding (in the cycle)": phases.seconds["json"],
        "formatting sample lines (replayed)": formatting,
        "compression (deflate_segment)": phases.seconds["compression"],
    }
    shares["parsing, labelling and the rest"] = cycle - sum(shares.values())
    print(f"size {size}: {len(phases.bodies)} answers, {sum(map(len, phases.bodies))} bytes")
    print(
        f"cycle CPU / json.loads of the same answers: {cycle / decoding:.1f}x "
        f"({cycle * 1000:.0f} ms / {decoding * 1000:.1f} ms)"
    )
    print("| phase | share of cycle CPU | x json.loads |")
    print("|---|---|---|")
    for phase, seconds in shares.items():
        print(f"| {phase} | {seconds / cycle:.0%} | {seconds / decoding:.1f}x |")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
