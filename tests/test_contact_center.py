"""The Contact Center client and collectors against recorded answers, replayed strictly:
OAuth, tenants, realtime paging and values of every shape, the report life cycle."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import pytest
import responses
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from exporter.api.contact_center import (
    REPORT_TYPES_MAX_AGE,
    TenantError,
    parse_links,
)
from exporter.config import load_config_data
from exporter.core.errors import (
    AuthenticationError,
    CollectionError,
    MalformedResponseError,
    PagingLoopError,
)
from exporter.pollers.base import Scheduler
from exporter.pollers.cc_realtime import CcRealtimePoller
from exporter.pollers.cc_report_definition import check_report, definition
from exporter.serving.exposition import Exposition
from tests.support.clock import FakeClock
from tests.support.contact_center import (
    HM,
    NOW,
    RT,
    TOKEN_URL,
    Sleeps,
    add_token,
    data_row,
    make_client,
    realtime_collector,
    report,
    report_collector,
)
from tests.support.files import fixture_json
from tests.support.page import Recorder


def item(entity_id: str, name: str, metrics: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": entity_id,
        "name": name,
        **extra,
        "metrics": [{"key": k, "value": v} for k, v in metrics.items()],
    }


def page_headers(page: int, pages: int, size: int = 100) -> dict[str, str]:
    return {
        "X-Page": str(page),
        "X-Page-Size": str(size),
        "X-Total-Pages": str(pages),
        "X-Total-Elements": str(pages * size),
    }


# --- auth and tenants ----------------------------------------------------------------------


def test_token_uses_basic_client_credentials_and_is_reused_until_it_expires(rsps) -> None:
    clock = FakeClock()
    add_token(rsps, "tok-1", "1799")  # Contact Center sends expires_in as a string
    rsps.get(f"{RT}/queues", json=[], headers=page_headers(0, 1))
    rsps.get(f"{RT}/groups", json=[], headers=page_headers(0, 1))
    client = make_client(clock)
    client.realtime("queues", None)
    client.realtime("groups", None)
    token_call = rsps.calls[0].request
    expected = base64.b64encode(b"my-client:my s3cret").decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert urllib.parse.parse_qs(token_call.body) == {"grant_type": ["client_credentials"]}
    assert [c.request.headers["Authorization"] for c in rsps.calls[1:]] == ["Bearer tok-1"] * 2
    assert "X-Tenant-Info" not in rsps.calls[1].request.headers  # single tenant: no header
    # Shortly before expiry a new token is fetched, not at every call.
    clock.advance(1799 - 30)
    add_token(rsps, "tok-2")
    rsps.get(f"{RT}/queues", json=[], headers=page_headers(0, 1))
    client.realtime("queues", None)
    assert rsps.calls[-1].request.headers["Authorization"] == "Bearer tok-2"


def test_a_401_renews_the_token_once(rsps) -> None:
    add_token(rsps, "old")
    rsps.get(f"{RT}/queues", status=401, json={"error": "invalid_token"})
    add_token(rsps, "new")
    rsps.get(
        f"{RT}/queues", json=[item("1", "Sales", {"accepted.today": 3})], headers=page_headers(0, 1)
    )
    assert len(make_client().realtime("queues", None)) == 1
    assert rsps.calls[-1].request.headers["Authorization"] == "Bearer new"


def test_bad_client_credentials_are_an_authentication_error(rsps) -> None:
    rsps.post(
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "Client credentials are invalid"},
    )
    with pytest.raises(AuthenticationError) as info:
        make_client().realtime("queues", "acme")
    assert "authentication refused" in str(info.value) and "Client credentials are invalid" in str(
        info.value
    )
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    "message, expected",
    [
        ("Bad request: X-Tenant-Info header is missing.", "the account is multi-tenant"),
        (
            "Bad request: Invalid value for X-Tenant-Info header.",
            "tenant 'acme' is not known in this region",
        ),
    ],
)
def test_the_guides_tenant_errors_become_clear_errors(rsps, message: str, expected: str) -> None:
    add_token(rsps)
    rsps.get(f"{RT}/queues", status=400, json={"status": 400, "message": message})
    with pytest.raises(TenantError) as info:
        make_client().realtime("queues", "acme")
    assert expected in str(info.value) and message in str(info.value)
    assert rsps.calls[-1].request.headers["X-Tenant-Info"] == "acme"


def test_region_and_overrides_pick_the_urls() -> None:
    base = {"work_analytics": {"api_key": "k", "username": "u", "password": "p"}}
    cc = {"enabled": True, "client_id": "i", "client_secret": "s"}
    eu = load_config_data({**base, "contact_center": {**cc, "region": "eu"}}).contact_center
    assert eu.urls() == (
        "https://api.8x8.com/oauth/v2/token",
        "https://api.8x8.com/eu/analytics/cc/v5/realtime-metrics",
        "https://api.8x8.com/eu/analytics/cc/v8/historical-metrics",
    )
    custom = load_config_data(
        {**base, "contact_center": {**cc, "region": "au", "realtime_url": "http://127.0.0.1:1/rt/"}}
    ).contact_center
    assert custom.urls()[1] == "http://127.0.0.1:1/rt"
    assert custom.urls()[2] == "https://api.8x8.com/au/analytics/cc/v8/historical-metrics"


def test_credentials_come_from_the_environment_and_never_show(tmp_path) -> None:
    env = {
        "EIGHTBYEIGHT_API_KEY": "k",
        "EIGHTBYEIGHT_USERNAME": "u",
        "EIGHTBYEIGHT_PASSWORD": "p",
        "EIGHTBYEIGHT_CC_CLIENT_ID": "env-id",
        "EIGHTBYEIGHT_CC_CLIENT_SECRET": "env-secret",
    }
    cc = load_config_data({"contact_center": {"enabled": True}}, env=env).contact_center
    assert cc.client_secret is not None
    assert cc.client_id == "env-id" and cc.client_secret.get_secret_value() == "env-secret"
    assert "env-secret" not in repr(cc)
    secret = tmp_path / "secret"
    secret.write_text("file-secret\n")
    cc = load_config_data(
        {"contact_center": {"enabled": True, "client_id": "i", "client_secret_file": str(secret)}},
        env=env,
    ).contact_center
    assert cc.client_secret is not None
    assert cc.client_secret.get_secret_value() == "file-secret"


# --- realtime ------------------------------------------------------------------------------


def test_realtime_pages_to_the_last_page_with_the_metrics_filter(rsps) -> None:
    add_token(rsps)
    for page in range(3):
        rsps.get(
            f"{RT}/queues",
            json=[item(str(page), f"Q{page}", {"accepted.today": page})],
            headers=page_headers(page, 3, size=1),
            match=[
                responses.matchers.query_param_matcher(
                    {
                        "page": str(page),
                        "size": "1",
                        "metrics": ["accepted.today", "entered.today"],
                        "timezone": "Europe/Helsinki",
                    }
                )
            ],
        )
    items = make_client().realtime(
        "queues",
        None,
        metrics=["accepted.today", "entered.today"],
        page_size=1,
        time_zone="Europe/Helsinki",
    )
    assert [i["id"] for i in items] == ["0", "1", "2"]


def test_realtime_without_paging_headers_follows_link_next(rsps) -> None:
    add_token(rsps)
    rsps.get(
        f"{RT}/groups",
        json=[item("1", "G1", {})],
        headers={"Link": f'<{RT}/groups?page=1&size=100>; rel="next"'},
    )
    rsps.get(f"{RT}/groups", json=[])
    assert len(make_client().realtime("groups", None)) == 1


def test_realtime_without_any_paging_hint_goes_on_while_pages_are_full(rsps) -> None:
    # The spec documents `page` and `size` but no paging headers: a full page means "ask again".
    add_token(rsps)
    for page, ids in enumerate((["1", "2"], ["3", "4"], ["5"])):
        rsps.get(
            f"{RT}/agents",
            json=[item(i, f"A{i}", {}) for i in ids],
            match=[responses.matchers.query_param_matcher({"page": str(page), "size": "2"})],
        )
    assert [i["id"] for i in make_client().realtime("agents", None, page_size=2)] == list("12345")


@pytest.mark.parametrize("headers", [{}, {"X-Total-Pages": "100000"}])
def test_realtime_pages_that_ignore_page_stop_at_the_third_sight(rsps, headers) -> None:
    """A server that ignores `page` and answers the same full page (each time with other
    values, as live metrics move) was asked 1,000 times a poll, spending the Contact Center
    budget every poller shares. Seen twice it may be a live list shifted by a page."""
    add_token(rsps)
    for value in range(3):  # every answer asked for is used (`assert_all_requests_are_fired`)
        rsps.get(
            f"{RT}/agents",
            json=[item(i, f"A{i}", {"accepted.today": value}) for i in ("1", "2")],
            headers=headers,
        )
    with pytest.raises(PagingLoopError, match="page 2 repeats page 0, 3 times in all"):
        make_client().realtime("agents", None, page_size=2)
    assert len([c for c in rsps.calls if "/agents" in c.request.url]) == 3


def test_a_single_queue_object_is_read_as_a_page_of_one(rsps) -> None:
    # The spec's /queues schema is SingleQueueResponse, an object.
    add_token(rsps)
    rsps.get(f"{RT}/queues", json=item("7", "Support", {"waitingInteractions.rt": 3}))
    assert [i["id"] for i in make_client().realtime("queues", None)] == ["7"]


def test_queue_values_of_every_shape_are_handled_on_purpose(rsps) -> None:
    add_token(rsps)
    values = {
        "interactionsWaitInQueue.rt": 4,  # a number
        "accepted.today": "17",  # a numeric string
        "avgHandlingTime.int-15m": 90_500,  # ms -> s
        "avgWrapUpTime.int-15m": None,  # null: no value, not an error
        "slaPercentage.int-1h": 85,  # percent -> ratio
        "slaPercentageTarget.today": "80",
        "slaTimeThreshold.today": "20000",
        "eligibl.rt": 6,
        "eligible.rt": 6,  # the spec's two spellings: one series
        "abandoned.today": [1, 2],  # an array where a number belongs
        "mediaTypes.rt": ["Phone", "Chat"],  # a key the exporter does not know
        "brandNewMetric.today": 3,
    }
    rsps.get(f"{RT}/queues", json=[item("101", "Sales", values)], headers=page_headers(0, 1))
    collector = realtime_collector("queues")
    out = Recorder(collector.collect())
    labels = {"tenant": "acme", "queue_id": "101", "queue": "Sales"}
    assert out.get("eightbyeight_cc_queue_waiting_interactions", period="rt", **labels) == 4
    assert out.get("eightbyeight_cc_queue_accepted_interactions", period="today", **labels) == 17
    assert (
        out.get("eightbyeight_cc_queue_average_handling_time_seconds", period="int-15m", **labels)
        == 90.5
    )
    assert (
        out.get("eightbyeight_cc_queue_average_wrap_up_time_seconds", period="int-15m", **labels)
        is None
    )
    assert out.get("eightbyeight_cc_queue_service_level_ratio", period="int-1h", **labels) == 0.85
    assert (
        out.get("eightbyeight_cc_queue_service_level_target_ratio", period="today", **labels) == 0.8
    )
    assert (
        out.get("eightbyeight_cc_queue_service_level_threshold_seconds", period="today", **labels)
        == 20
    )
    assert out.get("eightbyeight_cc_queue_eligible_agents", period="rt", **labels) == 6
    assert out.get("eightbyeight_cc_queue_abandoned_interactions", period="today", **labels) is None
    metrics = collector.self_metrics()
    assert metrics["eightbyeight_collector_unknown_metrics"] == 2
    assert metrics["eightbyeight_collector_values_unusable"] == 1
    # Unknown keys are reported once, not at every poll.
    rsps.get(f"{RT}/queues", json=[item("101", "Sales", values)], headers=page_headers(0, 1))
    with capture_logs() as logs:
        collector.collect()
    assert not [e for e in logs if e["event"] == "cc_metric_unknown"]
    rsps.get(f"{RT}/queues", json=[item("101", "Sales", values)], headers=page_headers(0, 1))
    with capture_logs() as logs:
        realtime_collector("queues").collect()  # a new collector reports them again, once
    unknown = [e["key"] for e in logs if e["event"] == "cc_metric_unknown"]
    assert sorted(unknown) == ["brandNewMetric.today", "mediaTypes.rt"]


def test_bad_items_are_invalid_records_each_reason_logged(rsps) -> None:
    add_token(rsps)
    good = item("101", "Sales", {"accepted.today": 3})
    rsps.get(
        f"{RT}/queues",
        json=[
            "not an object",
            {"name": "no id", "metrics": []},
            good,
            item("102", "Support", {"accepted.today": [1]}),
        ],
        headers=page_headers(0, 1),
    )
    collector = realtime_collector("queues")
    metrics = collector.self_metrics()
    # From 0, before anything is left out: rate() sees the first one.
    assert metrics["eightbyeight_collector_records_invalid"] == 0
    assert metrics["eightbyeight_collector_values_unusable"] == 0
    with capture_logs() as logs:
        out = Recorder(collector.collect())
    assert (
        out.get(
            "eightbyeight_cc_queue_accepted_interactions",
            tenant="acme",
            queue_id="101",
            queue="Sales",
            period="today",
        )
        == 3
    )
    # Items are records: left out whole, not values of a metric.
    metrics = collector.self_metrics()
    assert metrics["eightbyeight_collector_records_invalid"] == 2
    assert metrics["eightbyeight_collector_values_unusable"] == 1
    # Each reason is logged, once.
    kinds = [e["kind"] for e in logs if e["event"] == "cc_record_invalid"]
    assert sorted(kinds) == [
        "queues item that is not an object",
        "queues item without id or metrics list",
    ]


@pytest.mark.parametrize("personal_data", [False, True])
def test_agents_status_timestamps_lines_and_info(rsps, personal_data: bool) -> None:
    add_token(rsps)
    agent = item(
        "ag1",
        "Jane Doe",
        {
            "status.rt": "Wrap Up",
            "statusCode.rt": None,
            "timeOnStatus.rt": 12_000,
            "lastLogin.rt": "2025-11-18T16:00:00.000Z",
            "lastLogout.rt": None,
            "line1Status.rt": "Busy",
            "line1TimeOnStatus.rt": 5_000,
            "accepted.today.inQueue": 9,
            "accepted.today": 1,  # the qualifier belongs to the key
            "busyTimePercentage.today": "25.5",
        },
        groupId="131",
        groupName="Tier 1",
    )
    rsps.get(f"{RT}/agents", json=[agent], headers=page_headers(0, 1))
    out = Recorder(realtime_collector("agents", personal_data=personal_data).collect())
    labels = {"tenant": "acme", "agent_id": "ag1"}
    # The name is personal data: only when asked for; without, `agent` is there, empty.
    name = "Jane Doe" if personal_data else ""
    assert (
        out.get("eightbyeight_cc_agent_info", agent=name, group_id="131", group="Tier 1", **labels)
        == 1
    )
    named = [k for k in out.samples if any(v == "Jane Doe" for _, v in k[1])]
    assert [k[0] for k in named] == (["eightbyeight_cc_agent_info"] if personal_data else [])
    assert (
        out.get("eightbyeight_cc_agent_status_info", status="wrap_up", status_code="", **labels)
        == 1
    )
    assert out.get("eightbyeight_cc_agent_time_on_status_seconds", period="rt", **labels) == 12
    assert (
        out.get("eightbyeight_cc_agent_last_login_timestamp_seconds", period="rt", **labels)
        == NOW - 3600
    )
    assert out.get("eightbyeight_cc_agent_line_status_info", line="1", status="busy", **labels) == 1
    assert out.get("eightbyeight_cc_agent_line_time_on_status_seconds", line="1", **labels) == 5
    assert out.get("eightbyeight_cc_agent_accepted_interactions", period="today", **labels) == 9
    assert out.get("eightbyeight_cc_agent_busy_time_ratio", period="today", **labels) == 0.255


def test_an_agent_listed_on_two_pages_is_exported_once(rsps) -> None:
    add_token(rsps)
    agent = item(
        "ag1",
        "Jane Doe",
        {
            "status.rt": "Available",
            "line1Status.rt": "Idle",
            "line1TimeOnStatus.rt": 1_000,
            "accepted.today": 2,
        },
    )
    for page in range(2):
        rsps.get(
            f"{RT}/agents",
            json=[agent],
            headers=page_headers(page, 2, size=1),
            match=[responses.matchers.query_param_matcher({"page": str(page), "size": "1"})],
        )
    families = realtime_collector("agents", page_size=1).collect()
    for family in families:
        keys = [(s.name, tuple(sorted(s.labels.items()))) for s in family.samples]
        assert len(keys) == len(set(keys)) == 1, family.name


def test_select_and_the_series_ceiling(rsps) -> None:
    add_token(rsps)
    queues = [item(str(i), f"Q{i}", {"accepted.today": i, "entered.today": i}) for i in range(5)]
    rsps.get(f"{RT}/queues", json=queues, headers=page_headers(0, 1))
    load = load_config_data(
        {
            "work_analytics": {"api_key": "k", "username": "u", "password": "p"},
            "contact_center": {
                "enabled": True,
                "client_id": "i",
                "client_secret": "s",
                "queues": {"select": {"exclude": ["Q0"]}},
            },
        }
    )
    # Five series a queue: its two metrics, eightbyeight_cc_queue_info and the configured
    # service-level target and threshold (8x8 gives it none of its own here).
    collector = realtime_collector(
        "queues", select=load.contact_center.queues.select, max_series=10
    )
    out = Recorder(collector.collect())
    assert sorted(dict(k[1])["queue"] for k in out.samples) == ["Q1"] * 5 + ["Q2"] * 5
    assert collector.self_metrics()["eightbyeight_collector_series_dropped"] == 6


def test_families_of_several_tenants_merge_into_one_per_name(rsps) -> None:
    add_token(rsps)
    for _ in range(2):
        rsps.get(
            f"{RT}/queues",
            json=[item("1", "Sales", {"accepted.today": 1})],
            headers=page_headers(0, 1),
        )
    client = make_client()
    scheduler = Scheduler()
    for tenant in ("a", "b"):
        scheduler.add(CcRealtimePoller(client, "queues", tenant, interval=30))
    assert scheduler.run_once()
    page = Exposition(scheduler, CollectorRegistry()).render().decode()
    merged = [
        family
        for family in text_string_to_metric_families(page)
        if family.name == "eightbyeight_cc_queue_accepted_interactions"
    ]
    assert len(merged) == 1
    assert sorted(s.labels["tenant"] for s in merged[0].samples) == ["a", "b"]
    assert page.count("# TYPE eightbyeight_cc_queue_accepted_interactions ") == 1


# --- historical reports --------------------------------------------------------------------


def test_reports_are_checked_against_the_report_types() -> None:
    types = fixture_json("cc_report_types.json")  # the guide's sample, unchanged
    assert check_report(report(), types) == []
    assert check_report(report(type="nope"), types) == [
        "unknown report type 'nope' (the API offers: agent-interactions-summary)"
    ]
    bad = report(
        group_by="agent-and-media",
        metrics=["accepted", "acceptedInSla"],
        filters=[{"name": "queue", "values": ["103"]}],
    )
    assert check_report(bad, types) == [
        "filter 'queue' is not offered by grouping agent-and-media (offered: agent, media)",
        "unknown metric 'acceptedInSla' for agent-interactions-summary",
    ]
    assert "group_by 'queue' is not offered" in check_report(report(group_by="queue"), types)[0]


def test_the_report_definition_follows_the_guide() -> None:
    config = report(
        window="1h",
        granularity="15m",
        intra_day_time_range={"start": "08:30:00", "end": "17:00:00"},
        filters=[{"name": "agent", "values": ["ag1"]}],
    )
    body = definition(config, NOW - 3600, NOW, "America/New_York")
    assert body == {
        "type": "agent-interactions-summary",
        "title": "eightbyeight exporter agents_today",
        "dateRange": {"start": "2025-11-18T16:00:00.000Z", "end": "2025-11-18T17:00:00.000Z"},
        "granularity": "15m",
        "groupBy": {"name": "agent", "filters": [{"name": "agent", "values": ["ag1"]}]},
        "timezone": "America/New_York",
        "includeSubTotal": False,
        "includeGrandTotal": False,
        "metrics": ["accepted", "acceptedPercentage", "avgHandlingTime"],
        "intraDayTimeRange": {"start": "08:30:00", "end": "17:00:00"},
    }
    # No time zone configured: the tenant's default applies (guide), the field is left out.
    assert "timezone" not in definition(report(window="1h"), NOW - 3600, NOW, None)


def test_a_queued_report_is_waited_for_like_one_in_progress(rsps) -> None:
    """The v8 spec's status enum is QUEUED, IN_PROGRESS, DONE, FAILED: a report QUEUED failed
    its run ("unexpected status"), and under the vendor's load every run may start queued."""
    clock = FakeClock(NOW)
    sleeps = Sleeps(clock)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 9, "status": "QUEUED"})
    rsps.get(f"{HM}/9/status", json={"id": 9, "status": "QUEUED"})
    rsps.get(f"{HM}/9/status", json={"id": 9, "status": "IN_PROGRESS"})
    rsps.get(f"{HM}/9/status", json={"id": 9, "status": "DONE"})
    rsps.get(f"{HM}/9/data?page=0&size=2", json=[data_row("Ann", "10", "90", "1000")])
    out = Recorder(report_collector(clock, sleeps).collect())
    assert out.get("eightbyeight_cc_report_rows", tenant="acme", report="agents_today") == 1
    assert sleeps == [2, 4, 8]


