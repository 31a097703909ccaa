"""Fixtures of the simulator tests: a fake clock, started simulators, API clients (Work Analytics
and Contact Center) and the vendor's documents. The helpers behind them are in
tests/support/simulator.py and tests/support/vendor_docs.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.simulator import (
    CcClient,
    ClockFactory,
    SimClient,
    closing_factory,
    historical_window,
    simulator_clock,
)
from tests.support.vendor_docs import RealtimeGuide, VendorSchemas


@pytest.fixture(scope="session")
def vendor_schemas() -> VendorSchemas:
    return VendorSchemas()


@pytest.fixture(scope="session")
def realtime_guide() -> RealtimeGuide:
    return RealtimeGuide.load()


@pytest.fixture
def window() -> Callable[..., dict[str, str]]:
    """historical_window(start, end, zone="UTC", pbx="allpbxes")."""
    return historical_window


@pytest.fixture
def fake_clock() -> FakeClock:
    return simulator_clock()


@pytest.fixture
def clock_factory() -> ClockFactory:
    """For tests that need several independent clocks (clock_factory(now=...))."""
    return simulator_clock


@pytest.fixture
def make_simulator(fake_clock: FakeClock) -> Iterator[Callable[..., Simulator]]:
    """Factory of started simulators on 127.0.0.1:0 (fake clock unless given); all stopped after."""
    started: list[Simulator] = []

    def factory(**options: Any) -> Simulator:
        options.setdefault("clock", fake_clock)
        options.setdefault("host", "127.0.0.1")
        options.setdefault("port", 0)
        simulator = Simulator(**options)
        started.append(simulator)
        return simulator.start()

    try:
        yield factory
    finally:
        for simulator in started:
            simulator.stop()


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    return make_simulator(seed=42)


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One simulator (seed 42, its clock stopped at START_TIME) for the tests of a module that
    only read: they never move its clock, fault it or expire its tokens."""
    with Simulator(seed=42, clock=simulator_clock(), host="127.0.0.1", port=0) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def shared_client(shared_sim: Simulator) -> Iterator[SimClient]:
    with SimClient(shared_sim) as api:
        yield api


@pytest.fixture
def client(sim: Simulator) -> Iterator[SimClient]:
    with SimClient(sim) as api:
        yield api


@pytest.fixture
def make_cc_client() -> Iterator[Callable[[Simulator], CcClient]]:
    yield from closing_factory(CcClient)


@pytest.fixture
def make_client() -> Iterator[Callable[[Simulator], SimClient]]:
    yield from closing_factory(SimClient)
