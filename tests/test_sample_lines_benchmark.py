"""The benchmarks of the sample lines measure what they say: `benchmarks.sample_lines` compares
the bytes of the two checkouts it times, and cycle_phases' recorder sees every series the
value families and the histograms are given, and replays them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import cycle_phases, sample_lines
from exporter.metrics.rendering import (
    CounterFamily,
    GaugeFamily,
    HistogramFamily,
    LabelCache,
    ValueFamily,
)

ROOT = Path(__file__).resolve().parent.parent


def test_the_micro_benchmark_times_both_checkouts_and_compares_their_bytes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sample_lines.main(["--rounds", "1", "--against", str(ROOT)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out.count("gauges: same bytes: True") == out.count("histograms: same bytes: True") == 1
    assert sum(" us a line (96000 lines)" in line for line in out) == 2


def test_cycle_phases_records_every_series_of_the_value_families_and_the_histograms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = cycle_phases.RecordedLines()
    for kind in lines.real:
        monkeypatch.setattr(kind, "add_metric", lines.recording(kind))
    cache: LabelCache = {}
    gauge = GaugeFamily("eightbyeight_g", "G.", labels=["pbx"], label_cache=cache)
    counter = CounterFamily("eightbyeight_c_total", "C.", labels=["pbx"], label_cache=cache)
    histogram = HistogramFamily("eightbyeight_h_seconds", "H.", labels=["pbx"])
    labels = ["acme"]
    gauge.add_metric(labels, 1.0)
    counter.add_metric(("acme",), 2.0)
    histogram.add_metric(labels, [("1.0", 1.0), ("+Inf", 2.0)], 3.5)
    labels.append("mutated")  # the recorder keeps the values as they were given
    monkeypatch.undo()
    assert ValueFamily.add_metric is lines.real[ValueFamily]
    assert [(type(f), args) for f, _, args in lines.calls] == [
        (GaugeFamily, (("acme",), 1.0)),
        (CounterFamily, (("acme",), 2.0)),
        (HistogramFamily, (("acme",), [("1.0", 1.0), ("+Inf", 2.0)], 3.5)),
    ]
    assert [f.rendered()[1] for f in (gauge, counter, histogram)] == [1, 1, 4]
    assert lines.replay_seconds() >= 0.0