def test_a_report_queued_past_the_timeout_says_so(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 9, "status": "QUEUED"})
    rsps.get(f"{HM}/9/status", json={"id": 9, "status": "QUEUED"})
    with pytest.raises(CollectionError, match=r"still QUEUED after \d+s"):
        report_collector(clock, Sleeps(clock)).collect()


def test_report_life_cycle_with_backoff_paging_and_totals(rsps) -> None:
    clock = FakeClock(NOW)
    sleeps = Sleeps(clock)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(
        HM,
        json={"id": 2710192, "status": "IN_PROGRESS"},
        headers={"Link": f'<{HM}/2710192/status>; rel="status"'},
    )
    for _ in range(4):
        rsps.get(f"{HM}/2710192/status", json={"id": 2710192, "status": "IN_PROGRESS"})
    rsps.get(
        f"{HM}/2710192/status",
        json={"id": 2710192, "status": "DONE"},
        headers={
            "Link": f'<{HM}/2710192/data?page=0&size=100>; rel="data", <{HM}/2710192/download>; rel="download"'
        },
    )
    subtotal = fixture_json("cc_report_subtotal_row.json")  # the guide's subtotal row
    rsps.get(
        f"{HM}/2710192/data?page=0&size=2",
        json=[data_row("Ann", "10", "90.91", "65000"), data_row("Bob", "4", "80.00", "00:02:00")],
        headers={
            "X-Page": "0",
            "X-Total-Pages": "2",
            "X-Total-Elements": "3",
            "Link": f'<{HM}/2710192/data?page=1&size=2>; rel="next"',
        },
    )
    rsps.get(
        f"{HM}/2710192/data?page=1&size=2",
        json=[subtotal],
        headers={"X-Page": "1", "X-Total-Pages": "2", "X-Total-Elements": "3"},
    )
    collector = report_collector(clock, sleeps)
    out = Recorder(collector.collect())
    # Exponential backoff between status polls, capped: never a tight loop.
    assert sleeps == [2, 4, 8, 10, 10]
    labels = {"tenant": "acme", "report": "agents_today"}
    assert (
        out.get(
            "eightbyeight_cc_report_agent_accepted_interactions",
            agent="Ann",
            agent_id="ann",
            **labels,
        )
        == 10
    )
    assert (
        out.get(
            "eightbyeight_cc_report_agent_accepted_interactions_ratio",
            agent="Bob",
            agent_id="bob",
            **labels,
        )
        == 0.8
    )
    assert (
        out.get(
            "eightbyeight_cc_report_agent_average_handling_time_seconds",
            agent="Ann",
            agent_id="ann",
            **labels,
        )
        == 65
    )
    assert (
        out.get(
            "eightbyeight_cc_report_agent_average_handling_time_seconds",
            agent="Bob",
            agent_id="bob",
            **labels,
        )
        == 120
    )
    assert out.get("eightbyeight_cc_report_rows", **labels) == 2  # the subtotal row is not an item
    assert out.get("eightbyeight_cc_report_generation_seconds", **labels) == 34
    assert out.get("eightbyeight_cc_report_status_polls", **labels) == 5
    assert out.get("eightbyeight_cc_report_truncated", **labels) == 0
    created = json.loads(rsps.calls[2].request.body)
    assert created["type"] == "agent-interactions-summary" and created["granularity"] == "none"
    assert created["dateRange"] == {
        "start": "2025-11-18T00:00:00.000Z",
        "end": "2025-11-18T17:00:00.000Z",
    }
    assert all(c.request.headers["X-Tenant-Info"] == "acme" for c in rsps.calls[1:])


