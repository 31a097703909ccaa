"""Simulator: GET /v2/pbxes/{pbxId}/call-queue-metrics (the current Call Queue Metric API)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from simulator import Simulator

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import ClockFactory, SimClient
    from tests.support.vendor_docs import VendorSchemas

WORK_ANALYTICS = "work_analytics.json"
CQ_PATH = "/v2/pbxes/{pbxId}/call-queue-metrics"

# Average metric -> (total metric, how to count its denominator from one queue's metrics).
AVERAGES: dict[str, tuple[str, Callable[[dict[str, Any]], int]]] = {
    "ongoingAvgHandlingTime": ("ongoingTotalHandlingTime", lambda m: m["ongoingHandlingCalls"]),
    "ongoingAvgTalkingTime": ("ongoingTalkingTime", lambda m: m["ongoingTalkingCalls"]),
    "ongoingAvgWaitingTime": ("ongoingWaitingTime", lambda m: m["ongoingWaitingCalls"]),
    # Over finished answered calls: accepted ones minus those still being handled.
    "averageHandlingTime": (
        "totalHandlingTime",
        lambda m: m["acceptedCalls"] - m["ongoingHandlingCalls"],
    ),
    "averageTalkTime": ("totalTalkTime", lambda m: m["acceptedCalls"] - m["ongoingHandlingCalls"]),
    "averageOnHoldTime": (
        "totalOnHoldTime",
        lambda m: m["acceptedCalls"] - m["ongoingHandlingCalls"],
    ),
    # Over calls whose waiting ended: all entered ones but those still waiting.
    "averageWaitingTime": (
        "totalWaitingTime",
        lambda m: m["enteredCalls"] - m["ongoingWaitingCalls"],
    ),
}
WEIGHTED_AVERAGES = {"averageAnswerTime": "acceptedCalls", "averageTimeToAnswer": "acceptedCalls"}
PERCENTAGES = {
    "abandonedInWaitingCallsPercentage": "abandonedInWaitingCalls",
    "acceptedCallsPercentage": "acceptedCalls",
    "divertedCallsPercentage": "diverted",
    "missedCallsPercentage": "missedCalls",
    "transferredToCallQueuePercentage": "transferredToCallQueue",
    "transferredToRingGroupPercentage": "transferredToRingGroup",
}


def spec_metric_names(vendor_schemas: VendorSchemas) -> tuple[set[str], set[str]]:
    """(names in the `metrics` parameter table, names in the 200 example)."""
    operation = vendor_schemas.document(WORK_ANALYTICS)["paths"][CQ_PATH]["get"]
    description = next(p for p in operation["parameters"] if p["name"] == "metrics")["description"]
    table = {m.group(1) for m in re.finditer(r"^\| (\w+) \|", description, re.MULTILINE)} - {
        "Metric"
    }
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    example_names = {name for queue in example["callQueues"] for name in queue["metrics"]}
    return table, example_names


def is_duration(name: str) -> bool:
    return name.endswith("Time") or name == "averageTimeToAnswer"


def cq(client: SimClient, pbx_id: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get_json(f"/v2/pbxes/{pbx_id}/call-queue-metrics", params or None)
    return body


def check_queue_consistency(metrics: dict[str, Any], tolerance: float) -> None:
    """Relations the definitions imply, on one queue or on a summary (live window)."""
    m = metrics
    assert m["ongoingTotalCalls"] == m["ongoingWaitingCalls"] + m["ongoingHandlingCalls"]
    assert m["ongoingHandlingCalls"] == m["ongoingTalkingCalls"] + m["ongoingOnHoldCalls"]
    assert (
        m["ongoingEligibleAgents"]
        == m["ongoingEligiblePrimaryAgents"] + m["ongoingEligibleOverflowAgents"]
    )
    assert m["ongoingAvailableAgents"] <= m["ongoingEligibleAgents"]
    assert (
        m["ongoingWrappingUpAgents"]
        == m["ongoingPrimaryWrappingUpAgents"] + m["ongoingOverflowWrappingUpAgents"]
    )
    assert m["ongoingLoggedOutAndDndOverflowAgents"] <= m["ongoingLoggedOutAndDndAgents"]
    assert (
        m["ongoingEnabledPrimaryAgents"] + m["ongoingEnabledOverflowAgents"]
        == m["ongoingEligibleAgents"]
        + m["ongoingWrappingUpAgents"]
        + m["ongoingLoggedOutAndDndAgents"]
    )
    assert (
        m["ongoingEnabledOverflowAgents"] <= m["ongoingOverflowAgents"] <= m["ongoingTotalAgents"]
    )
    assert m["activeCalls"] == m["ongoingTotalCalls"]
    assert m["enteredCalls"] == m["completedCalls"] + m["activeCalls"]
    assert m["enteredCalls"] == (
        m["acceptedCalls"]
        + m["abandonedInWaitingCalls"]
        + m["forwardedToVoiceMail"]
        + m["transferredToCallQueue"]
        + m["transferredToRingGroup"]
        + m["transferredToExternalNumber"]
        + m["ongoingWaitingCalls"]
    )
    assert (
        m["diverted"]
        <= m["forwardedToVoiceMail"]
        + m["transferredToCallQueue"]
        + m["transferredToRingGroup"]
        + m["transferredToExternalNumber"]
    )
    assert m["ongoingLongestWaitingTime"] <= m["ongoingWaitingTime"] + tolerance
    # Handling covers talking calls and held calls (whose talk before the hold is in neither).
    assert (
        m["ongoingTotalHandlingTime"]
        >= m["ongoingTalkingTime"] + m["ongoingOnHoldTime"] - tolerance
    )
    assert m["ongoingLongestHandlingTime"] <= m["ongoingTotalHandlingTime"] + tolerance
    for name, (total, count_of) in AVERAGES.items():
        count = count_of(m)
        expected = m[total] / count if count else 0.0
        assert m[name] == pytest.approx(expected, abs=tolerance), name
    for name, part in PERCENTAGES.items():
        expected = round(100 * m[part] / m["enteredCalls"], 2) if m["enteredCalls"] else 0.0
        assert m[name] == pytest.approx(expected, abs=0.0051), name
        assert 0.0 <= m[name] <= 100.0


def test_response_matches_the_schema(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    body = cq(client, sim.directory[0].id)
    vendor_schemas.validate(WORK_ANALYTICS, "QueueMetricsResponse", body, strict=("QueueMetrics",))
    for queue in body["callQueues"]:
        assert all(
            isinstance(value, (int, float)) and not isinstance(value, bool)
            for value in queue["metrics"].values()
        )


def test_literal_schema_rejects_the_vendors_own_example(vendor_schemas: VendorSchemas) -> None:
    """Why the tests patch `metrics` values to numbers: the spec's schema says objects."""
    operation = vendor_schemas.document(WORK_ANALYTICS)["paths"][CQ_PATH]["get"]
    example_metrics = operation["responses"]["200"]["content"]["application/json"]["example"][
        "callQueues"
    ][0]["metrics"]
    instance = {"callQueues": [], "metricsSummary": example_metrics}
    literal = vendor_schemas.validator(
        WORK_ANALYTICS, "QueueMetricsResponse", patch_metric_values=False
    )
    assert not literal.is_valid(instance)
    assert vendor_schemas.validator(WORK_ANALYTICS, "QueueMetricsResponse").is_valid(instance)


