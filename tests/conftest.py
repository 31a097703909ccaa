"""Shared test helpers: vendor fixtures, a fake clock, free ports, bounded waits, the page's
values."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from exporter.pollers.base import Scheduler, Snapshot
from exporter.serving.exposition import Exposition, build_per_scrape_registry, build_registry

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeClock:
    """A clock tests move by hand: no test depends on the wall clock's speed."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_for(
    condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.02
) -> bool:
    """Whether `condition()` came true within `timeout` seconds, polled every `interval`.

    For what another thread or process does in its own time (a server noticing a closed
    connection, a thread ending): the bound is generous because a loaded CI machine may take
    seconds, and costs nothing when the condition is met at once. Bounded twice: by a deadline
    on the monotonic clock, and by a count of polls (each sleeps at least `interval`), so that
    neither a clock that stalls nor one that jumps can make it spin or wait forever.
    """
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return bool(condition())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _no_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own credentials in the environment must not change what the tests see.
    for name in ("EIGHTBYEIGHT_API_KEY", "EIGHTBYEIGHT_USERNAME", "EIGHTBYEIGHT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rsps() -> Any:
    """Replays recorded answers strictly: every registered answer must be asked for."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def exposition_of(scheduler: Scheduler) -> Exposition:
    """The page of these runners, without the process metrics."""
    return Exposition(scheduler, build_registry(), build_per_scrape_registry(process_metrics=False))


class PageReader:
    """Values of the page as a scrape would see them now: rendered again on every call."""

    def __init__(self, exposition: Exposition) -> None:
        self.exposition = exposition

    def text(self) -> str:
        return self.exposition.render().decode()

    def families(self) -> list[Metric]:
        return list(text_string_to_metric_families(self.text()))

    def get_sample_value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        for family in self.families():
            for sample in family.samples:
                if sample.name == name and sample.labels == (labels or {}):
                    return float(sample.value)
        return None


def snapshot_families(snapshot: Snapshot) -> list[Metric]:
    """A snapshot's rendered families, parsed back."""
    text = b"".join(f.header(False) + f.samples for f in snapshot.families).decode()
    return list(text_string_to_metric_families(text))
