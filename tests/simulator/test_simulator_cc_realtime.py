"""Simulator, Contact Center realtime metrics (v5): shapes against the spec, the key catalogue,
paging, filters, time zones, value types, and consistency with the tenant's model."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from simulator import Simulator
from simulator.cc import AGENT_METRIC_KEYS, GROUP_METRIC_KEYS, QUEUE_METRIC_KEYS
from simulator.cc.facts import LeaveOutcome
from simulator.cc.timestamps import local_midnight
from tests.support.clock import FakeClock
from tests.support.simulator import START_TIME, CcClient
from tests.support.vendor_docs import CC_REALTIME_SPEC

if TYPE_CHECKING:
    from tests.support.simulator import ClockFactory
    from tests.support.vendor_docs import VendorSchemas

SALES = "acme-sales"
SUPPORT = "acme-support"
STATUSES = {"Available", "Busy", "Wrap Up", "On Break", "Working Offline", "Offering", "Logged Out"}
ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture(scope="module")
def cc_sim(shared_sim: Simulator) -> Simulator:
    """Read-only: its clock stays at START_TIME (Tuesday 15:00 UTC, 10:00 in New York)."""
    return shared_sim


@pytest.fixture(scope="module")
def api(cc_sim: Simulator) -> Iterator[CcClient]:
    with CcClient(cc_sim) as client:
        yield client


def metrics_of(item: dict[str, Any]) -> dict[str, Any]:
    return {metric["key"]: metric["value"] for metric in item["metrics"]}


def spec_example(vendor_schemas: VendorSchemas, path: str) -> list[str]:
    parameters = vendor_schemas.document(CC_REALTIME_SPEC)["paths"][path]["get"]["parameters"]
    parameter = next(p for p in parameters if p["name"] == "metrics")
    return list(parameter.get("example") or parameter["schema"]["example"])


# ----------------------------------------------------------------- catalogue and shapes
def test_metric_catalogues_are_the_spec_examples(vendor_schemas: VendorSchemas) -> None:
    queues = spec_example(vendor_schemas, "/queues")
    assert "eligibl.rt" in queues  # the vendor's typo; the simulator serves eligible.rt
    assert list(QUEUE_METRIC_KEYS) == [
        "eligible.rt" if key == "eligibl.rt" else key for key in queues
    ]
    assert list(GROUP_METRIC_KEYS) == spec_example(vendor_schemas, "/groups")
    assert list(AGENT_METRIC_KEYS) == spec_example(vendor_schemas, "/agents")


def test_queues_match_the_spec_schema_and_serve_every_key(
    api: CcClient, vendor_schemas: VendorSchemas
) -> None:
    response = api.realtime(SALES, "/queues")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(
        "application/json"
    )
    body = response.json()
    vendor_schemas.check(
        vendor_schemas.cc_realtime_validator(
            "MultiQueueResponse", strict=("SingleQueueResponse", "MetricItem")
        ),
        body,
    )
    assert len(body) == 4
    for item in body:
        assert [m["key"] for m in item["metrics"]] == list(QUEUE_METRIC_KEYS)


def test_groups_and_agents_match_the_spec_schema(
    api: CcClient, vendor_schemas: VendorSchemas, cc_sim: Simulator
) -> None:
    groups = api.realtime(SALES, "/groups").json()
    vendor_schemas.check(
        vendor_schemas.cc_realtime_validator(
            "MultiQueueResponse", strict=("SingleQueueResponse", "MetricItem")
        ),
        groups,
    )
    assert [(g["id"], g["name"]) for g in groups] == [tuple(g) for g in cc_sim.cc.groups(SALES)]
    assert all([m["key"] for m in g["metrics"]] == list(GROUP_METRIC_KEYS) for g in groups)
    agents = api.realtime(SALES, "/agents").json()
    vendor_schemas.check(
        vendor_schemas.cc_realtime_validator(
            "AgentsResponse", strict=("SingleAgentWithMetricsResponse", "MetricItem")
        ),
        agents,
    )
    assert [(a["id"], a["name"]) for a in agents] == [tuple(a) for a in cc_sim.cc.agents(SALES)]
    names = {g.id: g.name for g in cc_sim.cc.groups(SALES)}
    assert all(names[a["groupId"]] == a["groupName"] for a in agents)
    assert all([m["key"] for m in a["metrics"]] == list(AGENT_METRIC_KEYS) for a in agents)


def test_single_queue_and_group(
    api: CcClient, cc_sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    queue_id, name = cc_sim.cc.queues(SALES)[1]
    item = api.realtime(SALES, f"/queues/{queue_id}").json()
    vendor_schemas.check(
        vendor_schemas.cc_realtime_validator(
            "SingleQueueResponse", strict=("SingleQueueResponse", "MetricItem")
        ),
        item,
    )
    assert (item["id"], item["name"]) == (queue_id, name)
    assert metrics_of(item) == cc_sim.cc.realtime_values(SALES, "queues", queue_id)
    group_id, _ = cc_sim.cc.groups(SALES)[0]
    assert metrics_of(
        api.realtime(SALES, f"/groups/{group_id}").json()
    ) == cc_sim.cc.realtime_values(SALES, "groups", group_id)
    for path in ("/queues/999999", "/groups/nope", "/queues/nope/agents"):
        response = api.realtime(SALES, path)
        assert response.status_code == 404 and response.json()["status"] == 404


def test_agents_of_a_queue_and_of_a_group(api: CcClient, cc_sim: Simulator) -> None:
    tenant = cc_sim.cc.tenant(SALES)
    queue = tenant.queues[0]
    response = api.realtime(SALES, f"/queues/{queue.id}/agents")
    assert response.headers["X-Page-Size"] == "10"  # the spec's default for this endpoint
    assert int(response.headers["X-Total-Elements"]) == len(queue.agent_ids)
    assert [a["id"] for a in response.json()] == list(queue.agent_ids)[:10]
    group = tenant.groups[1]
    assert [a["id"] for a in api.realtime(SALES, f"/groups/{group.id}/agents").json()] == list(
        group.agent_ids
    )


def test_realtime_values_are_what_the_api_serves(api: CcClient, cc_sim: Simulator) -> None:
    for kind in ("queues", "groups", "agents"):
        for item in api.realtime(SUPPORT, f"/{kind}").json():
            assert metrics_of(item) == cc_sim.cc.realtime_values(SUPPORT, kind, item["id"])


# ----------------------------------------------------------------- paging
def test_paging_headers_and_next_links_to_the_last_page(api: CcClient) -> None:
    url: str | None = api.realtime_url(SALES, "/agents") + "?size=5&metrics=status.rt"
    seen: list[str] = []
    pages = 0
    while url is not None and pages < 10:
        response = api.get(url, SALES)
        assert response.status_code == 200
        headers = response.headers
        assert headers["X-Page"] == str(pages) and headers["X-Page-Size"] == "5"
        assert headers["X-Total-Pages"] == "3" and headers["X-Total-Elements"] == "12"
        seen += [item["id"] for item in response.json()]
        assert all([m["key"] for m in item["metrics"]] == ["status.rt"] for item in response.json())
        link = headers.get("Link")
        if pages < 2:
            match = re.fullmatch(r'<(http://[^>]+)>; rel="next"', link or "")
            assert match, link
            url = match.group(1)
            assert f"page={pages + 1}" in url and "size=5" in url and "metrics=status.rt" in url
        else:
            assert link is None
            url = None
        pages += 1
    assert pages == 3 and len(seen) == 12 == len(set(seen))


def test_a_page_past_the_end_is_empty_with_headers(api: CcClient) -> None:
    response = api.realtime(SALES, "/queues", {"page": 7, "size": 2})
    assert response.status_code == 200 and response.json() == []
    assert (
        response.headers["X-Page"],
        response.headers["X-Total-Pages"],
        response.headers["X-Total-Elements"],
    ) == ("7", "2", "4")
    assert "Link" not in response.headers


@pytest.mark.parametrize(
    "params", [{"size": 0}, {"size": 1001}, {"size": "ten"}, {"page": -1}, {"summary": "maybe"}]
)
def test_bad_paging_parameters_are_400(api: CcClient, params: dict[str, Any]) -> None:
    response = api.realtime(SALES, "/queues", params)
    assert response.status_code == 400 and response.json()["error"] == "Bad Request"


def test_size_up_to_1000_is_accepted(api: CcClient) -> None:
    response = api.realtime(SALES, "/agents", {"size": 1000, "summary": "true"})
    assert (
        response.status_code == 200
        and len(response.json()) == 12
        and response.headers["X-Total-Pages"] == "1"
    )


# ----------------------------------------------------------------- filters
def test_metrics_filter_repeated_or_comma_separated_in_the_order_asked(api: CcClient) -> None:
    wanted = [
        "slaPercentage.int-1h",
        "entered.today",
        "interactionsAvgWaitTime.today",
        "interactionsWaitInQueue.rt",
    ]
    repeated = api.realtime(SALES, "/queues", [("metrics", key) for key in wanted]).json()
    comma = api.realtime(SALES, "/queues", {"metrics": ",".join(wanted)}).json()
    mixed = api.realtime(
        SALES,
        "/queues",
        [("metrics", ",".join(wanted[:2])), ("metrics", wanted[2]), ("metrics", wanted[3])],
    ).json()
    assert repeated == comma == mixed
    assert all([m["key"] for m in item["metrics"]] == wanted for item in repeated)


def test_eligibl_typo_of_the_spec_is_an_alias(api: CcClient, cc_sim: Simulator) -> None:
    body = api.realtime(SALES, "/queues", {"metrics": "eligibl.rt,eligible.rt"}).json()
    for item in body:
        assert [m["key"] for m in item["metrics"]] == ["eligibl.rt", "eligible.rt"]
        assert item["metrics"][0]["value"] == item["metrics"][1]["value"]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/queues", "status.rt"),
        ("/queues", "accepted.int-45m"),
        ("/groups", "entered.today"),
        ("/agents", "busy.rt"),
        ("/agents", "accepted.today"),
        ("/queues", "nonsense"),
    ],
)
def test_an_unknown_metric_is_400_naming_it(api: CcClient, path: str, key: str) -> None:
    response = api.realtime(
        SALES,
        path,
        [("metrics", "enabled.rt" if path != "/agents" else "status.rt"), ("metrics", key)],
    )
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": "Bad Request",
        "message": f"Unknown metric: {key}",
    }


def test_id_filters(api: CcClient, cc_sim: Simulator) -> None:
    queues = [q.id for q in cc_sim.cc.queues(SALES)]
    body = api.realtime(
        SALES,
        "/queues",
        [("queue-ids", queues[2]), ("queue-ids", queues[0]), ("queue-ids", "nope")],
    ).json()
    assert [item["id"] for item in body] == [
        queues[0],
        queues[2],
    ]  # configuration order; unknown ids ignored
    tenant = cc_sim.cc.tenant(SALES)
    group = tenant.groups[0]
    body = api.realtime(SALES, "/agents", {"group-ids": group.id, "metrics": "status.rt"}).json()
    assert [item["id"] for item in body] == list(group.agent_ids)
    some = [tenant.agents[1].id, tenant.agents[3].id]
    body = api.realtime(
        SALES, "/agents", {"agent-ids": ",".join(some), "metrics": "status.rt"}
    ).json()
    assert [item["id"] for item in body] == some
    body = api.realtime(SALES, "/groups", {"group-ids": group.id}).json()
    assert [item["id"] for item in body] == [group.id]


def test_summary_lists_ids_and_names_only(api: CcClient, cc_sim: Simulator) -> None:
    queues = api.realtime(
        SALES, "/queues", {"summary": "true", "metrics": "bogus.rt", "queue-ids": "1"}
    ).json()
    assert queues == [
        {"id": q.id, "name": q.name} for q in cc_sim.cc.queues(SALES)
    ]  # filters ignored, as the spec says
    agents = api.realtime(SALES, "/agents", {"summary": "true"}).json()
    assert all(
        set(a) == {"id", "name", "groupId", "groupName"} for a in agents
    )  # the spec's agent summary


# ----------------------------------------------------------------- time zones
def test_today_counts_from_the_local_midnight_of_the_requested_time_zone(
    api: CcClient, cc_sim: Simulator
) -> None:
    keys = {"metrics": "accepted.today,entered.today,accepted.int-30m"}
    default = api.realtime(SALES, "/queues", keys).json()  # America/New_York: 10 hours of today
    utc = api.realtime(SALES, "/queues", {**keys, "timezone": "UTC"}).json()  # 15 hours
    kiritimati = api.realtime(
        SALES, "/queues", {**keys, "timezone": "Pacific/Kiritimati"}
    ).json()  # 05:00 there
    explicit = api.realtime(SALES, "/queues", {**keys, "timezone": "America/New_York"}).json()
    assert default == explicit
    model = cc_sim.cc.model(SALES)
    for zone, body in (
        ("America/New_York", default),
        ("UTC", utc),
        ("Pacific/Kiritimati", kiritimati),
    ):
        midnight = local_midnight(START_TIME, ZoneInfo(zone))
        for item in body:
            accepted = sum(
                1
                for leave in model.leaves.records
                if leave.queue == item["id"]
                and leave.outcome is LeaveOutcome.ACCEPTED
                and midnight <= leave.at <= START_TIME
            )
            assert metrics_of(item)["accepted.today"] == accepted
    total = {
        name: sum(metrics_of(item)["accepted.today"] for item in body)
        for name, body in (("ny", default), ("utc", utc), ("kiritimati", kiritimati))
    }
    assert total["kiritimati"] < total["ny"] < total["utc"]
    # The trailing windows do not depend on the zone.
    assert [metrics_of(i)["accepted.int-30m"] for i in default] == [
        metrics_of(i)["accepted.int-30m"] for i in utc
    ]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "not a zone", "../etc"])
def test_an_invalid_time_zone_is_400_naming_it(api: CcClient, zone: str) -> None:
    response = api.realtime(SALES, "/queues", {"timezone": zone})
    assert response.status_code == 400 and zone in response.json()["message"]


def test_second_tenant_defaults_to_london(api: CcClient, cc_sim: Simulator) -> None:
    assert cc_sim.cc.time_zone_of(SUPPORT) == "Europe/London"
    default = api.realtime(SUPPORT, "/queues", {"metrics": "entered.today"}).json()
    london = api.realtime(
        SUPPORT, "/queues", {"metrics": "entered.today", "timezone": "Europe/London"}
    ).json()
    assert default == london


# ----------------------------------------------------------------- value types
def test_values_have_the_documented_types(api: CcClient) -> None:
    queues = [metrics_of(item) for item in api.realtime(SALES, "/queues").json()]
    agents = [metrics_of(item) for item in api.realtime(SALES, "/agents").json()]
    for values in queues:
        assert isinstance(values["entered.today"], int) and isinstance(
            values["interactionsWaitInQueue.rt"], int
        )
        assert (
            isinstance(values["avgHandlingTime.today"], int)
            and values["avgHandlingTime.today"] > 1000
        )  # milliseconds
        assert isinstance(values["slaPercentageTarget.today"], str) and values[
            "slaPercentageTarget.today"
        ] in ("80", "85", "90")
        assert isinstance(values["slaTimeThreshold.today"], str) and int(
            values["slaTimeThreshold.today"]
        ) in (20_000, 30_000, 60_000)
        for key, value in values.items():
            if "Percentage" in key and key != "slaPercentageTarget.today":
                assert isinstance(value, (int, float)) and 0 <= value <= 100
    # Averages of nothing are null (no interaction was ever diverted in the last 15 minutes).
    assert any(values["avgDivertedTime.int-15m"] is None for values in queues)
    for values in agents:
        assert values["status.rt"] in STATUSES
        assert values["statusCode.rt"] is None or isinstance(values["statusCode.rt"], str)
        assert isinstance(values["timeOnStatus.rt"], int) and values["timeOnStatus.rt"] >= 0
        for key in ("lastLogin.rt", "lastLogout.rt"):
            assert values[key] is None or ISO_UTC.fullmatch(values[key]), values[key]
        assert values["alerting.rt"] in (0, 1)
    assert any(values["lastLogout.rt"] is None for values in agents)
    assert any(values["lastLogin.rt"] is not None for values in agents)
    assert len({values["status.rt"] for values in agents}) >= 2


def test_agent_status_times_partition_the_logged_in_time(api: CcClient) -> None:
    for item in api.realtime(SALES, "/agents").json():
        values = metrics_of(item)
        for period in ("int-15m", "int-30m", "today"):
            parts = [
                values[f"{name}.{period}"]
                for name in ("availableTime", "busyTime", "onBreakTime", "workingOfflineTime")
            ]
            assert sum(parts) == pytest.approx(values[f"loggedInTime.{period}"], abs=4)
            assert values[f"busyTime.{period}"] == pytest.approx(
                values[f"offeringTime.{period}"]
                + values[f"handlingTime.{period}"]
                + values[f"wrapUpTime.{period}"],
                abs=3,
            )
        assert values["loggedInTime.int-15m"] <= 900_000
        assert (
            values["loggedInTime.int-15m"]
            <= values["loggedInTime.int-30m"]
            <= values["loggedInTime.today"]
        )


# ----------------------------------------------------------------- consistency with the model
def test_live_values_agree_with_the_model(api: CcClient, cc_sim: Simulator) -> None:
    model = cc_sim.cc.model(SALES)
    tenant = cc_sim.cc.tenant(SALES)
    snapshots = model.agent_snapshots()
    for item in api.realtime(SALES, "/queues").json():
        values = metrics_of(item)
        waiting = model.waiting(item["id"])
        assert values["interactionsWaitInQueue.rt"] == len(waiting)
        members = [snapshots[agent_id] for agent_id in tenant.queue_by_id[item["id"]].agent_ids]
        assert values["enabled.rt"] == len(members)
        counted = sum(
            values[f"{key}.rt"]
            for key in ("availableIdle", "offering", "busy", "wrapUp", "onBreak", "workingOffline")
        )
        logged_out = sum(1 for s in members if s.status.value == "Logged Out")
        assert counted + logged_out == values["enabled.rt"]
        assert (
            values["eligible.rt"] == values["enabled.rt"] - logged_out - values["workingOffline.rt"]
        )
        assert values["interactionsHandling.rt"] == values["handling.rt"]
        for period in ("int-15m", "int-30m", "today"):
            assert (
                values[f"totalAbandoned.{period}"]
                == values[f"abandoned.{period}"] + values[f"shortAbandoned.{period}"]
            )
            left = (
                values[f"accepted.{period}"]
                + values[f"totalAbandoned.{period}"]
                + values[f"diverted.{period}"]
            )
            if left:
                assert values[f"acceptedPercentage.{period}"] + values[
                    f"totalAbandonedPercentage.{period}"
                ] + values[f"divertedPercentage.{period}"] == pytest.approx(100, abs=0.02)
        assert values["entered.int-15m"] <= values["entered.int-30m"] <= values["entered.today"]
    agents = {item["id"]: metrics_of(item) for item in api.realtime(SALES, "/agents").json()}
    for agent_id, snapshot in snapshots.items():
        assert agents[agent_id]["status.rt"] == snapshot.status.value


def test_interactions_are_conserved_since_the_history_start(cc_sim: Simulator) -> None:
    """Every interaction that entered left the queue once, or is still waiting."""
    for tenant in cc_sim.cc.tenants:
        model = cc_sim.cc.model(tenant)
        assert model.history_start <= local_midnight(
            START_TIME, ZoneInfo(cc_sim.cc.time_zone_of(tenant))
        )
        assert len(model.entries) == len(model.leaves) + len(model.waiting())
        assert len(model.entries) > 200


def test_counts_never_decrease_within_today_on_an_advancing_clock(
    make_simulator: Callable[..., Simulator],
    fake_clock: FakeClock,
    make_cc_client: Callable[[Simulator], CcClient],
) -> None:
    simulator = make_simulator(seed=7, cc_token_ttl=86_400)
    api = make_cc_client(simulator)
    monotonic = ("entered", "accepted", "abandoned", "shortAbandoned", "totalAbandoned", "diverted")
    keys = ",".join(f"{name}.today" for name in monotonic) + ",interactionsWaitInQueue.rt"
    previous: dict[str, dict[str, Any]] = {}
    grew = False
    for _ in range(12):  # two hours in steps of 10 minutes, all within Tuesday in New York
        body = api.realtime(SALES, "/queues", {"metrics": keys}).json()
        for item in body:
            values = metrics_of(item)
            assert values["interactionsWaitInQueue.rt"] == len(
                simulator.cc.model(SALES).waiting(item["id"])
            )
            before = previous.get(item["id"])
            if before is not None:
                for name in monotonic:
                    assert values[f"{name}.today"] >= before[f"{name}.today"], (item["id"], name)
                grew = grew or values["entered.today"] > before["entered.today"]
            previous[item["id"]] = values
        fake_clock.advance(600)
    assert grew


def test_today_restarts_at_local_midnight(
    make_simulator: Callable[..., Simulator],
    clock_factory: ClockFactory,
    make_cc_client: Callable[[Simulator], CcClient],
) -> None:
    # 23:50 in New York (04:50 UTC on Wednesday).
    clock = clock_factory(now=datetime(2024, 3, 6, 4, 50, tzinfo=UTC).timestamp())
    simulator = make_simulator(seed=3, clock=clock)
    api = make_cc_client(simulator)
    keys = {"metrics": "entered.today"}
    before = sum(
        metrics_of(i)["entered.today"] for i in api.realtime(SALES, "/queues", keys).json()
    )
    clock.advance(15 * 60)  # 00:05
    after = sum(metrics_of(i)["entered.today"] for i in api.realtime(SALES, "/queues", keys).json())
    assert before > 50 and after < before


def test_set_staffing_makes_a_queue_breach_its_service_level(
    make_simulator: Callable[..., Simulator],
    fake_clock: FakeClock,
    make_cc_client: Callable[[Simulator], CcClient],
) -> None:
    simulator = make_simulator(seed=42)
    api = make_cc_client(simulator)
    queue_id = simulator.cc.queues(SALES)[0].id
    keys = {
        "metrics": "enabled.rt,availableIdle.rt,slaPercentage.int-15m,accepted.int-15m,totalAbandoned.int-15m"
    }
    simulator.cc.set_staffing(SALES, queue_id, 0)
    assert simulator.cc.model(SALES).enabled_agent_ids(queue_id) == []
    fake_clock.advance(20 * 60)
    values = metrics_of(api.realtime(SALES, f"/queues/{queue_id}", keys).json())
    assert values["enabled.rt"] == 0 and values["availableIdle.rt"] == 0
    assert values["accepted.int-15m"] == 0 and values["totalAbandoned.int-15m"] > 0
    assert values["slaPercentage.int-15m"] == 0  # nothing answered within the threshold
    target = simulator.cc.realtime_values(SALES, "queues", queue_id)["slaPercentageTarget.today"]
    assert values["slaPercentage.int-15m"] < float(target)
    simulator.cc.set_staffing(SALES, queue_id, 2)
    assert simulator.cc.realtime_values(SALES, "queues", queue_id)["enabled.rt"] == 2
    simulator.cc.set_staffing(SALES, queue_id, None)
    fake_clock.advance(15 * 60)
    values = metrics_of(api.realtime(SALES, f"/queues/{queue_id}", keys).json())
    assert values["enabled.rt"] == 6 and values["accepted.int-15m"] > 0


def test_set_arrival_rate_surges_a_queue_and_zero_stops_it(
    make_simulator: Callable[..., Simulator], fake_clock: FakeClock
) -> None:
    simulator = make_simulator(seed=42)
    queue_id = simulator.cc.queues(SALES)[0].id
    entered = lambda: simulator.cc.realtime_values(SALES, "queues", queue_id)["entered.today"]  # noqa: E731
    simulator.cc.set_staffing(SALES, queue_id, 0)
    simulator.cc.set_arrival_rate(SALES, queue_id, 3600)  # one a second on average
    before = entered()
    fake_clock.advance(60)
    surged = entered() - before
    assert 30 <= surged <= 100
    values = simulator.cc.realtime_values(SALES, "queues", queue_id)
    assert values["interactionsWaitInQueue.rt"] > 10 and values["availableIdle.rt"] == 0
    simulator.cc.set_arrival_rate(SALES, queue_id, 0)
    simulator.cc.set_staffing(SALES, queue_id, None)
    before = entered()
    fake_clock.advance(600)
    assert entered() == before  # no arrivals at rate 0, even the one scheduled before
    assert (
        simulator.cc.realtime_values(SALES, "queues", queue_id)["interactionsWaitInQueue.rt"] == 0
    )
    simulator.cc.set_arrival_rate(SALES, queue_id, None)  # the daily rhythm again
    with pytest.raises(ValueError):
        simulator.cc.set_arrival_rate(SALES, queue_id, -1)


# ----------------------------------------------------------------- determinism
def test_same_seed_and_clock_give_the_same_bytes(
    make_simulator: Callable[..., Simulator],
    clock_factory: ClockFactory,
    make_cc_client: Callable[[Simulator], CcClient],
) -> None:
    answers = []
    for _ in range(2):
        simulator = make_simulator(seed=11, clock=clock_factory())
        api = make_cc_client(simulator)
        answers.append(
            [
                api.realtime(tenant, path).content
                for tenant in (SALES, SUPPORT)
                for path in ("/queues", "/groups", "/agents")
            ]
        )
    assert answers[0] == answers[1]
    other = make_cc_client(make_simulator(seed=12, clock=clock_factory()))
    assert other.realtime(SALES, "/queues").content != answers[0][0]


def test_admin_state_includes_the_contact_center(cc_sim: Simulator) -> None:
    import requests

    state = requests.get(cc_sim.root_url + "/_sim/state", timeout=10).json()["cc"]
    assert [t["id"] for t in state["tenants"]] == [SALES, SUPPORT]
    sales = state["tenants"][0]
    assert sales["region"] == "us" and sales["time_zone"] == "America/New_York"
    assert [q["id"] for q in sales["queues"]] == [q.id for q in cc_sim.cc.queues(SALES)]
    assert {a["status"] for a in sales["agents"]} <= STATUSES
    json.dumps(state)
