"""Live calls read back only to the oldest call in progress at the previous read (issue 20):
never a call in progress missed against a read of the whole max_call_age, far fewer pages,
a rescan every rescan_interval, and none of it trusted after a cut, failed or clock-jumped read."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from exporter.api.live import LiveApi
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.core.errors import ApiError
from exporter.metrics.rendering import render_families
from exporter.pollers.discovery import Directory, FixedDirectory, Pbx, Queue, Site
from exporter.pollers.live_calls import LISTING_MARGIN_SECONDS, LiveCallPoller
from exporter.pollers.ring_group_sources import NO_RING_GROUPS
from simulator.aggregated_call_views import CallView
from simulator.aggregated_calls import PageRequest
from tests.support.page import samples

T0 = 1_780_000_000.0
PBX_IDS = ("p1", "p2", "p3")


def make_directory() -> Directory:
    sites = {f"s-{p}": Site(f"s-{p}", f"site-{p}", p) for p in PBX_IDS}
    queues = {
        f"q-{p}": Queue(f"q-{p}", f"queue-{p}", f"10{i}", f"s-{p}", p)
        for i, p in enumerate(PBX_IDS)
    }
    return Directory(pbxes=tuple(Pbx(p, f"pbx-{p}") for p in PBX_IDS), sites=sites, queues=queues)


@dataclass
class Call:
    call_id: str
    pbx: str
    start: float
    stop: float  # when it completes
    listed: float  # when /calls first lists it (a little after its start)

    def body(self, now: float) -> dict[str, Any]:
        done = self.stop <= now
        return {
            "callId": self.call_id,
            "startTime": int(self.start * 1000),
            "stopTime": int(self.stop * 1000) if done else 0,
            "status": "COMPLETED" if done else "TALKING",
            "workGroup": {"id": f"q-{self.pbx}", "groupType": "CALL_QUEUE"},
        }


@dataclass
class CallBook:
    """/calls of three PBXes over a set of calls, paged as the simulator pages (the
    vendor's cursor contract), on a clock the test moves; every request is counted."""

    calls: list[Call]
    now: float = T0
    requests: int = 0
    failing: set[str] = field(default_factory=set)
    http: Any = None  # the page loop guard's: never reached here

    def get(self, endpoint: str, path: str, query: dict[str, Any]) -> Any:
        pbx = path.split("/")[3]
        if pbx in self.failing:
            raise ApiError(endpoint, "unavailable", status=503)
        self.requests += 1
        asked = PageRequest.parse({k: str(v) for k, v in query.items()})
        assert (asked.field, asked.descending) == ("startTime", True)
        below = asked.cursor[0] if asked.cursor else float("inf")
        # The newest calls at or below the cursor (a few more than a page, for ties), then
        # the simulator's own paging over them.
        listed = sorted(
            (
                c
                for c in self.calls
                if c.pbx == pbx
                and c.listed <= self.now
                and self.now - 86_400 <= c.start
                and int(c.start * 1000) <= float(below)
            ),
            key=lambda c: c.start,
            reverse=True,
        )
        views = [
            CallView(f"s-{pbx}", f"q-{pbx}", int(c.start * 1000), c.body(self.now))
            for c in listed[: asked.limit + 10]
        ]
        page = asked.page(views)
        return {"calls": page}


class BookApi(LiveApi):
    """The poller's API over the book, on the book's clock."""

    def __init__(self, book: CallBook) -> None:
        super().__init__(cast(WorkAnalyticsClient, book))
        self.book = book

    def now(self) -> float:
        return self.book.now


def random_calls(rng: random.Random, start: float, end: float, long_share: float) -> list[Call]:
    """Calls of 5 s to 10 min, `long_share` of them of up to 2.5 hours, listed up to a minute
    after they start."""
    calls: list[Call] = []
    for pbx in PBX_IDS:
        at = start
        while at < end:
            at += rng.expovariate(1 / 20.0)
            long = rng.random() < long_share
            length = rng.uniform(600, 9000) if long else rng.uniform(5, 600)
            delay = rng.uniform(0, 60)
            calls.append(Call(f"{pbx}-{len(calls)}", pbx, at, at + length, at + delay))
    return calls


def in_progress(poller: LiveCallPoller) -> dict[str, float]:
    page = samples(b"".join(f.samples for f in render_families(poller.collect())).decode())
    return {
        dict(labels)["queue"]: v
        for (name, labels), v in page.items()
        if name == "eightbyeight_queue_live_calls" and dict(labels)["status"] == "talking"
    }


def truth(book: CallBook, max_call_age: float) -> dict[str, float]:
    counts = {f"queue-{p}": 0.0 for p in PBX_IDS}
    for c in book.calls:
        if c.listed <= book.now < c.stop and c.start >= book.now - max_call_age:
            counts[f"queue-{c.pbx}"] += 1
    return counts


def poller(book: CallBook, **kwargs: Any) -> LiveCallPoller:
    settings: dict[str, Any] = {"page_size": 50, "max_call_age": 4 * 3600.0, **kwargs}
    return LiveCallPoller(
        BookApi(book), FixedDirectory(make_directory()), NO_RING_GROUPS, interval=30, **settings
    )


@pytest.mark.parametrize(
    ("seed", "long_share", "at_most"),
    [(1, 0.0, 0.2), (2, 0.001, 0.5), (3, 0.3, 1.0), (4, 0.3, 1.0)],
    ids=["short_calls", "few_long_calls", "many_long_calls", "many_long_calls_2"],
)
def test_reads_back_to_the_oldest_call_in_progress_miss_nothing(seed, long_share, at_most) -> None:
    rng = random.Random(seed)
    book = CallBook(random_calls(rng, T0 - 6 * 3600, T0 + 3600, long_share))
    marked, whole = poller(book, concurrency=3), poller(book, rescan_interval=0)
    marked_requests = whole_requests = 0
    for step in range(60):  # 30 minutes of polls every 30 s, with a jitter
        book.now = T0 + 30 * step + rng.uniform(0, 5)
        expected = truth(book, 4 * 3600.0)
        before = book.requests
        assert in_progress(marked) == expected, f"poll {step}"
        marked_requests += book.requests - before
        before = book.requests
        assert in_progress(whole) == expected, f"poll {step}"
        whole_requests += book.requests - before
    # A call in progress for hours keeps its PBX's reads that long: the saving is in the
    # usual case, the counts are the same in every case.
    assert marked_requests <= at_most * whole_requests, (marked_requests, whole_requests)


def test_a_read_goes_back_to_the_previous_reads_oldest_call_in_progress_less_the_margin() -> None:
    calls = [
        Call("open", "p1", T0 - 1000, T0 + 9999, T0 - 1000),
        *[Call(f"done-{i}", "p1", T0 - 2000 - 10 * i, T0 - 1900, T0 - 2000) for i in range(40)],
    ]
    book = CallBook(calls)
    live = poller(book, page_size=5)
    live.collect()
    mark = live.marks["p1"]
    assert (mark.read_at, mark.oldest_open, mark.rescanned_at) == (T0, T0 - 1000, T0)
    assert mark.bound() == T0 - 1000 - LISTING_MARGIN_SECONDS
    first = book.requests
    # 41 calls of p1 in pages of 5: the whole 4 hours, to the short page; p2, p3 one each.
    assert first == 9 + 2
    book.now = T0 + 30
    assert in_progress(live)["queue-p1"] == 1
    # p1: the page with "open" and four completed calls ends older than the bound; p2, p3:
    # one empty page each.
    assert book.requests - first == 3
    assert live.marks["p1"].rescanned_at == T0  # not a rescan: the time of the last one kept


def test_a_rescan_every_rescan_interval_and_after_a_clock_that_went_back() -> None:
    calls = [Call(f"c{i}", "p1", T0 - 3000 - 10 * i, T0 - 2900, T0 - 3000) for i in range(20)]
    book = CallBook(calls)
    live = poller(book, page_size=5, rescan_interval=120)
    pages_per_poll = []
    for at in (0, 30, 60, 119, 120, 150, 100):
        book.now = T0 + at
        before = book.requests
        live.collect()
        pages_per_poll.append(book.requests - before)
    # 20 calls in pages of 5 (and the short one) plus an empty page each for p2, p3: 7 when
    # the read goes back the whole max_call_age; 3 when it stops at the previous read's time.
    assert pages_per_poll == [7, 3, 3, 3, 7, 3, 7]


def test_a_read_cut_by_max_pages_and_a_failed_run_leave_no_mark_to_trust() -> None:
    calls = [Call(f"c{i}", "p1", T0 - 600 - 10 * i, T0 + 9999, T0 - 600) for i in range(20)]
    book = CallBook(calls)
    live = poller(book, page_size=5, max_pages=2)
    assert in_progress(live)["queue-p1"] == 10  # cut: the ten newest
    assert "p1" not in live.marks and set(live.marks) == {"p2", "p3"}
    live.max_pages = 50
    book.now = T0 + 30
    assert in_progress(live)["queue-p1"] == 20  # read back the whole max_call_age again
    kept = dict(live.marks)
    book.failing.add("p3")
    book.now = T0 + 60
    with pytest.raises(ApiError):
        live.collect()
    assert live.marks == kept  # the run failed: the marks of the last good one stay


def test_config_of_the_marked_reads() -> None:
    from exporter.config import ConfigError, load_config_data
    from exporter.config.live import LiveCallsConfig

    section = LiveCallsConfig()
    assert (section.rescan_interval, section.concurrency) == (600.0, 4)
    credentials = {"api_key": "k", "username": "u", "password": "p"}
    for key, bad, message in (
        ("concurrency", 9, "Input should be less than or equal to 8"),
        ("concurrency", 0, "Input should be greater than or equal to 1"),
        ("rescan_interval", "-1m", "'-1m' is not a duration such as 30s, 5m or 1h"),
        ("rescan_interval", -60, "must be zero or more"),
    ):
        with pytest.raises(ConfigError) as info:
            data = {**credentials, "live_calls": {key: bad}}
            load_config_data({"work_analytics": data}, env={})
        assert info.value.problems == [f"work_analytics.live_calls.{key}: {message}"]
    data = {**credentials, "live_calls": {"rescan_interval": 0}}
    assert (
        load_config_data({"work_analytics": data}, env={}).work_analytics.live_calls.rescan_interval
        == 0
    )


def test_a_call_listed_after_the_previous_read_but_started_before_it_is_found() -> None:
    # No call in progress at the first read; then one that had started 100 s before it
    # turns up, behind a page of newer completed calls.
    newer = [Call(f"n{i}", "p1", T0 - 50 + i, T0 - 5, T0 - 50 + i) for i in range(5)]
    late = Call("late", "p1", T0 - 100, T0 + 9999, T0 + 10)
    older = [Call(f"o{i}", "p1", T0 - 2000 - i, T0 - 1900, T0 - 2000) for i in range(10)]
    book = CallBook([*newer, late, *older])
    live = poller(book, page_size=5)
    assert in_progress(live)["queue-p1"] == 0
    assert live.marks["p1"].oldest_open is None
    book.now = T0 + 30
    assert in_progress(live)["queue-p1"] == 1
