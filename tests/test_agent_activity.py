"""The agent activity poller: `/v2/pbxes/{pbxId}/agent-activity` in both answer shapes of the
vendor's documents, replayed strictly, and its exposition."""

from __future__ import annotations

import copy
import urllib.parse
from collections.abc import Sequence
from typing import Any

import pytest
import responses
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.api.live import LiveApi, agent_rows
from exporter.config import ConfigError, load_config_data
from exporter.config.live import AgentActivityConfig
from exporter.core.errors import CollectionError, MalformedResponseError
from exporter.metrics.rendering import render_families
from exporter.pollers.agent_activity import SPECS, AgentActivityPoller
from exporter.pollers.discovery import FixedDirectory
from tests.support import work_analytics as wa
from tests.support.call_queues import PBX_ID, directory
from tests.support.files import fixture_json
from tests.support.page import Samples, samples

URL = f"{wa.BASE}/v2/pbxes/{PBX_ID}/agent-activity"
PBX = "voaromaniaqe14051"
CREDENTIALS = {"api_key": "k", "username": "u", "password": "p"}


def page_of(poller: AgentActivityPoller) -> Samples:
    rendered = render_families(poller.collect())
    return samples(b"".join(f.header(False) + f.samples for f in rendered).decode())


def make_poller(rsps: responses.RequestsMock, body: Any, **kwargs: Any) -> AgentActivityPoller:
    wa.add_token(rsps)
    rsps.get(URL, json=body)
    client = wa.make_client(CollectorRegistry(), wa.Sleeps())
    return AgentActivityPoller(LiveApi(client), directory, interval=30, **kwargs)


def value(page: Samples, name: str, **labels: str) -> float | None:
    return page.get((name, frozenset(labels.items())))


@pytest.mark.parametrize("fixture", ["agent_activity.json", "agent_activity_schema_shape.json"])
def test_both_answer_shapes_give_the_same_page(rsps, fixture: str) -> None:
    poller = make_poller(rsps, fixture_json(fixture), per_agent=True)
    page = page_of(poller)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(rsps.calls[1].request.url).query)
    assert query == {"includeSummary": ["false"]}  # summaries are not exported
    # user_1 is ON_CALL; user_2 has no userStatus in the vendor's example: not counted.
    assert value(page, "eightbyeight_agents", pbx=PBX, user_status="on_call") == 1
    for status in ("available", "busy", "dnd", "away", "auto_away", "offline", "invisible"):
        assert value(page, "eightbyeight_agents", pbx=PBX, user_status=status) == 0
    activity = "eightbyeight_agents_by_activity_status"
    assert value(page, activity, pbx=PBX, activity_status="new") == 1
    assert value(page, activity, pbx=PBX, activity_status="available_idle") == 1
    assert value(page, activity, pbx=PBX, activity_status="logged_out") == 0
    assert value(page, activity, pbx=PBX, activity_status="other") is None
    one = {"pbx": PBX, "agent_id": "user_1"}
    status = "eightbyeight_agent_status"
    assert value(page, status, **one, user_status="on_call") == 1
    assert value(page, status, **one, user_status="available") == 0
    assert value(page, "eightbyeight_agent_status_time_seconds", **one) == 2579.0  # ms
    assert value(page, "eightbyeight_agent_logged_in_queues", **one) == 2
    assert value(page, "eightbyeight_agent_ongoing_talking_interaction_time_seconds", **one) == (
        2594.778
    )
    # The example's ongoingHandlingInteractionsTime is the table's TotalHandling one.
    two = {"pbx": PBX, "agent_id": "user_2"}
    assert value(page, "eightbyeight_agent_ongoing_handling_interaction_time_seconds", **two) == (
        2615.0
    )
    assert value(page, status, **two, user_status="available") is None  # no status, no set
    assert poller.invalid.count == 0 and poller.unusable.count == 0


def test_per_agent_series_are_off_by_default(rsps) -> None:
    page = page_of(make_poller(rsps, fixture_json("agent_activity.json")))
    assert {name for name, _ in page} == {
        "eightbyeight_agents",
        "eightbyeight_agents_by_activity_status",
    }


def test_an_agent_listed_under_two_queues_counts_once(rsps) -> None:
    body = fixture_json("agent_activity.json")
    second = copy.deepcopy(body["queuesAgentActivity"][0])
    second["queueName"] = "Other queue"
    body["queuesAgentActivity"].append(second)
    poller = make_poller(rsps, body)
    page = page_of(poller)
    assert value(page, "eightbyeight_agents", pbx=PBX, user_status="on_call") == 1
    assert poller.invalid.count == 0


