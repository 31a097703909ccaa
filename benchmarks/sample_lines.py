"""`python3 -m benchmarks.sample_lines [--against CHECKOUT]`: CPU per sample line written by
the collectors' families: 40 gauge families x 2,400 rows of six labels sharing one label cache
(as a run's FamilySet), values as a 100k-series page has them (40% 0.0, 40% small integers,
20% fractions), and a histogram of 3 labels and 14 buckets x 1,430 rows.

With `--against`, that checkout's exporter/metrics/rendering.py (loaded by path, the rest of
the exporter from this tree) is timed too, alternated with this tree's in the same process,
best of the rounds, and the bytes compared: a before and an after at the same moment.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import exporter.metrics.rendering

LABELS = ["pbx", "site", "queue", "agent", "media", "period"]
ROWS = [
    tuple(f"{name}-{r % (3 + k * 40)}-{r}" for k, name in enumerate(LABELS)) for r in range(2400)
]
BOUNDS = [str(b) for b in (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600)] + ["+Inf"]


def family_values(family: int) -> list[float]:
    rng = random.Random(family)
    values = []
    for row in range(len(ROWS)):
        kind = (family * len(ROWS) + row) % 10
        if kind < 4:
            values.append(0.0)
        else:
            values.append(float((row * 7 + family) % 40) if kind < 8 else rng.random() * 100)
    return values


VALUES = [family_values(family) for family in range(40)]


def gauges(module: Any) -> tuple[float, int, bytes]:
    cache: dict[Any, Any] = {}
    families = [
        module.GaugeFamily(f"eightbyeight_f{i}", "F.", labels=LABELS, label_cache=cache)
        for i in range(40)
    ]
    started = time.process_time()
    for r, row in enumerate(ROWS):
        for family, values in zip(families, VALUES):
            family.add_metric(row, values[r])
    took = time.process_time() - started
    return took, 40 * len(ROWS), b"".join(f.rendered()[0] for f in families)


def histograms(module: Any) -> tuple[float, int, bytes]:
    family = module.HistogramFamily("eightbyeight_w_seconds", "W.", labels=LABELS[:3])
    rows = [
        (row[:3], [(b, float(r % 3 * i)) for i, b in enumerate(BOUNDS)])
        for r, row in enumerate(ROWS[:1430])
    ]
    started = time.process_time()
    for labels, buckets in rows:
        family.add_metric(labels, buckets, 12.5)
    took = time.process_time() - started
    return took, len(rows) * (len(BOUNDS) + 2), family.rendered()[0]


def load(checkout: Path) -> ModuleType:
    path = checkout / "exporter" / "metrics" / "rendering.py"
    spec = importlib.util.spec_from_file_location("rendering_against", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout, timed alternately")
    parser.add_argument("--rounds", type=int, default=9)
    options = parser.parse_args(argv)
    modules: dict[str, Any] = {"this tree": exporter.metrics.rendering}
    if options.against:
        modules = {str(options.against): load(options.against), **modules}
    for case in (gauges, histograms):
        best = dict.fromkeys(modules, float("inf"))
        pages: dict[str, bytes] = {}
        for _ in range(options.rounds):
            for name, module in modules.items():
                took, lines, pages[name] = case(module)
                best[name] = min(best[name], took)
        same = len(set(pages.values())) == 1
        for name, seconds in best.items():
            print(f"{case.__name__}, {name}: {seconds / lines * 1e6:.2f} us a line ({lines} lines)")
        if options.against:
            print(f"{case.__name__}: same bytes: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
