"""The queue agents poller on the vendor's queue-agent-activity example: its counts per queue
and status, the per-agent series, limits, bad rows, a failing endpoint, and its config."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
import responses
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.config import ConfigError, Selection, load_config_data
from exporter.core.errors import CollectionError, MalformedResponseError
from exporter.metrics.queue_agents import QUEUE_STATUSES, USER_STATUSES
from exporter.pollers.base import PollerRunner, Scheduler
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.discovery import FixedDirectory, Queue
from exporter.pollers.queue_agents import QueueAgentPoller
from tests.support.agents import (
    EMPTY_QUEUE_ID,
    PBX_ID,
    QUEUE_ID,
    SITE_ID,
    AgentClient,
    directory,
    make_directory,
    queue_labels,
)
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.page import PageReader, exposition_of
from tests.support.work_analytics import BASE, Sleeps, add_token, make_client

EXAMPLE = fixture_json("queue_agent_activity.json")
URL = f"{BASE}/v2/pbxes/{PBX_ID}/queue-agent-activity"
EMPTY = {
    "pbx": "testPbx",
    "site": "Austin",
    "queue": "Empty",
    "extension": "6500000",
    "queue_id": EMPTY_QUEUE_ID,
}
CREDENTIALS = {"api_key": "k", "username": "u", "password": "p"}


def render(poller: QueueAgentPoller) -> CollectorRegistry:
    families = poller.collect()

    class Fixed:
        def collect(self) -> Any:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())
    return registry


def example(**changes: Any) -> dict[str, Any]:
    """The example, with `changes` applied to both agents' rows."""
    body = copy.deepcopy(EXAMPLE)
    for row in body["queuesAgentActivity"][0]["queueAgentActivity"]:
        row.update(changes)
    return body


def test_the_example_replayed_strictly_gives_the_counts(rsps: responses.RequestsMock) -> None:
    add_token(rsps)
    # The summary is not asked for: the poller sums the agents itself.
    rsps.get(
        URL,
        json=EXAMPLE,
        match=[responses.matchers.query_param_matcher({"includeSummary": "false"})],
    )
    client = make_client(CollectorRegistry(), Sleeps())
    registry = render(QueueAgentPoller(client, directory, interval=30))
    get = registry.get_sample_value
    by_status = "eightbyeight_queue_agents_by_queue_status"
    assert get(by_status, queue_labels(queue_status="handling")) == 1
    assert get(by_status, queue_labels(queue_status="alerting")) == 1
    # Every known status and `other` at 0: absent and zero are told apart by nobody.
    for word in ("available_idle", "pause", "wrap_up", "busy_other", "dnd", "logged_out", "other"):
        assert get(by_status, queue_labels(queue_status=word)) == 0, word
    by_user = "eightbyeight_queue_agents_by_user_status"
    assert get(by_user, queue_labels(user_status="on_call")) == 1
    assert get(by_user, queue_labels(user_status="available")) == 1
    assert get(by_user, queue_labels(user_status="auto_away")) == 0
    logged_in = "eightbyeight_queue_logged_in_agents"
    assert get(logged_in, queue_labels(role="primary")) == 2
    assert get(logged_in, queue_labels(role="overflow")) == 0
    # A queue of the directory the answer does not list has no agents.
    assert get(by_status, {**EMPTY, "queue_status": "handling"}) == 0
    assert get(logged_in, {**EMPTY, "role": "primary"}) == 0
    # Per-agent series are off by default.
    assert get("eightbyeight_queue_agent_overflow", queue_labels(agent_id="user_1")) is None
    help_text = next(m for m in registry.collect() if m.name == by_status).documentation
    assert help_text.endswith(
        "Polled from /v2/pbxes/{pbxId}/queue-agent-activity (how often: eightbyeight_collector_interval_seconds)."
    )


