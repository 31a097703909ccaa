"""A scripted call-records/call-legs API (`CdrStore`), its records and legs, and the pollers
built on it, for the tests of the call counters."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.core.errors import ServerError
from exporter.pollers.call_legs import CallLegPoller
from exporter.pollers.call_records import CallRecordPoller
from exporter.pollers.discovery import FixedDirectory
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.historical import DIRECTORY, NOW, Groups
from tests.support.page import Recorder


class CdrStore:
    """A scripted call-records/legs API: filters by disconnect time, hides late records, pages."""

    historical_params = staticmethod(WorkAnalyticsClient.historical_params)

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.rows: list[tuple[float, dict[str, Any]]] = []  # (visible from, row)
        self.requests: list[dict[str, Any]] = []
        self.fail_on_page: int | None = None
        self.ignore_window = False
        self.misjudged = 0.0
        self.dated = False

    def now(self) -> float:
        # The API's time as the exporter estimates it: the test's clock, unless a test makes
        # the estimate wrong for a while (a stepped clock the median has not followed yet).
        return self.clock() + self.misjudged

    def answered_until(self) -> float | None:
        # The API's own time at its last answer, from its Date header (None: no Date).
        return math.floor(self.clock()) + 1.0 if self.dated else None

    def add(self, row: dict[str, Any], *, delay: float = 0.0) -> None:
        self.rows.append((row["disconnectedTimeUTC"] / 1000 + delay, row))

    def scroll(
        self, endpoint: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[dict]]:
        self.requests.append({"endpoint": endpoint, **params})
        zone = ZoneInfo(params["timeZone"])

        def parse(text: str) -> float:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).timestamp()

        start, end = parse(params["startTime"]), parse(params["endTime"])
        hits = [
            row
            for visible, row in self.rows
            if visible <= self.clock()
            and (self.ignore_window or start <= row["disconnectedTimeUTC"] / 1000 <= end)
        ]
        for number, i in enumerate(range(0, len(hits), page_size)):
            if number == self.fail_on_page:
                raise ServerError(endpoint, "page failed", status=502)
            yield copy.deepcopy(hits[i : i + page_size])


def record(
    call_id: str,
    ended: float,
    *,
    pbx: str = "acmecorp",
    answered: bool = True,
    wait_ms: int = 12_000,
    talk_ms: int = 60_000,
    direction: str = "Incoming",
    disposition: str | None = None,
) -> dict[str, Any]:
    return {
        "callId": call_id,
        "pbxId": pbx,
        "direction": direction,
        "answered": "Answered" if answered else "-",
        "missed": "-" if answered else "Missed",
        "abandoned": "-" if answered or disposition else "Abandoned",
        "lastLegDisposition": disposition or ("Answered" if answered else "Abandoned"),
        "waitTimeMS": wait_ms,
        "talkTimeMS": talk_ms if answered else 0,
        "disconnectedTimeUTC": int(ended * 1000),
    }


def records_collector(store: CdrStore, clock: FakeClock, **overrides: Any) -> CallRecordPoller:
    kwargs = {
        "interval": 60.0,
        "lookback": 600.0,
        "page_size": 2,
        "time_zone": "Europe/London",
        "wait_buckets": [10.0, 20.0, 30.0, 60.0],
        "talk_buckets": [60.0, 300.0],
        **overrides,
    }
    return CallRecordPoller(store, FixedDirectory(DIRECTORY), **kwargs)


def polled_once(**overrides: Any) -> tuple[FakeClock, CdrStore, CallRecordPoller]:
    """A record collector after its first poll (which counts nothing), one minute later."""
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    collector = records_collector(store, clock, **overrides)
    collector.collect()
    clock.advance(60)
    return clock, store, collector


def calls(families: Any, **labels: str) -> float:
    return Recorder(families).get("eightbyeight_calls_total", **labels) or 0.0


def leg(
    call_id: str,
    ended: float,
    *,
    lra: str,
    callee: str = "CallQueue",
    name: str = "Sales Queue",
    parent: str | None = None,
    answered: bool = True,
    call_ms: int = 80_000,
    talk_ms: int = 60_000,
    hold_ms: int = 5_000,
    pbx: str = "acmecorp",
) -> dict[str, Any]:
    row = fixture_json("call_legs.json")["data"][1]
    row.update(
        {
            "callId": call_id,
            "legId": "1",
            "pbxId": pbx,
            "lra": lra,
            "callee": callee,
            "calleeName": name,
            "parentCallId": parent,
            "callTime": call_ms,
            "talkTimeMS": talk_ms if answered else 0,
            "calleeHoldDurationMS": hold_ms if answered else 0,
            "answered": "Answered" if answered else "-",
            "missed": "-" if answered else "Missed",
            "abandoned": "-" if answered else "Abandoned",
            "propsLastPartyDisp": "Answered" if answered else "Missed",
            "disconnectedTimeUTC": int(ended * 1000),
        }
    )
    return row


def leg_collector(
    store: CdrStore, clock: FakeClock, groups: dict[tuple[str, str], tuple[str, str]] | Groups
) -> CallLegPoller:
    """Call legs of the fake store, with waits in 10/20/30 s and talk in 60/120 s buckets."""
    return CallLegPoller(
        store,
        FixedDirectory(DIRECTORY),
        groups=groups if isinstance(groups, Groups) else Groups(groups),
        interval=60.0,
        lookback=600.0,
        page_size=10,
        time_zone="UTC",
        wait_buckets=[10.0, 20.0, 30.0],
        talk_buckets=[60.0, 120.0],
    )
