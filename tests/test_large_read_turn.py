"""The large reads' turn (exporter/core/read_turn.py): one large read at a time, a live one
before the others waiting and never longer than its bound; the live calls' first read takes
it, their later reads do not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from exporter.core.read_turn import LARGE_READS, ReadTurn
from exporter.pollers.discovery import Directory, FixedDirectory, Pbx, Queue, Site
from exporter.pollers.live_calls import LiveCallPoller
from exporter.pollers.ring_group_sources import NO_RING_GROUPS
from tests.support.historical import NOW
from tests.support.waiting import wait_for

WAIT = 10.0  # bound of every wait for something that must happen


def running(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


class Holder:
    """A read holding `turn` (once it has it, or its wait is over) until `release` is set."""

    def __init__(self, turn: ReadTurn, *, urgent: bool = False, steps: list[str]) -> None:
        self.turn, self.urgent, self.steps = turn, urgent, steps
        self.holding, self.release = threading.Event(), threading.Event()
        self.had: bool | None = None

    def read(self, name: str, wait: float | None = None) -> None:
        with self.turn.taken(urgent=self.urgent, wait=wait) as had:
            self.had = had
            self.steps.append(name)
            self.holding.set()
            assert self.release.wait(WAIT)


def test_an_urgent_read_waits_no_longer_than_its_bound_and_leaves_nothing_behind() -> None:
    turn, steps = ReadTurn(), list[str]()
    day = Holder(turn, steps=steps)
    reading = running(lambda: day.read("day"))
    assert day.holding.wait(WAIT)
    with turn.taken(urgent=True, wait=0.05) as had:
        steps.append("live")
    assert had is False and steps == ["day", "live"]
    # The holder still holds; a later taker is not kept out by the urgent read that gave up.
    assert turn.held and turn.urgent_waiting == 0
    day.release.set()
    reading.join(WAIT)
    with turn.taken(wait=WAIT) as had:
        assert had is True


def test_an_urgent_read_goes_before_the_other_reads_waiting() -> None:
    turn, steps = ReadTurn(), list[str]()
    first = Holder(turn, steps=steps)
    reading = running(lambda: first.read("first"))
    assert first.holding.wait(WAIT)
    day = Holder(turn, steps=steps)
    day.release.set()
    day_reading = running(lambda: day.read("day"))
    live = Holder(turn, urgent=True, steps=steps)
    live.release.set()
    live_reading = running(lambda: live.read("live", wait=WAIT))
    assert wait_for(lambda: turn.urgent_waiting == 1, WAIT)
    first.release.set()
    for thread in (reading, day_reading, live_reading):
        thread.join(WAIT)
    # Whichever of the two waiters woke first, the urgent one read before the other.
    assert steps == ["first", "live", "day"]


@dataclass
class Pages:
    """One PBX's pages of calls, which note whether the large reads' turn is held."""

    calls: list[dict[str, Any]]
    seen_held: list[bool]
    stopped_by: str = "last_page"
    unsorted: bool = False

    def __iter__(self) -> Iterator[list[Any]]:
        self.seen_held.append(LARGE_READS.held)
        yield self.calls


@dataclass
class CallsApi:
    now_at: float = NOW
    seen_held: list[bool] = field(default_factory=list)

    def now(self) -> float:
        return self.now_at

    def call_time(self, value: Any) -> float | None:
        return value / 1000.0 if isinstance(value, int) else None

    def time_in_seconds(self, value: Any) -> bool:
        return False

    def calls(
        self, pbx_id: str, *, page_size: int, max_pages: int, started_after: float | None = None
    ) -> Pages:
        call = {
            "callId": f"{pbx_id}-1",
            "startTime": int((self.now_at - 60) * 1000),
            "stopTime": 0,
            "status": "TALKING",
            "workGroup": {"id": f"q-{pbx_id}", "groupType": "CALL_QUEUE"},
        }
        return Pages([call], self.seen_held)


def live_poller(api: CallsApi, interval: float = 30.0) -> LiveCallPoller:
    pbxes = ("p1", "p2")
    directory = Directory(
        pbxes=tuple(Pbx(p, f"pbx-{p}") for p in pbxes),
        sites={f"s-{p}": Site(f"s-{p}", f"site-{p}", p) for p in pbxes},
        queues={f"q-{p}": Queue(f"q-{p}", f"queue-{p}", "100", f"s-{p}", p) for p in pbxes},
    )
    return LiveCallPoller(
        api, FixedDirectory(directory), NO_RING_GROUPS, interval=interval, concurrency=2
    )


def test_the_live_calls_first_read_takes_the_turn_and_later_reads_do_not() -> None:
    api = CallsApi()
    live = live_poller(api)
    live.collect()
    assert api.seen_held == [True, True] and set(live.marks) == {"p1", "p2"}
    api.seen_held.clear()
    api.now_at += 30
    live.collect()
    assert api.seen_held == [False, False] and not LARGE_READS.held


def test_the_live_calls_first_read_waits_no_longer_than_an_interval() -> None:
    api = CallsApi()
    live = live_poller(api, interval=0.05)  # waits at most an interval for the turn
    day = Holder(LARGE_READS, steps=[])  # a whole-day read that never steps aside
    reading = running(lambda: day.read("day"))
    assert day.holding.wait(WAIT)
    try:
        live.collect()  # read without the turn: live data before memory
        assert set(live.marks) == {"p1", "p2"} and LARGE_READS.urgent_waiting == 0
    finally:
        day.release.set()
        reading.join(WAIT)
    assert not LARGE_READS.held


def test_a_whole_day_read_waits_for_the_live_calls_first_read() -> None:
    entered, release = threading.Event(), threading.Event()

    class HeldPages(Pages):
        def __iter__(self) -> Iterator[list[Any]]:
            entered.set()
            assert release.wait(WAIT)
            yield from super().__iter__()

    class HeldApi(CallsApi):
        def calls(
            self, pbx_id: str, *, page_size: int, max_pages: int, started_after: float | None = None
        ) -> Pages:
            pages = super().calls(
                pbx_id, page_size=page_size, max_pages=max_pages, started_after=started_after
            )
            return HeldPages(pages.calls, pages.seen_held)

    live = live_poller(HeldApi())
    reading = running(live.collect)
    assert entered.wait(WAIT)
    day = Holder(LARGE_READS, steps=[])
    day.release.set()
    day_reading = running(lambda: day.read("day"))
    # While the live read holds the turn, the day's read has not begun (a bounded look: a
    # slow machine can only make this pass wrongly, never fail wrongly).
    assert not day.holding.wait(0.3)
    release.set()
    reading.join(WAIT)
    day_reading.join(WAIT)
    assert day.holding.is_set() and set(live.marks) == {"p1", "p2"} and not LARGE_READS.held