def test_per_agent_series_of_the_example() -> None:
    poller = QueueAgentPoller(AgentClient(EXAMPLE), directory, interval=30, per_agent=True)
    get = render(poller).get_sample_value
    user_1 = queue_labels(agent_id="user_1")
    states = {
        w.lower(): get("eightbyeight_queue_agent_status", {**user_1, "queue_status": w.lower()})
        for w in QUEUE_STATUSES
    }
    assert states.pop("handling") == 1 and set(states.values()) == {0}
    assert get("eightbyeight_queue_agent_status", {**user_1, "queue_status": "other"}) == 0
    # Issue #18: agent durations are ms (userStatusTime 2579000 is about 43 minutes).
    assert get("eightbyeight_queue_agent_status_time_seconds", user_1) == 2579
    assert get("eightbyeight_queue_agent_user_status_time_seconds", user_1) == 2579
    assert (
        get("eightbyeight_queue_agent_ongoing_talking_interaction_time_seconds", user_1) == 2594.778
    )
    # The example's `ongoingHandlingInteractionsTime` is the table's `ongoingTotal...`.
    assert get("eightbyeight_queue_agent_ongoing_handling_interaction_time_seconds", user_1) == 2579
    assert get("eightbyeight_queue_agent_accepted_interactions", user_1) == 0
    assert get("eightbyeight_queue_agent_overflow", user_1) == 0
    user_2 = queue_labels(agent_id="user_2")
    assert get("eightbyeight_queue_agent_status", {**user_2, "queue_status": "alerting"}) == 1
    assert get("eightbyeight_queue_agent_ongoing_on_hold_interactions", user_2) == 1


def test_percentages_become_ratios_and_overflow_agents_their_role() -> None:
    body = example(overflowAgent=True, metrics={"acceptedInteractionsPercentage": "87.5"})
    body["queuesAgentActivity"][0]["queueAgentActivity"][1]["queueStatus"] = "LOGGED_OUT"
    get = render(
        QueueAgentPoller(AgentClient(body), directory, interval=30, per_agent=True)
    ).get_sample_value
    assert (
        get("eightbyeight_queue_agent_accepted_interactions_ratio", queue_labels(agent_id="user_1"))
        == 0.875
    )
    assert get("eightbyeight_queue_agent_overflow", queue_labels(agent_id="user_1")) == 1
    assert get("eightbyeight_queue_logged_in_agents", queue_labels(role="overflow")) == 1
    assert get("eightbyeight_queue_logged_in_agents", queue_labels(role="primary")) == 0


def test_an_unknown_status_is_other_counted_and_logged_once() -> None:
    body = example(queueStatus="ON_BREAK", userStatus="available")  # lower case: still known
    poller = QueueAgentPoller(AgentClient(body), directory, interval=30, per_agent=True)
    with capture_logs() as logs:
        first = render(poller).get_sample_value
        render(poller)
    assert (
        first("eightbyeight_queue_agents_by_queue_status", queue_labels(queue_status="other")) == 2
    )
    assert (
        first("eightbyeight_queue_agents_by_user_status", queue_labels(user_status="available"))
        == 2
    )
    assert (
        first(
            "eightbyeight_queue_agent_status", queue_labels(agent_id="user_1", queue_status="other")
        )
        == 1
    )
    unknown = [e for e in logs if e["event"] == "queue_agents_status_unknown"]
    assert [(e["kind"], e["value"]) for e in unknown] == [("queueStatus", "ON_BREAK")]
    assert poller.self_metrics()["eightbyeight_collector_values_unusable"] == 4  # 2 a run


def test_max_series_keeps_every_queue_count_before_any_agent() -> None:
    queues = 2 * (len(QUEUE_STATUSES) + len(USER_STATUSES) + 2 + 2)
    per_agent = len(QUEUE_STATUSES) + 1 + 1 + 15  # states, other, overflow, 15 metrics
    poller = QueueAgentPoller(
        AgentClient(EXAMPLE), directory, interval=30, per_agent=True, max_series=queues + per_agent
    )
    with capture_logs() as logs:
        get = render(poller).get_sample_value
    assert get("eightbyeight_queue_agent_overflow", queue_labels(agent_id="user_1")) == 0
    assert get("eightbyeight_queue_agent_overflow", queue_labels(agent_id="user_2")) is None
    assert get("eightbyeight_queue_agents_by_queue_status", {**EMPTY, "queue_status": "pause"}) == 0
    metrics = poller.self_metrics()
    assert metrics["eightbyeight_collector_series"] == queues + per_agent
    assert metrics["eightbyeight_collector_series_dropped"] == per_agent
    assert [e["event"] for e in logs] == ["series_limit_reached"]


