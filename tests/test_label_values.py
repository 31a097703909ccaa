"""Label values longer than MAX_LABEL_VALUE_BYTES are cut with a marker, wherever a family is
rendered, and counted per poller: one long vendor name never fails a whole scrape."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from exporter.metrics.rendering import (
    MAX_LABEL_VALUE_BYTES,
    Family,
    GaugeFamily,
    HistogramFamily,
    render_families,
    truncate_label_value,
)
from exporter.pollers.base import Poller, PollerRunner
from tests.support.clock import FakeClock

LONG = "Support " * 500  # 4,000 bytes: a vendor name nobody should have, but one might


def values_of(rendered: bytes, label: str) -> list[str]:
    text = "# TYPE x gauge\n" + rendered.decode()
    return [s.labels[label] for f in text_string_to_metric_families(text) for s in f.samples]


@pytest.mark.parametrize("value", ["", "Sales", "é" * 500, "x" * MAX_LABEL_VALUE_BYTES])
def test_a_value_that_fits_is_kept_as_it_is(value: str) -> None:
    assert truncate_label_value(value) is value


@pytest.mark.parametrize("value", [LONG, "é" * 1000, "€" * 400, "😀" * 251, "a" + "😀" * 300])
def test_a_long_value_is_cut_on_a_character_with_a_marker(value: str) -> None:
    cut = truncate_label_value(value)
    assert len(cut.encode()) <= MAX_LABEL_VALUE_BYTES
    start, marker = cut.split("…[truncated ")
    assert value.startswith(start) and len(start.encode()) > MAX_LABEL_VALUE_BYTES - 45
    assert marker.endswith("]") and len(marker) == 25  # 96 bits of hash


def test_two_long_values_that_start_alike_stay_two_series() -> None:
    assert truncate_label_value(LONG + "A") != truncate_label_value(LONG + "B")


def test_a_value_that_looks_cut_cannot_take_the_series_of_the_value_it_mimics() -> None:
    cut = truncate_label_value(LONG)
    assert len(cut.encode()) <= MAX_LABEL_VALUE_BYTES  # it would fit as it is
    lookalike = truncate_label_value(cut)
    assert lookalike != cut and len(lookalike.encode()) <= MAX_LABEL_VALUE_BYTES
    assert lookalike.startswith(cut[:100]) and "…[truncated " in lookalike


@pytest.mark.parametrize("value", ["Sales]", "…[truncated ] Sales", "[truncated abc]"])
def test_values_that_only_resemble_a_marker_are_kept(value: str) -> None:
    assert truncate_label_value(value) is value


def test_text_families_cut_and_count_long_values() -> None:
    family = GaugeFamily("eightbyeight_queue_waiting_calls", "Calls.", labels=["queue", "pbx"])
    family.add_metric([LONG, "acme"], 3)
    family.add_metric(["Sales", "acme"], 1)
    family.add_metric([LONG + "2", LONG], 2)
    histogram = HistogramFamily("eightbyeight_call_wait_seconds", "Waits.", labels=["queue"])
    histogram.add_metric([LONG], [("1.0", 1), ("+Inf", 2)], 3.0)
    rendered = render_families([family, histogram])
    assert [f.truncated for f in rendered] == [3, 4]  # 2 buckets, _count and _sum
    queues = values_of(rendered[0].samples, "queue")
    assert queues[1] == "Sales"
    assert all(len(q.encode()) <= MAX_LABEL_VALUE_BYTES for q in queues)
    assert queues[0] == truncate_label_value(LONG) != queues[2]


def test_prometheus_client_families_are_cut_too() -> None:
    family = GaugeMetricFamily("eightbyeight_up", "Up.", labels=["collector"])
    family.add_metric([LONG], 1)
    family.add_metric(["call_queues"], 1)
    (rendered,) = render_families([family])
    assert rendered.truncated == 1
    assert values_of(rendered.samples, "collector") == [truncate_label_value(LONG), "call_queues"]


class LongNamePoller(Poller):
    name = "call_queues"
    interval = 30.0

    def collect(self) -> Sequence[Family]:
        family = GaugeFamily("eightbyeight_queue_waiting_calls", "Calls.", labels=["queue"])
        family.add_metric([LONG], 1)
        family.add_metric([LONG + "2"], 2)
        return [family]


def test_the_runner_counts_truncations_and_logs_the_first_once() -> None:
    clock = FakeClock(1_700_000_000.0)
    runner = PollerRunner(LongNamePoller(), wall_clock=clock, monotonic=clock)
    key = "eightbyeight_collector_label_values_truncated"
    assert runner.state.poller_metrics[key] == 0  # exported from 0, before the first run
    with capture_logs() as logs:
        for _ in range(3):
            assert runner.run_once()
            clock.advance(30)
    assert runner.state.poller_metrics[key] == 6
    truncations = [e for e in logs if e["event"] == "label_value_truncated"]
    assert truncations == [
        {
            "event": "label_value_truncated",
            "log_level": "warning",
            "logger_name": "exporter.pollers.base",
            "collector": "call_queues",
            "values": 2,
            "limit_bytes": MAX_LABEL_VALUE_BYTES,
        }
    ]
