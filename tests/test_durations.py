"""The one duration grammar of the configuration files (exporter/core/durations.py): Prometheus'
and Go's syntax, and the messages the config's users see (test_config pins them in context)."""

from __future__ import annotations

import math
import threading

import pytest

from exporter.core.durations import (
    MAX_DURATION_SECONDS,
    duration_seconds,
    parse_duration,
    prometheus_duration_seconds,
)

NOT_A_DURATION = "must be a duration such as 30s, 5m or 1h"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # Prometheus
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("2d", 172_800),
        ("1w", 604_800),
        ("1y", 31_536_000),
        ("1h30m", 5400),
        ("1d2h3m4s5ms", 93_784.005),
        ("500ms", 0.5),
        # Go's time.ParseDuration
        ("1.5s", 1.5),
        ("1m30s", 90),
        ("1.5h", 5400),
        (".5m", 30),
        ("5.m", 300),
        ("250us", 0.000_25),
        ("250µs", 0.000_25),  # U+00B5 MICRO SIGN
        ("250μs", 0.000_25),  # U+03BC GREEK SMALL LETTER MU
        ("100ns", 1e-7),
        # Any order, and a unit more than once: the sum
        ("30s1m", 90),
        ("1m1m", 120),
        ("  90s  ", 90),
    ],
)
def test_duration_texts(text: str, seconds: float) -> None:
    assert duration_seconds(text) == pytest.approx(seconds)
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "   ", "5", "m", "5x", "5 m", "5m 30s", "-5s", "+5s", "5M", "1e3s", "s5", "5s!"]
)
def test_texts_that_are_not_durations(text: str) -> None:
    assert duration_seconds(text) is None


@pytest.mark.parametrize(("value", "seconds"), [(15, 15.0), (2.5, 2.5), (0.001, 0.001)])
def test_numbers_are_seconds(value: float, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("text", ["soon", "5", "m", "5x", "-5s", "0"])
def test_a_bad_text_is_quoted(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(text)
    assert str(raised.value) == f"{text!r} is not a duration such as 30s, 5m or 1h"


@pytest.mark.parametrize(
    "value", [True, False, None, "", "   ", [1], {"s": 1}, math.nan, math.inf, -math.inf]
)
def test_a_value_of_the_wrong_kind(value: object) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(value)
    assert str(raised.value) == NOT_A_DURATION


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, "0s", "0ms", "0h0m"])
def test_zero_and_negatives_are_refused(value: object) -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(value)
    assert str(raised.value) == "must be greater than zero"


@pytest.mark.parametrize(("value", "seconds"), [(0, 0.0), ("0", 0.0), ("0s", 0.0), ("1m", 60.0)])
def test_zero_where_allowed(value: object, seconds: float) -> None:
    assert parse_duration(value, allow_zero=True) == seconds


@pytest.mark.parametrize("value", [-1, "-1s"])
def test_negatives_even_where_zero_is_allowed(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value, allow_zero=True)


def test_the_example_completes_the_messages() -> None:
    with pytest.raises(ValueError) as raised:
        parse_duration(True, example="100ms or 1m30s")
    assert str(raised.value) == "must be a duration such as 100ms or 1m30s"
    with pytest.raises(ValueError) as raised:
        parse_duration("later", example="100ms or 1m30s")
    assert str(raised.value) == "'later' is not a duration such as 100ms or 1m30s"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h30m", 5400.0), ("5m", 300.0), ("90s", 90.0), ("2w1d", 1_296_000.0), ("1ms", 0.001)],
)
def test_prometheus_grammar_reads_what_prometheus_reads(text: str, seconds: float) -> None:
    assert prometheus_duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1.5h", "30s1m", "5m5m", " 5m", "5", "1us", "1M"])
def test_prometheus_grammar_refuses_what_prometheus_refuses(text: str) -> None:
    # Texts copied into alerting rules must load in Prometheus as written.
    assert prometheus_duration_seconds(text) is None


@pytest.mark.parametrize("value", [MAX_DURATION_SECONDS + 1, 1e20, "366d", "100000000000w", "53w"])
def test_longer_than_a_timer_should_hold_is_refused(value: object) -> None:
    # threading refuses a wait past TIMEOUT_MAX with OverflowError: in a poller's thread.
    with pytest.raises(ValueError) as raised:
        parse_duration(value)
    assert str(raised.value) == "must be at most 365d"


def test_a_year_is_the_longest_duration() -> None:
    # Room to spare: the runners multiply intervals (5 intervals without progress is "stuck").
    assert parse_duration("365d") == MAX_DURATION_SECONDS < threading.TIMEOUT_MAX / 5
