"""The collectors' lean formatter (`repr` for floats, label text made once per row and shared by
the run's families) writes exactly what prometheus-client writes, for any value."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from exporter.metrics.rendering import (
    MAX_LABEL_VALUE_BYTES,
    CounterFamily,
    GaugeFamily,
    LabelCache,
    ValueFamily,
    format_value,
    line_end,
    render_families,
)
from exporter.metrics.sample_text import LINE_ENDS
from exporter.metrics.spec import FamilySet, MetricSpec

# Floats where `repr` and Go's formatting part ways or nearly do: the 1e6 switch (just under,
# at, above), where repr itself turns to an exponent (1e16), the signed zeros, subnormals,
# the largest float, integers that are exact and ones that are not.
EDGES = (
    0.0,
    -0.0,
    999_999.999_999_999_9,
    1e6,
    1_000_000.5,
    123_456_789.0,
    9_999_999_999_999_998.0,
    1e16,
    1e17,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    -1e6,
    -123_456_789.25,
    1e-7,
    0.1 + 0.2,
    float(2**53 + 1),
)


class Fixed(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Sequence[Metric]:
        return self.families


def client_text(families: Sequence[Metric]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed(families))
    return generate_latest(registry)


def our_text(families: Sequence[ValueFamily]) -> bytes:
    return b"".join(f.header(False) + f.samples for f in render_families(families))


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_format_value_is_floattogostring_for_every_float(value: float) -> None:
    for edge in (value, *EDGES, float("inf"), float("-inf"), float("nan")):
        assert format_value(edge) == floatToGoString(edge)


@given(st.integers(-(10**20), 10**20))
@example(0)
@example(10**6)
def test_format_value_is_floattogostring_for_integers(value: int) -> None:
    assert format_value(value) == floatToGoString(value)


label_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
values = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(EDGES)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(label_values, label_values, values, values), max_size=8, unique_by=lambda r: r[:2]
    )
)
@example(rows=[('a\\"b\n', "☎ Zürich", -0.0, 1e6), ("", "x", float("nan"), 1e-300)])
def test_families_sharing_a_label_cache_write_what_prometheus_client_writes(
    rows: list[tuple[str, str, float, float]],
) -> None:
    """Two families of one row (one with its labels in another order, one with an extra
    label) take the label text from the shared cache: byte for byte prometheus-client's."""
    cache: LabelCache = {}
    ours_a = GaugeFamily("eightbyeight_a", "a", labels=["zone", "agent"], label_cache=cache)
    ours_b = CounterFamily("eightbyeight_b_total", "b", labels=["zone", "agent"], label_cache=cache)
    ours_c = GaugeFamily(
        "eightbyeight_c", "c", labels=["agent", "zone", "window"], label_cache=cache
    )
    client_a = GaugeMetricFamily("eightbyeight_a", "a", labels=["zone", "agent"])
    client_b = GaugeMetricFamily("eightbyeight_b_total", "b", labels=["zone", "agent"])
    client_c = GaugeMetricFamily("eightbyeight_c", "c", labels=["agent", "zone", "window"])
    for zone, agent, first, second in rows:
        for ours, client, labels, value in (
            (ours_a, client_a, [zone, agent], first),
            (ours_b, client_b, (zone, agent), second),
            (ours_c, client_c, [agent, zone, "24h"], first),
        ):
            ours.add_metric(labels, value)
            client.add_metric(list(labels), value)
    client_b.type = "counter"  # prometheus-client's counter would add _total itself
    client_b.name = "eightbyeight_b"
    assert our_text([ours_a, ours_b, ours_c]) == client_text([client_a, client_b, client_c])
    assert len(cache) == 2  # one entry per tuple of label names


def test_a_value_cut_to_the_limit_is_counted_per_sample_with_or_without_the_cache() -> None:
    long_name = "é" * MAX_LABEL_VALUE_BYTES  # 2 bytes a character: over the limit
    cached = FamilySet()
    plain: list[GaugeFamily] = []
    for stem in ("calls", "waits"):
        spec = MetricSpec(f"eightbyeight_queue_{stem}", "gauge", stem, ("pbx", "queue"))
        cached.add(spec, ("acme", long_name), 1.0)
        family = spec.gauge()
        family.add_metric(["acme", long_name], 1.0)
        plain.append(family)
    assert [f.truncated for f in cached] == [f.truncated for f in plain] == [1, 1]
    assert our_text(list(cached)) == our_text(plain)
    line = next(iter(cached)).rendered()[0]
    assert b"[truncated " in line and len(line) < 2 * MAX_LABEL_VALUE_BYTES


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**20), 10**20))
@example(True)
@example(255)
@example(256.0)
def test_line_end_is_floattogostring_and_a_newline(value: float) -> None:
    for edge in (value, *EDGES):
        assert line_end(edge) == f"{floatToGoString(edge)}\n".encode()


def test_cached_line_ends_keep_the_sign_of_zero_nan_and_the_exponent_form() -> None:
    """-0.0 equals 0.0 (and finds its cached text), NaN equals nothing, 1e16 turns to an
    exponent: in one family, one after the other, as prometheus-client writes them."""
    values = [0.0, -0.0, 0, -0.0, 0.0, float("nan"), float("nan"), 1e16, 1e17, 1e6, 255.0, 256.0]
    values += [True, 3, 2**53 + 1, -1.0, 0.5, float("inf")]
    ours = GaugeFamily("eightbyeight_x", "x", labels=["n"], label_cache={})
    client = GaugeMetricFamily("eightbyeight_x", "x", labels=["n"])
    for n, value in enumerate(values):
        ours.add_metric((str(n),), value)
        client.add_metric([str(n)], value)
    assert our_text([ours]) == client_text([client])
    lines = ours.rendered()[0].splitlines()
    assert lines[:2] == [b'eightbyeight_x{n="0"} 0.0', b'eightbyeight_x{n="1"} -0.0']
    assert lines[5:8] == [
        b'eightbyeight_x{n="5"} NaN',
        b'eightbyeight_x{n="6"} NaN',
        b'eightbyeight_x{n="7"} 1e+16',
    ]


def test_the_line_ends_are_fixed_whatever_a_run_writes() -> None:
    """The table of common values' text never grows: a run of a million distinct values, or of
    NaNs (each a new key that equals no other), costs it nothing."""
    before = dict(LINE_ENDS)
    family = GaugeFamily("eightbyeight_x", "x", labels=["n"], label_cache={})
    for n in range(2_000):
        family.add_metric((str(n),), n + 0.5 if n % 2 else float("nan"))
        line_end(float(n)), line_end(-float(n)), line_end(n * 1e13)
    assert len(LINE_ENDS) == len(before) == 256 and LINE_ENDS == before
    assert all(key == key and key.is_integer() and 0 <= key < 256 for key in LINE_ENDS)
    assert line_end(256.0) is not line_end(256.0)  # beyond the table: made each time


def test_gauges_and_counters_of_one_value_are_what_prometheus_client_writes() -> None:
    ours = [
        GaugeFamily("eightbyeight_pbxes", "PBXes.", value=2),
        CounterFamily("eightbyeight_polls_total", "Polls.", value=-0.0),
    ]
    client = [
        GaugeMetricFamily("eightbyeight_pbxes", "PBXes.", value=2),
        CounterMetricFamily("eightbyeight_polls_total", "Polls.", value=-0.0),
    ]
    assert our_text(ours) == client_text(client)
    with pytest.raises(ValueError):
        GaugeFamily("eightbyeight_pbxes", "PBXes.", value=2, labels=["pbx"])
