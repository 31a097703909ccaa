"""Simulator: GET /v2/call-legs and /v2/call-records (paging, filters, the leg contract the
exporter relies on, late CDRs), checked against the spec and the model's ground truth."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from simulator import Simulator
from simulator.calls import LegKind
from tests.support.simulator import START_TIME

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import ClockFactory, SimClient
    from tests.support.vendor_docs import VendorSchemas

HISTORICAL = "work_analytics_historical.json"
NOW = START_TIME  # the clock of shared_sim
LEGS, RECORDS = "/v2/call-legs", "/v2/call-records"
NO_DATA_PAGE = {"meta": {"totalRecordCount": 0, "scrollId": "No Data"}, "data": []}


def outcome(row: dict[str, Any], disposition_key: str) -> str:
    """The exporter's reading of a record or top-level leg, in its order of precedence."""
    if row["answered"] == "Answered":
        return "answered"
    if row[disposition_key] == "Voicemail":
        return "voicemail"
    if row["abandoned"] == "Abandoned":
        return "abandoned"
    return "missed" if row["missed"] == "Missed" else "other"


def rows(
    client: SimClient, path: str, params: dict[str, Any], page_size: int = 7000
) -> list[dict[str, Any]]:
    return [row for page in client.scroll(path, params, page_size) for row in page["data"]]


def ids(legs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(leg["callId"], leg["legId"]) for leg in legs]


def test_first_pages_and_the_end_marker_match_the_spec(
    shared_client: SimClient, vendor_schemas: VendorSchemas, window: Callable[..., dict[str, str]]
) -> None:
    params = window(NOW - 3600, NOW)
    for path in (LEGS, RECORDS):
        pages = shared_client.scroll(path, params, 7000)
        assert len(pages) == 2 and pages[0]["data"] and pages[-1] == NO_DATA_PAGE
        for page in pages:
            vendor_schemas.validate_response(HISTORICAL, path, page, strict=True)


@pytest.mark.parametrize(("page_size", "minutes"), [(1, 4), (7, 20), (250, 60), (7000, 60)])
@pytest.mark.parametrize("path", [LEGS, RECORDS])
def test_paging_returns_everything_exactly_once_then_no_data(
    shared_client: SimClient,
    shared_sim: Simulator,
    window: Callable[..., dict[str, str]],
    path: str,
    page_size: int,
    minutes: int,
) -> None:
    start, end = NOW - minutes * 60, NOW
    pages = shared_client.scroll(path, window(start, end), page_size)
    data_pages, last = pages[:-1], pages[-1]
    assert last == NO_DATA_PAGE
    found = [row for page in data_pages for row in page["data"]]
    if path == LEGS:
        truth: list[tuple[str, str]] | list[str] = [
            (leg.call_id, leg.leg_id) for leg in shared_sim.model.call_legs(start, end)
        ]
        assert ids(found) == truth
    else:
        truth = [call.call_id for call in shared_sim.model.finished_calls(start, end)]
        assert [row["callId"] for row in found] == truth
    assert len(set(truth)) == len(truth) > 0
    assert len(data_pages) == math.ceil(len(truth) / page_size)
    assert all(page["meta"]["totalRecordCount"] == len(truth) for page in data_pages)
    assert all(len(page["data"]) == page_size for page in data_pages[:-1])
    assert len({page["meta"]["scrollId"] for page in data_pages}) == len(data_pages)


def test_a_query_without_results_ends_at_once(
    shared_client: SimClient, window: Callable[..., dict[str, str]]
) -> None:
    params = window(NOW - 30 * 86_400, NOW - 29 * 86_400)
    assert shared_client.get_json(LEGS, {**params, "pageSize": 10}) == NO_DATA_PAGE


@pytest.mark.parametrize("page_size", [None, "", "0", "7001", "-3", "ten", "1.5"])
@pytest.mark.parametrize("path", [LEGS, RECORDS])
def test_page_size_is_required_and_within_1_to_7000(
    shared_client: SimClient,
    vendor_schemas: VendorSchemas,
    window: Callable[..., dict[str, str]],
    path: str,
    page_size: str | None,
) -> None:
    params: dict[str, Any] = window(NOW - 600, NOW)
    if page_size is not None:
        params["pageSize"] = page_size
    response = shared_client.get(path, params)
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate_response(HISTORICAL, path, body, status="400", strict=True)
    assert body["details"][0]["path"] == ["pageSize"] and body["details"][0]["location"] == "query"


