"""A Contact Center client and collectors on replayed answers: URLs, the token answer, report
configs and rows, a sleep that moves the fake clock."""

from __future__ import annotations

import random
from typing import Any

import responses

from exporter.api.clock import ApiClock
from exporter.api.contact_center import ContactCenterClient
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.config import ReportConfig, ReportStatusPolling
from exporter.pollers.cc_realtime import CcRealtimePoller
from exporter.pollers.cc_reports import CcReportPoller
from tests.support.clock import FakeClock

HOST = "https://api.8x8.com"
TOKEN_URL = f"{HOST}/oauth/v2/token"
RT = f"{HOST}/analytics/cc/v5/realtime-metrics"
HM = f"{HOST}/analytics/cc/v8/historical-metrics"
NOW = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC


def make_client(
    clock: FakeClock | None = None, wall: FakeClock | None = None
) -> ContactCenterClient:
    """`clock` ages the token; `wall` is the API's time the report windows follow."""
    stats = RequestStats()
    settings = HttpSettings(initial_backoff=0.001, max_backoff=0.002)
    api_clock = ApiClock("contact_center", wall or FakeClock())

    def http(url: str) -> HttpClient:
        return HttpClient(
            "contact_center",
            url,
            settings,
            stats,
            sleep=lambda s: None,
            rng=random.Random(1),
            api_clock=api_clock,
        )

    return ContactCenterClient(
        http(TOKEN_URL), http(RT), http(HM), "my-client", "my s3cret", clock=clock or FakeClock()
    )


def add_token(
    rsps: responses.RequestsMock, token: str = "cc-tok", expires_in: Any = "1799"
) -> None:
    rsps.post(
        TOKEN_URL,
        json={"access_token": token, "token_type": "BearerToken", "expires_in": expires_in},
    )


def realtime_collector(kind: str, **kwargs: Any) -> CcRealtimePoller:
    return CcRealtimePoller(make_client(), kind, "acme", interval=30.0, **kwargs)


def report(**overrides: Any) -> ReportConfig:
    fields = {
        "name": "agents_today",
        "type": "agent-interactions-summary",
        "group_by": "agent",
        "metrics": ["accepted", "acceptedPercentage", "avgHandlingTime"],
        **overrides,
    }
    return ReportConfig(**fields)


def data_row(agent: str, accepted: str, percent: str, aht: str, **extra: str) -> dict[str, Any]:
    items = [{"key": k, "label": k, "value": v} for k, v in extra.items()]
    items += [
        {"key": "agent", "label": "Agent", "value": agent},
        {"key": "agentId", "label": "Agent Id", "value": agent.lower()},
        {"key": "accepted", "label": "Accepted", "value": accepted},
        {"key": "acceptedPercentage", "label": "Accepted %", "value": percent},
        {"key": "avgHandlingTime", "label": "AHT", "value": aht},
    ]
    return {"total": None, "items": items}


class Sleeps(list[float]):
    """The report poller's sleeps: recorded, and passed on to the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.clock.advance(seconds)


def report_collector(
    clock: FakeClock, sleeps: Sleeps, *, personal_data: bool = True, **overrides: Any
) -> CcReportPoller:
    """A report poller of `report(**overrides)`; names on by default, as the tests of reading
    rows tell the agents apart by them (the privacy tests turn them off)."""
    polling = ReportStatusPolling(initial_backoff=2, max_backoff=10, timeout=60)
    return CcReportPoller(
        make_client(wall=clock),
        report(**overrides),
        "acme",
        time_zone="UTC",
        duration_unit="milliseconds",
        page_size=2,
        polling=polling,
        sleep=sleeps,
        personal_data=personal_data,
    )
