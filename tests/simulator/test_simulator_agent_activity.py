"""Simulator: GET /v2/pbxes/{pbxId}/queue-agent-activity and /agent-activity, their wire format:
schemas, parameters, errors, faults and the two shapes of /agent-activity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from simulator import Simulator

if TYPE_CHECKING:
    from tests.support.simulator import SimClient
    from tests.support.vendor_docs import VendorSchemas

WORK_ANALYTICS = "work_analytics.json"
QAA_PATH = "/v2/pbxes/{pbxId}/queue-agent-activity"
AA_PATH = "/v2/pbxes/{pbxId}/agent-activity"
QUEUE_STATUSES = [
    "AVAILABLE_IDLE",
    "HANDLING",
    "ALERTING",
    "PAUSE",
    "WRAP_UP",
    "BUSY_OTHER",
    "DND",
    "LOGGED_OUT",
]
ENGAGEMENT = ["HANDLING", "ALERTING", "WRAP_UP", "BUSY_OTHER", "AVAILABLE_IDLE"]
ENGAGEMENT += ["PAUSE", "DND", "LOGGED_OUT"]


def qaa(client: SimClient, pbx_id: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get_json(f"/v2/pbxes/{pbx_id}/queue-agent-activity", params)
    return body


def aa(client: SimClient, pbx_id: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get_json(f"/v2/pbxes/{pbx_id}/agent-activity", params)
    return body


def spec_table(vendor_schemas: VendorSchemas, path: str) -> set[str]:
    """The metric names of the `metrics` parameter's table of one operation."""
    operation = vendor_schemas.document(WORK_ANALYTICS)["paths"][path]["get"]
    description = next(p for p in operation["parameters"] if p["name"] == "metrics")["description"]
    names = {m.group(1) for m in re.finditer(r"^\| *(\w+) *\|", description, re.MULTILINE)}
    return names - {"Name", "Metric"}