def test_scroll_ids_can_be_retried_and_expire(
    client: SimClient, fake_clock: FakeClock, window: Callable[..., dict[str, str]]
) -> None:
    params = window(fake_clock.now - 3600, fake_clock.now)
    first = client.get_json(LEGS, {**params, "pageSize": 5})
    next_page = {**params, "pageSize": 5, "scrollId": first["meta"]["scrollId"]}
    second = client.get_json(LEGS, next_page)
    assert (
        client.get_json(LEGS, next_page) == second
    )  # a retry gets the same page and the same next scrollId
    assert client.get_json(LEGS, {**next_page, "pageSize": 3})["data"] == second["data"][:3]
    assert (
        client.get(RECORDS, next_page).status_code == 400
    )  # a call-legs scrollId is not a call-records one
    assert (
        client.get(LEGS, {**params, "pageSize": 5, "scrollId": "bm90LWEtc2Nyb2xs"}).status_code
        == 400
    )
    fake_clock.advance(601)
    expired = client.get(LEGS, next_page)
    assert expired.status_code == 400 and expired.json()["details"][0]["path"] == ["scrollId"]


@pytest.mark.parametrize(
    "change",
    [
        {"pbxId": None},
        {"startTime": None},
        {"endTime": ""},
        {"timeZone": None},
        {"startTime": "2024-03-05T14:00:00"},
        {"endTime": "05/03/2024 15:00"},
        {"timeZone": "Mars/Olympus_Mons"},
        {"timeZone": "../../etc/passwd"},
        {"startTime": "2024-03-05 15:00:00", "endTime": "2024-03-05 14:00:00"},
        {"isSimplified": "maybe"},
        {"isConnectTime": "yes"},
    ],
)
def test_invalid_parameters_are_refused(
    shared_client: SimClient,
    vendor_schemas: VendorSchemas,
    window: Callable[..., dict[str, str]],
    change: dict[str, str | None],
) -> None:
    params: dict[str, Any] = {**window(NOW - 3600, NOW), "pageSize": 10}
    for name, value in change.items():
        if value is None:
            del params[name]
        else:
            params[name] = value
    response = shared_client.get(LEGS, params)
    assert response.status_code == 400, response.text
    vendor_schemas.validate_response(HISTORICAL, LEGS, response.json(), status="400", strict=True)
    assert response.json()["details"][0]["path"][0] in change


def test_queue_legs_follow_the_contract_and_carry_the_models_wait(
    shared_client: SimClient, shared_sim: Simulator, window: Callable[..., dict[str, str]]
) -> None:
    start, end = NOW - 3600, NOW
    queues = {ref.id: ref for ref in shared_sim.model.group_refs()}
    records = {
        (r.call_id, queues[r.queue_id].extension): r
        for r in shared_sim.model.completed_calls(start - 600, end + 1)
    }
    legs = [
        leg for leg in rows(shared_client, LEGS, window(start, end)) if leg["callee"] == "CallQueue"
    ]
    assert len(legs) > 50
    seen: Counter[str] = Counter()
    for leg in legs:
        record = records[(leg["callId"], leg["lra"])]
        queue = queues[record.queue_id]
        assert leg["parentCallId"] is None and leg["direction"] == "Incoming"
        assert (leg["calleeName"], leg["lraType"], leg["calleeSvcName"]) == (
            queue.name,
            4,
            "ACDOperatorService",
        )
        assert leg["startTimeUTC"] == round(record.entered_at * 1000)
        assert leg["callTime"] == leg["disconnectedTimeUTC"] - leg["startTimeUTC"]
        # The exporter's wait: callTime - talk - hold, the model's wait to the millisecond.
        assert leg["callTime"] - leg["talkTimeMS"] - leg["calleeHoldDurationMS"] == record.wait_ms
        assert (leg["talkTimeMS"], leg["calleeHoldDurationMS"]) == (record.talk_ms, record.hold_ms)
        expected = {"answered": "answered", "abandoned": "abandoned", "voicemail": "voicemail"}.get(
            record.outcome.value, "missed"
        )
        assert outcome(leg, "propsLastPartyDisp") == expected
        seen[expected] += 1
    assert seen["answered"] and seen["abandoned"]


