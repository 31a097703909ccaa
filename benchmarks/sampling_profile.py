"""A CPU sampling profile of the main thread: where a call spends its CPU, without the
per-call overhead of cProfile (which inflates small Python functions several times over and
so misplaces the shares of a hot path made of them).

`ITIMER_PROF` counts the process's CPU time and delivers SIGPROF to the main thread, whose
stack is the one recorded: run what is measured in the main thread (the scheduler's
`run_once` does, with ring group members one at a time).
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any, TextIO, TypeVar

Result = TypeVar("Result")
INTERVAL_SECONDS = 0.0005


class SamplingProfile:
    """Samples of the main thread's stack, counted per function (own and inclusive)."""

    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        # A library function's cost by the project's line that led to it (who calls isinstance).
        self.entry: Counter[str] = Counter()
        self.samples = 0

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        self.samples += 1
        seen: set[str] = set()
        first = True
        entry = None
        while frame is not None:
            code = frame.f_code
            name = f"{_short(code.co_filename)}:{code.co_firstlineno}({code.co_name})"
            if first:
                self.own[name] += 1
                first = False
            if entry is None and _project(code.co_filename):
                entry = f"{name} line {frame.f_lineno}"
            if name not in seen:  # a recursion counts once per sample
                seen.add(name)
                self.inclusive[name] += 1
            frame = frame.f_back
        if entry is not None:
            self.entry[entry] += 1

    def run(self, function: Callable[..., Result], *args: Any) -> Result:
        previous = signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, INTERVAL_SECONDS, INTERVAL_SECONDS)
        try:
            return function(*args)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0, 0)
            signal.signal(signal.SIGPROF, previous)

    def print(self, stream: TextIO = sys.stderr, top: int = 45) -> None:
        total = max(1, self.samples)
        for title, counts in (
            ("own", self.own),
            ("inclusive", self.inclusive),
            ("the project's innermost line", self.entry),
        ):
            print(f"{self.samples} samples, top {top} by {title} CPU:", file=stream)
            for name, count in counts.most_common(top):
                print(f"{count / total:6.1%}  {name}", file=stream)


def _project(filename: str) -> bool:
    return any(top in filename for top in ("/exporter/", "/simulator/"))


def _short(filename: str) -> str:
    """A library's path from its package on, the project's from its top folder on."""
    for marker in ("/site-packages/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    for top in ("/exporter/", "/benchmarks/", "/simulator/"):
        if top in filename:
            return top[1:] + filename.split(top, 1)[1]
    return filename.rsplit("/", 2)[-1]