def test_queue_agent_activity_matches_the_schema(
    shared_client: SimClient, shared_sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    validator = vendor_schemas.agent_activity_validator("QueueAgentActivityResponse")
    seen: Counter[str] = Counter()
    for pbx in shared_sim.directory:
        body = qaa(shared_client, pbx.id)
        vendor_schemas.check(validator, body)
        for queue in body["queuesAgentActivity"]:
            assert set(queue["metricsSummary"]) == spec_table(vendor_schemas, QAA_PATH) - {
                "queueStatusTime",
                "userStatusTime",
            }
            for agent in queue["queueAgentActivity"]:
                seen[agent["queueStatus"]] += 1
                assert set(agent["metrics"]) == spec_table(vendor_schemas, QAA_PATH)
                assert ("interaction" in agent) == (
                    agent["queueStatus"] in ("HANDLING", "ALERTING")
                )
    assert set(seen) <= set(QUEUE_STATUSES)
    assert seen["AVAILABLE_IDLE"] and seen["HANDLING"] and seen["LOGGED_OUT"]


def test_literal_schema_rejects_numbers_as_metric_values(vendor_schemas: VendorSchemas) -> None:
    # Why the validator patches the metric values: the spec's own example fails the literal one.
    operation = vendor_schemas.document(WORK_ANALYTICS)["paths"][QAA_PATH]["get"]
    example = operation["responses"]["200"]["content"]["application/json"]["examples"]
    literal = vendor_schemas.validator(WORK_ANALYTICS, "QueueAgentActivityResponse")
    assert list(literal.iter_errors(example["All Metrics"]["value"]))


def test_agent_activity_matches_the_schema(
    shared_client: SimClient, shared_sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    validator = vendor_schemas.agent_activity_validator("AgentActivityResponse")
    pbx_id = shared_sim.directory[0].id
    body = aa(shared_client, pbx_id)
    vendor_schemas.check(validator, body)
    names = spec_table(vendor_schemas, AA_PATH)
    assert body["agentActivity"] and set(body["summary"]) == names - {"userStatusTime"}
    for agent in body["agentActivity"]:
        assert set(agent["metrics"]) == names
    assert "queueStatusTime" not in names


def test_agent_activity_is_queue_agent_activity_per_agent(
    shared_client: SimClient, shared_sim: Simulator
) -> None:
    pbx_id = shared_sim.directory[0].id
    per_queue = qaa(shared_client, pbx_id)["queuesAgentActivity"]
    agents = aa(shared_client, pbx_id)["agentActivity"]
    memberships: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for queue in per_queue:
        for agent in queue["queueAgentActivity"]:
            memberships.setdefault(agent["userId"], []).append((queue["queueExtension"], agent))
    assert [a["userId"] for a in agents] and {a["userId"] for a in agents} == set(memberships)
    assert len(agents) == len(memberships)  # each agent once
    for agent in agents:
        mine = memberships[agent["userId"]]
        # The queues' extensions (the spec's example shows "1002"), where not LOGGED_OUT.
        assert agent["loggedInQueues"] == [
            extension for extension, a in mine if a["queueStatus"] != "LOGGED_OUT"
        ]
        statuses = {a["queueStatus"] for _, a in mine}
        assert agent["activityStatus"] == next(s for s in ENGAGEMENT if s in statuses)
        assert agent["userStatus"] == mine[0][1]["userStatus"]
        for name in ("acceptedInteractions", "enteredInteractions", "totalInteractionTime"):
            assert agent["metrics"][name] == sum(a["metrics"][name] for _, a in mine)
        assert agent["metrics"]["userStatusTime"] == mine[0][1]["metrics"]["userStatusTime"]


def test_agent_activity_example_shape_is_a_setting(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    vendor_schemas: VendorSchemas,
) -> None:
    schema_sim = make_simulator(seed=42)
    example_sim = make_simulator(seed=42, agent_activity_shape="example")
    pbx_id = schema_sim.directory[0].id
    schema_body = aa(make_client(schema_sim), pbx_id)
    body = aa(make_client(example_sim), pbx_id)
    assert set(body) == {"queuesAgentActivity"}
    agent_validator = vendor_schemas.agent_activity_validator("AgentActivity")
    by_id: dict[str, dict[str, Any]] = {}
    for queue in body["queuesAgentActivity"]:
        keys = {"pbx", "site", "queueId", "queueExtension", "queueName", "autoLogin"}
        assert set(queue) == keys | {"agentActivity", "metricsSummary"}
        for agent in queue["agentActivity"]:
            vendor_schemas.check(agent_validator, agent)
            by_id[agent["userId"]] = agent  # an agent of several queues appears under each
        assert queue["metricsSummary"]["acceptedInteractions"] == sum(
            agent["metrics"]["acceptedInteractions"] for agent in queue["agentActivity"]
        )
    assert list(by_id.values()) == sorted(
        schema_body["agentActivity"], key=lambda a: list(by_id).index(a["userId"])
    )
    with pytest.raises(ValueError, match="agent_activity_shape"):
        Simulator(seed=1, agent_activity_shape="flat")


@pytest.mark.parametrize("path", ["queue-agent-activity", "agent-activity"])
def test_metrics_parameter_and_summary(
    shared_client: SimClient, shared_sim: Simulator, vendor_schemas: VendorSchemas, path: str
) -> None:
    pbx_id = shared_sim.directory[0].id
    url = f"/v2/pbxes/{pbx_id}/{path}"
    body = shared_client.get_json(
        url, {"metrics": "userStatusTime,acceptedInteractions", "includeSummary": "false"}
    )
    listed = body.get("queuesAgentActivity") or [{"queueAgentActivity": body["agentActivity"]}]
    assert all("metricsSummary" not in q and "summary" not in q for q in listed)
    assert "summary" not in body
    for queue in listed:
        for agent in queue["queueAgentActivity"]:
            assert list(agent["metrics"]) == ["userStatusTime", "acceptedInteractions"]
    response = shared_client.get(url, {"metrics": "random,notSupported"})
    assert response.status_code == 400
    error = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", error, strict=("ErrorResponse",))
    assert error["messages"] == ["Invalid Metrics Passed [random,notSupported]."]
    assert error["path"] == f"/analytics/work{url}"
    assert shared_client.get(url, {"includeSummary": "maybe"}).status_code == 400


@pytest.mark.parametrize(
    "params, message",
    [
        ({"userStatuses": "AVAILABLE,SLEEPING"}, "Invalid User Statuses Passed [SLEEPING]."),
        ({"queueStatuses": "IDLE"}, "Invalid Queue Statuses Passed [IDLE]."),
        (
            {"startDate": "2024-03-05T00:00:00Z"},
            "If startDate is entered, endDate is required as well.",
        ),
        (
            {"intraDayStart": "08:00:00Z", "intraDayEnd": "18:00:00Z"},
            "intraDayStart/intraDayEnd can only be passed with startDate/endDate.",
        ),
    ],
)
def test_bad_parameters_get_the_vendors_400(
    shared_client: SimClient,
    shared_sim: Simulator,
    vendor_schemas: VendorSchemas,
    params: dict[str, str],
    message: str,
) -> None:
    response = shared_client.get(
        f"/v2/pbxes/{shared_sim.directory[0].id}/queue-agent-activity", params
    )
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["status"] == 400 and body["messages"] == [message]


def test_filters(shared_client: SimClient, shared_sim: Simulator) -> None:
    pbx = shared_sim.directory[0]
    everything = qaa(shared_client, pbx.id)["queuesAgentActivity"]
    site = pbx.sites[0]
    by_site = qaa(shared_client, pbx.id, siteIds=site.id)["queuesAgentActivity"]
    assert {q["site"] for q in by_site} == {site.name} and by_site
    queue = everything[1]
    by_queue = qaa(shared_client, pbx.id, queueIds=queue["queueId"])["queuesAgentActivity"]
    assert by_queue == [queue]
    user = queue["queueAgentActivity"][0]
    by_user = qaa(shared_client, pbx.id, userIds=user["userId"])["queuesAgentActivity"]
    assert len(by_user) == len(everything)  # every queue, with only that agent where a member
    assert [a for q in by_user for a in q["queueAgentActivity"]] == [
        a for q in everything for a in q["queueAgentActivity"] if a["userId"] == user["userId"]
    ]
    for name, key in (("queueStatuses", "queueStatus"), ("userStatuses", "userStatus")):
        wanted = {"LOGGED_OUT", "HANDLING"} if key == "queueStatus" else {"OFFLINE", "ON_CALL"}
        filtered = qaa(shared_client, pbx.id, **{name: ",".join(sorted(wanted))})
        agents = [a for q in filtered["queuesAgentActivity"] for a in q["queueAgentActivity"]]
        expected = [a for q in everything for a in q["queueAgentActivity"] if a[key] in wanted]
        assert agents == expected and agents
    offline = aa(shared_client, pbx.id, userStatuses="OFFLINE")["agentActivity"]
    assert offline and all(a["userStatus"] == "OFFLINE" for a in offline)
    assert all(a["loggedInQueues"] == [] for a in offline)


def test_a_date_range_only_changes_the_interaction_counts(
    shared_client: SimClient, shared_sim: Simulator
) -> None:
    pbx_id = shared_sim.directory[0].id
    live = qaa(shared_client, pbx_id)["queuesAgentActivity"]
    # A day before any history: no interaction, the same statuses and status times.
    old = qaa(
        shared_client, pbx_id, startDate="2024-01-01T00:00:00Z", endDate="2024-01-02T00:00:00Z"
    )["queuesAgentActivity"]
    assert sum(a["metrics"]["acceptedInteractions"] for q in live for a in q["queueAgentActivity"])
    for live_queue, old_queue in zip(live, old, strict=True):
        for now, then in zip(
            live_queue["queueAgentActivity"], old_queue["queueAgentActivity"], strict=True
        ):
            assert then["queueStatus"] == now["queueStatus"]
            for name in ("queueStatusTime", "userStatusTime", "ongoingHandlingInteractions"):
                assert then["metrics"][name] == now["metrics"][name]
            assert then["metrics"]["enteredInteractions"] == 0
            assert then["metrics"]["agentAverageTimeToAnswer"] is None


@pytest.mark.parametrize("path", ["queue-agent-activity", "agent-activity"])
def test_auth_and_access_errors(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas, path: str
) -> None:
    response = client.get(f"/v2/pbxes/PBX_ID/{path}")
    assert response.status_code == 403
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["messages"] == [
        "user [supervisor@example.com] does not have access to pbxId [PBX_ID] to make this request."
    ]
    url = f"/v2/pbxes/{sim.directory[0].id}/{path}"
    token = client.token
    sim.expire_tokens()
    response = client.get(url)
    assert response.status_code == 401
    body = response.json()
    vendor_schemas.validate(WORK_ANALYTICS, "401ErrorResponse", body, strict=("401ErrorResponse",))
    assert body == {"error": "invalid_token", "error_description": f"Access token expired: {token}"}


def test_faults_apply_to_both_paths(client: SimClient, sim: Simulator) -> None:
    pbx_id = sim.directory[0].id
    sim.faults.add(r"/queue-agent-activity$", status=429, headers={"Retry-After": "2"})
    sim.faults.add(r"/agent-activity$", status=503)  # also matches queue-agent-activity
    faulted = client.get(f"/v2/pbxes/{pbx_id}/queue-agent-activity")
    assert faulted.status_code == 429 and faulted.headers["Retry-After"] == "2"
    assert faulted.json()["status"] == 429
    assert client.get(f"/v2/pbxes/{pbx_id}/agent-activity").status_code == 503
    assert client.get(f"/v2/pbxes/{pbx_id}/agent-activity").status_code == 200
    logged = [r.path for r in sim.requests.snapshot()]
    assert logged.count(f"/analytics/work/v2/pbxes/{pbx_id}/agent-activity") == 2