def test_every_documented_metric_is_served(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    table, example = spec_metric_names(vendor_schemas)
    assert {"missedCalls", "missedCallsPercentage", "ongoingTotalAgents", "diverted"} <= example
    body = cq(client, sim.directory[0].id)
    for queue in body["callQueues"]:
        assert set(queue["metrics"]) == table | example
    assert set(body["metricsSummary"]) == table | example


def test_queues_match_the_directory_and_skip_deleted(client: SimClient, sim: Simulator) -> None:
    for pbx in sim.directory:
        body = cq(client, pbx.id)
        expected = [
            (pbx.name, site.name, q.id, q.name, q.auto_login, q.extension)
            for site in pbx.sites
            if not site.deleted
            for q in site.queues
            if not q.deleted
        ]
        got = [
            (q["pbx"], q["site"], q["id"], q["name"], q["autoLogin"], q["extension"])
            for q in body["callQueues"]
        ]
        assert got == expected
        assert all(isinstance(q["extension"], str) for q in body["callQueues"])
        deleted = {q.id for site in pbx.sites for q in site.queues if q.deleted}
        assert deleted and not deleted & {q["id"] for q in body["callQueues"]}


def test_live_values_equal_the_models_ground_truth(
    client: SimClient, sim: Simulator, fake_clock: FakeClock
) -> None:
    fake_clock.advance(37.25)
    body = cq(client, sim.directory[0].id)
    assert sim.model.now == fake_clock.now
    for queue in body["callQueues"]:
        assert queue["metrics"] == sim.model.queue_state(queue["id"])


def test_metrics_are_consistent_per_queue_and_in_the_summary(
    client: SimClient, sim: Simulator, fake_clock: FakeClock
) -> None:
    for _step in range(6):
        fake_clock.advance(45)
        for pbx in sim.directory:
            body = cq(client, pbx.id)
            for queue in body["callQueues"]:
                check_queue_consistency(queue["metrics"], tolerance=0.002)
            check_queue_consistency(body["metricsSummary"], tolerance=0.002)


def test_summary_arithmetic(
    make_simulator: Callable[..., Simulator], make_client: Callable[[Simulator], SimClient]
) -> None:
    simulator = make_simulator(seed=42, cq_duration_unit="milliseconds", history_seconds=4 * 3600)
    body = cq(make_client(simulator), simulator.directory[0].id)
    queues = [q["metrics"] for q in body["callQueues"]]
    summary = body["metricsSummary"]
    assert summary["enteredCalls"] > 0 and summary["acceptedCalls"] > 0
    for name, value in summary.items():
        values = [q[name] for q in queues]
        if name in PERCENTAGES:
            part = sum(q[PERCENTAGES[name]] for q in queues)
            entered = sum(q["enteredCalls"] for q in queues)
            assert value == round(100 * part / entered, 2), name  # recomputed, not averaged
        elif name in AVERAGES:
            total_name, count_of = AVERAGES[name]
            count = sum(count_of(q) for q in queues)
            expected = math.floor(sum(q[total_name] for q in queues) / count) if count else 0.0
            assert value == pytest.approx(expected, abs=1.0), name
        elif name in WEIGHTED_AVERAGES:
            weights = [q[WEIGHTED_AVERAGES[name]] for q in queues]
            expected = (
                sum(v * w for v, w in zip(values, weights)) / sum(weights) if sum(weights) else 0.0
            )
            assert value == pytest.approx(expected, abs=1.0), (
                name
            )  # per-queue values are floored ms
        elif "Longest" in name or name.startswith("longest"):
            assert value == max(values), name
        else:
            assert value == sum(values), name


@pytest.mark.parametrize("unit", ["seconds", "milliseconds"])
def test_duration_units(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
    unit: str,
) -> None:
    reference = make_simulator(seed=3, clock=clock_factory())
    simulator = make_simulator(seed=3, clock=clock_factory(), cq_duration_unit=unit)
    in_seconds = cq(make_client(reference), reference.directory[0].id)
    body = cq(make_client(simulator), simulator.directory[0].id)
    factor = 1000 if unit == "milliseconds" else 1
    pairs = [
        (a["metrics"], b["metrics"]) for a, b in zip(in_seconds["callQueues"], body["callQueues"])
    ]
    pairs.append((in_seconds["metricsSummary"], body["metricsSummary"]))
    durations_seen = 0
    for seconds_metrics, metrics in pairs:
        for name, value in metrics.items():
            if not is_duration(name):
                assert value == seconds_metrics[name], name
                continue
            durations_seen += value > 0
            if "Avg" in name or name.startswith("average"):
                assert isinstance(value, float)
                assert value == pytest.approx(
                    seconds_metrics[name] * factor, abs=1.001 if factor > 1 else 0.001
                ), name
            else:
                if unit == "milliseconds":
                    assert isinstance(value, int), name  # totals and longest are whole ms
                assert value == pytest.approx(seconds_metrics[name] * factor, abs=0.5), name
    assert durations_seen > 0


def test_site_and_queue_filters(client: SimClient, sim: Simulator) -> None:
    pbx = sim.directory[0]
    site_a, site_b = pbx.sites[0], pbx.sites[1]
    by_site = cq(client, pbx.id, siteIds=site_a.id)
    assert {q["site"] for q in by_site["callQueues"]} == {site_a.name}
    assert [q["id"] for q in by_site["callQueues"]] == [
        q.id for q in site_a.queues if not q.deleted
    ]

    both_sites = cq(client, pbx.id, siteIds=f"{site_a.id},{site_b.id}")
    assert len(both_sites["callQueues"]) == 6

    wanted = [site_a.queues[1].id, site_b.queues[2].id]
    by_queue = cq(client, pbx.id, queueIds=",".join(wanted))
    assert [q["id"] for q in by_queue["callQueues"]] == wanted
    assert by_queue["metricsSummary"]["enteredCalls"] == sum(
        q["metrics"]["enteredCalls"] for q in by_queue["callQueues"]
    )

    combined = cq(client, pbx.id, siteIds=site_a.id, queueIds=",".join(wanted))
    assert [q["id"] for q in combined["callQueues"]] == [wanted[0]]

    deleted_queue = next(q for q in site_a.queues if q.deleted)
    assert cq(client, pbx.id, queueIds=deleted_queue.id)["callQueues"] == []
    assert cq(client, pbx.id, queueIds="noSuchQueue")["callQueues"] == []


def test_metrics_filter(client: SimClient, sim: Simulator) -> None:
    wanted = ["ongoingWaitingCalls", "enteredCalls", "averageWaitingTime", "missedCallsPercentage"]
    body = cq(client, sim.directory[0].id, metrics=",".join(wanted))
    for queue in body["callQueues"]:
        assert list(queue["metrics"]) == wanted
    assert list(body["metricsSummary"]) == wanted


def test_unknown_metric_is_rejected(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    response = client.get(
        f"/v2/pbxes/{sim.directory[0].id}/call-queue-metrics",
        {"metrics": "enteredCalls,random,notSupported"},
    )
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["messages"] == ["Invalid Metrics Passed [random,notSupported]."]


def test_include_summary(client: SimClient, sim: Simulator) -> None:
    pbx_id = sim.directory[0].id
    assert "metricsSummary" in cq(client, pbx_id)
    assert "metricsSummary" in cq(client, pbx_id, includeSummary="true")
    assert "metricsSummary" not in cq(client, pbx_id, includeSummary="false")
    assert (
        client.get(
            f"/v2/pbxes/{pbx_id}/call-queue-metrics", {"includeSummary": "maybe"}
        ).status_code
        == 400
    )


def test_unknown_pbx_is_forbidden(client: SimClient, vendor_schemas: VendorSchemas) -> None:
    response = client.get("/v2/pbxes/PBX_ID/call-queue-metrics")
    assert response.status_code == 403
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["status"] == 403
    assert body["messages"] == [
        "user [supervisor@example.com] does not have access to pbxId [PBX_ID] to make this request."
    ]
    assert body["path"] == "/analytics/work/v2/pbxes/PBX_ID/call-queue-metrics"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", body["timestamp"])


def test_unknown_path_is_404(client: SimClient, vendor_schemas: VendorSchemas) -> None:
    response = client.get("/v2/pbxes/x/nothing-here")
    assert response.status_code == 404
    vendor_schemas.validate(
        WORK_ANALYTICS, "ErrorResponse", response.json(), strict=("ErrorResponse",)
    )


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"startDate": "2024-03-05T00:00:00Z"},
            "If startDate is entered, endDate is required as well.",
        ),
        (
            {"endDate": "2024-03-05T00:00:00Z"},
            "If endDate is entered, startDate is required as well.",
        ),
        (
            {"startDate": "yesterday", "endDate": "2024-03-05T00:00:00Z"},
            "Invalid startDate [yesterday]: expected an ISO 8601 date-time.",
        ),
        (
            {"startDate": "2024-03-05T10:00:00Z", "endDate": "2024-03-05T09:00:00Z"},
            "startDate must be before endDate.",
        ),
        (
            {"intraDayStart": "08:00:00Z", "intraDayEnd": "18:00:00Z"},
            "intraDayStart/intraDayEnd can only be passed with startDate/endDate.",
        ),
        (
            {
                "startDate": "2024-03-05T00:00:00Z",
                "endDate": "2024-03-05T12:00:00Z",
                "intraDayStart": "08:00:00Z",
            },
            "intraDayStart and intraDayEnd must be passed together.",
        ),
        (
            {
                "startDate": "2024-03-05T00:00:00Z",
                "endDate": "2024-03-05T12:00:00Z",
                "intraDayStart": "8 AM",
                "intraDayEnd": "18:00:00Z",
            },
            "Invalid intraDayStart [8 AM]: expected an ISO 8601 time such as 08:00:00-0700.",
        ),
    ],
)
def test_invalid_dates_are_rejected(
    client: SimClient,
    sim: Simulator,
    vendor_schemas: VendorSchemas,
    params: dict[str, str],
    message: str,
) -> None:
    response = client.get(f"/v2/pbxes/{sim.directory[0].id}/call-queue-metrics", params)
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["status"] == 400
    assert body["messages"] == [message]


