"""The queue -> team mapping of work_analytics.teams and contact_center.teams: its validation,
the `team` label of the queues' `_info` series, and a reload that changes it."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.app import build_exporter
from exporter.config import ConfigError, QueueTeams, load_config_data
from exporter.pollers.cc_realtime import CcRealtimePoller
from exporter.pollers.discovery import DiscoveryPoller
from tests.support.call_queues import PBX_ID, SITE_ID, CannedClient
from tests.support.contact_center import RT, add_token, realtime_collector
from tests.support.page import Recorder

WA = {"api_key": "k", "username": "u", "password": "p"}
CC = {"enabled": True, "client_id": "id", "client_secret": "s"}


def teams(rules: list[dict[str, str]], default: str = "") -> QueueTeams:
    data = {"work_analytics": {**WA, "teams": rules, "default_team": default}}
    return load_config_data(data).work_analytics.queue_teams


def test_the_first_matching_rule_wins_on_name_extension_or_id_else_the_default() -> None:
    mapping = teams(
        [
            {"team": "vip", "queues": "VIP.*"},
            {"team": "sales", "queues": "Sales|VIP Line|7001"},
            {"team": "care", "queues": "q-care"},
        ],
        default="default",
    )
    assert mapping.team_of("VIP Line", "7100", "v1") == "vip"  # before the sales rule
    assert mapping.team_of("Inbound", "7001", "q9") == "sales"  # by extension
    assert mapping.team_of("Support", "7002", "q-care") == "care"  # by id
    assert mapping.team_of("Sales EMEA", "7003", "q3") == "default"  # full match only
    assert teams([]).team_of("Sales", "7001", "q1") == ""


def test_bad_teams_are_named_with_their_place() -> None:
    data: dict[str, Any] = {
        "work_analytics": {
            **WA,
            "teams": [{"team": "Sales Team", "queues": "Sales"}, {"team": "care", "queues": "("}],
            "default_team": "-x",
        },
        "contact_center": {**CC, "teams": [{"team": "care"}, {"queues": "x", "colour": "red"}]},
    }
    with pytest.raises(ConfigError) as caught:
        load_config_data(data)
    problems = caught.value.problems
    rule = "letters, digits, '_', '.' and '-', at most 63, starting with a letter or digit"
    assert any(
        p.startswith("work_analytics.teams[0].team: 'Sales Team' is not a team name") and rule in p
        for p in problems
    ), problems
    assert any(
        p.startswith("work_analytics.teams[1].queues: '(' is not a regular expression")
        for p in problems
    ), problems
    assert any(
        p.startswith("work_analytics.default_team: '-x' is not a team name") for p in problems
    )
    assert "contact_center.teams[0].queues: Field required" in problems
    assert "contact_center.teams[1].team: Field required" in problems
    assert "contact_center.teams[1].colour: unknown key" in problems


def test_discovery_exports_each_queues_team_on_its_info_series() -> None:
    client = CannedClient(
        {
            "pbxes": [{"id": PBX_ID, "name": "acme"}],
            "sites": [{"id": SITE_ID, "name": "Berlin"}, {"id": "s2", "name": "Paris"}],
            "queues": [
                {"id": "v1", "name": "VIP Line", "extensionNumber": "7100", "siteId": SITE_ID},
                {"id": "v2", "name": "VIP Line", "extensionNumber": "7200", "siteId": "s2"},
                {"id": "q3", "name": "Billing", "extensionNumber": "7300", "siteId": "s2"},
            ],
        }
    )
    mapping = teams([{"team": "vip-paris", "queues": "7200"}, {"team": "vip", "queues": "VIP.*"}])
    out = Recorder(DiscoveryPoller(client, interval=600, pbx_refs=[], teams=mapping).collect())
    common = {"pbx": "acme", "queue": "VIP Line"}
    info = "eightbyeight_queue_info"
    assert out.get(info, site="Berlin", extension="7100", queue_id="v1", team="vip", **common)
    assert out.get(info, site="Paris", extension="7200", queue_id="v2", team="vip-paris", **common)
    # No rule and no default team: the label is empty, so absent in Prometheus.
    assert out.get(
        info, pbx="acme", site="Paris", queue="Billing", extension="7300", queue_id="q3", team=""
    )
    assert len([name for name, _ in out.samples if name == info]) == 3  # one series a queue


def test_contact_center_queues_export_their_team_and_other_endpoints_none(rsps) -> None:
    add_token(rsps)
    items = [
        {
            "id": "101",
            "name": "Sales",
            "metrics": [{"key": "interactionsWaitInQueue.rt", "value": 2}],
        },
        {"id": "102", "name": "Care", "metrics": []},
    ]
    rsps.get(f"{RT}/queues", json=items)
    section = {**CC, "teams": [{"team": "sales", "queues": "101"}], "default_team": "care-desk"}
    mapping = load_config_data(
        {"work_analytics": {"enabled": False}, "contact_center": section}
    ).contact_center.queue_teams
    out = Recorder(realtime_collector("queues", teams=mapping).collect())
    info = "eightbyeight_cc_queue_info"
    assert out.get(info, tenant="acme", queue_id="101", queue="Sales", team="sales") == 1
    assert out.get(info, tenant="acme", queue_id="102", queue="Care", team="care-desk") == 1
    rsps.get(f"{RT}/groups", json=[{"id": "7", "name": "Tier 1", "metrics": []}])
    assert info not in Recorder(realtime_collector("groups").collect()).names()


def test_a_reload_with_another_mapping_renews_only_the_pollers_that_export_teams() -> None:
    data: dict[str, Any] = {
        "work_analytics": {**WA, "teams": [{"team": "sales", "queues": "Sales"}]},
        "contact_center": {**CC, "teams": [{"team": "care", "queues": ".*"}]},
    }
    first = build_exporter(load_config_data(data), process_metrics=False)
    data["work_analytics"]["teams"] = [{"team": "front-desk", "queues": "Sales"}]
    data["contact_center"]["default_team"] = "care"
    second = build_exporter(load_config_data(data), process_metrics=False, previous=first)
    try:
        before = {r.poller.name: r.poller for r in first.scheduler.runners}
        after = {r.poller.name: r.poller for r in second.scheduler.runners}
        discovery = after["discovery"]
        assert isinstance(discovery, DiscoveryPoller) and discovery is not before["discovery"]
        assert discovery.teams.team_of("Sales") == "front-desk"
        queues = after["cc_queues"]
        assert isinstance(queues, CcRealtimePoller) and queues is not before["cc_queues"]
        assert queues.teams.default == "care"
        # The other Contact Center endpoints take no teams: kept as they were.
        assert after["cc_groups"] is before["cc_groups"]
        # An unchanged mapping keeps the pollers.
        third = build_exporter(load_config_data(data), process_metrics=False, previous=second)
        kept = {r.poller.name: r.poller for r in third.scheduler.runners}
        assert kept["discovery"] is discovery and kept["cc_queues"] is queues
    finally:
        for exporter in (first, second):
            exporter.close()