def test_member_legs_hang_under_their_group_legs(
    shared_client: SimClient, window: Callable[..., dict[str, str]], shared_sim: Simulator
) -> None:
    legs = rows(shared_client, LEGS, window(NOW - 3600, NOW))
    by_call: dict[str, list[dict[str, Any]]] = {}
    for leg in legs:
        by_call.setdefault(leg["parentCallId"] or leg["callId"], []).append(leg)
    agents = {agent.extension: agent for pbx in shared_sim.directory for agent in pbx.agents}
    groups = {ref.extension: ref for ref in shared_sim.model.group_refs()}
    checked: Counter[int] = Counter()
    for call_legs in by_call.values():
        tops = [leg for leg in call_legs if leg["parentCallId"] is None]
        children = [leg for leg in call_legs if leg["parentCallId"] is not None]
        for child in children:
            assert (
                child["callee"] == child["lra"]
                and child["calleeName"] == agents[child["callee"]].name
            )
            assert (
                child["lraType"] == 1
                and child["legId"] == "1"
                and child["callId"] != child["parentCallId"]
            )
            assert child["answered"] == "Answered" or child["missed"] == "Missed"
        for top in tops:
            if top["lraType"] == 2:  # a ring group
                group = groups[top["lra"]]
                assert (top["callee"], top["calleeName"], top["calleeSvcName"]) == (
                    group.extension,
                    group.name,
                    "HuntGroupService",
                )
            if top["answered"] == "Answered" and top["direction"] == "Incoming":
                answering = [
                    c
                    for c in children
                    if c["answered"] == "Answered" and c["connectTimeUTC"] == top["connectTimeUTC"]
                ]
                assert (
                    len(answering) == 1
                    and answering[0]["disconnectedTimeUTC"] == top["disconnectedTimeUTC"]
                )
                checked[top["lraType"]] += 1
    assert checked[4] > 10 and checked[2] > 0  # answered queue and ring group calls


def test_outbound_calls_are_outgoing_top_level_legs(
    shared_client: SimClient, window: Callable[..., dict[str, str]], shared_sim: Simulator
) -> None:
    extensions = {agent.extension for pbx in shared_sim.directory for agent in pbx.agents}
    legs = [
        leg
        for leg in rows(shared_client, LEGS, window(NOW - 3600, NOW))
        if leg["direction"] == "Outgoing"
    ]
    assert legs
    for leg in legs:
        assert (
            leg["caller"] in extensions
            and leg["parentCallId"] is None
            and leg["callee"].startswith("+1")
        )
        assert outcome(leg, "propsLastPartyDisp") in ("answered", "abandoned")
    assert {leg["direction"] for leg in rows(shared_client, LEGS, window(NOW - 3600, NOW))} == {
        "Incoming",
        "Outgoing",
    }


def test_records_match_the_finished_calls(
    shared_client: SimClient, shared_sim: Simulator, window: Callable[..., dict[str, str]]
) -> None:
    start, end = NOW - 3600, NOW
    found = rows(shared_client, RECORDS, window(start, end))
    truth = shared_sim.model.finished_calls(start, end)
    assert len(found) == len(truth)
    for row, call in zip(found, truth):
        assert (
            row["callId"] == call.call_id
            and row["pbxId"] == call.pbx
            and row["direction"] == call.direction
        )
        assert outcome(row, "lastLegDisposition") == call.outcome
        assert row["waitTimeMS"] == call.wait_ms and row["talkTimeMS"] == call.talk_ms
        assert (
            row["callTime"] == row["waitTimeMS"] + row["talkTimeMS"] + row["calleeHoldDurationMS"]
        )
        assert row["callLegCount"] == len(call.legs) and row["ringDuration"] == call.ring_ms
        assert row["abandonedTime"] == (call.wait_ms if call.outcome == "abandoned" else 0)
    assert set(Counter(call.outcome for call in truth)) == {
        "answered",
        "abandoned",
        "voicemail",
        "missed",
    }


