"""The per-API request budget: a token bucket all collectors share, paused by a 429, visible as
metrics, and checked against the intervals at start-up; and the HTTP client's limits on an
answer's size."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import responses

from exporter.api.budget import RequestBudget
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.errors import ApiError, ConfigError, MalformedResponseError, RateLimitedError
from tests.support.clock import FakeClock
from tests.support.page import PageReader
from tests.support.waiting import wait_for

BASE = "https://api.example.test"


def budget(per_minute: float, clock: FakeClock) -> RequestBudget:
    return RequestBudget("work_analytics", per_minute, clock=clock, sleep=clock.advance)


def test_the_time_throttled_counts_while_a_wait_lasts_and_when_a_stop_ends_it() -> None:
    """It was added when a wait ended: flat for the whole of a 100 s pause, and a wait that
    a stop ended was never counted."""
    clock = FakeClock(0)
    seen: list[float] = []

    def sleep(seconds: float) -> None:
        clock.advance(seconds)
        seen.append(bucket.throttled_seconds)  # what a scrape meanwhile reads
        if len(seen) == 130:
            bucket.close()

    bucket = RequestBudget("work_analytics", 60, clock=clock, sleep=sleep)
    bucket.pause(100.0)
    bucket.acquire("/x")
    assert seen[89] == pytest.approx(90.0) and bucket.throttled_seconds == pytest.approx(100.0)
    bucket.pause(100.0)
    with pytest.raises(ApiError, match="stopping"):
        bucket.acquire("/x")
    assert bucket.throttled_seconds == pytest.approx(130.0)


def test_bursts_then_the_steady_rate() -> None:
    clock = FakeClock(0)
    bucket = budget(60, clock)  # one a second, bursts of ten
    for _ in range(10):
        bucket.acquire("/x")
    assert clock() == 0 and bucket.used() == 10
    bucket.acquire("/x")
    assert clock() == pytest.approx(1.0) and bucket.throttled_seconds == pytest.approx(1.0)
    # Over five minutes of demand, never more than the budget (plus the first burst).
    sent = 0
    while clock() < 300:
        bucket.acquire("/x")
        sent += 1
    assert sent <= 5 * 60 + 1 and bucket.used() <= 60 + 10


def test_a_429_pauses_every_caller_of_the_api() -> None:
    clock = FakeClock(0)
    bucket = budget(600, clock)
    bucket.pause(30)
    assert bucket.paused()
    bucket.acquire("/other")
    assert clock() == pytest.approx(30.0) and not bucket.paused()


def test_close_releases_a_waiting_collector() -> None:
    bucket = RequestBudget("contact_center", 1)  # one a minute: the second request waits
    bucket.acquire("/x")
    errors: list[ApiError] = []

    def wait() -> None:
        try:
            bucket.acquire("/x")
        except ApiError as exc:
            errors.append(exc)

    # A daemon: were close() to stop releasing it, the failed test must not hold pytest at exit.
    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    bucket.close()
    thread.join(10)
    assert not thread.is_alive() and "stopping" in str(errors[0])
    assert not errors[0].retryable


def client(bucket: RequestBudget | None, clock: FakeClock, **settings: Any) -> HttpClient:
    return HttpClient(
        "work_analytics",
        BASE,
        HttpSettings(**{"max_attempts": 3, **settings}),
        RequestStats(),
        sleep=clock.advance,
        budget=bucket,
    )


def test_a_retry_wait_ends_when_the_exporter_stops(rsps: responses.RequestsMock) -> None:
    # No sleep injected: the client waits on the budget, so a stop does not sit out the backoff
    # (here ten minutes) before the process can exit.
    bucket = RequestBudget("work_analytics", 600)
    call = rsps.get(f"{BASE}/x", status=503)
    http = HttpClient(
        "work_analytics",
        BASE,
        HttpSettings(max_attempts=3, initial_backoff=600, max_backoff=600),
        RequestStats(),
        budget=bucket,
    )
    errors: list[Exception] = []

    def fetch() -> None:
        try:
            http.request("GET", "/x", "/x")
        except ApiError as exc:
            errors.append(exc)

    # A daemon: were close() to stop ending the backoff, the failed test must not hold pytest at
    # exit for the ten minutes of it.
    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    # Until the first attempt is answered: the client is then in its backoff (or gave up).
    wait_for(lambda: call.call_count or not thread.is_alive())
    bucket.close()
    thread.join(30)
    assert not thread.is_alive()
    assert call.call_count == 1 and "stopping" in str(errors[0])


def test_a_budget_sleep_ends_at_once_when_closed() -> None:
    bucket = RequestBudget("contact_center", 60)
    # A daemon: were close() to stop ending the sleep, the failed test must not hold pytest at
    # exit for an hour.
    thread = threading.Thread(target=bucket.sleep, args=(3600,), daemon=True)
    thread.start()
    bucket.close()
    thread.join(30)
    assert not thread.is_alive()


def test_a_429_from_one_collector_slows_the_others(rsps: responses.RequestsMock) -> None:
    clock = FakeClock(0)
    bucket = budget(600, clock)
    rsps.get(f"{BASE}/a", status=429, headers={"Retry-After": "20"})
    rsps.get(f"{BASE}/b", json={"ok": True})
    first, second = client(bucket, clock, max_attempts=1), client(bucket, clock)
    with pytest.raises(RateLimitedError):
        first.request("GET", "/a", "/a")
    assert bucket.paused()
    assert second.request("GET", "/b", "/b") == {"ok": True}
    assert clock() >= 20  # the other collector waited for the pause too


def test_an_oversized_answer_fails_without_retries(rsps: responses.RequestsMock) -> None:
    clock = FakeClock(0)
    call = rsps.get(f"{BASE}/big", body=b'{"pad": "' + b"x" * 5000 + b'"}')
    with pytest.raises(MalformedResponseError, match="over the limit of 2048"):
        client(None, clock, max_response_bytes=2048).request("GET", "/big", "/big")
    assert call.call_count == 1


def test_the_budget_is_checked_against_the_intervals_at_start_up() -> None:
    env = {"EIGHTBYEIGHT_API_KEY": "k", "EIGHTBYEIGHT_USERNAME": "u", "EIGHTBYEIGHT_PASSWORD": "p"}
    tight = {
        "pbxes": [f"pbx{i}" for i in range(10)],
        "request_budget_per_minute": 60,
        "call_queues": {"interval": "10s"},
    }
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": tight}, env=env)
    message = caught.value.problems[0]
    assert caught.value.problems == [
        "work_analytics: request_budget_per_minute 60 is too small: the enabled collectors need "
        "at least 126 requests a minute (call_queues 60, queue_agents 20, agent_activity 20, "
        "live_calls 20, discovery 2, call_records 1, call_legs 1); raise it to 126 or make the "
        "intervals 2.1 times longer"
    ]
    # What the message proposes fits.
    need = int(message.split("raise it to ")[1].split(" ")[0])
    load_config_data({"work_analytics": {**tight, "request_budget_per_minute": need}}, env=env)
    cc = {
        "enabled": True,
        "client_id": "i",
        "client_secret": "s",
        "tenants": ["a", "b"],
        "request_budget_per_minute": 5,
        "queues": {"interval": "10s"},
    }
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": {"enabled": False}, "contact_center": cc}, env={})
    assert "contact_center: request_budget_per_minute 5 is too small" in caught.value.problems[0]
    assert "queues 12" in caught.value.problems[0]


def test_the_budget_in_use_is_exported() -> None:
    env = {"EIGHTBYEIGHT_API_KEY": "k", "EIGHTBYEIGHT_USERNAME": "u", "EIGHTBYEIGHT_PASSWORD": "p"}
    exporter = build_exporter(
        load_config_data({"work_analytics": {"request_budget_per_minute": 300}}, env=env),
        process_metrics=False,
    )
    try:
        get = PageReader(exporter.exposition).get_sample_value
        assert get("eightbyeight_api_budget_requests_per_minute", {"api": "work_analytics"}) == 300
        assert get("eightbyeight_api_budget_used_requests", {"api": "work_analytics"}) == 0
        assert get("eightbyeight_api_throttled_seconds_total", {"api": "work_analytics"}) == 0
        assert get("eightbyeight_api_paused", {"api": "work_analytics"}) == 0
    finally:
        exporter.close()


def test_close_stops_the_runners_before_it_closes_the_budgets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run the closed budget cuts short must find its runner already stopping, so that it is
    # logged as abandoned rather than as a failure on every shutdown.
    env = {"EIGHTBYEIGHT_API_KEY": "k", "EIGHTBYEIGHT_USERNAME": "u", "EIGHTBYEIGHT_PASSWORD": "p"}
    exporter = build_exporter(
        load_config_data({"work_analytics": {}}, env=env), process_metrics=False
    )
    seen: list[bool] = []
    bucket = exporter.budgets[0]
    real_close = bucket.close

    def close() -> None:
        seen.append(all(r._stop.is_set() for r in exporter.scheduler.runners))
        real_close()

    monkeypatch.setattr(bucket, "close", close)
    exporter.close()
    assert seen == [True] and exporter.scheduler.runners