def iso(epoch: float, offset_hours: int = 0) -> str:
    zone = timezone(timedelta(hours=offset_hours))
    return datetime.fromtimestamp(epoch, tz=zone).strftime("%Y-%m-%dT%H:%M:%S%z")


def test_date_range_returns_aggregates_over_that_range(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    fake_clock: FakeClock,
) -> None:
    simulator = make_simulator(seed=42, history_seconds=3 * 3600)
    api = make_client(simulator)
    pbx_id = simulator.directory[0].id
    now = fake_clock.now
    live = cq(api, pbx_id)
    # The last 24 h as an explicit range gives the same aggregates, without ongoing metrics.
    ranged = cq(api, pbx_id, startDate=iso(now - 86_400), endDate=iso(now))
    for live_queue, ranged_queue in zip(live["callQueues"], ranged["callQueues"]):
        assert not any(name.startswith("ongoing") for name in ranged_queue["metrics"])
        for name, value in ranged_queue["metrics"].items():
            assert value == live_queue["metrics"][name], name
    # Ranges are additive by queue-entry time; offsets such as -0700 are understood.
    middle = now - 5400
    first = cq(api, pbx_id, startDate=iso(now - 3 * 3600, -7), endDate=iso(middle, -7))
    second = cq(api, pbx_id, startDate=iso(middle), endDate=iso(now))
    whole = cq(api, pbx_id, startDate=iso(now - 3 * 3600), endDate=iso(now))
    for key in ("enteredCalls", "diverted"):  # decided at queue entry
        assert (
            first["metricsSummary"][key] + second["metricsSummary"][key]
            == whole["metricsSummary"][key]
        ), key
    # A call that entered in the first half but was answered after it is active there, not accepted.
    assert (
        first["metricsSummary"]["acceptedCalls"] + second["metricsSummary"]["acceptedCalls"]
        <= whole["metricsSummary"]["acceptedCalls"]
    )
    assert first["metricsSummary"]["activeCalls"] >= 0
    assert whole["metricsSummary"]["enteredCalls"] > 0
    # Before the simulated history there is nothing.
    empty = cq(api, pbx_id, startDate=iso(now - 30 * 86_400), endDate=iso(now - 29 * 86_400))
    assert (
        empty["metricsSummary"]["enteredCalls"] == 0
        and empty["metricsSummary"]["averageWaitingTime"] == 0.0
    )


