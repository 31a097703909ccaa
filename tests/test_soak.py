"""A bounded soak: thousands of collector runs on a simulated clock under random faults.

Why: the fault matrix shows that each fault is survived once. A long-running exporter must also
not accumulate anything across thousands of runs and faults: no thread left behind by a timed-out
or refused connection, no memory kept per request, run or fault, and no fault that stops the
page from rendering. The runs are scheduled as the exporter's own loop schedules them (every
collector at its interval, sooner after a failure) on a FakeClock, so 3000 runs cover about three
simulated hours in well under a minute of real time.
"""

from __future__ import annotations

import heapq
import os
import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
import requests

from exporter.pollers.base import FAILURE_RETRY_SECONDS, PollerRunner
from simulator import Simulator
from simulator.faults import FaultRule
from tests.support.clock import FakeClock
from tests.support.fault_matrix import FAULTS, START, TARGETS, TIMEOUT_DELAY, serving_matrix
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CALLS = 3000  # runner.run_once() calls, all collectors together
WARM_UP = 300  # calls before the start figures are taken
SWITCH_EVERY = 50  # calls under one fault before another is drawn
PAGE_EVERY = 10  # calls between two GET /metrics
MEMORY_GROWTH_LIMIT = 20 * 1024 * 1024  # bytes of RSS growth allowed after the warm-up

# Kinds that cost real seconds fault one request only (times=1), so the soak stays short:
# the retry gets the real answer.
SLOW_KINDS: dict[str, dict[str, Any]] = {
    "timeout": {"delay": TIMEOUT_DELAY},
    "http_429_retry_after": dict(FAULTS["http_429_retry_after"].options),
    # At most ~3 s for the largest answer here (call legs, ~60 KB).
    "trickle": {"trickle_bytes_per_second": 20_000},
}
KINDS = (
    [name for name in FAULTS if name not in SLOW_KINDS]
    + list(SLOW_KINDS)
    + ["expired_token", "none"]
)


