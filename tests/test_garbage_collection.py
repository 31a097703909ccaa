"""The collector's tuning at start-up (exporter/core/garbage.py), in a process of its own: it is
process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from exporter.core.garbage import YOUNG_THRESHOLD, tune_garbage_collection
middle, old = gc.get_threshold()[1:]
kept = [object() for _ in range(10)]
tune_garbage_collection()
frozen = gc.get_freeze_count()
gc.collect()
print(json.dumps({
    "threshold": list(gc.get_threshold()),
    "expected": [YOUNG_THRESHOLD, middle, old],
    "frozen": frozen,
    "frozen_after_collect": gc.get_freeze_count(),
}))
"""


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["threshold"] == seen["expected"]
    assert seen["expected"][0] > 700  # rarer than CPython's default
    # Everything start-up made is out of the collections, and stays so.
    assert seen["frozen"] > 1000 and seen["frozen_after_collect"] == seen["frozen"]