def test_a_failed_report_fails_the_collector_with_the_reason(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 7, "status": "IN_PROGRESS"})
    rsps.get(f"{HM}/7/status", json={"id": 7, "status": "FAILED", "reason": "generation error"})
    with pytest.raises(CollectionError, match=r"FAILED: generation error"):
        report_collector(clock, Sleeps(clock)).collect()


def test_a_report_that_never_finishes_gives_up_after_the_timeout(rsps) -> None:
    clock = FakeClock(NOW)
    sleeps = Sleeps(clock)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 8, "status": "IN_PROGRESS"})
    rsps.get(f"{HM}/8/status", json={"id": 8, "status": "IN_PROGRESS"})
    with pytest.raises(CollectionError, match="still IN_PROGRESS after 60s"):
        report_collector(clock, sleeps).collect()
    assert sum(sleeps) == 60 and len(sleeps) <= 8


def test_an_unknown_metric_fails_before_any_report_is_created(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    with pytest.raises(CollectionError, match="unknown metric 'bogus'"):
        report_collector(clock, Sleeps(clock), metrics=["accepted", "bogus"]).collect()


def test_granular_reports_label_the_interval_and_the_cap_is_reported(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(
        HM,
        json={"id": 9, "status": "DONE"},
        headers={"Link": f'<{HM}/9/data?page=0&size=100>; rel="data"'},
    )
    rows = [
        data_row(
            "Ann",
            "1",
            "100",
            "1000",
            startTime="2025-11-18T16:00-05:00",
            endTime="2025-11-18T16:15-05:00",
        ),
        data_row(
            "Ann",
            "2",
            "100",
            "1000",
            startTime="2025-11-18T16:15-05:00",
            endTime="2025-11-18T16:30-05:00",
        ),
    ]
    rsps.get(
        f"{HM}/9/data?page=0&size=2",
        json=rows,
        headers={"X-Total-Elements": "10000", "X-Total-Pages": "5000"},
    )
    collector = report_collector(clock, Sleeps(clock), window="1h", granularity="15m")
    # The last page is not followed here: no `Link: rel="next"`.
    with capture_logs() as logs:
        out = Recorder(collector.collect())
    labels = {"tenant": "acme", "report": "agents_today", "agent": "Ann", "agent_id": "ann"}
    assert (
        out.get(
            "eightbyeight_cc_report_agent_interval_accepted_interactions",
            interval_start="2025-11-18T16:15-05:00",
            **labels,
        )
        == 2
    )
    assert out.get("eightbyeight_cc_report_truncated", tenant="acme", report="agents_today") == 1
    assert [e["records"] for e in logs if e["event"] == "cc_report_truncated"] == [2]


def test_rows_of_either_shape_mismatched_rows_and_the_series_ceiling(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 11, "status": "DONE"})
    object_row = {
        "total": None,
        "items": {
            "agent": "Cy",
            "agentId": "cy",
            "accepted": 3,
            "acceptedPercentage": "75",
            "avgHandlingTime": "1000",
        },
    }
    other = {
        "total": None,
        "items": [{"key": "queue", "value": "Sales"}, {"key": "accepted", "value": "9"}],
    }
    grand = {"totals": {"type": "grandtotal"}, "items": data_row("", "99", "1", "1")["items"]}
    rsps.get(
        f"{HM}/11/data?page=0&size=2",
        json=[
            data_row("Ann", "1", "100", "1000"),
            object_row,
            other,
            grand,
            data_row("Bob", "2", "100", "1000"),
        ],
    )
    collector = report_collector(clock, Sleeps(clock), max_series=7)
    out = Recorder(collector.collect())
    labels = {"tenant": "acme", "report": "agents_today"}
    # The guide's second row form, {"name": value}, is read like the first.
    assert (
        out.get(
            "eightbyeight_cc_report_agent_accepted_interactions",
            agent="Cy",
            agent_id="cy",
            **labels,
        )
        == 3
    )
    # A row with other dimensions would mislabel its values: left out, as is the spec's
    # `totals` row, and counted as an invalid record (a row, not a value). Bob's three series
    # do not fit under the ceiling of 7.
    assert collector.invalid.count == 1 and collector.unusable.count == 0
    assert out.get("eightbyeight_cc_report_rows", **labels) == 2
    assert (
        out.get(
            "eightbyeight_cc_report_agent_accepted_interactions",
            agent="Bob",
            agent_id="bob",
            **labels,
        )
        is None
    )
    assert collector.series is not None and collector.series.dropped == 3


@pytest.mark.parametrize("personal_data", [False, True])
def test_agent_names_in_reports_only_with_personal_data(rsps, personal_data: bool) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 13, "status": "DONE"})
    rows = [data_row("Ann", "1", "100", "1000"), data_row("Bob", "2", "100", "1000")]
    rsps.get(f"{HM}/13/data?page=0&size=2", json=rows)
    out = Recorder(report_collector(clock, Sleeps(clock), personal_data=personal_data).collect())
    labels = {"tenant": "acme", "report": "agents_today"}
    # Without names the rows stay apart by `agent_id`; `agent` is there, empty.
    for name, accepted in (("Ann", 1), ("Bob", 2)):
        shown = name if personal_data else ""
        agent = {"agent": shown, "agent_id": name.lower()}
        assert (
            out.get("eightbyeight_cc_report_agent_accepted_interactions", **agent, **labels)
            == accepted
        )
    assert out.get("eightbyeight_cc_report_rows", **labels) == 2
    values = {v for _, labelset in out.samples for _, v in labelset}
    assert ({"Ann", "Bob"} & values) == ({"Ann", "Bob"} if personal_data else set())


