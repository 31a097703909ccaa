"""Shared test helpers: vendor fixtures, a fake clock, free ports."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import responses

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
