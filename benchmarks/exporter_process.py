"""The exporter under test, in a process of its own, built from the pieces `exporter/cli.py`
uses (`load_config_data`, `build_exporter`, the report check, `LiveExporter`,
`ExporterServer`; no signal handling, reload or web config), serving /metrics on loopback, and
driven by commands on stdin (one JSON answer line each on stdout):

    cycle           every collector once (`scheduler.run_once()`), its tokens renewed just
                    before (see `TokenLog.renew`): whether all succeeded and which failed, CPU
                    and wall time, API requests by endpoint, and what the request formula
                    needs to know
    cycle capture   the same, writing the raw API answers to a file for `json` (the CPU of
                    writing them is the harness's: told apart and not counted as the cycle's)
    json            CPU of `json.loads` over the answers of the captured cycle: the mean of
                    JSON_PASSES passes (the harness pairs it with that cycle)
    rss             resident memory after `gc.collect()`
    start / stop    the schedule (`scheduler.start()`) on and off; `stop` tells the token
                    requests of the run and the collectors' runs so far
    tokens          every token request so far (API, seconds since start-up, lifetime)

    python3 -m benchmarks.exporter_process CONFIG_JSON WORK_DIR  ->  {"port": N}
"""

from __future__ import annotations

import gc
import json
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import exporter.api.json_answers
from benchmarks.children import announce
from exporter.api.tokens import TokenCache
from exporter.app import Exporter, build_exporter
from exporter.cli import check_reports_or_fail
from exporter.config import Config, load_config_data
from exporter.core.garbage import tune_garbage_collection
from exporter.core.logs import configure_logging
from exporter.core.memory import limit_malloc_arenas, release_free_memory
from exporter.pollers.call_legs import CallLegPoller
from exporter.pollers.call_records import CallRecordPoller
from exporter.pollers.discovery import DiscoveryPoller
from exporter.pollers.live_calls import LiveCallPoller
from exporter.pollers.summaries import RingGroupPoller
from exporter.reload import LiveExporter
from exporter.serving.server import ExporterServer