def test_unknown_statuses_are_other_and_logged_once(rsps) -> None:
    body = fixture_json("agent_activity_schema_shape.json")
    agents = body["agentActivity"]
    agents[0]["userStatus"] = "ON_VACATION"
    agents[1]["userStatus"] = "ON_SABBATICAL"
    poller = make_poller(rsps, body, per_agent=True)
    with capture_logs() as logs:
        page = page_of(poller)
    assert value(page, "eightbyeight_agents", pbx=PBX, user_status="other") == 2
    assert value(page, "eightbyeight_agents", pbx=PBX, user_status="on_call") == 0
    state = {"pbx": PBX, "agent_id": "user_1"}
    assert value(page, "eightbyeight_agent_status", **state, user_status="other") == 1
    assert value(page, "eightbyeight_agent_status", **state, user_status="on_call") == 0
    unknown = [e for e in logs if e["event"] == "agent_status_unknown"]
    assert len(unknown) == 1 and unknown[0]["kind"] == "userStatus"
    assert poller.unusable.count == 2


def test_malformed_rows_are_counted_and_the_rest_exported(rsps) -> None:
    body = fixture_json("agent_activity_schema_shape.json")
    good = body["agentActivity"][0]
    body["agentActivity"] += [
        "not an agent",
        {"userStatus": "BUSY"},  # no userId
        {"userId": "user_3", "userStatus": 7, "metrics": {"acceptedInteractions": -1}},
        {"userId": "user_4", "userStatus": "busy", "metrics": "none"},
    ]
    good["metrics"]["totalInteractionTime"] = "soon"
    good["metrics"]["agentAverageTimeToAnswer"] = None  # documented: no answered interaction
    poller = make_poller(rsps, body, per_agent=True)
    with capture_logs():
        page = page_of(poller)
    assert poller.invalid.count == 2  # the string and the row without userId
    # 7 as a status (other), -1 accepted, "soon", metrics "none"
    assert poller.unusable.count == 4
    assert value(page, "eightbyeight_agents", pbx=PBX, user_status="busy") == 1  # any case
    assert value(page, "eightbyeight_agents", pbx=PBX, user_status="other") == 1
    one = {"pbx": PBX, "agent_id": "user_1"}
    assert value(page, "eightbyeight_agent_total_interaction_time_seconds", **one) is None
    assert value(page, "eightbyeight_agent_average_time_to_answer_seconds", **one) is None
    assert value(page, "eightbyeight_agent_accepted_interactions", **one) == 0


def test_per_agent_series_stay_within_max_series(rsps) -> None:
    body = fixture_json("agent_activity_schema_shape.json")
    poller = make_poller(rsps, body, per_agent=True, max_series=30)
    with capture_logs() as logs:
        page = page_of(poller)
    exported = {dict(labels).get("agent_id") for _, labels in page}
    assert exported == {None, "user_1"}  # user_2's series did not fit: none of them
    assert poller.series is not None and poller.series.dropped > 0
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["series_limit_reached"]
    # The PBX totals are never dropped.
    assert value(page, "eightbyeight_agents_by_activity_status", pbx=PBX, activity_status="new")


@pytest.mark.parametrize("body", [[], {"agents": []}, {"queuesAgentActivity": {}}, "agents"])
def test_another_shape_fails_the_run(rsps, body: Any) -> None:
    poller = make_poller(rsps, body)
    with pytest.raises(MalformedResponseError, match="neither an agentActivity"):
        poller.collect()


def test_rows_of_both_shapes() -> None:
    assert agent_rows({"agentActivity": [1]}) == [1]
    queues = {"queuesAgentActivity": [{"agentActivity": [1]}, {"agentActivity": None}, 5, {}]}
    assert agent_rows(queues) == [1, 5]  # 5 is passed on to be counted


def test_requested_metrics_are_sent(rsps) -> None:
    poller = make_poller(
        rsps, fixture_json("agent_activity.json"), metrics=["userStatusTime", "missedInteractions"]
    )
    page_of(poller)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(rsps.calls[1].request.url).query)
    assert query["metrics"] == ["userStatusTime,missedInteractions"]


class Unreachable:
    def agent_activity(self, pbx_id: str, *, metrics: Sequence[str] = ()) -> list[Any]:
        raise AssertionError("asked the API")


def test_no_directory_yet_fails_without_a_request() -> None:
    poller = AgentActivityPoller(Unreachable(), FixedDirectory(None), interval=30)
    with pytest.raises(CollectionError, match="not been discovered"):
        poller.collect()


def test_specs_name_every_family_once() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    assert "eightbyeight_agent_accepted_interactions_ratio" in names
    assert "eightbyeight_agent_total_interaction_time_seconds" in names


def test_config_defaults_and_bad_values() -> None:
    section = AgentActivityConfig()
    assert (section.enabled, section.interval, section.per_agent) == (True, 30.0, False)
    assert (section.max_series, section.metrics) == (20_000, [])
    loaded = load_config_data({"work_analytics": CREDENTIALS}, env={})
    assert loaded.work_analytics.agent_activity == section
    bad = {"agent_activity": {"metrics": ["acceptedInteractions", "colour"], "max_series": 0}}
    with pytest.raises(ConfigError) as info:
        load_config_data({"work_analytics": {**CREDENTIALS, **bad}}, env={})
    assert info.value.problems == [
        "work_analytics.agent_activity.max_series: Input should be greater than or equal to 1",
        "work_analytics.agent_activity.metrics: unknown agent metrics: colour",
    ]
