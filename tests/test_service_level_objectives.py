"""Each queue's service-level objective (work_analytics.service_levels and
contact_center.service_levels): its validation, the series the exporter exports for the rules,
the wait-histogram bucket each threshold needs, and a reload that changes one."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.app import build_exporter
from exporter.config import ConfigError, QueueServiceLevels, load_config_data
from exporter.pollers.call_legs import CallLegPoller
from exporter.pollers.cc_realtime import CcRealtimePoller
from exporter.pollers.discovery import DiscoveryPoller
from tests.support.call_queues import PBX_ID, SITE_ID, CannedClient
from tests.support.contact_center import RT, add_token, realtime_collector
from tests.support.page import Recorder

WA = {"api_key": "k", "username": "u", "password": "p"}
CC = {"enabled": True, "client_id": "id", "client_secret": "s"}
THRESHOLD = "eightbyeight_queue_service_level_threshold_seconds"
TARGET = "eightbyeight_queue_service_level_target_ratio"


def objectives(section: str, **settings: Any) -> QueueServiceLevels:
    data: dict[str, Any] = {"work_analytics": WA}
    if section == "contact_center":
        data["contact_center"] = {**CC, **settings}
        return load_config_data(data).contact_center.queue_service_levels
    data["work_analytics"] = {**WA, **settings}
    return load_config_data(data).work_analytics.queue_service_levels


def test_the_first_matching_rule_wins_on_name_extension_or_id_else_the_default() -> None:
    levels = objectives(
        "work_analytics",
        service_levels=[
            {"queues": "VIP.*", "threshold_seconds": 10, "target": 0.95},
            {"queues": "Sales|7001", "threshold_seconds": 30},
        ],
        default_service_level={"threshold_seconds": 15, "target": 0.9},
    )
    assert (
        levels.of("VIP Line", "7100", "v1").threshold_seconds,
        levels.of("VIP Line").target,
    ) == (10, 0.95)
    by_extension = levels.of("Inbound", "7001", "q9")
    assert (by_extension.threshold_seconds, by_extension.target) == (
        30,
        0.8,
    )  # rule's default target
    other = levels.of("Sales EMEA", "7003", "q3")  # full match only
    assert (other.threshold_seconds, other.target) == (15, 0.9)
    assert levels.thresholds() == {10, 15, 30}
    plain = objectives("work_analytics")
    assert (plain.of("x").threshold_seconds, plain.of("x").target) == (20, 0.8)


def test_bad_objectives_are_named_with_their_place() -> None:
    data: dict[str, Any] = {
        "work_analytics": {
            **WA,
            "service_levels": [
                {"queues": "Sales", "threshold_seconds": 0},
                {"queues": "(", "target": 1.5},
                {"threshold_seconds": 20},
            ],
            "default_service_level": {"target": 0, "colour": "red"},
        },
        "contact_center": {**CC, "service_levels": [{"queues": "x", "threshold_seconds": "soon"}]},
    }
    with pytest.raises(ConfigError) as caught:
        load_config_data(data)
    problems = caught.value.problems
    expected = [
        "work_analytics.service_levels[0].threshold_seconds: Input should be greater than 0",
        "work_analytics.service_levels[1].target: Input should be less than or equal to 1",
        "work_analytics.service_levels[2].queues: Field required",
        "work_analytics.default_service_level.target: Input should be greater than 0",
        "work_analytics.default_service_level.colour: unknown key",
    ]
    for problem in expected:
        assert problem in problems, problems
    assert any(
        p.startswith("work_analytics.service_levels[1].queues: '(' is not a regular")
        for p in problems
    )
    assert any(
        p.startswith("contact_center.service_levels[0].threshold_seconds:") for p in problems
    )


def test_discovery_exports_each_queues_objective_with_the_bucket_that_counts_it() -> None:
    client = CannedClient(
        {
            "pbxes": [{"id": PBX_ID, "name": "acme"}],
            "sites": [{"id": SITE_ID, "name": "Berlin"}],
            "queues": [
                {"id": "v1", "name": "VIP Line", "extensionNumber": "7100", "siteId": SITE_ID},
                {"id": "q2", "name": "Billing", "extensionNumber": "7200", "siteId": SITE_ID},
            ],
        }
    )
    levels = objectives(
        "work_analytics",
        service_levels=[{"queues": "VIP.*", "threshold_seconds": 12.5, "target": 0.95}],
    )
    poller = DiscoveryPoller(client, interval=600, pbx_refs=[], service_levels=levels)
    out = Recorder(poller.collect())
    vip = {"pbx": "acme", "queue": "VIP Line", "extension": "7100", "queue_id": "v1"}
    billing = {"pbx": "acme", "queue": "Billing", "extension": "7200", "queue_id": "q2"}
    # `wait_bucket_le` is written as prometheus_client writes the bucket's `le`.
    assert out.get(THRESHOLD, wait_bucket_le="12.5", **vip) == 12.5
    assert out.get(THRESHOLD, wait_bucket_le="20.0", **billing) == 20.0
    assert out.get(TARGET, **vip) == 0.95
    assert out.get(TARGET, **billing) == 0.8
    assert len([n for n, _ in out.samples if n in (THRESHOLD, TARGET)]) == 4


def test_every_threshold_becomes_a_bucket_of_the_call_legs_wait_histogram() -> None:
    data: dict[str, Any] = {
        "work_analytics": {
            **WA,
            "service_levels": [{"queues": "VIP.*", "threshold_seconds": 12.5}],
            "default_service_level": {"threshold_seconds": 25},
            "call_legs": {"wait_buckets": [10, 20, 60]},
        },
    }
    exporter = build_exporter(load_config_data(data), process_metrics=False)
    try:
        legs = {r.poller.name: r.poller for r in exporter.scheduler.runners}["call_legs"]
        assert isinstance(legs, CallLegPoller)
        assert legs.wait_bounds == [10, 12.5, 20, 25, 60]
    finally:
        exporter.close()


def test_contact_center_queues_fall_back_to_the_configured_objective_only_without_their_own(
    rsps,
) -> None:
    add_token(rsps)
    own = [
        {"key": "slaPercentageTarget.today", "value": "85"},
        {"key": "slaTimeThreshold.today", "value": "30000"},
    ]
    items = [
        {"id": "101", "name": "Sales", "metrics": own},
        {"id": "102", "name": "Care", "metrics": own[:1]},  # a target but no threshold
        {"id": "103", "name": "Night", "metrics": []},
    ]
    rsps.get(f"{RT}/queues", json=items)
    levels = objectives(
        "contact_center",
        service_levels=[{"queues": "Night", "threshold_seconds": 60, "target": 0.7}],
    )
    out = Recorder(realtime_collector("queues", service_levels=levels).collect())
    target = "eightbyeight_cc_queue_configured_service_level_target_ratio"
    threshold = "eightbyeight_cc_queue_configured_service_level_threshold_seconds"
    sales = {"tenant": "acme", "queue_id": "101", "queue": "Sales"}
    care = {"tenant": "acme", "queue_id": "102", "queue": "Care"}
    night = {"tenant": "acme", "queue_id": "103", "queue": "Night"}
    assert (
        out.get("eightbyeight_cc_queue_service_level_target_ratio", period="today", **sales) == 0.85
    )
    assert out.get(target, **sales) is None and out.get(threshold, **sales) is None
    assert out.get(target, **care) is None and out.get(threshold, **care) == 20.0
    assert out.get(target, **night) == 0.7 and out.get(threshold, **night) == 60.0
    rsps.get(f"{RT}/groups", json=[{"id": "7", "name": "Tier 1", "metrics": []}])
    assert target not in Recorder(realtime_collector("groups").collect()).names()


def test_a_reload_with_other_objectives_renews_the_pollers_that_use_them() -> None:
    data: dict[str, Any] = {
        "work_analytics": {**WA, "service_levels": [{"queues": "Sales", "target": 0.9}]},
        "contact_center": CC,
    }
    first = build_exporter(load_config_data(data), process_metrics=False)
    data["work_analytics"]["service_levels"] = [{"queues": "Sales", "target": 0.85}]
    data["contact_center"] = {**CC, "default_service_level": {"target": 0.7}}
    second = build_exporter(load_config_data(data), process_metrics=False, previous=first)
    try:
        before = {r.poller.name: r.poller for r in first.scheduler.runners}
        after = {r.poller.name: r.poller for r in second.scheduler.runners}
        discovery = after["discovery"]
        assert isinstance(discovery, DiscoveryPoller) and discovery is not before["discovery"]
        assert discovery.service_levels.of("Sales").target == 0.85
        queues = after["cc_queues"]
        assert isinstance(queues, CcRealtimePoller) and queues is not before["cc_queues"]
        assert queues.service_levels.of("x").target == 0.7
        assert after["cc_groups"] is before["cc_groups"]
    finally:
        for exporter in (first, second):
            exporter.close()