class RecordingJson:
    """Stands in for the `json` module of exporter/api/json_answers.py, which decodes every API
    answer with `json.loads(content)` (`content`: the body's bytes): while `out` is a file,
    appends each body to it as it comes, after its length.

    Written, not kept: bodies held until the cycle ends would sit in the heap when the memory
    after the cycles is read, and giving them back (`malloc_trim`) would give back the
    exporter's own garbage too, which production does only after large runs
    (`TRIM_AFTER_BYTES`). A lock: `run_once` runs the collectors one after another, but the
    ring group members and the live calls decode in worker threads of their own, and two
    answers' length and bytes must not interleave."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real
        self.out: IO[bytes] | None = None
        self._lock = threading.Lock()
        # CPU of the writing so far, in whichever thread decoded: the harness's, not the
        # exporter's (about 10 ms of a 100k cycle's answers).
        self.cpu_seconds = 0.0

    def loads(self, content: Any, **kwargs: Any) -> Any:
        if self.out is not None:
            started = time.thread_time()
            # The client decodes the body to text first (to free its bytes early).
            data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
            with self._lock:
                self.out.write(struct.pack("<Q", len(data)))
                self.out.write(data)
                self.cpu_seconds += time.thread_time() - started
        return self._real.loads(content, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


RECORDER = RecordingJson(json)
# In this process only: the exporter under test decodes through the recorder (the module
# attribute `json` is replaced in place; the module does not export it).
vars(exporter.api.json_answers)["json"] = RECORDER
STARTED = time.monotonic()
# Passes of `json.loads` per captured cycle, their CPU averaged. One pass (40 ms at 100k) on
# this shared 2-core machine read 35 to 72 ms for the same bodies, a spike of the machine
# covering the whole of it, where a cycle of seconds averages its spikes: five passes in a row
# (200 ms) average theirs too, and the mean (not the best or the median) keeps them in, as
# the cycle's CPU does.
JSON_PASSES = 5


def rss_bytes() -> int:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def request_counts(exp: Exporter) -> dict[str, float]:
    """`eightbyeight_api_requests_total` by "api endpoint", read from the counter itself (the
    same numbers /metrics shows) so that no page is rendered for it."""
    counts: dict[str, float] = {}
    for family in exp.clients[0].stats.collect():
        for sample in family.samples:
            if sample.name == "eightbyeight_api_requests_total":
                key = f"{sample.labels['api']} {sample.labels['endpoint']}"
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


def difference(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    return {
        k: int(v - before.get(k, 0.0))
        for k, v in sorted(after.items())
        if v - before.get(k, 0.0) > 0
    }


def collectors(exp: Exporter, cls: type) -> list[Any]:
    return [r.poller for r in exp.scheduler.runners if isinstance(r.poller, cls)]


def records_read(exp: Exporter) -> dict[str, int]:
    return {
        c.name: c.records_read
        for cls in (CallRecordPoller, CallLegPoller)
        for c in collectors(exp, cls)
    }


def recent_calls(exp: Exporter) -> list[int]:
    """Per PBX, the calls within max_call_age the live calls poller paged through."""
    return [n for c in collectors(exp, LiveCallPoller) for n in c.recent_calls.values()]


def ring_groups(exp: Exporter) -> int:
    """G of the request formula: the ring groups as the exporter saw them."""
    found = collectors(exp, RingGroupPoller)
    return len(found[0].groups) if found else 0


class TokenLog:
    """Wraps the token caches' fetch functions to time every token request."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float, float]] = []  # (api, monotonic, lifetime)
        self._caches: list[tuple[TokenCache, Callable[[], tuple[str, float]]]] = []

    def watch(self, cache: TokenCache, api: str) -> None:
        fetch: Callable[[], tuple[str, float]] = cache._fetch

        def recording() -> tuple[str, float]:
            token, lifetime = fetch()
            self.events.append((api, time.monotonic(), lifetime))
            return token, lifetime

        cache._fetch = recording
        self._caches.append((cache, fetch))

    def renew(self) -> None:
        """Every watched token renewed now, not recorded (the schedule's renewals are what
        `tokens` and `stop` tell). The simulator's tokens live 10 s so that the schedule
        phase sees renewals; a cycle of a few seconds would then renew one or two, each
        recompiling the secret redactor's pattern (15 to 57 ms measured at 100k), where a
        real token of 30 minutes renews once in a hundred cycles or more. Renewed before
        the cycle, a token renews inside it only when the cycle outlasts its renewal point
        (at 500k), as a real one would once in a while."""
        for cache, fetch in self._caches:
            recording = cache._fetch
            cache._fetch = fetch
            try:
                cache.invalidate()
                cache.get()
            finally:
                cache._fetch = recording

    def since(self, start: float) -> list[list[Any]]:
        return [[api, round(t - start, 3), life] for api, t, life in self.events if t >= start]


