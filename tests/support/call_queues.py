"""A stand-in for the Work Analytics client with prepared answers, and the directory of the
vendor's call queue examples."""

from __future__ import annotations

from typing import Any

from exporter.pollers.discovery import Directory, FixedDirectory, Pbx, Queue, Site

PBX_ID = "rXp_ceLVQs6RYjUp1Iqqwe"
SITE_ID = "vcXZjfBOT2yWxhUQHzwqwe"


class CannedClient:
    """Stands in for WorkAnalyticsClient: returns prepared answers and records the calls."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def now(self) -> float:
        return 1_700_000_000.0  # the API's time: only dated windows ask for it

    def _answer(self, name: str, pbx_id: str = "", **kwargs: Any) -> Any:
        self.calls.append((name, pbx_id, kwargs))
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer(pbx_id) if callable(answer) else answer

    def pbxes(self, page_size: int = 100) -> Any:
        return self._answer("pbxes")

    def sites(self, pbx_id: str, page_size: int = 100) -> Any:
        return self._answer("sites", pbx_id)

    def queues(self, pbx_id: str, page_size: int = 100) -> Any:
        return self._answer("queues", pbx_id)

    def call_queue_metrics(self, pbx_id: str, **kwargs: Any) -> Any:
        return self._answer("call_queue_metrics", pbx_id, **kwargs)

    def realtime_call_queues(self, pbx_id: str, **kwargs: Any) -> Any:
        return self._answer("realtime", pbx_id, **kwargs)


def make_directory() -> Directory:
    return Directory(
        pbxes=(Pbx(PBX_ID, "voaromaniaqe14051"),),
        sites={SITE_ID: Site(SITE_ID, "SanJose-Onel", PBX_ID), "s2": Site("s2", "Austin", PBX_ID)},
        queues={
            "tqteLkZOScyi0Mai9ewUlA": Queue(
                "tqteLkZOScyi0Mai9ewUlA", "CQ3 (autologin)", "1000", SITE_ID, PBX_ID
            ),
            "ZPSyi0RkSiSISsNSuiYG7w": Queue(
                "ZPSyi0RkSiSISsNSuiYG7w", "CQ4", "1013", SITE_ID, PBX_ID
            ),
            "q-narbo": Queue("q-narbo", "Narbo", "153964", SITE_ID, PBX_ID),
        },
    )


# The PBX directory the call-queue poller reads, as discovery would have found it.
directory = FixedDirectory(make_directory())
