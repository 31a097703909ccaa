"""Simulator: the summary endpoints (/v1/compsum, /v2/rgsum-groups, /v2/rgsum-members,
/v2/extsum): schemas, parameters, auth and faults of every historical endpoint, and agreement
with the call legs and records of the same window."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from simulator import Simulator
from tests.support.simulator import START_TIME

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import SimClient
    from tests.support.vendor_docs import VendorSchemas

HISTORICAL = "work_analytics_historical.json"
NOW = START_TIME  # the clock of shared_sim
COMPSUM, RGSUM, MEMBERS, EXTSUM = (
    "/v1/compsum",
    "/v2/rgsum-groups",
    "/v2/rgsum-members",
    "/v2/extsum",
)
LEGS, RECORDS = "/v2/call-legs", "/v2/call-records"
SUMMARIES = (COMPSUM, RGSUM, MEMBERS, EXTSUM)
ENDPOINTS = (*SUMMARIES, LEGS, RECORDS)
MEMBER_EXTRAS = frozenset(
    {"ringGroupName", "ringGroupExtension"}
)  # not in the spec: which group a row is about


def everything(client: SimClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for page in client.scroll(path, params, 7000) for row in page["data"]]


def wait(leg: dict[str, Any]) -> int:
    return int(leg["callTime"] - leg["talkTimeMS"] - leg["calleeHoldDurationMS"])


@pytest.fixture
def hour(window: Callable[..., dict[str, str]]) -> dict[str, str]:
    """The last hour before NOW, every PBX."""
    return window(NOW - 3600, NOW)


@pytest.mark.parametrize("path", SUMMARIES)
def test_summaries_match_the_spec(
    shared_client: SimClient, vendor_schemas: VendorSchemas, hour: dict[str, str], path: str
) -> None:
    body = shared_client.get_json(path, hour)
    assert isinstance(body, list) and body
    vendor_schemas.validate_response(
        HISTORICAL, path, body, strict=True, extra=MEMBER_EXTRAS if path == MEMBERS else frozenset()
    )


def test_every_pbx_ring_group_membership_and_extension_gets_a_row(
    shared_client: SimClient, shared_sim: Simulator, hour: dict[str, str]
) -> None:
    names = [pbx.name for pbx in shared_sim.directory]
    assert [row["pbxId"] for row in shared_client.get_json(COMPSUM, hour)] == names
    groups = shared_sim.model.ring_groups()
    assert [
        (row["pbxId"], row["site"], row["name"], row["extension"], row["totalMembers"])
        for row in shared_client.get_json(RGSUM, hour)
    ] == [(g.pbx, g.site, g.name, g.extension, len(g.member_extensions)) for g in groups]
    members = shared_client.get_json(MEMBERS, hour)
    assert [(row["ringGroupExtension"], row["extension"]) for row in members] == [
        (g.extension, extension) for g in groups for extension in g.member_extensions
    ]
    extensions = shared_client.get_json(EXTSUM, hour)
    assert [(row["PbxId"], row["Extension"]) for row in extensions] == [
        (e.pbx, e.extension) for e in shared_sim.model.extensions()
    ]
    first = next(e for e in shared_sim.model.extensions())
    row = extensions[0]
    assert (
        row["FirstName"],
        row["LastName"],
        row["Department"],
        row["Branch"],
        row["Email"],
        row["UserName"],
        row["ServiceType"],
    ) == (
        first.first_name,
        first.last_name,
        first.department,
        first.branch,
        first.email,
        first.username,
        "UE",
    )


def test_pbx_names_unknown_names_and_allpbxes(
    shared_client: SimClient, shared_sim: Simulator, hour: dict[str, str]
) -> None:
    first, second = (pbx.name for pbx in shared_sim.directory)
    assert [
        row["pbxId"]
        for row in shared_client.get_json(
            COMPSUM, {**hour, "pbxId": f"{second},nosuchpbx,{first},{second}"}
        )
    ] == [second, first]
    assert shared_client.get_json(COMPSUM, {**hour, "pbxId": "nosuchpbx"}) == []
    assert {row["PbxId"] for row in shared_client.get_json(EXTSUM, {**hour, "pbxId": first})} == {
        first
    }
    assert (
        shared_client.get_json(LEGS, {**hour, "pbxId": "nosuchpbx", "pageSize": 5})["meta"][
            "scrollId"
        ]
        == "No Data"
    )
    assert shared_client.get_json(COMPSUM, {**hour, "pbxId": "ALLPBXES"}) == shared_client.get_json(
        COMPSUM, hour
    )


@pytest.mark.parametrize("path", SUMMARIES)
@pytest.mark.parametrize("missing", ["pbxId", "startTime", "endTime", "timeZone"])
def test_summaries_need_every_common_parameter(
    shared_client: SimClient,
    vendor_schemas: VendorSchemas,
    hour: dict[str, str],
    path: str,
    missing: str,
) -> None:
    response = shared_client.get(
        path, {name: value for name, value in hour.items() if name != missing}
    )
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate_response(HISTORICAL, path, body, status="400", strict=True)
    assert body["details"] == [
        {
            "type": "missingValue",
            "location": "query",
            "path": [missing],
            "hint": body["details"][0]["hint"],
        }
    ]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_checks_both_headers_and_token_expiry(
    client: SimClient, sim: Simulator, hour: dict[str, str], path: str
) -> None:
    params = {**hour, "pageSize": 10}
    no_key = client.get(path, params, headers={"Authorization": f"Bearer {client.token}"})
    assert no_key.status_code == 400 and no_key.json()["code"] == "SHA001"
    assert client.get(path, params, headers={"8x8-apikey": "sim-api-key"}).status_code == 401
    assert client.get(path, params).status_code == 200
    sim.expire_tokens()
    expired = client.get(path, params)
    assert expired.status_code == 401 and expired.json()["error_description"].startswith(
        "Access token expired"
    )


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_can_be_faulted(
    client: SimClient, sim: Simulator, hour: dict[str, str], path: str
) -> None:
    sim.faults.add(path + "$", status=503, times=1)
    params = {**hour, "pageSize": 10}
    assert client.get(path, params).status_code == 503
    assert client.get(path, params).status_code == 200


def test_company_summary_adds_up_the_call_records(
    shared_client: SimClient, hour: dict[str, str]
) -> None:
    records = everything(shared_client, RECORDS, hour)
    by_pbx: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_pbx[record["pbxId"]].append(record)
    for row in shared_client.get_json(COMPSUM, hour):
        mine = by_pbx[row["pbxId"]]
        inbound = [r for r in mine if r["direction"] == "Incoming"]
        outbound = [r for r in mine if r["direction"] == "Outgoing"]
        assert (
            row["totalCall"]
            == len(mine)
            == row["inboundTotal"] + row["outboundTotal"] + row["totalExtToExt"]
            > 0
        )
        assert (
            row["inboundTotal"] == len(inbound) == row["externalInboundTotal"]
            and row["outboundTotal"] == len(outbound) > 0
        )
        assert row["inboundAnswered"] == sum(r["answered"] == "Answered" for r in inbound)
        assert row["inboundAbandoned"] == sum(r["abandoned"] == "Abandoned" for r in inbound)
        assert row["inboundMissed"] == row["inboundTotal"] - row["inboundAnswered"]
        assert row["outboundAnswered"] == sum(r["answered"] == "Answered" for r in outbound)
        assert row["totalAnswered"] == row["inboundAnswered"] + row["outboundAnswered"]
        assert (
            row["totalMissed"]
            == row["inboundMissed"] + row["externalOutboundMissed"] + row["totalExtToExtMissed"]
        )
        assert row["totalVm"] == sum(r["lastLegDisposition"] == "Voicemail" for r in mine)
        assert row["totalTalkTime"] == sum(r["talkTimeMS"] for r in mine)
        assert row["totalCallTime"] == sum(r["callTime"] for r in mine)
        assert row["totalRingTime"] == sum(r["ringDuration"] for r in mine)
        assert row["totalAbandonedTime"] == sum(r["abandonedTime"] for r in mine)
        assert row["avgTalkTime"] == round(row["totalTalkTime"] / row["totalAnswered"])
        assert row["percentExternalInboundAnswered"] == round(
            100 * row["inboundAnswered"] / row["inboundTotal"]
        )


def test_ring_group_summaries_add_up_the_ring_group_legs(
    shared_client: SimClient, hour: dict[str, str]
) -> None:
    legs = everything(shared_client, LEGS, hour)
    tops = {
        leg["callId"]: leg for leg in legs if leg["parentCallId"] is None and leg["lraType"] == 2
    }
    groups = shared_client.get_json(RGSUM, hour)
    assert sum(row["totalCalls"] for row in groups) == len(tops) > 0
    for row in groups:
        mine = [
            leg
            for leg in tops.values()
            if leg["lra"] == row["extension"] and leg["pbxId"] == row["pbxId"]
        ]
        assert row["totalCalls"] == row["totalInbound"] == len(mine)
        assert row["totalAnswered"] == sum(leg["answered"] == "Answered" for leg in mine)
        assert row["totalCallsToVM"] == sum(
            leg["propsLastPartyDisp"] == "Voicemail" for leg in mine
        )
        assert row["totalAbandoned"] == sum(leg["abandoned"] == "Abandoned" for leg in mine)
        assert row["totalMissed"] == row["totalCalls"] - row["totalAnswered"]
        assert row["totalTalkTime"] == sum(leg["talkTimeMS"] for leg in mine)
        assert row["totalRgTime"] == sum(wait(leg) for leg in mine)
        assert row["avgRgTime"] == (round(row["totalRgTime"] / row["totalCalls"]) if mine else 0)
    members = shared_client.get_json(MEMBERS, hour)
    for group in groups:
        rows = [
            m
            for m in members
            if m["ringGroupExtension"] == group["extension"] and m["pbxId"] == group["pbxId"]
        ]
        assert sum(m["totalAnswered"] for m in rows) == group["totalAnswered"]
        for member in rows:
            rung = [
                leg
                for leg in legs
                if leg["parentCallId"] in tops
                and tops[leg["parentCallId"]]["lra"] == group["extension"]
                and leg["callee"] == member["extension"]
            ]
            assert member["totalCalls"] == len(rung)
            assert member["totalAnswered"] == sum(leg["answered"] == "Answered" for leg in rung)
            assert member["totalTalkTime"] == sum(leg["talkTimeMS"] for leg in rung)
    assert sum(m["totalCalls"] for m in members) > 0


def test_ring_group_members_by_ext_id(
    shared_client: SimClient, shared_sim: Simulator, hour: dict[str, str]
) -> None:
    group = shared_sim.model.ring_groups()[0]
    rows = shared_client.get_json(MEMBERS, {**hour, "extId": group.extension})
    assert [row["extension"] for row in rows] == list(group.member_extensions)
    assert {row["ringGroupName"] for row in rows} == {group.name}
    member = group.member_extensions[0]
    memberships = [g for g in shared_sim.model.ring_groups() if member in g.member_extensions]
    by_member = shared_client.get_json(
        MEMBERS, {**hour, "extId": member}
    )  # the spec's reading: a member's extension
    assert [(row["ringGroupExtension"], row["extension"]) for row in by_member] == [
        (g.extension, member) for g in memberships
    ]
    assert shared_client.get_json(MEMBERS, {**hour, "extId": "99999"}) == []


def test_extension_summary_adds_up_each_extensions_legs(
    shared_client: SimClient, hour: dict[str, str]
) -> None:
    legs = everything(shared_client, LEGS, hour)
    rows = shared_client.get_json(EXTSUM, hour)
    assert sum(row["External_Inbound_Total"] for row in rows) == sum(
        1 for leg in legs if leg["parentCallId"]
    )
    assert sum(row["External_Outbound_Total"] for row in rows) == sum(
        1 for leg in legs if leg["direction"] == "Outgoing"
    )
    for row in rows:
        inbound = [
            leg
            for leg in legs
            if leg["parentCallId"]
            and leg["callee"] == row["Extension"]
            and leg["pbxId"] == row["PbxId"]
        ]
        outbound = [
            leg
            for leg in legs
            if leg["direction"] == "Outgoing" and leg["caller"] == row["Extension"]
        ]
        assert row["Inbound_Total"] == row["External_Inbound_Total"] == len(inbound)
        assert row["Inbound_Answered"] == sum(leg["answered"] == "Answered" for leg in inbound)
        assert (
            row["Inbound_Missed"]
            == row["Inbound_Total"] - row["Inbound_Answered"]
            == row["Total_Missed"]
        )
        assert row["Outbound_Total"] == len(outbound)
        assert row["Outbound_Answered"] == sum(leg["answered"] == "Answered" for leg in outbound)
        assert row["Total_Talk_Time"] == sum(leg["talkTimeMS"] for leg in inbound + outbound)
        assert row["Total_Call_Time"] == sum(leg["callTime"] for leg in inbound + outbound)
        assert row["Total_Calls_To_VM"] == sum(
            leg["propsLastPartyDisp"] == "Voicemail" for leg in inbound
        )


def test_windows_are_additive_and_move_with_time(
    client: SimClient, fake_clock: FakeClock, window: Callable[..., dict[str, str]]
) -> None:
    now = fake_clock.now
    keys = (
        "totalCall",
        "totalAnswered",
        "totalTalkTime",
        "totalVm",
        "outboundTotal",
        "totalRingTime",
    )

    def totals(start: float, end: float) -> list[int]:
        rows = client.get_json(COMPSUM, window(start, end))
        return [sum(row[key] for row in rows) for key in keys]

    first, second, whole = (
        totals(now - 3600, now - 1337),
        totals(now - 1337, now),
        totals(now - 3600, now),
    )
    assert [a + b for a, b in zip(first, second)] == whole
    fake_clock.advance(600)
    later = totals(fake_clock.now - 3600, fake_clock.now)
    assert later != whole and later[0] > 0


def test_nothing_older_than_the_vendors_retention(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    fake_clock: FakeClock,
    window: Callable[..., dict[str, str]],
) -> None:
    api = make_client(make_simulator(seed=42, vendor_retention_seconds=1800))
    now = fake_clock.now
    recent = api.get_json(COMPSUM, window(now - 1800, now))
    assert api.get_json(COMPSUM, window(now - 3600, now)) == recent  # the older half is cut off
    old = api.get_json(COMPSUM, window(now - 3600, now - 1900))
    assert old and all(row["totalCall"] == 0 for row in old)
    assert (
        api.get_json(LEGS, {**window(now - 3600, now - 1900), "pageSize": 5})["meta"]["scrollId"]
        == "No Data"
    )
    assert sum(row["totalCall"] for row in recent) > 0