def test_a_transferred_call_is_one_record_with_one_leg_per_queue(
    shared_client: SimClient, shared_sim: Simulator, window: Callable[..., dict[str, str]]
) -> None:
    start, end = NOW - 3600, NOW
    transferred = [
        call for call in shared_sim.model.finished_calls(start, end) if len(call.top_legs) > 1
    ]
    assert transferred
    records = {row["callId"]: row for row in rows(shared_client, RECORDS, window(start, end))}
    legs = rows(shared_client, LEGS, window(start - 1800, end))
    for call in transferred:
        tops = [
            leg for leg in legs if leg["callId"] == call.call_id and leg["parentCallId"] is None
        ]
        assert [leg["legId"] for leg in tops] == [str(n) for n in range(1, len(tops) + 1)]
        assert (
            tops[0]["propsLastPartyDisp"] == "Transferred"
            and outcome(tops[0], "propsLastPartyDisp") == "missed"
        )
        for before, after in itertools.pairwise(tops):
            assert after["startTimeUTC"] == before["disconnectedTimeUTC"]
        record = records[call.call_id]
        assert record["callLegCount"] == sum(
            1 for leg in legs if call.call_id in (leg["callId"], leg["parentCallId"])
        )
        assert record["waitTimeMS"] == sum(
            leg["callTime"] - leg["talkTimeMS"] - leg["calleeHoldDurationMS"] for leg in tops
        )
        assert outcome(record, "lastLegDisposition") == outcome(tops[-1], "propsLastPartyDisp")


def test_simplified_legs_leave_out_the_member_legs(
    shared_client: SimClient, window: Callable[..., dict[str, str]]
) -> None:
    params = window(NOW - 3600, NOW)
    full = rows(shared_client, LEGS, params)
    simple = rows(shared_client, LEGS, {**params, "isSimplified": "true"})
    assert simple == [leg for leg in full if leg["parentCallId"] is None]
    assert len(simple) < len(full)


def test_connect_time_selects_by_connect_time(
    shared_client: SimClient, shared_sim: Simulator, window: Callable[..., dict[str, str]]
) -> None:
    start, end = NOW - 1800, NOW - 600
    by_connect = rows(shared_client, LEGS, {**window(start, end), "isConnectTime": "true"})
    assert by_connect and all(
        start * 1000 <= leg["connectTimeUTC"] < end * 1000 for leg in by_connect
    )
    assert any(leg["disconnectedTimeUTC"] >= end * 1000 for leg in by_connect)
    assert sorted(ids(by_connect)) == sorted(
        (leg.call_id, leg.leg_id)
        for leg in shared_sim.model.call_legs(start, end, by_connect_time=True)
    )
    by_disconnect = rows(shared_client, LEGS, {**window(start, end), "isConnectTime": "false"})
    assert all(start * 1000 <= leg["disconnectedTimeUTC"] < end * 1000 for leg in by_disconnect)


def test_caller_and_callee_filters(
    shared_client: SimClient, shared_sim: Simulator, window: Callable[..., dict[str, str]]
) -> None:
    params = window(NOW - 3600, NOW)
    everything = rows(shared_client, LEGS, params)
    outbound = next(leg for leg in everything if leg["direction"] == "Outgoing")
    member = next(leg for leg in everything if leg["parentCallId"] is not None)
    queue = next(leg for leg in everything if leg["callee"] == "CallQueue")
    agent, other, queue_ext = outbound["caller"], member["callee"], queue["lra"]
    assert rows(shared_client, LEGS, {**params, "caller": agent}) == [
        leg for leg in everything if leg["caller"] == agent
    ]
    assert rows(shared_client, LEGS, {**params, "callee": f"{other},{queue_ext}"}) == [
        leg for leg in everything if {leg["callee"], leg["lra"]} & {other, queue_ext}
    ]
    assert rows(shared_client, LEGS, {**params, "callerOrCallee": f"{agent},{other}"}) == [
        leg for leg in everything if {leg["caller"], leg["callee"], leg["lra"]} & {agent, other}
    ]
    # Records: the callee filter matches the group and every agent the call rang.
    records = rows(shared_client, RECORDS, {**params, "callee": other})
    rang = {
        leg["parentCallId"] for leg in everything if leg["callee"] == other and leg["parentCallId"]
    }
    assert records and {row["callId"] for row in records} <= rang | {
        row["callId"] for row in records if row["callee"] == other
    }
    for bad in (
        {"callerOrCallee": agent, "caller": agent},
        {"callerOrCallee": agent, "callee": other},
        {"callee": ",".join(str(1000 + n) for n in range(126))},
    ):
        for path in (LEGS, RECORDS):
            assert shared_client.get(path, {**params, "pageSize": 10, **bad}).status_code == 400


