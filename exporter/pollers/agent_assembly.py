"""The agent pollers of one build: the queue agents, and the agent directory that names the
agent ids of the per-agent series (so it runs only while some are on)."""

from __future__ import annotations

from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config import WorkAnalyticsConfig
from exporter.config.agents import per_agent_series
from exporter.pollers.agent_directory import AgentDirectoryPoller
from exporter.pollers.assembly import Assembly
from exporter.pollers.base import PollerRunner
from exporter.pollers.discovery import DiscoveryPoller
from exporter.pollers.queue_agents import QueueAgentPoller


def add_agent_pollers(
    build: Assembly,
    client: WorkAnalyticsClient,
    wa: WorkAnalyticsConfig,
    discovery: DiscoveryPoller,
    discovery_runner: PollerRunner,
) -> None:
    qa = wa.queue_agents
    if qa.enabled:
        poller = build.parts.make(
            QueueAgentPoller,
            client,
            discovery,
            interval=qa.interval,
            sites=qa.sites,
            queues=qa.queues,
            metrics=qa.metrics,
            include_summary=qa.include_summary,
            per_agent=qa.per_agent,
            select=qa.select,
            max_series=qa.max_series,
        )
        build.add(poller, depends_on=discovery_runner)
    if per_agent_series(wa):
        directory = build.parts.make(
            AgentDirectoryPoller,
            client,
            discovery,
            interval=wa.discovery.interval,
            personal_data=wa.personal_data,
            page_size=wa.discovery.page_size,
            max_series=qa.max_series,
        )
        build.add(directory, depends_on=discovery_runner)
