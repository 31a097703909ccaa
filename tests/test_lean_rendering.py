"""The collectors' lean formatter (`repr` for floats, label text made once per row and shared by
the run's families) writes exactly what prometheus-client writes, for any value."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
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
    render_families,
)
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
