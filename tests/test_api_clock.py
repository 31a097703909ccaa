"""ApiClock: the API's clock estimated from Date headers (parsing, the dead band, a median that
one stray answer does not move, one log event per crossing) and the HTTP client feeding it."""

from __future__ import annotations

import threading
from email.utils import formatdate

import pytest
import requests
import responses
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.api.clock import (
    DEAD_BAND_SECONDS,
    SAMPLES_KEPT,
    SKEW_WARNING_SECONDS,
    ApiClock,
    ApiClockCollector,
    parse_http_date,
)
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.core.errors import ServerError, TransportError
from tests.support.clock import FakeClock

START = 1_763_485_200.0  # 2025-11-18 17:00:00 UTC, a whole second


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


def answer_at(api_clock: ApiClock, clock: FakeClock, api_offset: float, rtt: float = 0.2) -> None:
    """One answer from an API whose clock is `api_offset` ahead of `clock`, `rtt` long."""
    sent = clock()
    clock.advance(rtt / 2)
    date = http_date(clock() + api_offset)
    clock.advance(rtt / 2)
    api_clock.observe(date, sent, clock())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 18 Nov 2025 17:00:00 GMT", START),  # IMF-fixdate
        ("Tuesday, 18-Nov-25 17:00:00 GMT", START),  # obsolete RFC 850
        ("Tue Nov 18 17:00:00 2025", START),  # obsolete asctime
        (None, None),
        ("", None),
        ("yesterday", None),
        ("Tue, 32 Nov 2025 17:00:00 GMT", None),
        ("Tue, 18 Nov 99999999999 17:00:00 GMT", None),
        ("Tue, 18 Nov 2025 25:61:00 GMT", None),
    ],
)
def test_http_dates_are_read_in_every_form_and_nonsense_is_none(
    text: str | None, expected: float | None
) -> None:
    assert parse_http_date(text) == expected


def test_nothing_is_measured_until_an_answer_with_a_date() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    for header in (None, "", "not a date", "Tue, 18 Nov 2025 99:00:00 GMT"):
        api_clock.observe(header, START, START + 0.1)
    assert not api_clock.measured and api_clock.version == 0
    assert api_clock.offset == 0.0 and api_clock.now() == clock()
    assert list(ApiClockCollector([api_clock]).collect()) == []


def test_a_sample_is_the_middle_of_the_second_against_the_middle_of_the_request() -> None:
    api_clock = ApiClock("work_analytics", FakeClock(START))
    # The header says 17:00:10 (truncated): the API read 10.0 .. 10.999, on average 10.5;
    # the exporter sent at 0 and had the headers at 1: the middle is 0.5.
    api_clock.observe(http_date(START + 10), START, START + 1)
    assert api_clock.offset == 10.0


def test_synchronised_clocks_leave_now_exactly_the_local_clock() -> None:
    clock = FakeClock(START + 0.37)
    api_clock = ApiClock("work_analytics", clock)
    for _ in range(SAMPLES_KEPT):
        answer_at(api_clock, clock, api_offset=0.0, rtt=0.3)
        clock.advance(0.61)
    # The estimate wanders within the header's resolution; the windows do not follow it.
    assert api_clock.measured and abs(api_clock.offset) < 1
    assert api_clock.applied_offset == 0.0
    assert api_clock.now() == clock()


def test_a_skew_within_the_dead_band_is_measured_but_not_applied() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    answer_at(api_clock, clock, api_offset=1.2)
    assert 0.5 < api_clock.offset < DEAD_BAND_SECONDS
    assert api_clock.now() == clock()


@pytest.mark.parametrize("api_offset", [-1200.0, -5.0, 3.0, 90.0])
def test_a_skew_beyond_the_dead_band_moves_now_by_whole_seconds(api_offset: float) -> None:
    clock = FakeClock(START + 0.25)
    api_clock = ApiClock("work_analytics", clock)
    answer_at(api_clock, clock, api_offset)
    assert abs(api_clock.offset - api_offset) <= 1
    assert api_clock.applied_offset == round(api_clock.offset)
    assert api_clock.applied_offset.is_integer()
    assert api_clock.now() == clock() + api_clock.applied_offset
    assert abs(api_clock.now() - (clock() + api_offset)) <= 1


def test_the_median_ignores_a_minority_of_stray_answers() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    for _ in range(9):
        answer_at(api_clock, clock, api_offset=-60.0)
    for _ in range(4):  # answers held 10 minutes in a queue, or a broken proxy's Date
        sent = clock()
        clock.advance(600)
        api_clock.observe(http_date(sent), sent, clock())
    assert abs(api_clock.offset - -60) <= 1


