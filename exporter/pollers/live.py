"""The live agent and call pollers of one build (`agent_activity`, `live_calls`), made from
their sections as app.py makes the others, so a reload keeps each while its section is
unchanged."""

from __future__ import annotations

from exporter.api.live import LiveApi
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config import WorkAnalyticsConfig
from exporter.pollers.agent_activity import AgentActivityPoller
from exporter.pollers.assembly import Assembly
from exporter.pollers.base import PollerRunner
from exporter.pollers.discovery import DirectorySource
from exporter.pollers.live_calls import LiveCallPoller
from exporter.pollers.ring_group_sources import NO_RING_GROUPS, RingGroupSource


def add_live_pollers(
    build: Assembly,
    client: WorkAnalyticsClient,
    wa: WorkAnalyticsConfig,
    discovery: DirectorySource,
    discovery_runner: PollerRunner,
    ring_groups: RingGroupSource,
) -> None:
    """`ring_groups`: the ring group summary, where the live calls find ring group names (when
    it is off, none: the extension is the label then)."""
    if not wa.ring_groups.enabled:
        ring_groups = NO_RING_GROUPS
    api = build.parts.make(LiveApi, client)
    agents, calls = wa.agent_activity, wa.live_calls
    if agents.enabled:
        poller = build.parts.make(
            AgentActivityPoller,
            api,
            discovery,
            interval=agents.interval,
            per_agent=agents.per_agent,
            max_series=agents.max_series,
            metrics=tuple(agents.metrics),
        )
        build.add(poller, depends_on=discovery_runner)
    if calls.enabled:
        live = build.parts.make(
            LiveCallPoller,
            api,
            discovery,
            ring_groups,
            interval=calls.interval,
            page_size=calls.page_size,
            max_series=calls.max_series,
            max_call_age=calls.max_call_age,
            max_pages=calls.max_pages,
            rescan_interval=calls.rescan_interval,
            concurrency=calls.concurrency,
        )
        build.add(live, depends_on=discovery_runner)
