"""A stand-in for the Work Analytics client's agent calls, and the directory of the vendor's
queue-agent-activity example (PBX `testPbx`, queue `Timoth` X10000 at `Test Site`)."""

from __future__ import annotations

from typing import Any

from exporter.pollers.discovery import Directory, FixedDirectory, Pbx, Queue, Site

PBX_ID = "smbw8a7jR2iMu7UcuRTqwe"
SITE_ID = "gmQmyAUkTTqjx3rB0feqwe"
QUEUE_ID = "X10000"
# A queue of the directory the example's answer does not list: its counts are 0.
EMPTY_QUEUE_ID = "q-empty"


class AgentClient:
    """Answers `queue_agent_activity` and `agents` like WorkAnalyticsClient, with prepared
    answers (an exception is raised), and records the calls."""

    def __init__(self, activity: Any = None, agents: Any = None) -> None:
        self.activity = activity
        self.agent_list = agents
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    @staticmethod
    def _give(answer: Any) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    def queue_agent_activity(self, pbx_id: str, **kwargs: Any) -> Any:
        self.calls.append(("queue_agent_activity", pbx_id, kwargs))
        return self._give(self.activity)

    def agents(self, pbx_id: str, page_size: int = 100) -> Any:
        self.calls.append(("agents", pbx_id, {"page_size": page_size}))
        return self._give(self.agent_list)


def make_directory() -> Directory:
    return Directory(
        pbxes=(Pbx(PBX_ID, "testPbx"),),
        sites={SITE_ID: Site(SITE_ID, "Test Site", PBX_ID), "s2": Site("s2", "Austin", PBX_ID)},
        queues={
            QUEUE_ID: Queue(QUEUE_ID, "Timoth", "6509967", SITE_ID, PBX_ID),
            EMPTY_QUEUE_ID: Queue(EMPTY_QUEUE_ID, "Empty", "6500000", "s2", PBX_ID),
        },
    )


directory = FixedDirectory(make_directory())


def queue_labels(**extra: str) -> dict[str, str]:
    """The labels of the example's queue."""
    return {
        "pbx": "testPbx",
        "site": "Test Site",
        "queue": "Timoth",
        "extension": "6509967",
        "queue_id": QUEUE_ID,
        **extra,
    }
