"""Helpers of the simulator tests: API clients (Work Analytics and Contact Center) of a started
simulator and the constants the simulators are started with. The fixtures that use them are in
tests/simulator/conftest.py; the vendor's documents they check against, in
tests/support/vendor_docs.py."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import requests

from simulator import Simulator
from tests.support.clock import FakeClock

# Tuesday 2024-03-05 15:00:00 UTC: business hours in Europe, morning in the Americas.
START_TIME = 1_709_650_800.0
HTTP_TIMEOUT = 10  # seconds; every request in these tests is bounded

API_KEY = "sim-api-key"
USERNAME = "supervisor@example.com"
PASSWORD = "sim-password"

CC_CLIENT_ID = "sim-cc-client"
CC_CLIENT_SECRET = "sim-cc-secret"
CC_REALTIME = "/analytics/cc/v5/realtime-metrics"
CC_HISTORICAL = "/analytics/cc/v8/historical-metrics"
CC_REGION_PREFIXES = {"us": "", "eu": "/eu", "au": "/au", "ca": "/ca"}


class ClockFactory(Protocol):
    """Makes independent clocks for the simulators of one test."""

    def __call__(self, now: float = START_TIME) -> FakeClock: ...


def simulator_clock(now: float = START_TIME) -> FakeClock:
    """A fake clock at START_TIME unless told otherwise: the instant the tests' expectations
    (business hours, history depth) were written for."""
    return FakeClock(now)


S = TypeVar("S", bound="SessionClient")


class SessionClient:
    """A requests session closed on `close()` or at the end of a `with` block."""

    session: requests.Session

    def close(self) -> None:
        self.session.close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SimClient(SessionClient):
    """A small HTTP client for one simulator: token handling and authenticated GETs."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.session = requests.Session()
        self._token: str | None = None

    def issue_token(
        self, *, api_key: str | None = API_KEY, username: str = USERNAME, password: str = PASSWORD
    ) -> requests.Response:
        headers = {} if api_key is None else {"8x8-apikey": api_key}
        return self.session.post(
            self.simulator.base_url + "/v1/oauth/token",
            headers=headers,
            data={"username": username, "password": password},
            timeout=HTTP_TIMEOUT,
        )

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.issue_token()
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def auth_headers(self) -> dict[str, str]:
        return {"8x8-apikey": API_KEY, "Authorization": f"Bearer {self.token}"}

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> requests.Response:
        """GET base_url + path with both auth headers unless `headers` is given."""
        url = path if path.startswith("http") else self.simulator.base_url + path
        return self.session.get(
            url,
            params=params,
            headers=self.auth_headers() if headers is None else headers,
            timeout=HTTP_TIMEOUT,
        )

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self.get(path, params)
        assert response.status_code == 200, response.text
        return response.json()

    def scroll(self, path: str, params: dict[str, Any], page_size: int) -> list[dict[str, Any]]:
        """Every page of /v2/call-legs or /v2/call-records, following scrollId to "No Data"
        (the "No Data" page included, last)."""
        pages: list[dict[str, Any]] = []
        query = {**params, "pageSize": page_size}
        for _ in range(10_000):
            page = self.get_json(path, query)
            pages.append(page)
            if page["meta"]["scrollId"] == "No Data":
                return pages
            query = {**params, "pageSize": page_size, "scrollId": page["meta"]["scrollId"]}
        raise AssertionError("the scroll never reached No Data")


def basic_auth(client_id: str = CC_CLIENT_ID, secret: str = CC_CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class CcClient(SessionClient):
    """A small HTTP client of the Contact Center APIs of one simulator: the client-credentials
    token, X-Tenant-Info (the simulator's tenant of each call, in its region)."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.session = requests.Session()
        self._token: str | None = None

    def issue_token(
        self, *, authorization: str | None = None, grant_type: str | None = "client_credentials"
    ) -> requests.Response:
        headers = {"Authorization": authorization if authorization is not None else basic_auth()}
        data = {} if grant_type is None else {"grant_type": grant_type}
        return self.session.post(
            self.simulator.root_url + "/oauth/v2/token",
            headers=headers,
            data=data,
            timeout=HTTP_TIMEOUT,
        )

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.issue_token()
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def headers(self, tenant: str | None, token: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if tenant is not None:
            headers["X-Tenant-Info"] = tenant
        return headers

    def realtime_url(self, tenant: str | None, path: str, region: str | None = None) -> str:
        return self._base(tenant, region) + CC_REALTIME + path

    def historical_url(self, tenant: str | None, path: str = "", region: str | None = None) -> str:
        return self._base(tenant, region) + CC_HISTORICAL + path

    def _base(self, tenant: str | None, region: str | None) -> str:
        if region is None:
            region = self.simulator.cc.region_of(tenant) if tenant is not None else "us"
        return self.simulator.root_url + CC_REGION_PREFIXES[region]

    def realtime(
        self,
        tenant: str | None,
        path: str,
        params: Any = None,
        *,
        region: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        return self.session.get(
            self.realtime_url(tenant, path, region),
            params=params,
            headers=self.headers(tenant) if headers is None else headers,
            timeout=HTTP_TIMEOUT,
        )

    def historical(
        self,
        tenant: str | None,
        path: str = "",
        params: Any = None,
        *,
        region: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        return self.session.get(
            self.historical_url(tenant, path, region),
            params=params,
            headers=self.headers(tenant) if headers is None else headers,
            timeout=HTTP_TIMEOUT,
        )

    def get(self, url: str, tenant: str | None) -> requests.Response:
        """GET an absolute URL (a Link) with the tenant's headers."""
        return self.session.get(url, headers=self.headers(tenant), timeout=HTTP_TIMEOUT)

    def create_report(
        self, tenant: str | None, definition: Any, *, region: str | None = None
    ) -> requests.Response:
        return self.session.post(
            self.historical_url(tenant, "", region),
            json=definition,
            headers=self.headers(tenant),
            timeout=HTTP_TIMEOUT,
        )


def historical_window(
    start: float, end: float, zone: str = "UTC", pbx: str = "allpbxes"
) -> dict[str, str]:
    """The common parameters of the historical endpoints for [start, end) (epoch seconds)."""
    tz = ZoneInfo(zone)

    def local(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%d %H:%M:%S")

    return {"pbxId": pbx, "startTime": local(start), "endTime": local(end), "timeZone": zone}


C = TypeVar("C", bound=SessionClient)


def closing_factory(cls: Callable[[Simulator], C]) -> Iterator[Callable[[Simulator], C]]:
    """Yields a factory of API clients and closes every client it made afterwards."""
    clients: list[C] = []

    def factory(simulator: Simulator) -> C:
        api = cls(simulator)
        clients.append(api)
        return api

    try:
        yield factory
    finally:
        for api in clients:
            api.close()
