"""The agents of each PBX from the customer-data API (`/v2/pbxes/{pbxId}/agents`): the
`agent_id` of the per-agent series to an extension and, when allowed, a name.

Exposition (polled at the discovery interval, 10 minutes by default, and only while some
per-agent series are on):

    eightbyeight_agent_info{agent="",agent_id="aicyggWXT0m58Myu1hoqwe",extension="8024437",pbx="acme-main"} 1.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from exporter.core.errors import CollectionError
from exporter.metrics.rendering import Family
from exporter.metrics.spec import FamilySet, gauge
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.discovery import DirectorySource
from exporter.pollers.limits import SeriesBudget

__all__ = ["SPECS", "AgentDirectoryPoller", "AgentListApi", "agent_name"]

AGENT_INFO = gauge(
    "eightbyeight_agent_info",
    "An agent of a watched PBX, by its user id. `agent` is its name only with "
    "work_analytics.personal_data: true (names are personal data), else empty.",
    ("pbx", "agent_id", "extension", "agent"),
    "agent_directory",
)
SPECS = (AGENT_INFO,)


class AgentListApi(Protocol):
    """What the poller needs of the Work Analytics client: the customer-data agents list."""

    def agents(self, pbx_id: str, page_size: int = ...) -> list[Any]: ...


def agent_name(item: Mapping[str, Any]) -> str:
    """`firstName lastName`, either alone when the other is missing."""
    parts = (label_text(item.get("firstName")).strip(), label_text(item.get("lastName")).strip())
    return " ".join(part for part in parts if part)


def _deleted(item: Mapping[str, Any]) -> bool:
    value = item.get("deleted")  # the schema's boolean; "true" read as such
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class AgentDirectoryPoller(Poller):
    """`eightbyeight_agent_info` for every agent of every watched PBX (deleted ones left out)."""

    name = "agent_directory"
    invalid: LeftOut

    def __init__(
        self,
        client: AgentListApi,
        directory: DirectorySource,
        *,
        interval: float,
        personal_data: bool = False,
        page_size: int = 100,
        max_series: int = 20_000,
    ) -> None:
        self.client = client
        self.directory = directory
        self.interval = interval
        self.personal_data = personal_data
        self.page_size = page_size
        self.max_series = max_series
        self.invalid = LeftOut(self.name)

    def collect(self) -> Sequence[Family]:
        directory = self.directory.directory
        if directory is None:
            raise CollectionError("the PBX directory has not been discovered yet")
        families = FamilySet(
            " Polled from the customer-data API (how often: eightbyeight_collector_interval_seconds)."
        )
        budget = SeriesBudget(self.name, self.max_series)
        for pbx in directory.pbxes:
            seen: set[str] = set()
            for item in self.client.agents(pbx.id, self.page_size):
                if not isinstance(item, Mapping):
                    self.invalid.add("agent_record_invalid", "agent not an object", pbx=pbx.name)
                    continue
                if _deleted(item):
                    continue
                agent_id = label_text(item.get("id"))
                if not agent_id:
                    self.invalid.add("agent_record_invalid", "agent without id", pbx=pbx.name)
                    continue
                # Listed twice (paging over a changing list): one series per agent.
                if agent_id in seen:
                    self.invalid.add("agent_record_invalid", "agent listed twice", pbx=pbx.name)
                    continue
                seen.add(agent_id)
                if not budget.take(1):
                    continue
                # Empty rather than left out: see ExtensionPoller.
                name = agent_name(item) if self.personal_data else ""
                extension = label_text(item.get("extension"))
                families.add(AGENT_INFO, [pbx.name, agent_id, extension, name], 1)
        self.series = budget.finish(self.series)
        return tuple(families)
