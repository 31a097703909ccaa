"""The metric model: MetricSpec, the unit conversions, and the catalogue built from the specs."""

from __future__ import annotations

from typing import Any

import pytest

from exporter import catalogue
from exporter.metrics.rendering import CounterFamily, GaugeFamily, HistogramFamily
from exporter.metrics.spec import FamilySet, MetricSpec, counter, gauge, histogram, vendor
from exporter.metrics.units import convert, why_unusable


@pytest.mark.parametrize(
    ("unit", "raw", "durations", "expected"),
    [
        ("count", 3, "seconds", 3.0),
        ("count", "7", "milliseconds", 7.0),
        ("duration", 41000, "milliseconds", 41.0),
        ("duration", 41, "seconds", 41.0),
        ("duration", "00:01:30", "milliseconds", 90.0),  # a clock text, whatever the unit
        ("ratio", 12.5, "seconds", 0.125),
        ("timestamp", 1_763_485_200_000, "seconds", 1_763_485_200.0),  # epoch milliseconds
        ("timestamp", "2025-11-18T17:00:00Z", "seconds", 1_763_485_200.0),
        ("count", None, "seconds", None),
        ("count", "n/a", "seconds", None),
        ("duration", True, "seconds", None),
        ("ratio", float("nan"), "seconds", None),
        ("timestamp", "2025-11-18T17:00:00", "seconds", None),  # no zone: not guessed
        # Nothing the exporter reads can be below zero: a count, a duration, a share, a time.
        ("count", -3, "seconds", None),
        ("count", "-3", "seconds", None),
        ("duration", -41000, "milliseconds", None),
        ("duration", -0.5, "seconds", None),
        ("ratio", -12.5, "seconds", None),
        ("timestamp", -1_763_485_200_000, "seconds", None),
        ("count", 0, "seconds", 0.0),
        ("count", -0.0, "seconds", 0.0),
    ],
)
def test_one_conversion_for_every_unit(
    unit: Any, raw: object, durations: Any, expected: float | None
) -> None:
    assert convert(unit, raw, durations) == expected


@pytest.mark.parametrize(
    ("raw", "why"), [(-3, "negative"), ("-0.5", "negative"), ("n/a", "str"), ([1], "list")]
)
def test_why_a_value_is_unusable(raw: object, why: str) -> None:
    assert why_unusable(raw) == why


def test_milliseconds_are_divided_not_multiplied() -> None:
    # 1234 * 0.001 is 1.2340000000000002; the exported value is the nearest float to 1.234.
    assert convert("duration", 1234, "milliseconds") == 1.234


def test_a_template_is_placed_under_its_area_with_its_unit_suffix() -> None:
    template = vendor("avgTalkTime", "average_talk_time", "duration", "Average talk time.")
    assert template.name == "average_talk_time_seconds"
    placed = template.under("eightbyeight_queue_", ("pbx", "queue"), "call_queues (`avgTalkTime`)")
    assert placed.name == "eightbyeight_queue_average_talk_time_seconds"
    assert placed.labels == ("pbx", "queue")
    assert (placed.key, placed.unit, placed.help) == ("avgTalkTime", "duration", template.help)
    ratio = vendor("acceptedCallsPercentage", "accepted_calls", "ratio", "Accepted share.")
    assert ratio.name == "accepted_calls_ratio"


def test_families_are_made_from_their_specs() -> None:
    assert isinstance(gauge("eightbyeight_x", "X.").family(), GaugeFamily)
    made = counter("eightbyeight_x_total", "X.", ("pbx",)).family(" Polled.")
    assert isinstance(made, CounterFamily)
    assert (made.name, made.documentation) == ("eightbyeight_x", "X. Polled.")
    assert counter("eightbyeight_x_total", "X.").family_name == "eightbyeight_x"
    assert isinstance(histogram("eightbyeight_h_seconds", "H.").histogram(), HistogramFamily)
    with pytest.raises(ValueError, match="histogram"):
        histogram("eightbyeight_h_seconds", "H.").family()
    with pytest.raises(ValueError, match="not a histogram"):
        gauge("eightbyeight_x", "X.").histogram()


def test_a_family_set_keeps_the_order_of_first_use() -> None:
    first, second = gauge("eightbyeight_b", "B.", ("q",)), gauge("eightbyeight_a", "A.", ("q",))
    families = FamilySet(" Polled.")
    families.add(first, ["1"], 1.0)
    families.add(second, ["1"], 2.0)
    families.add(first, ["2"], 3.0)
    assert [f.name for f in families] == ["eightbyeight_b", "eightbyeight_a"]
    assert [s.value for s in next(iter(families)).samples] == [1.0, 3.0]


def test_a_pattern_stands_for_the_names_made_at_run_time() -> None:
    pattern = gauge("eightbyeight_cc_report_<subject>_<metric>", "Report metrics.", ("tenant",))
    assert pattern.matches("eightbyeight_cc_report_queue_accepted_interactions_ratio")
    assert not pattern.matches("eightbyeight_cc_queue_accepted_interactions")
    assert not pattern.matches("eightbyeight_cc_report_accepted")  # no subject
    name = "eightbyeight_cc_report_queue_accepted_interactions"
    made = pattern.instance(name, "Accepted.", ("tenant", "queue"))
    assert (made.name, made.labels) == (name, ("tenant", "queue"))
    with pytest.raises(ValueError):
        pattern.instance("eightbyeight_other", "Other.", ())


def _with_pollers(monkeypatch: pytest.MonkeyPatch, *specs: MetricSpec) -> None:
    monkeypatch.setattr(catalogue, "OWN", ())
    monkeypatch.setattr(catalogue, "poller_specs", lambda: (specs,))


def test_one_family_from_two_sources_is_one_row_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = gauge("eightbyeight_queue_agents", "Agents.", ("pbx",), "call_queues (`a`)")
    other = gauge("eightbyeight_queue_agents", "Agents.", ("pbx",), "call_queues (`b`)")
    _with_pollers(monkeypatch, one, other)
    [row] = catalogue.entries()
    assert row.source == "call_queues (`a`); call_queues (`b`)"


@pytest.mark.parametrize(
    "other",
    [
        gauge("eightbyeight_queue_agents", "Other help.", ("pbx",), "b"),
        gauge("eightbyeight_queue_agents", "Agents.", ("pbx", "queue"), "b"),
        MetricSpec("eightbyeight_queue_agents", "counter", "Agents.", ("pbx",), source="b"),
    ],
)
def test_two_specs_that_disagree_on_a_family_fail_the_catalogue(
    monkeypatch: pytest.MonkeyPatch, other: MetricSpec
) -> None:
    _with_pollers(monkeypatch, gauge("eightbyeight_queue_agents", "Agents.", ("pbx",), "a"), other)
    with pytest.raises(catalogue.CatalogueError, match="eightbyeight_queue_agents"):
        catalogue.entries()


def test_every_poller_module_with_families_is_in_the_catalogue() -> None:
    sources = {spec.source.split(" ")[0] for specs in catalogue.poller_specs() for spec in specs}
    assert {"discovery", "call_queues", "ring_groups", "call_records", "call_legs"} <= sources
    assert {"cc_queues", "cc_agents", "cc_report:NAME"} <= sources
