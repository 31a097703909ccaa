"""tests/support/page.py's fast `samples()` reads what prometheus_client's parser reads.

Why: most end-to-end tests and every case of the fault matrix read the page through
`samples()`; a reader that differs from the reference parser would make them pass or fail on
its own mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.page import Samples, samples

GOLDEN = Path(__file__).parent / "fixtures" / "golden"


def reference(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def awkward_page() -> str:
    """Label values with every escape, an unknown escape, quotes, braces, commas, line
    separators other than the newline, non-ASCII; values NaN, infinities, exponents."""
    registry = CollectorRegistry()
    gauge = Gauge("awkward", "Awkward label values.", ["queue", "site"], registry=registry)
    values = {
        'a "quoted" name': 1.5,
        "back\\slash \\t not an escape": -2.0,
        "two\nlines": float("nan"),
        "braces {x=\"1\"}, commas": float("inf"),
        "line\u2028separator\x85and\x1cfile separator": -float("inf"),
        "Zürich – ☎": 1e-9,
        "": 123456789012.0,
    }
    for index, (queue, value) in enumerate(values.items()):
        gauge.labels(queue, f"site-{index}").set(value)
    Counter("calls", "Calls.", registry=registry).inc(3)
    Histogram("wait_seconds", "Waits.", ["queue"], registry=registry).labels("q").observe(0.7)
    return generate_latest(registry).decode()


@pytest.mark.parametrize("name", ["call_queue_metrics.prom", "realtime.prom"])
def test_the_golden_pages_read_as_the_reference_parser_reads_them(name: str) -> None:
    text = (GOLDEN / name).read_text()
    read = samples(text)
    assert len(read) > 20
    assert read == reference(text)


def test_awkward_label_values_and_values_read_as_the_reference_parser_reads_them() -> None:
    text = awkward_page()
    read, expected = samples(text), reference(text)
    assert len(read) == len(expected) > 10
    # NaN is not equal to itself: compare it apart.
    nan = [key for key, value in expected.items() if value != value]
    assert len(nan) == 1 and read[nan[0]] != read[nan[0]]
    assert {k: v for k, v in read.items() if k not in nan} == {
        k: v for k, v in expected.items() if k not in nan
    }


@pytest.mark.parametrize(
    "line",
    [
        'broken{queue="a"',  # the label set never closes
        'broken{queue="a} 1',  # the value never closes
        "broken{queue=a} 1",  # an unquoted value
        "broken 1 2 3",
        "broken",
    ],
)
def test_a_line_that_is_not_a_sample_is_an_error(line: str) -> None:
    with pytest.raises(ValueError, match="is not a sample"):
        samples(f"# HELP ok Fine.\n# TYPE ok gauge\nok 1\n{line}\n")
