"""A Work Analytics client on replayed answers: its URLs, a recorded sleep, the token answer."""

from __future__ import annotations

import random
from typing import Any

import responses
from prometheus_client import CollectorRegistry

from exporter.api.clock import ApiClock
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.work_analytics import WorkAnalyticsClient
from tests.support.clock import FakeClock

BASE = "https://api.8x8.com/analytics/work"
TOKEN_URL = f"{BASE}/v1/oauth/token"
PBX = "rXp_ceLVQs6RYjUp1Iqqwe"


class Sleeps(list[float]):
    """The client's sleeps, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    registry: CollectorRegistry,
    sleeps: Sleeps,
    clock: FakeClock | None = None,
    *,
    api_clock: ApiClock | None = None,
    **settings: Any,
) -> WorkAnalyticsClient:
    """`clock` ages the token; `api_clock` is where the windows take the API's time from."""
    stats = RequestStats()
    registry.register(stats)  # the tests read the request counters from `registry`
    http = HttpClient(
        "work_analytics",
        BASE,
        HttpSettings(**settings),
        stats,
        sleep=sleeps,
        rng=random.Random(1),
        api_clock=api_clock,
    )
    return WorkAnalyticsClient(
        http, "test_key", "supervisor@example.com", "s3cret pass&word", clock=clock or FakeClock()
    )


def add_token(
    rsps: responses.RequestsMock, token: str = "tok-1", expires_in: object = 1800
) -> None:
    rsps.post(
        TOKEN_URL, json={"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    )
