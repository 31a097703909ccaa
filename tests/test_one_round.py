"""`--once` runs every collector at the same time, each after the one it depends on."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from exporter.core.errors import CollectionError
from exporter.metrics.rendering import Family, GaugeFamily
from exporter.pollers.base import Poller, PollerRunner, Scheduler
from exporter.pollers.build_slots import BuildSlots
from exporter.pollers.one_round import run_concurrently
from tests.support.clock import FakeClock

WAIT = 10.0  # seconds: a bound on every wait, never a pause


class WaitingPoller(Poller):
    """Collects once the events it waits for are set; says when it began and ended."""

    interval = 3600.0

    def __init__(self, name: str, *waits: threading.Event, fails: bool = False) -> None:
        self.name = name
        self.waits = waits
        self.fails = fails
        self.began, self.ended = threading.Event(), threading.Event()
        self.all_set = True
        self.bound = WAIT

    def collect(self) -> Sequence[Family]:
        self.began.set()
        try:
            self.all_set = all(event.wait(self.bound) for event in self.waits)
            if self.fails:
                raise CollectionError("down")
            family = GaugeFamily(f"eightbyeight_{self.name}", "x", labels=["a"])
            family.add_metric(["b"], 1.0)
            return [family]
        finally:
            self.ended.set()


def scheduler() -> Scheduler:
    return Scheduler(wall_clock=FakeClock(), build_slots=BuildSlots(1))


def test_collectors_run_at_the_same_time() -> None:
    # Each waits for the other to have begun: one after the other, the first would wait
    # the whole bound and say so.
    a_began, b_began = threading.Event(), threading.Event()
    a = WaitingPoller("a", b_began)
    b = WaitingPoller("b", a_began)
    a.began, b.began = a_began, b_began
    sched = scheduler()
    sched.add(a), sched.add(b)
    assert run_concurrently(sched.runners)
    assert a.all_set and b.all_set
    assert all(r.state.snapshot is not None for r in sched.runners)


class Dependant(WaitingPoller):
    """Notes whether its dependency had ended when its own run began."""

    def __init__(self, name: str, dependency: WaitingPoller) -> None:
        super().__init__(name)
        self.dependency = dependency
        self.dependency_ended_first: list[bool] = []

    def collect(self) -> Sequence[Family]:
        self.dependency_ended_first.append(self.dependency.ended.is_set())
        return super().collect()


def test_a_dependant_starts_after_its_dependency_ended_even_when_it_failed() -> None:
    sched = scheduler()
    first = WaitingPoller("first", fails=True)
    later = Dependant("later", first)
    # The dependency's run looks for the dependant for a moment (0.5 s: long enough to see
    # a dependant that did not wait, never needed to pass).
    first.waits, first.bound = (later.began,), 0.5
    first_runner = PollerRunner(first, wall_clock=FakeClock(), build_slots=sched.build_slots)
    # Listed first, so that it would be started first if it did not wait.
    sched.add(later, depends_on=first_runner)
    sched.add_runner(first_runner)
    assert not run_concurrently(sched.runners)  # one failed
    assert later.dependency_ended_first == [True]
    assert not first.all_set  # the dependant had not begun while the dependency ran
    assert sched.runners[0].state.snapshot is not None  # the dependant ran all the same


def test_no_runner_is_nothing_to_do() -> None:
    assert run_concurrently([])
