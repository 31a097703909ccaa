"""Simulator: GET /v2/pbxes/{pbxId}/calls (Work Analytics aggregated calls): the spec's schemas,
the model's calls, paging and sorting, consistency with call-queue-metrics."""

from __future__ import annotations

import copy
import re
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator

from simulator import Simulator
from simulator.aggregated_calls import AGGREGATED_CALLS_METRIC_NAMES, DEFAULT_LIMIT, MAX_LIMIT
from simulator.calls import ms

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import SimClient
    from tests.support.vendor_docs import VendorSchemas

WORK_ANALYTICS = "work_analytics.json"
CALLS_PATH = "/v2/pbxes/{pbxId}/calls"
IN_PROGRESS = {"WAITING", "ALERTING", "TALKING", "ON_HOLD"}
ALWAYS_SENT = {
    "callId",
    "workGroup",
    "caller",
    "status",
    "labels",
    "startTime",
    "stopTime",
    "connectedTime",
    "handlingDuration",
    "waitingDuration",
    "talkingDuration",
    "onHoldDuration",
    "totalDuration",
    "did",
    "direction",
}
SORT_CASES = [
    (field, direction)
    for field in ("callId", "startTime", "stopTime", "handlingDuration")
    for direction in ("ASC", "DESC")
]


def calls_validator(vendor_schemas: VendorSchemas) -> Draft202012Validator:
    """AggregatedCallsResponse with no key beyond the documented ones (the schemas require none,
    and the spec's own example leaves some out, so presence is checked apart)."""
    components = copy.deepcopy(vendor_schemas.document(WORK_ANALYTICS)["components"])
    for name in ("AggregatedCallsResponse", "AggregatedCall", "WorkGroup", "Caller", "Callee"):
        components["schemas"][name]["additionalProperties"] = False
    return Draft202012Validator(
        {"$ref": "#/components/schemas/AggregatedCallsResponse", "components": components}
    )


def calls(client: SimClient, pbx_id: str, **params: Any) -> list[dict[str, Any]]:
    body = client.get_json(f"/v2/pbxes/{pbx_id}/calls", params or None)
    assert list(body) == ["calls"]
    found: list[dict[str, Any]] = body["calls"]
    return found


def every_call(client: SimClient, pbx_id: str, **params: Any) -> list[dict[str, Any]]:
    found = calls(client, pbx_id, limit=MAX_LIMIT, **params)
    assert len(found) < MAX_LIMIT  # one page holds them all
    return found


def walk(
    client: SimClient,
    pbx_id: str,
    field: str,
    direction: str,
    limit: int,
    between_pages: Any = None,
) -> list[dict[str, Any]]:
    """Every page, each asked with the cursor of the previous page's last call."""
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit, "sortingField": field, "sortingDirection": direction}
    for _ in range(1000):
        page = calls(client, pbx_id, **params)
        seen.extend(page)
        if len(page) < limit:
            return seen
        last = page[-1]
        params = {
            **params,
            "startingAfter": last["callId"],
            "latestSortingValue": str(last[field]),
        }
        if between_pages is not None:
            between_pages()
    raise AssertionError("the pages never ended")


def sort_key(field: str, call: dict[str, Any]) -> tuple[Any, str]:
    return (call[field], call["callId"])


@pytest.fixture
def pbx_id(sim: Simulator) -> str:
    return sim.directory[0].id


