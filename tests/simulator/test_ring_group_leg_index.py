"""The ring group legs kept per window give what a scan of the window's legs gives, as the
model adds legs, windows alternate and move, and the book compacts."""

from __future__ import annotations

from collections import defaultdict

from simulator import QueueingModel
from simulator.calls import CallLeg, LegKind
from simulator.directory_generator import build_account
from simulator.ring_group_legs import RingGroupLegIndex

START = 1_709_650_800.0  # Tuesday 2024-03-05 15:00 UTC


def scanned(model: QueueingModel, start: float, end: float) -> dict[str, list[tuple[str, str]]]:
    by_group: defaultdict[str, list[CallLeg]] = defaultdict(list)
    for leg in model.call_legs(start, end):
        if leg.kind is LegKind.RING_GROUP and leg.group is not None:
            by_group[leg.group.id].append(leg)
    return ids(by_group)


def ids(by_group: dict[str, list[CallLeg]]) -> dict[str, list[tuple[str, str]]]:
    return {
        group: [(leg.call_id, leg.leg_id) for leg in legs]
        for group, legs in by_group.items()
        if legs
    }


def test_the_index_gives_what_a_scan_gives() -> None:
    # An hour of history kept two: the book compacts once more than half of its legs are
    # pruned, after about 4 hours; 5.5 hours are run, a step every 5 minutes.
    model = QueueingModel(
        build_account(1),
        seed=5,
        start_time=START,
        history_seconds=3600,
        history_retention_seconds=2 * 3600,
    )
    index = RingGroupLegIndex()
    generations = {model.book.legs_generation}
    checked = 0
    for step in range(66):
        model.advance(START + 300 * step)
        now = model.now
        for start, end in (
            (now - 3600, now),  # the last hour, moving
            (START - 2 * 3600, now),  # from a fixed start, growing
            (now - 3600, now - 1800),  # an earlier end than the window before with its start
            (now - 60, now),
        ):
            with model.lock:
                got = ids(index.legs(model.book, int(start * 1000), int(end * 1000)))
            assert got == scanned(model, start, end), (step, start, end)
            checked += bool(got)
        generations.add(model.book.legs_generation)
    assert checked > 100
    assert len(generations) > 1, "the book never compacted: the test would miss that case"
