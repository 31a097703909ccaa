"""A histogram's row written in one go (its label text made once, each bucket's line the text
before `le`, the bound, the text after it and the value) is what prometheus-client writes, and
cuts and counts long label values as the per-sample path does."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter.metrics.rendering import (
    MAX_LABEL_VALUE_BYTES,
    HistogramFamily,
    render_families,
    sample_lines,
)

# Names that sort before `le` ("l", "la", "_x", "A"), after it ("le_", "lf", "zone"): `le` lands
# first, last or between them.
NAMES = ("a", "l", "la", "le_", "lf", "zone", "_x", "A")
label_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8)
counts = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from((0.0, -0.0, 1e16, 7))
bounds = st.lists(st.floats(-1e20, 1e20), min_size=0, max_size=4, unique=True).map(
    lambda found: [*map(str, sorted(found)), "+Inf"]
)


class Fixed(Collector):
    def __init__(self, family: Metric) -> None:
        self.family = family

    def collect(self) -> list[Metric]:
        return [self.family]


def client_text(family: Metric) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed(family))
    return generate_latest(registry)


def our_text(family: HistogramFamily) -> bytes:
    (rendered,) = render_families([family])
    return rendered.header(False) + rendered.samples


@st.composite
def histograms(
    draw: st.DrawFn,
) -> tuple[list[str], list[tuple[list[str], list[str], list[float], float | None]]]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    rows = draw(
        st.lists(
            st.tuples(
                st.lists(label_values, min_size=len(names), max_size=len(names)),
                bounds,
                st.lists(counts, min_size=5, max_size=5),
                st.none() | counts,
            ),
            max_size=4,
            unique_by=lambda row: tuple(row[0]),
        )
    )
    return names, rows


@settings(max_examples=300, deadline=None)
@given(histograms())
@example((["zone", "a"], [(['Sales "EU"', "a\\b\nc"], ["-5.0", "0.5", "+Inf"], [1, 2, 3], 9.5)]))
@example(([], [([], ["1e+16", "+Inf"], [-0.0, 0.0], 0.0)]))
def test_histogram_rows_are_what_prometheus_client_writes(
    drawn: tuple[list[str], list[tuple[list[str], list[str], list[float], float | None]]],
) -> None:
    names, rows = drawn
    ours = HistogramFamily("eightbyeight_wait_seconds", "Waits.", labels=names)
    client = HistogramMetricFamily("eightbyeight_wait_seconds", "Waits.", labels=names)
    for values, row_bounds, row_counts, total in rows:
        buckets = list(zip(row_bounds, row_counts))
        ours.add_metric(values, buckets, total)
        client.add_metric(values, buckets, total)
    assert our_text(ours) == client_text(client)
    assert ours.rendered()[1] == len(client.samples)


def test_long_label_values_and_bounds_are_cut_and_counted_per_line_as_sample_lines_does() -> None:
    long_queue = "q" * (MAX_LABEL_VALUE_BYTES + 1)
    long_bound = "1" * (MAX_LABEL_VALUE_BYTES + 5)
    rows = [
        (["acme", long_queue], [("5.0", 1.0), (long_bound, 2.0), ("+Inf", 3.0)], 7.0),
        (["acme", "short"], [("5.0", 1.0), (long_bound, 2.0), ("+Inf", 3.0)], 7.0),
        (["acme", long_queue], [("-1.0", 1.0), ("+Inf", 2.0)], 7.0),  # no count, no sum
    ]
    ours = HistogramFamily("eightbyeight_wait_seconds", "Waits.", labels=["pbx", "queue"])
    client = HistogramMetricFamily("eightbyeight_wait_seconds", "Waits.", labels=["pbx", "queue"])
    for labels, buckets, total in rows:
        ours.add_metric(labels, buckets, total)
        client.add_metric(labels, buckets, total)
    lines, series, truncated = sample_lines(client)
    assert ours.rendered() == (lines, series)
    # The long queue on 5 + 2 lines, the long bound on 2: each line counts its cut values.
    assert ours.truncated == truncated == 5 + 2 + 2


def test_a_histogram_refuses_le_among_its_labels_and_a_row_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="le"):
        HistogramFamily("eightbyeight_wait_seconds", "Waits.", labels=["queue", "le"])
    family = HistogramFamily("eightbyeight_wait_seconds", "Waits.", labels=["queue"])
    with pytest.raises(ValueError, match="1 label"):
        family.add_metric([], [("+Inf", 1.0)], 1.0)
    assert family.rendered() == (b"", 0)
