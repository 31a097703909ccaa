"""Whole-day reads of the call counters one at a time in the process (call_details.FULL_READS):
at a start call_records and call_legs both read the day, and together they set the peak of
decoded JSON that the allocator then keeps; the polls of a day in progress never wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from exporter.core.errors import ServerError
from exporter.pollers.call_details import FULL_READS
from tests.support.call_details import CdrStore, record, records_collector
from tests.support.clock import FakeClock
from tests.support.historical import NOW

WAIT = 10.0  # bound of every wait for something that must happen


class HeldStore(CdrStore):
    """A store whose scroll says when it is entered and, while `hold` is set, waits for
    `release` before answering (a read in progress)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.entered = threading.Event()
        self.hold = False
        self.release = threading.Event()

    def scroll(
        self, endpoint: str, params: Mapping[str, Any], page_size: int
    ) -> Iterator[list[dict]]:
        self.entered.set()
        if self.hold:
            assert self.release.wait(WAIT)
        yield from super().scroll(endpoint, params, page_size)


def collecting(collector: Any) -> threading.Thread:
    thread = threading.Thread(target=collector.collect, daemon=True)
    thread.start()
    return thread


def test_a_second_whole_day_read_waits_for_the_first_to_end() -> None:
    clock = FakeClock(NOW)
    first, second = HeldStore(clock), HeldStore(clock)
    first.hold = True
    second.add(record("c1", NOW - 3600))
    a, b = records_collector(first, clock), records_collector(second, clock)
    reading = collecting(a)
    assert first.entered.wait(WAIT)
    waiting = collecting(b)
    # While the first day's read holds, the second has not asked the API (a bounded look: a
    # slow machine can only make this pass wrongly, never fail wrongly).
    assert not second.entered.wait(0.3)
    first.release.set()
    reading.join(WAIT)
    waiting.join(WAIT)
    assert second.entered.is_set() and not waiting.is_alive()
    assert b.records_read == 1 and b.watermark is not None


def test_a_poll_of_the_day_in_progress_does_not_wait_for_a_whole_day_read() -> None:
    clock = FakeClock(NOW)
    first, second = HeldStore(clock), HeldStore(clock)
    a, b = records_collector(first, clock), records_collector(second, clock)
    b.collect()  # its day read: from now on b polls the day in progress
    second.entered.clear()
    first.hold = True
    reading = collecting(a)
    assert first.entered.wait(WAIT)
    clock.advance(60)
    polling = collecting(b)
    assert second.entered.wait(WAIT)  # while a's whole-day read still holds
    polling.join(WAIT)
    assert not polling.is_alive()
    first.release.set()
    reading.join(WAIT)
    assert not reading.is_alive()


def test_a_whole_day_read_that_fails_lets_the_next_one_go() -> None:
    clock = FakeClock(NOW)
    failing, second = HeldStore(clock), HeldStore(clock)
    failing.add(record("c1", NOW - 3600))
    failing.fail_on_page = 0
    second.add(record("c2", NOW - 3600))
    a, b = records_collector(failing, clock), records_collector(second, clock)
    with pytest.raises(ServerError):
        a.collect()
    assert not FULL_READS.locked()
    assert a.watermark is None  # the day is read whole again at its next poll
    b.collect()
    assert b.records_read == 1
