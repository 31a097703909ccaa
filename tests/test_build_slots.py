"""Snapshots are built a bounded number at a time: collectors keep their own schedules and
their API waits, and only the building step (rendering, the swap, the page's assembly) queues
for a slot."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from prometheus_client.core import GaugeMetricFamily

from exporter.metrics.rendering import Family, GaugeFamily
from exporter.pollers.base import Poller, Scheduler
from exporter.pollers.build_slots import BuildSlots
from tests.support.clock import FakeClock

WAIT = 10.0  # seconds: a bound on every wait, never a pause


class WatchedSlots(BuildSlots):
    """Tells the test each time a run asks for a slot."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        self.asked = threading.Semaphore(0)

    def acquire(self, timeout: float | None = None) -> bool:
        self.asked.release()
        return super().acquire(timeout)


class OnePoller(Poller):
    interval = 3600.0  # one scheduled run each in these tests

    def __init__(self, name: str) -> None:
        self.name = name
        self.collected = threading.Event()

    def collect(self) -> Sequence[Family]:
        self.collected.set()
        family = GaugeFamily(f"eightbyeight_{self.name}", "x", labels=["a"])
        family.add_metric(["b"], 1.0)
        return [family]


class HeldBuilds:
    """A scheduler listener (called while a run builds) that holds each build until the test
    lets it go, and counts the builds under way."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.started: dict[str, threading.Event] = {}
        self.finish: dict[str, threading.Event] = {}

    def expect(self, name: str) -> None:
        self.started[name], self.finish[name] = threading.Event(), threading.Event()

    def __call__(self) -> None:
        name = threading.current_thread().name.removeprefix("poller-")
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        self.started[name].set()
        try:
            assert self.finish[name].wait(WAIT)
        finally:
            with self.lock:
                self.now -= 1

    def release_all(self) -> None:
        for event in self.finish.values():
            event.set()


def scheduled(slots: BuildSlots) -> tuple[Scheduler, list[OnePoller], HeldBuilds]:
    scheduler = Scheduler(wall_clock=FakeClock(), build_slots=slots)
    pollers = [OnePoller("first"), OnePoller("second")]
    builds = HeldBuilds()
    for poller in pollers:
        assert scheduler.add(poller).build_slots is slots
        builds.expect(poller.name)
    scheduler.subscribe(builds)
    return scheduler, pollers, builds


def test_with_one_slot_two_collectors_never_build_at_once() -> None:
    slots = WatchedSlots(1)
    scheduler, pollers, builds = scheduled(slots)
    scheduler.start()
    try:
        # Both collect on their own schedules (no slot needed), then both ask for the slot.
        assert all(poller.collected.wait(WAIT) for poller in pollers)
        assert slots.asked.acquire(timeout=WAIT) and slots.asked.acquire(timeout=WAIT)
        first = builds.started["first"].wait(WAIT) or builds.started["second"].wait(WAIT)
        assert first
        builder, waiter = (
            ("first", "second")
            if builds.started["first"].is_set()
            else (
                "second",
                "first",
            )
        )
        assert not builds.started[waiter].is_set()  # its turn comes once the build ends
        builds.finish[builder].set()
        assert builds.started[waiter].wait(WAIT)
        builds.finish[waiter].set()
        assert all(runner.first_run_done.wait(WAIT) for runner in scheduler.runners)
    finally:
        builds.release_all()
        scheduler.stop(WAIT)
    assert builds.most == 1
    assert all(runner.state.success for runner in scheduler.runners)


def test_with_two_slots_two_collectors_build_together() -> None:
    """The bound is what keeps them apart: with room for two, both build at the same time."""
    scheduler, _, builds = scheduled(BuildSlots(2))
    scheduler.start()
    try:
        assert builds.started["first"].wait(WAIT) and builds.started["second"].wait(WAIT)
        assert builds.most == 2
    finally:
        builds.release_all()
        scheduler.stop(WAIT)


def test_a_failed_build_gives_its_slot_back() -> None:
    class Unrenderable(OnePoller):
        def collect(self) -> Sequence[Family]:
            super().collect()
            stamped = GaugeMetricFamily("eightbyeight_x", "x", labels=["a"])
            stamped.add_metric(["b"], 1.0, timestamp=1_700_000_000)  # refused by rendering
            return [stamped]

    slots = BuildSlots(1)
    scheduler = Scheduler(wall_clock=FakeClock(), build_slots=slots)
    broken, fine = scheduler.add(Unrenderable("broken")), scheduler.add(OnePoller("fine"))
    assert not broken.run_once()
    assert "timestamp" in (broken.state.last_error or "")
    assert fine.run_once()
    assert slots.acquire(timeout=WAIT)  # free again: nobody kept it
    slots.release()


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BuildSlots(0)