def test_malformed_rows_are_counted_and_the_rest_exported() -> None:
    body = copy.deepcopy(EXAMPLE)
    rows = body["queuesAgentActivity"][0]["queueAgentActivity"]
    good = rows[0]
    good["metrics"].update(
        userStatusTime="2579000", queueStatusTime=None, totalInteractionTime="n/a"
    )
    rows[1].update(queueStatus=None, userStatus=7, metrics=[1], overflowAgent="true")
    rows += ["agent", None, {**good}, {**good, "userId": None}]
    body["queuesAgentActivity"] += [3, {"queueAgentActivity": []}, body["queuesAgentActivity"][0]]
    poller = QueueAgentPoller(AgentClient(body), directory, interval=30, per_agent=True)
    get = render(poller).get_sample_value
    user_1 = queue_labels(agent_id="user_1")
    assert get("eightbyeight_queue_agent_user_status_time_seconds", user_1) == 2579  # a string
    assert get("eightbyeight_queue_agent_status_time_seconds", user_1) is None  # null: no value
    assert get("eightbyeight_queue_agent_total_interaction_time_seconds", user_1) is None
    # Null and a number as statuses: other; the agent without userId counts, without series.
    assert get("eightbyeight_queue_agents_by_queue_status", queue_labels(queue_status="other")) == 1
    assert (
        get("eightbyeight_queue_agents_by_queue_status", queue_labels(queue_status="handling")) == 2
    )
    assert get("eightbyeight_queue_agents_by_user_status", queue_labels(user_status="other")) == 1
    assert get("eightbyeight_queue_logged_in_agents", queue_labels(role="overflow")) == 1
    assert get("eightbyeight_queue_agent_overflow", queue_labels(agent_id="user_2")) == 1
    metrics = poller.self_metrics()
    # Two non-objects, a duplicate agent, metrics not an object, an agent without userId; a
    # queue entry not an object, one with no id, name or extension, a queue listed twice.
    assert metrics["eightbyeight_collector_records_invalid"] == 8
    # Two unknown statuses, one value no number.
    assert metrics["eightbyeight_collector_values_unusable"] == 3