def test_intra_day_window_narrows_the_range(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    fake_clock: FakeClock,
) -> None:
    simulator = make_simulator(seed=42, history_seconds=3 * 3600)
    api = make_client(simulator)
    pbx_id = simulator.directory[0].id
    now = fake_clock.now  # 15:00 UTC
    whole = cq(api, pbx_id, startDate=iso(now - 3 * 3600), endDate=iso(now))
    # 13:00-14:00 UTC written as 06:00-07:00 at -0700.
    hour = cq(
        api,
        pbx_id,
        startDate=iso(now - 3 * 3600),
        endDate=iso(now),
        intraDayStart="06:00:00-0700",
        intraDayEnd="07:00:00-0700",
    )
    same_hour = cq(api, pbx_id, startDate=iso(now - 2 * 3600), endDate=iso(now - 3600))
    assert 0 < hour["metricsSummary"]["enteredCalls"] < whole["metricsSummary"]["enteredCalls"]
    assert hour["metricsSummary"]["enteredCalls"] == same_hour["metricsSummary"]["enteredCalls"]


def test_range_across_a_daylight_saving_change_is_read_as_instants(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
    vendor_schemas: VendorSchemas,
) -> None:
    """America/New_York, 2024-03-10: 02:00 EST becomes 03:00 EDT. Local midnight to local
    noon is 11 hours, not 12: the offsets make each end one instant."""
    midnight = datetime(2024, 3, 10, 5, tzinfo=UTC).timestamp()  # 00:00 EST
    noon = midnight + 11 * 3600  # 12:00 EDT
    simulator = make_simulator(
        seed=42, clock=clock_factory(now=noon + 3600), history_seconds=14 * 3600
    )
    api = make_client(simulator)
    pbx_id = simulator.directory[0].id
    body = cq(api, pbx_id, startDate="2024-03-10T00:00:00-0500", endDate="2024-03-10T12:00:00-0400")
    vendor_schemas.validate(WORK_ANALYTICS, "QueueMetricsResponse", body, strict=("QueueMetrics",))
    same = cq(api, pbx_id, startDate=iso(midnight), endDate=iso(noon))
    assert body == same
    for queue in body["callQueues"]:
        truth = simulator.model.window_stats(queue["id"], midnight, noon)
        assert queue["metrics"]["enteredCalls"] == truth.entered
        assert queue["metrics"]["abandonedInWaitingCalls"] == truth.abandoned
        assert queue["metrics"]["acceptedCalls"] == truth.accepted
    assert body["metricsSummary"]["enteredCalls"] > 0
    # Read as wall times (12 hours) the range would hold an hour more of calls.
    longer = cq(api, pbx_id, startDate=iso(midnight), endDate=iso(noon + 3600))
    assert longer["metricsSummary"]["enteredCalls"] > body["metricsSummary"]["enteredCalls"]