def test_only_the_last_samples_count_so_a_corrected_clock_is_followed() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    for _ in range(SAMPLES_KEPT):
        answer_at(api_clock, clock, api_offset=300.0)
    for _ in range(SAMPLES_KEPT // 2 + 1):  # NTP fixed: a majority of the window agrees
        answer_at(api_clock, clock, api_offset=0.0)
    assert api_clock.now() == clock()


def test_a_clock_stepped_backwards_during_a_request_is_no_sample() -> None:
    api_clock = ApiClock("work_analytics", FakeClock(START))
    api_clock.observe(http_date(START), START, START - 5)
    assert not api_clock.measured


def test_a_large_skew_logs_once_per_crossing_and_once_when_it_clears() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("contact_center", clock)
    with capture_logs() as logs:
        answer_at(api_clock, clock, api_offset=SKEW_WARNING_SECONDS - 5)
        for _ in range(SAMPLES_KEPT):
            answer_at(api_clock, clock, api_offset=-120.0)
        for _ in range(SAMPLES_KEPT):
            answer_at(api_clock, clock, api_offset=0.0)
        for _ in range(SAMPLES_KEPT):
            answer_at(api_clock, clock, api_offset=45.0)
    events = [(e["event"], e["log_level"], e["api"], e["offset_seconds"]) for e in logs]
    assert [event[:3] for event in events] == [
        ("api_clock_skew", "warning", "contact_center"),
        ("api_clock_skew_cleared", "info", "contact_center"),
        ("api_clock_skew", "warning", "contact_center"),
    ]
    # Each logs the estimate at its crossing: the median of the samples then.
    assert events[0][3] < -SKEW_WARNING_SECONDS and events[2][3] > SKEW_WARNING_SECONDS
    assert abs(events[1][3]) <= SKEW_WARNING_SECONDS


def test_samples_from_many_threads_are_all_kept() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    date = http_date(START + 100)

    def answers() -> None:
        for _ in range(200):
            api_clock.observe(date, START, START)

    threads = [threading.Thread(target=answers) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert api_clock.version == 8 * 200
    assert api_clock.offset == 100.5


def test_the_gauge_lists_each_measured_api() -> None:
    clock = FakeClock(START)
    work, contact = ApiClock("work_analytics", clock), ApiClock("contact_center", clock)
    collector = ApiClockCollector([work, contact])
    registry = CollectorRegistry(auto_describe=True)
    registry.register(collector)
    answer_at(work, clock, api_offset=-1200.0)
    version = collector.version
    value = registry.get_sample_value(
        "eightbyeight_api_clock_skew_seconds", {"api": "work_analytics"}
    )
    assert value is not None and abs(value - -1200) <= 1
    assert (
        registry.get_sample_value("eightbyeight_api_clock_skew_seconds", {"api": "contact_center"})
        is None
    )
    answer_at(contact, clock, api_offset=0.0)
    assert collector.version > version
    assert (
        registry.get_sample_value("eightbyeight_api_clock_skew_seconds", {"api": "contact_center"})
        is not None
    )


# --- the HTTP client feeds it ---------------------------------------------------------------

BASE = "https://api.example.test/analytics/work"


def client(api_clock: ApiClock) -> HttpClient:
    return HttpClient(
        "work_analytics",
        BASE,
        HttpSettings(max_attempts=1),
        RequestStats(),
        sleep=lambda _: None,
        api_clock=api_clock,
    )


@responses.activate(assert_all_requests_are_fired=True)
def test_every_answer_is_observed_an_errors_too_but_not_a_transport_failure() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    http = client(api_clock)
    ahead = {"Date": http_date(START + 600)}
    responses.get(f"{BASE}/ok", json={}, headers=ahead)
    responses.get(f"{BASE}/down", json={"status": 503}, status=503, headers=ahead)
    responses.get(f"{BASE}/undated", json={})
    responses.get(f"{BASE}/gone", body=requests.ConnectionError("reset"))
    http.request("GET", "/ok", "/ok")
    with pytest.raises(ServerError):
        http.request("GET", "/down", "/down")
    assert api_clock.version == 2 and api_clock.offset == 600.5
    http.request("GET", "/undated", "/undated")
    with pytest.raises(TransportError):
        http.request("GET", "/gone", "/gone")
    assert api_clock.version == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_the_clients_now_follows_the_apis_clock() -> None:
    clock = FakeClock(START)
    api_clock = ApiClock("work_analytics", clock)
    http = client(api_clock)
    wa = WorkAnalyticsClient(http, "key", "user", "password")
    assert wa.now() == clock()
    responses.get(f"{BASE}/ok", json={}, headers={"Date": http_date(START - 1200)})
    http.request("GET", "/ok", "/ok")
    assert wa.now() == clock() - 1200  # -1199.5 rounded: whole seconds
