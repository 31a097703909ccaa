"""What the daemon keeps between runs, per counted call: the day's record ids (issue #20, item 4)."""

from __future__ import annotations

import tracemalloc

from exporter.pollers.call_counting import SeenIds
from tests.support.call_details import CdrStore, leg, leg_collector
from tests.support.clock import FakeClock
from tests.support.historical import NOW

IDS = 20_000


def test_seen_ids_keep_no_object_per_id() -> None:
    # The ids are made inside the trace and dropped, as a run's parsed rows are: what stays is
    # what SeenIds keeps per id. A dict of the strings kept about 130 bytes an id (the string,
    # a float, the entry); the digest table 24 bytes a slot at a load of 3/8 to 3/4.
    ends = [float(1_700_000_000_000 + i) for i in range(IDS)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        seen = SeenIds(max_entries=IDS)
        for i, end in enumerate(ends):
            seen.add(f"{i:08d}-1f0c9a7e-2b4d-4c1e-9a3f-{i:012d}", end)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(seen) == IDS
    assert grown / IDS <= 24 / (3 / 8) + 1


def test_seen_ids_past_the_bound_forget_the_oldest_first_as_before() -> None:
    seen = SeenIds(max_entries=4)
    for key, end in [("a", 50), ("b", 10), ("c", 40), ("d", 30)]:
        assert seen.add(key, end)
    assert not seen.add("b", 45)  # known again with a later end, before any heap exists
    assert seen.add("e", 60)  # past the bound: the oldest end (d at 30) goes, not b
    assert "d" not in seen and "b" in seen and seen.evicted == 1 and seen.evicted_until == 30
    assert seen.add("f", 70) and "c" not in seen and seen.evicted_until == 40
    assert seen.add("g", 80) and "b" not in seen and seen.evicted_until == 45
    assert seen.add("h", 5) and "h" not in seen and seen.evicted == 4  # older than all: out
    assert seen.evicted_until == 45  # the latest end forgotten, never moved back


def test_legs_of_one_call_are_told_apart_by_their_leg_ids() -> None:
    clock = FakeClock(NOW)
    groups = {("acmecorp", "110081"): ("queue", "Sales Queue")}
    leg_store = CdrStore(clock)
    collector = leg_collector(leg_store, clock, groups)
    collector.collect()
    clock.advance(60)
    first = leg("12", clock() - 5, lra="110081")
    second = {**leg("1", clock() - 5, lra="110081"), "legId": "21"}  # "1"+"21" vs "12"+"1"
    leg_store.add(first)
    leg_store.add(second)
    collector.collect()
    assert collector.records_read == 2 and collector.records_duplicate == 0
    assert len(collector.seen) == 2