def rss_bytes() -> int:
    """Resident set size of this process (Linux): cheap enough to take at any time, unlike
    tracemalloc, which slows every allocation of a run several times over."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class FaultDraw:
    """Draws a (kind, endpoint) at random, seeded, and applies it to the simulator. Kinds come
    in shuffled rounds, so every kind is tried equally often; endpoints are drawn freely.
    `hit` counts, by kind, the requests its faults answered, by the simulator's own counters:
    a kind drawn only for endpoints no collector asked for meanwhile soaked nothing."""

    def __init__(self, sim: Simulator, seed: int) -> None:
        self.sim = sim
        self.rng = random.Random(seed)
        self.tried: Counter[str] = Counter()
        self.hit: Counter[str] = Counter()
        self._round: list[str] = []
        self._kind = "none"
        self._rule: FaultRule | None = None
        self._tokens_issued = 0

    def end(self) -> None:
        """Clears the fault in force, counting what it hit."""
        if self._rule is not None:
            self.hit[self._kind] += self._rule.hits
        elif self._kind == "expired_token":
            # Expired tokens answer no fault rule: they count as hit when a new Work Analytics
            # token was fetched. A renewal due anyway (the tokens last half an hour, a draw
            # about three simulated minutes) would count too; the rules' counts are exact.
            self.hit[self._kind] += self.sim.tokens.issued_count - self._tokens_issued
        self._kind, self._rule = "none", None
        self.sim.faults.clear()

    def next(self) -> str:
        self.end()
        if not self._round:
            self._round = self.rng.sample(KINDS, len(KINDS))
        kind = self._round.pop()
        target = self.rng.choice(list(TARGETS.values()))
        self.tried[kind] += 1
        if kind == "expired_token":
            self._tokens_issued = self.sim.tokens.issued_count
            self.sim.expire_tokens()
        elif kind != "none":
            slow = kind in SLOW_KINDS
            options = SLOW_KINDS[kind] if slow else dict(FAULTS[kind].options)
            self._rule = self.sim.faults.add(target.regex, times=1 if slow else None, **options)
            if target.token_of is not None:
                self.sim.expire_tokens()  # so the token endpoint is asked, and faulted
        self._kind = kind
        return f"{kind}@{target.name}"


def test_thousands_of_runs_under_random_faults_leave_no_thread_and_no_memory_behind() -> None:
    clock = FakeClock(START)
    with serving_matrix(clock, seed=23) as (sim, exporter, server):
        soak(sim, clock, exporter.scheduler.runners, f"http://127.0.0.1:{server.port}/metrics")


def soak(sim: Simulator, clock: FakeClock, runners: list[PollerRunner], metrics_url: str) -> None:
    draw = FaultDraw(sim, seed=20251118)

    def page_renders() -> None:
        response = requests.get(metrics_url, timeout=10)
        assert response.status_code == 200 and "eightbyeight_up{" in response.text

    def settle() -> dict[str, str | None]:
        """No fault, new tokens, one run of every collector: every keep-alive connection to
        the simulator open (its thread alive), so thread counts compare like with like. The
        collectors that failed, with their errors."""
        draw.end()
        sim.expire_tokens()
        clock.advance(FAILURE_RETRY_SECONDS)
        return {r.name: r.state.last_error for r in runners if not r.run_once()}

    # The exporter's own schedule on the simulated clock: (due, runner index).
    due: list[tuple[float, int]] = [(clock.now, index) for index in range(len(runners))]
    failures: Counter[str] = Counter()
    started_real = time.monotonic()
    start_rss = start_threads = peak_threads = 0
    fault = "none"
    for call in range(CALLS):
        if call == WARM_UP:
            assert settle() == {}
            start_rss, start_threads = rss_bytes(), threading.active_count()
        if call % SWITCH_EVERY == 0:
            fault = draw.next()
        when, index = heapq.heappop(due)
        clock.now = max(clock.now, when)
        runner = runners[index]
        sim.requests_clear()  # the simulator's log is bounded, but would grow to its bound
        ok = runner.run_once()  # any exception escaping fails the test here
        if not ok:
            failures[fault.split("@")[0]] += 1
        interval = runner.poller.interval
        heapq.heappush(
            due, (when + (interval if ok else min(interval, FAILURE_RETRY_SECONDS)), index)
        )
        if call % PAGE_EVERY == 0:  # SWITCH_EVERY is a multiple: after each switch too
            page_renders()
            peak_threads = max(peak_threads, threading.active_count())

    # Every fault survived: cleared, one more run of everything is all good.
    not_recovered = settle()
    page_renders()
    # A simulator thread whose client gave up may still be finishing its answer.
    wait_for(lambda: threading.active_count() <= start_threads)
    end_threads = threading.active_count()
    end_rss = rss_bytes()
    elapsed = time.monotonic() - started_real
    print(
        f"\nsoak: {CALLS} runs of {len(runners)} collectors over "
        f"{(clock.now - START) / 3600:.1f} simulated hours in {elapsed:.1f} s"
    )
    print(f"soak: faults tried by kind: {dict(sorted(draw.tried.items()))}")
    print(f"soak: requests faulted by kind: {dict(sorted(draw.hit.items()))}")
    print(f"soak: failed runs by fault kind: {dict(sorted(failures.items()))}")
    print(
        f"soak: RSS after warm-up {start_rss / 2**20:.1f} MiB, at the end "
        f"{end_rss / 2**20:.1f} MiB ({(end_rss - start_rss) / 2**20:+.1f} MiB)"
    )
    print(
        f"soak: threads after warm-up {start_threads}, peak {peak_threads}, "
        f"at the end {end_threads}"
    )
    assert not_recovered == {}
    never_hit = sorted(set(KINDS) - {"none"} - {kind for kind, n in draw.hit.items() if n})
    assert never_hit == [], "fault kinds no request ever met"
    assert sum(failures.values()) > 0, "no fault made any run fail: nothing was soaked"
    assert end_threads <= start_threads
    assert end_rss - start_rss < MEMORY_GROWTH_LIMIT