def test_answers_match_the_schema(
    client: SimClient, pbx_id: str, fake_clock: FakeClock, vendor_schemas: VendorSchemas
) -> None:
    validator = calls_validator(vendor_schemas)
    operation = vendor_schemas.document(WORK_ANALYTICS)["paths"][CALLS_PATH]["get"]
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    vendor_schemas.check(validator, example)  # the stricter validator accepts the vendor's own
    statuses: Counter[str] = Counter()
    for _ in range(6):  # a few instants: in-progress calls of every kind
        found = every_call(client, pbx_id)
        vendor_schemas.check(validator, {"calls": found})
        for call in found:
            statuses[call["status"]] += 1
            assert ALWAYS_SENT <= set(call), call
            assert call["caller"]["address"] and call["workGroup"]["id"]
            assert call["workGroup"]["groupType"] in ("CALL_QUEUE", "RING_GROUP")
            assert call["labels"][0] == "WAITING"
            total = call["waitingDuration"] + call["handlingDuration"]
            assert call["totalDuration"] == pytest.approx(total, abs=1e-9)
            assert call["handlingDuration"] == pytest.approx(
                call["talkingDuration"] + call["onHoldDuration"], abs=1e-9
            )
            if call["status"] == "COMPLETED":
                assert call["stopTime"] - call["startTime"] == round(call["totalDuration"] * 1000)
                assert call["outcome"] == "FINISHED" and call["labels"][-1] == "FINISHED"
                assert call["resolution"] in (
                    "ANSWERED",
                    "ABANDONED",
                    "OFFER_TIMEOUT",
                    "ENDED_IN_VOICEMAIL",
                    "TRANSFERRED",
                )
            else:
                assert call["status"] in IN_PROGRESS
                assert call["stopTime"] == 0 and "outcome" not in call
                assert ms(fake_clock.now) - call["startTime"] == round(call["totalDuration"] * 1000)
            assert (call["connectedTime"] > 0) == ("TALKING" in call["labels"])
        fake_clock.advance(47)
    assert statuses["COMPLETED"] and statuses["WAITING"] and statuses["TALKING"], statuses


def test_default_page_and_window(client: SimClient, pbx_id: str, fake_clock: FakeClock) -> None:
    page = calls(client, pbx_id)
    assert len(page) == DEFAULT_LIMIT
    assert [c["callId"] for c in page] == sorted(c["callId"] for c in page)  # callId ASC
    everything = every_call(client, pbx_id)
    assert len(everything) > DEFAULT_LIMIT
    assert all(c["startTime"] >= ms(fake_clock.now - 86_400) for c in everything)
    assert len({c["callId"] for c in everything}) == len(everything)


def test_completed_calls_are_the_models_records(
    client: SimClient, sim: Simulator, pbx_id: str, fake_clock: FakeClock
) -> None:
    served = {c["callId"]: c for c in every_call(client, pbx_id)}
    records = [
        r
        for r in sim.model.completed_calls(fake_clock.now - 86_400, fake_clock.now + 1)
        if r.pbx_id == pbx_id
    ]
    assert records
    transferred = 0
    for record in records:
        call_id = f"{record.call_id}-2" if record.transferred_in else record.call_id
        call = served[call_id]
        assert call["status"] == "COMPLETED"
        assert call["workGroup"]["id"] == record.queue_id
        assert call["startTime"] == ms(record.entered_at)
        assert call["stopTime"] == ms(record.ended_at)
        assert call["waitingDuration"] == record.wait_ms / 1000
        assert call["talkingDuration"] == record.talk_ms / 1000
        assert call["onHoldDuration"] == record.hold_ms / 1000
        assert call["labels"].count("ALERTING") == len(record.offered_agent_ids)
        if record.transferred_in:
            transferred += 1
            assert call["rootCallId"] == record.call_id
    assert transferred > 0
    queue_calls = [c for c in served.values() if c["workGroup"]["groupType"] == "CALL_QUEUE"]
    assert sum(c["status"] == "COMPLETED" for c in queue_calls) == len(records)


@pytest.mark.parametrize(("field", "direction"), SORT_CASES)
def test_paging_visits_every_call_once(
    client: SimClient, pbx_id: str, field: str, direction: str
) -> None:
    everything = every_call(client, pbx_id)
    seen = walk(client, pbx_id, field, direction, limit=7)
    assert [c["callId"] for c in seen] == [
        c["callId"]
        for c in sorted(everything, key=lambda c: sort_key(field, c), reverse=direction == "DESC")
    ]
    assert len(seen) == len(everything) > 7


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_start_time_pages_are_stable_while_the_model_moves(
    client: SimClient, pbx_id: str, fake_clock: FakeClock, direction: str
) -> None:
    before = every_call(client, pbx_id)
    seen = walk(client, pbx_id, "startTime", direction, 9, lambda: fake_clock.advance(13))
    after = {c["callId"]: c for c in every_call(client, pbx_id)}
    counts = Counter(c["callId"] for c in seen)
    assert all(counts[c["callId"]] == 1 for c in before)  # none lost, none twice
    assert max(counts.values()) == 1
    # Not vacuous: some call in progress at the start had completed by the end.
    assert any(
        c["status"] != "COMPLETED" and after[c["callId"]]["status"] == "COMPLETED" for c in before
    )


