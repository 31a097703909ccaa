"""The cyclic garbage collector, tuned once at start-up for a process that parses megabytes of
JSON a cycle: the answers' objects are freed by their reference counts as soon as a run is done
with them, yet each of them counted towards CPython's collections, which then walked the young
objects and, every 100th time, every container of the process (issue 20: 5% of a 100k cycle's
CPU, and `json.loads` twice as slow inside a cycle as alone)."""

from __future__ import annotations

import gc

# Allocations between two collections of the young generation (CPython's default: 700). The
# JSON of one answer makes tens of thousands of objects: at 700 a page of call records was
# walked dozens of times while it was being decoded.
YOUNG_THRESHOLD = 10_000


def tune_garbage_collection() -> None:
    """Once, after the start-up's imports and the first exporter is built (before the threads):
    what exists then (modules, classes, the configuration, the clients) lives as long as the
    process, so `gc.freeze()` keeps it out of every later collection; then the young generation
    is collected every YOUNG_THRESHOLD allocations. Cyclic garbage, which the exporter makes
    little of, waits a little longer for its collection; anything else is freed as before."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