class Driven:
    """The exporter and its server, and the state the commands share."""

    def __init__(self, config_file: Path, work_dir: Path) -> None:
        configure_logging("info", "json")  # the command line's defaults
        limit_malloc_arenas()  # as exporter/cli.py does, before any thread

        def load() -> Config:
            return load_config_data(json.loads(config_file.read_text()))

        self.exp = build_exporter(load(), process_metrics=True)
        self.tokens = TokenLog()
        for collector in collectors(self.exp, DiscoveryPoller):
            self.tokens.watch(collector.client.tokens, "work_analytics")
        if self.exp.contact_center is not None:
            self.tokens.watch(self.exp.contact_center.tokens, "contact_center")
        problems = check_reports_or_fail(self.exp, strict=False)  # as cli.py, before serving
        if problems:
            raise RuntimeError("; ".join(problems))
        tune_garbage_collection()  # as cli.py, once the exporter is built and checked
        # As cli.py serves it: the server reads the exporter through the LiveExporter on every
        # request (and its registry carries the reload state). No reload is ever asked here.
        self.live = LiveExporter(
            self.exp,
            load=load,
            build=lambda new, running: build_exporter(new, previous=running),
            check=lambda candidate: check_reports_or_fail(candidate, strict=False),
        )
        self.server = ExporterServer(self.live, "127.0.0.1:0")
        self.server.start()
        self.bodies_file = work_dir / "api-answers.bin"
        self.schedule_started: float | None = None

    def cycle(self, capture: bool) -> dict[str, Any]:
        self.tokens.renew()
        before, read_before = request_counts(self.exp), records_read(self.exp)
        out = open(self.bodies_file, "wb") if capture else None
        RECORDER.out = out
        recorded = RECORDER.cpu_seconds
        try:
            wall, cpu = time.monotonic(), time.process_time()
            ok = self.exp.scheduler.run_once()
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        finally:
            RECORDER.out = None
            if out is not None:
                out.close()
        recording = RECORDER.cpu_seconds - recorded
        read_after = records_read(self.exp)
        return {
            "ok": ok,
            # The process's CPU (every thread's) less the harness's writing of the answers.
            "cpu_seconds": cpu - recording,
            "recording_cpu_seconds": recording,
            "wall_seconds": wall,
            "requests": difference(request_counts(self.exp), before),
            "records_read": {k: v - read_before.get(k, 0) for k, v in read_after.items()},
            "failed": [r.name for r in self.exp.scheduler.runners if not r.state.success],
            "ring_groups": ring_groups(self.exp),
            "recent_calls": recent_calls(self.exp),
        }

    def json_cpu(self) -> dict[str, Any]:
        data = self.bodies_file.read_bytes()
        bodies, at = [], 0
        while at < len(data):
            (size,) = struct.unpack_from("<Q", data, at)
            bodies.append(data[at + 8 : at + 8 + size])
            at += 8 + size
        del data
        passes = []
        for _ in range(JSON_PASSES):
            cpu = time.process_time()
            for body in bodies:
                json.loads(body)
            passes.append(time.process_time() - cpu)
        answers, answer_bytes = len(bodies), sum(len(b) for b in bodies)
        # The decoded answers are the harness's garbage, not the exporter's: give their pages
        # back, or "after the scrapes" would show the baseline's peak (180 MB at 500k).
        del bodies
        gc.collect()
        release_free_memory()
        return {
            "cpu_seconds": sum(passes) / len(passes),
            "passes": passes,
            "answers": answers,
            "answer_bytes": answer_bytes,
        }

    def start(self) -> dict[str, Any]:
        runs = {r.name: r.state.runs for r in self.exp.scheduler.runners}
        self.schedule_started = time.monotonic()
        self.exp.scheduler.start()
        return {
            "runs": runs,
            "intervals": {r.name: r.poller.interval for r in self.exp.scheduler.runners},
        }

    def stop(self) -> dict[str, Any]:
        started = self.schedule_started or time.monotonic()
        stopped = time.monotonic()
        self.exp.scheduler.stop()
        return {
            "seconds": stopped - started,
            "tokens": self.tokens.since(started),
            "runs": {r.name: r.state.runs for r in self.exp.scheduler.runners},
        }

    def answer(self, command: str) -> dict[str, Any]:
        if command in ("cycle", "cycle capture"):
            return self.cycle(capture=command == "cycle capture")
        if command == "json":
            return self.json_cpu()
        if command == "rss":
            return {"rss_bytes": rss_bytes()}
        if command == "start":
            return self.start()
        if command == "stop":
            return self.stop()
        if command == "tokens":
            return {"tokens": self.tokens.since(STARTED)}
        return {"error": f"unknown command {command!r}"}

    def close(self) -> None:
        self.exp.scheduler.stop()
        self.server.stop()
        self.live.close()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up on Ctrl-C
    driven = Driven(Path(argv[0]), Path(argv[1]))
    try:
        announce({"port": driven.server.port})
        for line in sys.stdin:  # ends when the parent closes our stdin (or dies)
            command = line.strip()
            try:
                announce(driven.answer(command))
            except Exception as exc:  # an answer, not a dead child: the parent decides
                announce({"error": f"{command}: {type(exc).__name__}: {exc}"})
    finally:
        driven.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
