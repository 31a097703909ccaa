"""Fixtures for every test: a fake clock, no credentials from the environment, strict replay of
recorded answers. Shared helpers live in tests/support, one module per topic."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import requests
import responses

from exporter.core.redaction import SECRETS
from tests.support.clock import FakeClock
from tests.support.web_config import Pki, captured_logs, http_session, make_hashes, make_pki


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _no_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own credentials in the environment must not change what the tests see.
    for name in ("EIGHTBYEIGHT_API_KEY", "EIGHTBYEIGHT_USERNAME", "EIGHTBYEIGHT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_secrets_of_other_tests() -> Iterator[None]:
    # The redactor is process-wide: one test's credentials must not blank another's output.
    SECRETS.clear()
    yield
    SECRETS.clear()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Replays recorded answers strictly: every registered answer must be asked for."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# -- The web config's tests: test certificates, hashes, captured logs, an HTTP session --------


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI makes the test certificates")
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def hashes() -> dict[str, str]:
    return make_hashes()


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    with captured_logs() as captured:
        yield captured


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with http_session() as session:
        yield session


# -- Order under pytest-xdist ------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (scripts/test.sh), the modules holding a slow test go first: the
    workers hand out tests in this order, and a minute-long test started last would leave the
    other workers idle until it ends. Whole modules move, so that a module-scoped fixture is
    set up once. Every worker sorts the same collection the same way, as xdist requires; a run
    without xdist keeps the file order."""
    if not hasattr(config, "workerinput"):
        return
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)