def test_guide_spelling_divertedcalls_can_be_served(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
) -> None:
    """Vendor conflict: the spec says `diverted`, a guide `divertedCalls`; both can be tested."""
    reference = make_simulator(seed=4, clock=clock_factory())
    simulator = make_simulator(seed=4, clock=clock_factory(), diverted_metric_name="divertedCalls")
    api = make_client(simulator)
    pbx_id = simulator.directory[0].id
    expected = cq(make_client(reference), reference.directory[0].id)
    body = cq(api, pbx_id)
    for queue, truth in zip(body["callQueues"], expected["callQueues"]):
        assert "diverted" not in queue["metrics"]
        assert queue["metrics"]["divertedCalls"] == truth["metrics"]["diverted"]
        assert (
            queue["metrics"]["divertedCallsPercentage"]
            == truth["metrics"]["divertedCallsPercentage"]
        )
    assert body["metricsSummary"]["divertedCalls"] == expected["metricsSummary"]["diverted"]
    assert list(cq(api, pbx_id, metrics="divertedCalls,enteredCalls")["metricsSummary"]) == [
        "divertedCalls",
        "enteredCalls",
    ]
    assert (
        api.get(f"/v2/pbxes/{pbx_id}/call-queue-metrics", {"metrics": "diverted"}).status_code
        == 400
    )


@pytest.mark.parametrize(("extension_type", "python_type"), [("string", str), ("integer", int)])
def test_extension_type_is_configurable(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    extension_type: str,
    python_type: type,
) -> None:
    """Vendor conflict: QueueMetrics.extension is a string in the schema, a number in the example."""
    simulator = make_simulator(seed=4, cq_extension_type=extension_type)
    pbx = simulator.directory[0]
    body = cq(make_client(simulator), pbx.id)
    queues = {q.id: q for site in pbx.sites for q in site.queues}
    for queue in body["callQueues"]:
        assert isinstance(queue["extension"], python_type)
        assert str(queue["extension"]) == queues[queue["id"]].extension
