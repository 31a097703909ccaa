"""The agent directory poller on the customer-data agents example (both list keys), names off
and on, bad records, limits, and when the exporter runs it."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.errors import CollectionError
from exporter.pollers.agent_directory import AgentDirectoryPoller
from exporter.pollers.discovery import FixedDirectory
from tests.support.agents import PBX_ID, AgentClient, directory
from tests.support.files import fixture_json
from tests.support.work_analytics import BASE, Sleeps, add_token, make_client

URL = f"{BASE}/v2/pbxes/{PBX_ID}/agents"
PAGES = (
    fixture_json("agents_page0.json")["_embedded"]["agentList"]
    + fixture_json("agents_page1.json")["_embedded"]["queueList"]
)
ENV = {"EIGHTBYEIGHT_API_KEY": "k", "EIGHTBYEIGHT_USERNAME": "u", "EIGHTBYEIGHT_PASSWORD": "p"}


def render(poller: AgentDirectoryPoller) -> CollectorRegistry:
    families = poller.collect()

    class Fixed:
        def collect(self) -> Any:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())
    return registry


def info(agent_id: str, extension: str, agent: str = "") -> dict[str, str]:
    return {"pbx": "testPbx", "agent_id": agent_id, "extension": extension, "agent": agent}


def test_both_pages_replayed_strictly_names_off(rsps: responses.RequestsMock) -> None:
    add_token(rsps)
    # The example's page says `agentList`, the schema `queueList`: each page is read.
    for page in (0, 1):
        rsps.get(
            URL,
            json=fixture_json(f"agents_page{page}.json"),
            match=[responses.matchers.query_param_matcher({"page": str(page), "size": "2"})],
        )
    client = make_client(CollectorRegistry(), Sleeps())
    poller = AgentDirectoryPoller(client, directory, interval=600, page_size=2)
    registry = render(poller)
    get = registry.get_sample_value
    assert get("eightbyeight_agent_info", info("aicyggWXT0m58Myu1hoqwe", "8024437")) == 1
    assert get("eightbyeight_agent_info", info("zQqDjiT2TbqNTwnDliIqwe", "1000")) == 1
    # Deleted (`true`) is left out; `"false"` as a string is not deleted.
    samples = [s for m in registry.collect() for s in m.samples]
    assert len(samples) == 2
    assert not any(s.labels["agent"] for s in samples)  # names are personal data: off
    help_text = next(iter(registry.collect())).documentation
    assert help_text.endswith(
        "Polled from the customer-data API (how often: eightbyeight_collector_interval_seconds)."
    )


def test_names_only_when_allowed() -> None:
    poller = AgentDirectoryPoller(
        AgentClient(agents=PAGES), directory, interval=600, personal_data=True
    )
    get = render(poller).get_sample_value
    assert (
        get("eightbyeight_agent_info", info("aicyggWXT0m58Myu1hoqwe", "8024437", "Agent2 Kutch"))
        == 1
    )
    assert get("eightbyeight_agent_info", info("zQqDjiT2TbqNTwnDliIqwe", "1000", "Joe Black")) == 1
    lone = [{"id": "a1", "lastName": "Black", "firstName": None, "extension": "1"}]
    get = render(
        AgentDirectoryPoller(AgentClient(agents=lone), directory, interval=600, personal_data=True)
    ).get_sample_value
    assert get("eightbyeight_agent_info", info("a1", "1", "Black")) == 1


def test_bad_records_are_counted_and_logged_once() -> None:
    good = PAGES[0]
    records = [good, "agent", None, {**good}, {**good, "id": None}, {"id": ""}, PAGES[2]]
    poller = AgentDirectoryPoller(AgentClient(agents=records), directory, interval=600)
    with capture_logs() as logs:
        get = render(poller).get_sample_value
        render(poller)
    assert get("eightbyeight_agent_info", info("aicyggWXT0m58Myu1hoqwe", "8024437")) == 1
    assert get("eightbyeight_agent_info", info("zQqDjiT2TbqNTwnDliIqwe", "1000")) == 1
    assert poller.self_metrics()["eightbyeight_collector_records_invalid"] == 2 * 5
    kinds = [e["kind"] for e in logs if e["event"] == "agent_record_invalid"]
    assert kinds == ["agent not an object", "agent listed twice", "agent without id"]


def test_max_series_and_no_directory() -> None:
    poller = AgentDirectoryPoller(AgentClient(agents=PAGES), directory, interval=600, max_series=1)
    registry = render(poller)
    assert len([s for m in registry.collect() for s in m.samples]) == 1
    assert poller.self_metrics()["eightbyeight_collector_series_dropped"] == 1
    with pytest.raises(CollectionError):
        AgentDirectoryPoller(
            AgentClient(agents=PAGES), FixedDirectory(None), interval=600
        ).collect()


@pytest.mark.parametrize(
    ("queue_agents", "runs_directory"),
    [({}, False), ({"per_agent": True}, True), ({"enabled": False, "per_agent": True}, False)],
)
def test_the_exporter_runs_the_directory_only_for_per_agent_series(
    queue_agents: dict[str, Any], runs_directory: bool
) -> None:
    config = load_config_data({"work_analytics": {"queue_agents": queue_agents}}, env=ENV)
    exporter = build_exporter(config, process_metrics=False)
    try:
        names = [runner.name for runner in exporter.scheduler.runners]
    finally:
        exporter.close()
    assert ("queue_agents" in names) == queue_agents.get("enabled", True)
    assert ("agent_directory" in names) == runs_directory