def test_legs_are_the_same_every_time_they_are_asked(
    client: SimClient, fake_clock: FakeClock, window: Callable[..., dict[str, str]]
) -> None:
    params = window(fake_clock.now - 3600, fake_clock.now - 1800)
    first = rows(client, LEGS, params, page_size=100)
    fake_clock.advance(900)
    again = rows(client, LEGS, params, page_size=333)
    assert first == again
    assert len(set(ids(first))) == len(first)


def test_local_times_follow_the_requested_zone(
    shared_client: SimClient, window: Callable[..., dict[str, str]]
) -> None:
    legs = rows(shared_client, LEGS, window(NOW - 600, NOW, "America/New_York"))
    assert legs
    for leg in legs:
        # 2024-03-05 is winter time in New York: 5 hours behind UTC.
        assert leg["startTime"].endswith("-0500") and leg["disconnectedTime"].endswith("-0500")
        utc_ms = leg["startTimeUTC"] - 5 * 3_600_000
        local = leg["startTime"]
        assert (
            int(local[11:13]) * 3_600_000
            + int(local[14:16]) * 60_000
            + int(local[17:19]) * 1000
            + int(local[20:23])
            == utc_ms % 86_400_000
        )


def test_late_cdrs_show_only_after_the_delay(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    fake_clock: FakeClock,
    window: Callable[..., dict[str, str]],
) -> None:
    delay = 300
    simulator = make_simulator(seed=42, cdr_delay_seconds=delay)
    api = make_client(simulator)
    now = fake_clock.now
    params = window(now - 3600, now)
    legs = rows(api, LEGS, params)
    truth = simulator.model.call_legs(now - 3600, now)
    visible = [
        (leg.call_id, leg.leg_id) for leg in truth if leg.disconnected_ms <= (now - delay) * 1000
    ]
    assert ids(legs) == visible and len(visible) < len(truth)
    records = rows(api, RECORDS, params)
    assert [row["callId"] for row in records] == [
        call.call_id
        for call in simulator.model.finished_calls(now - 3600, now)
        if call.ended_ms <= (now - delay) * 1000
    ]
    # Summaries do not wait: the company summary counts every call that ended in the window.
    compsum = api.get_json("/v1/compsum", params)
    assert (
        sum(row["totalCall"] for row in compsum)
        == len(simulator.model.finished_calls(now - 3600, now))
        > len(records)
    )
    # Once the delay has passed, the same window is complete, filtered by the true disconnect.
    fake_clock.advance(delay)
    assert ids(rows(api, LEGS, params)) == [(leg.call_id, leg.leg_id) for leg in truth]


def test_same_seed_and_clock_give_the_same_pages(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
    window: Callable[..., dict[str, str]],
) -> None:
    clocks = [clock_factory(), clock_factory()]
    clients = [make_client(make_simulator(seed=11, clock=clock)) for clock in clocks]
    params = {**window(clocks[0].now - 3600, clocks[0].now), "pageSize": 40}
    for path in (LEGS, RECORDS, "/v1/compsum", "/v2/extsum"):
        first, second = (api.get(path, params).content for api in clients)
        assert first == second
    other = make_client(make_simulator(seed=12, clock=clock_factory()))
    assert other.get(LEGS, params).content != clients[0].get(LEGS, params).content


def test_leg_kinds_cover_the_models_calls(shared_sim: Simulator) -> None:
    kinds = Counter(leg.kind for leg in shared_sim.model.call_legs(NOW - 3600, NOW))
    assert set(kinds) == set(LegKind)