@pytest.mark.parametrize("field", ["stopTime", "handlingDuration"])
def test_moving_sort_values_repeat_ascending_and_skip_descending(
    client: SimClient, pbx_id: str, fake_clock: FakeClock, field: str
) -> None:
    """These values only grow while a call goes on: ASC never loses a call, DESC never repeats
    one (the module docstring of simulator/aggregated_calls.py)."""
    for direction in ("ASC", "DESC"):
        before = every_call(client, pbx_id)
        seen = walk(client, pbx_id, field, direction, 9, lambda: fake_clock.advance(13))
        counts = Counter(c["callId"] for c in seen)
        repeated = sum(count > 1 for count in counts.values())
        lost = sum(counts[c["callId"]] == 0 for c in before)
        # Not vacuous: the values did move past the cursor (the seed and clock fix how often).
        if direction == "ASC":
            assert lost == 0 and repeated > 0
        else:
            assert repeated == 0 and lost > 0


def test_in_progress_calls_agree_with_call_queue_metrics(
    client: SimClient, sim: Simulator, fake_clock: FakeClock
) -> None:
    """At one instant, per queue: WAITING + ALERTING == ongoingWaitingCalls (the model counts a
    caller ringing an agent as waiting), TALKING == ongoingTalkingCalls, ON_HOLD ==
    ongoingOnHoldCalls; and the queue's calls of the last 24 h are its enteredCalls."""
    totals: Counter[str] = Counter()
    for _ in range(8):
        for pbx in sim.directory:
            if pbx.deleted:
                continue
            metrics = client.get_json(f"/v2/pbxes/{pbx.id}/call-queue-metrics")
            by_queue: dict[str, Counter[str]] = {q["id"]: Counter() for q in metrics["callQueues"]}
            for call in every_call(client, pbx.id):
                if call["workGroup"]["groupType"] == "CALL_QUEUE":
                    by_queue[call["workGroup"]["id"]][call["status"]] += 1
                    totals[call["status"]] += 1
            for queue in metrics["callQueues"]:
                m, counted = queue["metrics"], by_queue[queue["id"]]
                assert counted["WAITING"] + counted["ALERTING"] == m["ongoingWaitingCalls"]
                assert counted["TALKING"] == m["ongoingTalkingCalls"]
                assert counted["ON_HOLD"] == m["ongoingOnHoldCalls"]
                assert sum(counted.values()) == m["enteredCalls"]
                assert counted["COMPLETED"] == m["completedCalls"]
        fake_clock.advance(31)
    assert all(totals[status] > 0 for status in IN_PROGRESS), totals


def test_ring_group_calls(client: SimClient, sim: Simulator, fake_clock: FakeClock) -> None:
    ring_groups = {g.id: g for g in sim.model.ring_groups()}
    live_seen = completed_seen = 0
    for _ in range(120):
        live = {c.call_id for c in sim.model.live_ring_group_calls()}
        for pbx in sim.directory:
            if pbx.deleted:
                continue
            for call in every_call(client, pbx.id):
                group = call["workGroup"]
                if group["groupType"] != "RING_GROUP":
                    continue
                assert group["extension"] == ring_groups[group["id"]].extension
                if call["status"] == "COMPLETED":
                    completed_seen += 1
                else:
                    assert call["status"] in ("ALERTING", "TALKING", "ON_HOLD")
                    assert call.get("rootCallId", call["callId"]) in live
                    live_seen += 1
        if live_seen:
            break
        fake_clock.advance(20)
    assert live_seen and completed_seen


def test_site_and_queue_filters(client: SimClient, sim: Simulator, pbx_id: str) -> None:
    pbx = sim.directory[0]
    everything = every_call(client, pbx_id)
    site = pbx.sites[0]
    site_groups = {q.id for q in site.queues} | {g.id for g in site.ring_groups}
    by_site = every_call(client, pbx_id, siteIds=site.id)
    assert by_site and [c for c in everything if c["workGroup"]["id"] in site_groups] == by_site
    queue_ids = {pbx.sites[0].queues[0].id, pbx.sites[1].queues[1].id}
    by_queue = every_call(client, pbx_id, queueIds=",".join(queue_ids))
    assert by_queue and {c["workGroup"]["id"] for c in by_queue} == queue_ids
    assert [c for c in everything if c["workGroup"]["id"] in queue_ids] == by_queue