@pytest.mark.parametrize(
    "body", [[], {}, {"queuesAgentActivity": None}, {"queuesAgentActivity": {}}, "x"]
)
def test_an_answer_of_another_shape_fails_the_run(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        QueueAgentPoller(AgentClient(body), directory, interval=30).collect()


def test_no_directory_yet_fails_the_run() -> None:
    with pytest.raises(CollectionError):
        QueueAgentPoller(AgentClient(EXAMPLE), FixedDirectory(None), interval=30).collect()


def test_filters_become_ids_and_select_keeps_queues() -> None:
    client = AgentClient(EXAMPLE)
    poller = QueueAgentPoller(
        client,
        directory,
        interval=30,
        sites=["Test Site"],
        queues=["6509967"],
        metrics=["acceptedInteractions"],
    )
    get = render(poller).get_sample_value
    assert client.calls == [
        (
            "queue_agent_activity",
            PBX_ID,
            {
                "site_ids": [SITE_ID],
                "queue_ids": [QUEUE_ID],
                "metrics": ["acceptedInteractions"],
                "include_summary": False,
            },
        )
    ]
    # The filters keep the empty queue (another site) out of the zero-filled ones.
    assert get("eightbyeight_queue_logged_in_agents", {**EMPTY, "role": "primary"}) is None
    nothing = AgentClient(EXAMPLE)
    QueueAgentPoller(nothing, directory, interval=30, queues=["nope"]).collect()
    assert nothing.calls == []
    select = Selection.model_validate({"exclude": ["Timoth"]})
    get = render(
        QueueAgentPoller(AgentClient(EXAMPLE), directory, interval=30, select=select)
    ).get_sample_value
    assert get("eightbyeight_queue_logged_in_agents", queue_labels(role="primary")) is None
    assert get("eightbyeight_queue_logged_in_agents", {**EMPTY, "role": "primary"}) == 0


def test_a_failing_endpoint_degrades_only_this_poller(rsps: responses.RequestsMock) -> None:
    add_token(rsps)
    rsps.get(
        f"{BASE}/v2/pbxes/{PBX_ID}/call-queue-metrics", json=fixture_json("call_queue_metrics.json")
    )
    forbidden = {
        "timestamp": "2023-01-05T12:04:59.100+0000",
        "status": 403,
        "messages": [
            "user [user_name] does not have access to pbxId [PBX_ID] to make this request."
        ],
        "path": "/analytics/work/v2/pbxes/PBX_ID_VALUE/queue-agent-activity",
    }
    rsps.get(URL, json=forbidden, status=403)
    client = make_client(CollectorRegistry(), Sleeps())
    wall = FakeClock()
    runners = [
        PollerRunner(CallQueuePoller(client, directory, interval=30), wall_clock=wall),
        PollerRunner(QueueAgentPoller(client, directory, interval=30), wall_clock=wall),
    ]
    get = PageReader(exposition_of(Scheduler(runners))).get_sample_value
    assert [runner.run_once() for runner in runners] == [True, False]
    assert get("eightbyeight_up", {"collector": "call_queues"}) == 1
    assert get("eightbyeight_up", {"collector": "queue_agents"}) == 0
    assert "403" in (runners[1].state.last_error or "")


# --- config -------------------------------------------------------------------------------------


def test_config_defaults() -> None:
    wa = load_config_data({"work_analytics": CREDENTIALS}, env={}).work_analytics
    qa = wa.queue_agents
    assert (qa.enabled, qa.interval, qa.per_agent, qa.max_series) == (True, 30.0, False, 20_000)
    assert (qa.sites, qa.queues, qa.metrics, qa.include_summary) == ([], [], [], False)
    assert wa.personal_data is False
    need = wa.minimum_requests_per_minute()
    assert need["queue_agents"] == 2 and "agent_directory" not in need
    on = load_config_data(
        {
            "work_analytics": {
                **CREDENTIALS,
                "queue_agents": {"per_agent": True},
                "pbxes": ["a", "b"],
            }
        },
        env={},
    )
    assert on.work_analytics.minimum_requests_per_minute()["agent_directory"] == 2 * 60 / 600


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            {"interval": "soon"},
            "work_analytics.queue_agents.interval: 'soon' is not a duration such as 30s, 5m or 1h",
        ),
        (
            {"metrics": ["acceptedInteractions", "waitingCalls"]},
            "work_analytics.queue_agents.metrics: unknown: waitingCalls",
        ),
        (
            {"max_series": 0},
            "work_analytics.queue_agents.max_series: Input should be greater than or equal to 1",
        ),
        (
            {"per_agent": "maybe"},
            "work_analytics.queue_agents.per_agent: Input should be a valid boolean, unable to interpret input",
        ),
        ({"colour": "red"}, "work_analytics.queue_agents.colour: unknown key"),
    ],
)
def test_config_bad_values(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": {**CREDENTIALS, "queue_agents": section}}, env={})
    assert caught.value.problems == [problem]


def test_config_budget_counts_the_queue_agents() -> None:
    data: dict[str, Any] = {**CREDENTIALS, "request_budget_per_minute": 2}
    for name in ("call_queues", "company_summary", "ring_groups", "extensions", "call_records"):
        data[name] = {"enabled": False}
    for name in ("call_legs", "agent_activity", "live_calls"):
        data[name] = {"enabled": False}
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": data}, env={})
    assert caught.value.problems == [
        "work_analytics: request_budget_per_minute 2 is too small: the enabled collectors need "
        "at least 3 requests a minute (queue_agents 2); raise it to 3 or make the intervals "
        "1.2 times longer"
    ]


def test_an_entry_without_queue_id_that_names_two_queues_is_left_out_without_zeros() -> None:
    # Two queues called Timoth (in two sites) and an entry with neither id nor extension:
    # its agents cannot be placed, and neither queue may say that nobody is logged in.
    known = make_directory()
    twin = Queue("X20000", "Timoth", "6509968", "s2", PBX_ID)
    both = FixedDirectory(replace(known, queues={**known.queues, twin.id: twin}))
    body = copy.deepcopy(EXAMPLE)
    entry = body["queuesAgentActivity"][0]
    del entry["queueId"], entry["queueExtension"], entry["site"]
    poller = QueueAgentPoller(AgentClient(body), both, interval=30)
    registry = render(poller)
    by_status = "eightbyeight_queue_agents_by_queue_status"
    for queue_id in (QUEUE_ID, twin.id):
        labels = {"queue_id": queue_id, "queue_status": "logged_out"}
        assert not [
            s
            for m in registry.collect()
            for s in m.samples
            if s.name == by_status and labels.items() <= s.labels.items()
        ]
    assert registry.get_sample_value(by_status, {**EMPTY, "queue_status": "logged_out"}) == 0
    assert poller.invalid.count == 1
    # With its site, the entry is placed.
    entry["site"] = "Test Site"
    registry = render(QueueAgentPoller(AgentClient(body), both, interval=30))
    placed = queue_labels(queue_status="handling")
    assert registry.get_sample_value(by_status, placed) == 1
