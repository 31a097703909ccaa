"""Simulator: the deprecated GET /v2/call-queues/real-time/pbxes/{pbxId} (durations in ms)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator

from simulator import Simulator

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import SimClient
    from tests.support.vendor_docs import RealtimeGuide, VendorSchemas

# Deprecated name -> its name in the current API (the same live quantity).
AVERAGE_OF = {
    "avgHandlingTime": ("totalHandlingTime", "handlingCalls"),
    "avgTalkingTime": ("talkingTime", "talkingCalls"),
    "avgWaitingTime": ("waitingTime", "waitingCalls"),
}


def realtime_schema(metric_names: list[str]) -> dict[str, Any]:
    """A schema written from the guide: its example's shape and its metric table."""
    averages = {name for name in metric_names if name.startswith("avg")}
    metric_properties = {
        name: {"type": "number"} if name in averages else {"type": "integer"}
        for name in metric_names
    }
    metrics = {"type": "object", "properties": metric_properties, "additionalProperties": False}
    return {
        "type": "object",
        "required": ["callQueues"],
        "additionalProperties": False,
        "properties": {
            "callQueues": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "extension", "pbx", "site", "metrics"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "extension": {"type": "string"},
                        "pbx": {"type": "string"},
                        "site": {"type": "string"},
                        "metrics": metrics,
                    },
                },
            },
            "metricsSummary": metrics,
        },
    }


def realtime(client: SimClient, pbx_id: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get_json(
        f"/v2/call-queues/real-time/pbxes/{pbx_id}", params or None
    )
    return body


def test_guide_table_has_28_metrics_and_its_example_fits_the_schema(
    realtime_guide: RealtimeGuide,
) -> None:
    assert len(realtime_guide.metric_names) == 28
    Draft202012Validator(realtime_schema(realtime_guide.metric_names)).validate(
        realtime_guide.example
    )


def test_response_matches_the_guide(
    client: SimClient, sim: Simulator, realtime_guide: RealtimeGuide
) -> None:
    validator = Draft202012Validator(realtime_schema(realtime_guide.metric_names))
    for pbx in sim.directory:
        body = realtime(client, pbx.id)
        validator.validate(body)
        for queue in body["callQueues"]:
            assert list(queue) == [
                "name",
                "extension",
                "pbx",
                "site",
                "metrics",
            ]  # no queue id in this API
            assert set(queue["metrics"]) == set(realtime_guide.metric_names)
        assert set(body["metricsSummary"]) == set(realtime_guide.metric_names)
        expected = [
            (q.name, q.extension, pbx.name, site.name)
            for site in pbx.sites
            if not site.deleted
            for q in site.queues
            if not q.deleted
        ]
        assert [
            (q["name"], q["extension"], q["pbx"], q["site"]) for q in body["callQueues"]
        ] == expected


def test_times_are_milliseconds_of_the_models_ground_truth(
    client: SimClient, sim: Simulator, fake_clock: FakeClock
) -> None:
    fake_clock.advance(12.5)
    pbx = sim.directory[0]
    body = realtime(client, pbx.id)
    queue_ids = [
        q.id for site in pbx.sites if not site.deleted for q in site.queues if not q.deleted
    ]
    nonzero = 0
    for queue_id, queue in zip(queue_ids, body["callQueues"]):
        truth = sim.model.queue_state(queue_id)  # seconds
        for name, value in queue["metrics"].items():
            ongoing = "ongoing" + name[0].upper() + name[1:]
            if name.endswith("Time"):
                nonzero += value > 0
                if name.startswith("avg"):
                    assert isinstance(value, float) and value == math.floor(value)
                    assert value == pytest.approx(truth[ongoing] * 1000, abs=1.001), name
                else:
                    assert isinstance(value, int)
                    assert value == round(truth[ongoing] * 1000), name
            else:
                assert value == truth[ongoing], name
    assert nonzero > 0


def test_summary_arithmetic(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    fake_clock: FakeClock,
) -> None:
    simulator = make_simulator(seed=11)
    api = make_client(simulator)
    checked_waiting = False
    for _ in range(8):  # a few moments, so that some have waiting callers
        fake_clock.advance(20)
        body = realtime(api, simulator.directory[0].id)
        queues = [q["metrics"] for q in body["callQueues"]]
        summary = body["metricsSummary"]
        for name, value in summary.items():
            values = [q[name] for q in queues]
            if name in AVERAGE_OF:
                total, count = AVERAGE_OF[name]
                calls = sum(q[count] for q in queues)
                # Averages are recomputed from the totals and floored to whole ms, like the guide's
                # example (avgWaitingTime 24836.0 for 99345 ms over 4 calls).
                assert value == (float(sum(q[total] for q in queues) // calls) if calls else 0.0), (
                    name
                )
            elif name.startswith("longest"):
                assert value == max(values), name
            else:
                assert value == sum(values), name
        checked_waiting = checked_waiting or summary["waitingCalls"] > 0
    assert checked_waiting


def test_filters_and_summary_flag(client: SimClient, sim: Simulator) -> None:
    pbx = sim.directory[0]
    site = pbx.sites[1]
    by_site = realtime(client, pbx.id, siteIds=site.id)
    assert {q["site"] for q in by_site["callQueues"]} == {site.name}
    queue = site.queues[0]
    by_queue = realtime(
        client,
        pbx.id,
        queueIds=queue.id,
        metrics="waitingCalls,avgWaitingTime",
        includeSummary="false",
    )
    assert [(q["name"], q["extension"]) for q in by_queue["callQueues"]] == [
        (queue.name, queue.extension)
    ]
    assert list(by_queue["callQueues"][0]["metrics"]) == ["waitingCalls", "avgWaitingTime"]
    assert "metricsSummary" not in by_queue


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("name,asc", lambda q: q["name"].lower(), False),
        ("name,desc", lambda q: q["name"].lower(), True),
        ("extension,asc", lambda q: int(q["extension"]), False),
        ("site,desc", lambda q: (q["site"].lower(), q["name"].lower()), True),
    ],
)
def test_sort(
    client: SimClient,
    sim: Simulator,
    sort: str,
    key: Callable[[dict[str, Any]], Any],
    reverse: bool,
) -> None:
    queues = realtime(client, sim.directory[0].id, sort=sort)["callQueues"]
    assert [key(q) for q in queues] == sorted((key(q) for q in queues), reverse=reverse)


def test_bad_requests(client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas) -> None:
    pbx_id = sim.directory[0].id
    for params in (
        {"metrics": "waitingCalls,ongoingWaitingCalls"},
        {"sort": "colour,asc"},
        {"includeSummary": "yes"},
    ):
        response = client.get(f"/v2/call-queues/real-time/pbxes/{pbx_id}", params)
        assert response.status_code == 400, params
        vendor_schemas.validate(
            "work_analytics.json", "ErrorResponse", response.json(), strict=("ErrorResponse",)
        )
    forbidden = client.get("/v2/call-queues/real-time/pbxes/noSuchPbx")
    assert forbidden.status_code == 403
    assert "does not have access to pbxId [noSuchPbx]" in forbidden.json()["messages"][0]