def test_date_window_and_intra_day(client: SimClient, pbx_id: str, fake_clock: FakeClock) -> None:
    everything = every_call(client, pbx_id)
    start, end = fake_clock.now - 1800, fake_clock.now - 600
    iso = "%Y-%m-%dT%H:%M:%SZ"
    window = {
        "startDate": time.strftime(iso, time.gmtime(start)),
        "endDate": time.strftime(iso, time.gmtime(end)),
    }
    within = every_call(client, pbx_id, **window)
    assert within and within == [c for c in everything if ms(start) <= c["startTime"] < ms(end)]
    day_second = int(start) % 86_400
    intra = {
        "intraDayStart": time.strftime("%H:%M:%SZ", time.gmtime(start + 300)),
        "intraDayEnd": time.strftime("%H:%M:%SZ", time.gmtime(start + 600)),
    }
    narrowed = every_call(client, pbx_id, **window, **intra)
    assert narrowed and narrowed == [
        c
        for c in within
        if day_second + 300 <= (c["startTime"] // 1000) % 86_400 < day_second + 600
    ]


def test_metrics_names_are_the_specs_and_change_nothing(
    client: SimClient, pbx_id: str, vendor_schemas: VendorSchemas
) -> None:
    operation = vendor_schemas.document(WORK_ANALYTICS)["paths"][CALLS_PATH]["get"]
    description = next(p for p in operation["parameters"] if p["name"] == "metrics")["description"]
    table = {m.group(1) for m in re.finditer(r"^\| (\w+)\s*\|", description, re.MULTILINE)}
    assert set(AGGREGATED_CALLS_METRIC_NAMES) == table - {"Metric"}
    plain = every_call(client, pbx_id)
    assert every_call(client, pbx_id, metrics=",".join(AGGREGATED_CALLS_METRIC_NAMES)) == plain


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": str(MAX_LIMIT + 1)}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sortingField": "duration"}, "sortingField"),
        ({"sortingDirection": "asc"}, "sortingDirection"),
        ({"sortingDirection": "UP"}, "sortingDirection"),
        ({"sortingField": "startTime", "startingAfter": "1600000000001"}, "latestSortingValue"),
        ({"sortingField": "stopTime", "latestSortingValue": "0"}, "startingAfter"),
        (
            {"sortingField": "handlingDuration", "startingAfter": "1", "latestSortingValue": "x"},
            "latestSortingValue",
        ),
        ({"metrics": "enteredCalls,bogus"}, "Invalid Metrics Passed [bogus]"),
        ({"startDate": "2024-03-05T00:00:00Z"}, "endDate"),
    ],
)
def test_bad_requests_are_the_vendors_400(
    client: SimClient,
    pbx_id: str,
    vendor_schemas: VendorSchemas,
    params: dict[str, str],
    message: str,
) -> None:
    response = client.get(f"/v2/pbxes/{pbx_id}/calls", params)
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["status"] == 400 and message in body["messages"][0]
    assert body["path"] == f"/analytics/work/v2/pbxes/{pbx_id}/calls"


def test_unknown_pbx_and_missing_token(client: SimClient, vendor_schemas: VendorSchemas) -> None:
    response = client.get("/v2/pbxes/nope/calls")
    assert response.status_code == 403
    vendor_schemas.validate(
        WORK_ANALYTICS, "ErrorResponse", response.json(), strict=("ErrorResponse",)
    )
    assert client.get("/v2/pbxes/nope/calls", headers={"8x8-apikey": "x"}).status_code == 400


def test_faults_and_request_log_apply(client: SimClient, sim: Simulator, pbx_id: str) -> None:
    sim.faults.add(r"/calls$", status=503, times=1)
    path = f"/v2/pbxes/{pbx_id}/calls"
    assert client.get(path, {"limit": 5}).status_code == 503
    assert client.get(path, {"limit": 5}).status_code == 200
    assert [r.path for r in sim.requests][-2:] == ["/analytics/work" + path] * 2