def test_bad_rows_are_invalid_records_and_each_item_problem_is_logged(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    rsps.get(f"{HM}/report-types", json=fixture_json("cc_report_types.json"))
    rsps.post(HM, json={"id": 12, "status": "DONE"})
    ann = data_row("Ann", "1", "100", "1000")
    ann["items"] += [{"value": "no key"}, {"key": "accepted", "value": "99"}]
    rsps.get(
        f"{HM}/12/data?page=0&size=2",
        json=[
            ann,
            "not an object",
            {"total": None},
            data_row("Ann", "2", "100", "1000"),
            {"total": None, "items": [{"key": "queue", "value": "Sales"}]},
            data_row("Bob", "n/a", "100", "1000"),
        ],
    )
    collector = report_collector(clock, Sleeps(clock))
    metrics = collector.self_metrics()
    # From 0, before anything is left out: rate() sees the first one.
    assert metrics["eightbyeight_collector_records_invalid"] == 0
    assert metrics["eightbyeight_collector_values_unusable"] == 0
    with capture_logs() as logs:
        out = Recorder(collector.collect())
    labels = {"tenant": "acme", "report": "agents_today"}
    assert (
        out.get(
            "eightbyeight_cc_report_agent_accepted_interactions",
            agent="Ann",
            agent_id="ann",
            **labels,
        )
        == 1
    )
    assert out.get("eightbyeight_cc_report_rows", **labels) == 2
    # Rows are records: not an object, without items, a second copy, other dimensions.
    metrics = collector.self_metrics()
    assert metrics["eightbyeight_collector_records_invalid"] == 4
    # Values: Ann's item without a key and her second `accepted`, Bob's word.
    assert metrics["eightbyeight_collector_values_unusable"] == 3
    rows = [e["kind"] for e in logs if e["event"] == "cc_record_invalid"]
    assert sorted(rows) == [
        "row that is not an object",
        "row with other dimensions than the first row",
        "row with the dimensions of an earlier row",
        "row without items",
    ]
    values = {e["kind"]: e["reason"] for e in logs if e["event"] == "cc_value_unusable"}
    assert values == {
        "item_without_key": "item that is not an object with a key",
        "metric_twice": "a metric twice in one row",
        "accepted": "value 'n/a'",
    }


def test_two_spellings_of_one_metric_feed_its_family_once(rsps) -> None:
    clock = FakeClock(NOW)
    add_token(rsps)
    types = fixture_json("cc_report_types.json")
    types[0]["metrics"].append("averageHandlingTime")  # `avgHandlingTime` spelled out
    rsps.get(f"{HM}/report-types", json=types)
    rsps.post(HM, json={"id": 14, "status": "DONE"})
    ann = data_row("Ann", "1", "100", "1000")
    ann["items"].append({"key": "averageHandlingTime", "value": "9000"})
    rsps.get(f"{HM}/14/data?page=0&size=2", json=[ann])
    metrics = ["accepted", "acceptedPercentage", "avgHandlingTime", "averageHandlingTime"]
    collector = report_collector(clock, Sleeps(clock), metrics=metrics)
    with capture_logs() as logs:
        out = Recorder(collector.collect())
    labels = {"tenant": "acme", "report": "agents_today", "agent": "Ann", "agent_id": "ann"}
    # The first spelling in the row counts; the second would repeat Ann's series.
    name = "eightbyeight_cc_report_agent_average_handling_time_seconds"
    assert out.get(name, **labels) == 1
    assert collector.unusable.count == 1
    assert [e["reason"] for e in logs if e["event"] == "cc_value_unusable"] == [
        "a metric named like avgHandlingTime"
    ]


def test_data_links_are_followed_on_the_configured_host_only(rsps) -> None:
    # Only the link's query is used: the token never follows a link to another host, and a
    # link written without the region prefix still reaches the configured regional URL.
    add_token(rsps)
    rsps.get(
        f"{HM}/5/data?page=0&size=2",
        json=[data_row("Ann", "1", "1", "1")],
        headers={"Link": '<https://elsewhere.example/steal?page=1&size=9>; rel="next last"'},
    )
    second = rsps.get(f"{HM}/5/data?page=1&size=2", json=[data_row("Bob", "2", "1", "1")])
    pages = list(make_client().report_pages("acme", 5, 2))
    assert [len(rows) for rows, _ in pages] == [1, 1] and second.call_count == 1
    assert all("elsewhere" not in call.request.url for call in rsps.calls)


def test_parse_links() -> None:
    header = f'<{HM}/1/data?page=0&size=100>; rel="data", <{HM}/1/download>; rel="download"'
    assert parse_links(header) == {
        "data": f"{HM}/1/data?page=0&size=100",
        "download": f"{HM}/1/download",
    }
    assert parse_links(None) == {}


def test_report_types_are_asked_once_per_tenant_and_max_age(rsps) -> None:
    """The start-up check and every report collector of a tenant share one answer."""
    clock = FakeClock(NOW)
    add_token(rsps)
    types = fixture_json("cc_report_types.json")
    rsps.get(f"{HM}/report-types", json={"not": "a list"})
    for _ in range(3):
        rsps.get(f"{HM}/report-types", json=types)
    client = make_client(clock)
    with pytest.raises(MalformedResponseError):
        client.report_types("acme")  # a failure is not kept
    for _ in range(3):  # the check, then two report collectors
        assert client.report_types("acme") == types
    assert client.report_types("other") == types  # each tenant has its own
    clock.advance(REPORT_TYPES_MAX_AGE + 1)
    assert client.report_types("acme") == types
    asked = [c.request for c in rsps.calls if c.request.url.endswith("/report-types")]
    assert len(asked) == 1 + 3 and [r.headers["X-Tenant-Info"] for r in asked[-3:]] == [
        "acme",
        "other",
        "acme",
    ]
