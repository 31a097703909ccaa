"""The call counters against a hostile API and hostile clocks: every case was a wrong number
(a call lost, counted twice, a day zeroed) or a failing poll before it was fixed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from email.utils import formatdate
from itertools import pairwise
from types import SimpleNamespace
from typing import Any, cast

import pytest

from exporter.api.clock import ApiClock
from exporter.api.http import HttpClient
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config import Selection
from exporter.core.errors import PagingLoopError
from exporter.pollers.call_legs import CallLegPoller, GroupIndex
from exporter.pollers.discovery import FixedDirectory
from exporter.pollers.summaries import RingGroupPoller
from tests.support.call_details import CdrStore, calls, leg, record, records_collector
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.historical import DIRECTORY, NOW, Groups, summary_kwargs
from tests.support.page import Recorder

MIDNIGHT = NOW + 7 * 3600  # 2025-11-19 00:00 in London (UTC in November)
ANSWERED = {"pbx": "acmecorp", "direction": "inbound", "outcome": "answered"}
QUEUE = {"pbx": "acmecorp", "group_type": "queue", "group": "Sales Queue", "extension": "110081"}


class DatedStore(CdrStore):
    """The scripted API with Date headers on its answers, into a real ApiClock on the
    exporter's clock; `api_ahead`: how far the API's clock is from the exporter's."""

    def __init__(self, api_time: FakeClock, exporter_clock: FakeClock) -> None:
        super().__init__(api_time)
        self.exporter_clock = exporter_clock
        self.api_clock = ApiClock("work_analytics", exporter_clock)
        self.date_ahead = 0.0  # the Date header's own error (a node with a bad clock)

    def now(self) -> float:
        return self.api_clock.now()

    def answered_until(self) -> float | None:
        return self.api_clock.answered_until()

    def answer(self) -> None:
        sent = self.exporter_clock()
        date = formatdate(self.clock() + self.date_ahead, usegmt=True)
        self.api_clock.observe(date, sent, sent + 0.1)

    def scroll(
        self, endpoint: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        self.answer()
        yield from super().scroll(endpoint, params, page_size)


def legs_poller(store: CdrStore, groups: Any, **overrides: Any) -> CallLegPoller:
    kwargs: dict[str, Any] = {
        "interval": 60.0,
        "lookback": 600.0,
        "page_size": 500,
        "time_zone": "UTC",
        "wait_buckets": [10.0, 20.0, 30.0],
        "talk_buckets": [60.0, 120.0],
        **overrides,
    }
    return CallLegPoller(store, FixedDirectory(DIRECTORY), groups=groups, **kwargs)


def test_the_exporters_clock_stepped_ahead_at_23h_does_not_begin_tomorrow() -> None:
    # The host's clock jumps 2 h ahead at 23:00; the API's Date headers stay right, and the
    # skew median follows after a few answers. Today must keep every call.
    api_time = FakeClock(MIDNIGHT - 3600 - 600)  # 22:50
    exporter_clock = FakeClock(api_time())
    store = DatedStore(api_time, exporter_clock)
    for _ in range(15):
        store.answer()
    collector = records_collector(store, api_time)
    for minute in range(65):  # to 23:54, API time
        if minute == 10:
            exporter_clock.advance(7200)
        store.add(record(f"c{minute}", api_time() - 5))
        store.answer()  # another poller's answer
        families = collector.collect()
        api_time.advance(60)
        exporter_clock.advance(60)
    assert calls(families, **ANSWERED) == 65


def test_the_exporters_clock_stepped_back_after_midnight_does_not_bring_yesterday_back() -> None:
    # The host's clock is stepped back 2 h at 00:30 (NTP correcting a clock that ran ahead);
    # the API's Date headers stay right, and the skew median follows after a few answers.
    # Today's counters must never show yesterday's calls again, nor go back.
    api_time = FakeClock(MIDNIGHT - 3600)  # 23:00
    exporter_clock = FakeClock(api_time())
    store = DatedStore(api_time, exporter_clock)
    for _ in range(15):
        store.answer()
    collector = records_collector(store, api_time)
    for minute in range(60):  # 60 calls yesterday
        store.add(record(f"d{minute}", api_time() - 5))
        collector.collect()
        api_time.advance(60)
        exporter_clock.advance(60)
    history = []
    for minute in range(60):  # 00:00 to 01:00, API time
        if minute == 30:
            exporter_clock.advance(-7200)
        store.add(record(f"n{minute}", api_time() - 5))
        store.answer()  # another poller's answer
        history.append(calls(collector.collect(), **ANSWERED))
        api_time.advance(60)
        exporter_clock.advance(60)
    today = history[12:]  # past the lookback's closing poll of yesterday
    assert all(b >= a for a, b in pairwise(today)), today
    # n0 ended at 23:59:55, yesterday's; today's calls are n1 to n59, each counted once.
    assert history[-1] == 59, history


def test_date_headers_a_day_ahead_for_minutes_do_not_freeze_the_counters() -> None:
    # A node with a bad clock answers Date headers a day ahead for 5 minutes; the records are
    # right all along. Today's and tomorrow's counters must hold every call.
    clock = FakeClock(NOW)  # 17:00 London
    store = DatedStore(clock, clock)
    for _ in range(15):
        store.answer()
    collector = records_collector(store, clock)
    history = []
    for minute in range(26 * 60):  # to 19:00 tomorrow
        store.date_ahead = 86_400.0 if 60 <= minute < 65 else 0.0
        store.add(record(f"c{minute}", clock() - 5))
        store.answer()
        history.append(calls(collector.collect(), **ANSWERED))
        clock.advance(60)
    # 23:50 today: the calls since 17:00; 12:00 and 18:00 tomorrow: since its midnight.
    assert (history[410], history[1140], history[1500]) == (411, 720, 1080)


def test_one_call_id_with_two_ends_is_counted_once() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    store.add(record("dup", NOW - 9 * 3600))
    store.add(record("dup", NOW - 60))  # the same call again, with a corrected end
    collector = records_collector(store, clock)
    assert calls(collector.collect(), **ANSWERED) == 1
    clock.advance(60)
    assert calls(collector.collect(), **ANSWERED) == 1


def test_a_record_whose_end_moves_later_is_counted_once() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    collector = records_collector(store, clock)
    collector.collect()
    clock.advance(60)
    row = record("moving", clock() - 5)
    store.add(row)
    history = [calls(collector.collect(), **ANSWERED)]
    row["disconnectedTimeUTC"] += 20 * 60 * 1000  # the vendor finalises it 20 minutes later
    for _ in range(40):
        clock.advance(60)
        history.append(calls(collector.collect(), **ANSWERED))
    assert set(history) == {1}


def test_pending_legs_beyond_the_id_memory_are_not_counted_again() -> None:
    # The ring group summary never answers, so a call to a user stays pending and the polls
    # read back to it; the day holds more queue legs than dedup_max_entries.
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    store.add(leg("user-call", NOW - 16 * 3600, lra="1001", callee="1001", name="A User"))
    for i in range(1500):
        store.add(leg(f"q{i}", NOW - 15 * 3600 + i * 30, lra="110081"))
    collector = legs_poller(store, Groups({}, listed_until=None), dedup_max_entries=1000)
    history = []
    for _ in range(5):
        out = Recorder(collector.collect())
        history.append(out.get("eightbyeight_group_calls_total", outcome="answered", **QUEUE))
        clock.advance(60)
    assert history == [1500] * 5
    assert collector.seen.evicted == 500


def test_a_ring_group_left_out_of_its_summary_gauges_is_still_counted() -> None:
    rows = fixture_json("rgsum_groups.json")  # demonstrationname / 2001 "West Office"
    clock = FakeClock(NOW)
    directory = FixedDirectory(DIRECTORY)

    class Client:
        historical_params = staticmethod(WorkAnalyticsClient.historical_params)

        def now(self) -> float:
            return clock()

        def summary(self, endpoint: str, params: Mapping[str, str]) -> list[Any]:
            return list(rows)

    counted = []
    for select in (Selection(), Selection(exclude=[re.compile("West.*")])):
        ring_groups = RingGroupPoller(Client(), directory, **summary_kwargs(select=select))
        ring_groups.collect()
        store = CdrStore(clock)
        store.add(
            leg("r1", NOW - 30, pbx="demonstrationname", lra="2001", callee="2001", name="West")
        )
        out = Recorder(legs_poller(store, GroupIndex(directory, ring_groups)).collect())
        counted.append(
            sum(v for (n, _), v in out.samples.items() if n == "eightbyeight_group_calls_total")
        )
    assert counted == [1, 1]


def test_a_record_late_by_less_than_the_lookback_is_counted_in_its_day() -> None:
    # Polls at hh:mm:30, look-back 10 min: a call ends at 23:59:59 and reaches the API 9 min
    # 40 s later, after 00:09:30 and before 00:10:30.
    clock = FakeClock(MIDNIGHT - 1800 + 30)
    store = CdrStore(clock)
    store.add(record("late", MIDNIGHT - 1), delay=580)
    collector = records_collector(store, clock)
    best = 0.0
    while clock() < MIDNIGHT + 800:
        families = collector.collect()
        if collector.day is not None and collector.day.end == MIDNIGHT:
            best = max(best, calls(families, **ANSWERED))
        clock.advance(60)
    assert best == 1
    assert collector.day is not None and collector.day.start == MIDNIGHT


def test_a_queue_renamed_during_the_day_keeps_its_earlier_calls_after_a_restart() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    for i in range(3):
        store.add(leg(f"m{i}", NOW - 3600 + i, lra="110081", name="Sales"))
    groups = Groups({("acmecorp", "110081"): ("queue", "Sales")})
    running = legs_poller(store, groups)
    running.collect()
    groups.groups[("acmecorp", "110081")] = ("queue", "Sales EMEA")  # renamed at noon
    clock.advance(60)
    for i in range(2):
        store.add(leg(f"a{i}", clock() - 5, lra="110081", name="Sales EMEA"))

    def per_group(out: Recorder) -> dict[str, float]:
        totals: dict[str, float] = {}
        for (name, labels), value in out.samples.items():
            if name == "eightbyeight_group_calls_total" and value:
                group = dict(labels)["group"]
                totals[group] = totals.get(group, 0) + value
        return totals

    before = per_group(Recorder(running.collect()))
    restarted = per_group(Recorder(legs_poller(store, groups).collect()))
    assert before == restarted == {"Sales": 3, "Sales EMEA": 2}


def test_the_call_legs_ceiling_holds_however_many_pbxes_the_api_names() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    per_key = 5 * (1 + 3 + 3) + (2 + 3)  # 3 wait bounds, 2 talk bounds
    collector = legs_poller(store, Groups({}), max_series=10 * per_key, page_size=5000)
    for i in range(2000):
        store.add(leg(f"q{i}", NOW - 60, pbx=f"pbx-{i}", lra="110081", name="Q"))
    families = collector.collect()
    out = Recorder(families)
    exported = sum(1 for (n, _) in out.samples if n.startswith("eightbyeight_group_call"))
    assert exported <= 11 * per_key
    total = sum(v for (n, _), v in out.samples.items() if n == "eightbyeight_group_calls_total")
    assert total == 2000  # folded, not lost


@pytest.mark.parametrize("behind", [300.0, 60 + 600 - 0.5])
def test_a_clock_stepped_back_counts_nothing_twice_and_never_asks_an_empty_window(
    behind: float,
) -> None:
    clock = FakeClock(NOW + 0.7)
    store = CdrStore(clock)
    store.add(record("edge", NOW + 0.7 - 720 - 0.2))
    collector = records_collector(store, clock)
    assert calls(collector.collect(), **ANSWERED) == 1
    clock.advance(60)
    store.misjudged = -behind  # the exporter's idea of the API's time, behind for a poll
    assert calls(collector.collect(), **ANSWERED) == 1
    for asked in store.requests:
        assert asked["startTime"] < asked["endTime"]


def test_a_scroll_answering_the_same_rows_under_fresh_scroll_ids_stops_at_once() -> None:
    asked = [0]

    class Http:
        api = "work_analytics"
        api_clock = None
        stats = SimpleNamespace(paging_loop=lambda *args: None)

        def request(self, method: str, endpoint: str, path: str, **kwargs: Any) -> Any:
            if endpoint.endswith("token"):
                return {"access_token": "t", "token_type": "bearer", "expires_in": 1800}
            asked[0] += 1
            row = {"callId": "same", "disconnectedTimeUTC": 1}
            return {"meta": {"scrollId": f"id-{asked[0]}"}, "data": [row]}

    # Only what scroll() and the token cache touch of an HttpClient.
    client = WorkAnalyticsClient(cast(HttpClient, Http()), "k", "u", "p")
    with pytest.raises(PagingLoopError):
        for _ in client.scroll("/v2/call-records", {"pbxId": "allpbxes"}, 1000):
            pass
    assert asked[0] == 2


class ByPbx(CdrStore):
    """Answers only the PBXes asked for, as the API does with a `pbxId` list."""

    def scroll(
        self, endpoint: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        names = set(params["pbxId"].split(","))
        for page in super().scroll(endpoint, params, page_size):
            yield [row for row in page if row["pbxId"] in names]


def test_a_pbx_named_late_in_the_day_has_its_earlier_calls_counted() -> None:
    """With PBXes named (`pbxes`, or a shard), one that a discovery left out, that is new, or
    that comes back after an absence longer than the look-back was read only from the
    look-back: its earlier calls were never counted, though a restart counted them."""
    clock = FakeClock(NOW)  # 17:00
    store = ByPbx(clock)
    store.add(record("early", NOW - 3 * 3600, pbx="acmecorp2"))  # 14:00
    source = SimpleNamespace(directory=type(DIRECTORY)(pbxes=DIRECTORY.pbxes[:1]))
    running = records_collector(store, clock, all_pbxes=False)
    running.directory = source
    two = {"pbx": "acmecorp2", "direction": "inbound", "outcome": "answered"}
    assert calls(running.collect(), **two) == 0.0
    clock.advance(60)
    source.directory = DIRECTORY  # acmecorp2 listed again
    assert calls(running.collect(), **two) == 1.0
    clock.advance(60)
    asked = len(store.requests)
    assert calls(running.collect(), **two) == 1.0  # counted once, and read from the look-back
    assert all(r["startTime"] > "2025-11-18 16:" for r in store.requests[asked:])
    # Away for an hour, with a call meanwhile: read from the day's start when it is back.
    source.directory = type(DIRECTORY)(pbxes=DIRECTORY.pbxes[:1])
    for _ in range(60):
        clock.advance(60)
        running.collect()
    store.add(record("away", clock() - 1800, pbx="acmecorp2"))
    source.directory = DIRECTORY
    clock.advance(60)
    assert calls(running.collect(), **two) == 2.0
    fresh = records_collector(store, clock, all_pbxes=False)
    fresh.directory = source
    assert calls(fresh.collect(), **two) == 2.0  # as a restart counts them
