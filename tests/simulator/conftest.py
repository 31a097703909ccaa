"""Fixtures for the simulator tests: a fake clock, started simulators, API clients (Work Analytics
and Contact Center) and the vendor's OpenAPI schemas (read from /work/shared/8x8-api, next to the
repository)."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import requests
from jsonschema import Draft202012Validator

from simulator import Simulator

# The vendor's OpenAPI specs and the guide pages the tests quote, kept in the repository.
VENDOR_DOCS = Path(__file__).resolve().parents[1] / "vendor"
OPENAPI_DIR = VENDOR_DOCS / "openapi"
GUIDES_DIR = VENDOR_DOCS / "guides"

# Tuesday 2024-03-05 15:00:00 UTC: business hours in Europe, morning in the Americas.
START_TIME = 1_709_650_800.0
HTTP_TIMEOUT = 10  # seconds; every request in these tests is bounded

API_KEY = "sim-api-key"
USERNAME = "supervisor@example.com"
PASSWORD = "sim-password"

CC_CLIENT_ID = "sim-cc-client"
CC_CLIENT_SECRET = "sim-cc-secret"
CC_REALTIME_SPEC = "8x8_analytics_for_contact_center_real-time_metrics_api.json"
CC_HISTORICAL_SPEC = "8x8_analytics_for_contact_center_historical_metrics_api.json"
CC_REALTIME = "/analytics/cc/v5/realtime-metrics"
CC_HISTORICAL = "/analytics/cc/v8/historical-metrics"
CC_REGION_PREFIXES = {"us": "", "eu": "/eu", "au": "/au", "ca": "/ca"}


class FakeClock:
    """A settable clock: the simulator reads it, tests move it. Never goes backwards by itself."""

    def __init__(self, now: float = START_TIME) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


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


class VendorSchemas:
    """Validators for the `#/components/schemas/...` of the vendor's OpenAPI documents."""

    # Vendor bug: QueueMetrics.metrics and QueueMetricsResponse.metricsSummary declare
    # additionalProperties {"type": "object"}, yet every value in the spec's own example is a
    # number. Validating against the literal schema would reject the vendor's example too.
    METRIC_VALUE_PATCHES = (
        ("QueueMetrics", ("properties", "metrics")),
        ("QueueMetricsResponse", ("properties", "metricsSummary")),
    )

    def __init__(self) -> None:
        if not OPENAPI_DIR.is_dir():
            pytest.fail(f"the vendor OpenAPI documents are missing: expected them in {OPENAPI_DIR}")
        self.documents: dict[str, dict[str, Any]] = {
            path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in OPENAPI_DIR.glob("*.json")
        }

    def document(self, file_name: str) -> dict[str, Any]:
        return self.documents[file_name]

    def validator(
        self,
        file_name: str,
        component: str,
        *,
        strict: tuple[str, ...] = (),
        patch_metric_values: bool = True,
    ) -> Draft202012Validator:
        """Validator for one component; components named in `strict` additionally require
        every documented property and forbid others (the schemas themselves require nothing)."""
        components = copy.deepcopy(self.documents[file_name]["components"])
        schemas = components["schemas"]
        if patch_metric_values:
            for name, path in self.METRIC_VALUE_PATCHES:
                if name in schemas:
                    node = schemas[name]
                    for key in path:
                        node = node[key]
                    node["additionalProperties"] = {"type": "number"}
        for name in strict:
            schemas[name]["required"] = list(schemas[name]["properties"])
            schemas[name]["additionalProperties"] = False
        schema = {"$ref": f"#/components/schemas/{component}", "components": components}
        return Draft202012Validator(schema)

    def validate(
        self, file_name: str, component: str, instance: Any, *, strict: tuple[str, ...] = ()
    ) -> None:
        errors = sorted(
            self.validator(file_name, component, strict=strict).iter_errors(instance), key=str
        )
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])

    def response_schema(
        self, file_name: str, path: str, status: str = "200", method: str = "get"
    ) -> dict[str, Any]:
        """The inline schema of one operation's response (the historical spec has no components)."""
        operation = self.documents[file_name]["paths"][path][method]
        schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"][
            "schema"
        ]
        return schema

    def validate_response(
        self,
        file_name: str,
        path: str,
        instance: Any,
        *,
        status: str = "200",
        strict: bool = False,
        extra: frozenset[str] = frozenset(),
    ) -> None:
        """Validate against an operation's response schema. `strict`: every object with declared
        properties must have exactly those keys (the schemas require nothing), but for `extra`."""
        schema = copy.deepcopy(self.response_schema(file_name, path, status))
        if strict:
            _make_strict(schema, extra)
        errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])

    def cc_realtime_validator(
        self, component: str, *, strict: tuple[str, ...] = ()
    ) -> Draft202012Validator:
        """Validator of a CC realtime component. Vendor limitation: MetricItem.value is a
        "number", yet the API serves numeric strings, nulls and arrays too (the README's value
        types): the patched value allows exactly those."""
        components = copy.deepcopy(self.documents[CC_REALTIME_SPEC]["components"])
        schemas = components["schemas"]
        schemas["MetricItem"]["properties"]["value"] = {
            "type": ["number", "string", "null", "array"],
            "items": {"type": "string"},
        }
        for name in strict:
            schemas[name]["required"] = list(schemas[name]["properties"])
            schemas[name]["additionalProperties"] = False
        return Draft202012Validator(
            {"$ref": f"#/components/schemas/{component}", "components": components}
        )

    def cc_historical_validator(
        self, component: str, *, strict: tuple[str, ...] = ()
    ) -> Draft202012Validator:
        """Validator of a CC historical component, with the guide's word where the spec differs:
        a row's total is `total` (the schema says `totals`), dimension values of total rows and
        the indices of the grand total are null."""
        components = copy.deepcopy(self.documents[CC_HISTORICAL_SPEC]["components"])
        schemas = components["schemas"]
        row = schemas["Row"]["properties"]
        row["total"] = {"anyOf": [{"type": "null"}, row.pop("totals")]}
        schemas["RowItem"]["properties"]["value"] = {"type": ["string", "null"]}
        for index in ("startIndex", "endIndex"):
            schemas["TotalItem"]["properties"][index] = {"type": ["integer", "null"]}
        for name in strict:
            schemas[name]["required"] = list(schemas[name]["properties"])
            schemas[name]["additionalProperties"] = False
        return Draft202012Validator(
            {"$ref": f"#/components/schemas/{component}", "components": components}
        )

    @staticmethod
    def check(validator: Draft202012Validator, instance: Any) -> None:
        errors = sorted(validator.iter_errors(instance), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])

    def token_response_schema(self, status: str) -> dict[str, Any]:
        operation = self.documents["work_analytics_historical.json"]["paths"]["/v1/oauth/token"][
            "post"
        ]
        schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"][
            "schema"
        ]
        return schema

    def token_error_branch(self, title: str) -> Draft202012Validator:
        # The 400 schema is a oneOf of two objects without required properties: any object
        # matches both branches, so oneOf itself always fails. Validate against the branch.
        branches = self.token_response_schema("400")["oneOf"]
        branch = next(b for b in branches if b["title"] == title)
        return Draft202012Validator(branch)


def _make_strict(schema: Any, extra: frozenset[str]) -> None:
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            schema["required"] = list(properties)
            for name in extra:
                properties.setdefault(name, {})
            schema["additionalProperties"] = False
        for value in schema.values():
            _make_strict(value, extra)
    elif isinstance(schema, list):
        for value in schema:
            _make_strict(value, extra)


@dataclass(frozen=True)
class RealtimeGuide:
    """What the deprecated realtime guide documents: its metric table and example response."""

    metric_names: list[str]
    example: dict[str, Any]

    @classmethod
    def load(cls) -> RealtimeGuide:
        path = GUIDES_DIR / "work-analytics-call-queue-realtime-deprecated.txt"
        if not path.is_file():
            pytest.fail(f"the vendor guide is missing: {path}")
        text = path.read_text(encoding="utf-8")
        table = text.split("The time related metrics are measured in milliseconds.", 1)[1].split(
            "Try out", 1
        )[0]
        names = [m.group(1) for m in re.finditer(r"^([a-zA-Z]+) \| .+\|$", table, re.MULTILINE)]
        example = json.loads(text[text.index('{\n"callQueues"') : text.index("Updated over")])
        return cls([name for name in names if name != "Metric"], example)


def cc_guide_report_type_sample() -> dict[str, Any]:
    """The guide's "Sample Response for single report type" (agent-interactions-summary)."""
    path = GUIDES_DIR / "cc-historical-analytics-summary-report.txt"
    if not path.is_file():
        pytest.fail(f"the vendor guide is missing: {path}")
    text = path.read_text(encoding="utf-8")
    start = text.index("The result will be different for each report type.")
    block = text[text.index("{", start) : text.index("4. Creating A Summary Report")]
    return json.loads(block)


@pytest.fixture(scope="session")
def vendor_schemas() -> VendorSchemas:
    return VendorSchemas()


@pytest.fixture(scope="session")
def realtime_guide() -> RealtimeGuide:
    return RealtimeGuide.load()


def historical_window(
    start: float, end: float, zone: str = "UTC", pbx: str = "allpbxes"
) -> dict[str, str]:
    """The common parameters of the historical endpoints for [start, end) (epoch seconds)."""
    tz = ZoneInfo(zone)

    def local(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%d %H:%M:%S")

    return {"pbxId": pbx, "startTime": local(start), "endTime": local(end), "timeZone": zone}


@pytest.fixture
def window() -> Callable[..., dict[str, str]]:
    """historical_window(start, end, zone="UTC", pbx="allpbxes")."""
    return historical_window


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clock_factory() -> type[FakeClock]:
    """For tests that need several independent clocks (FakeClock(now=...))."""
    return FakeClock


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
    with Simulator(seed=42, clock=FakeClock(), host="127.0.0.1", port=0) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def shared_client(shared_sim: Simulator) -> Iterator[SimClient]:
    with SimClient(shared_sim) as api:
        yield api


@pytest.fixture
def client(sim: Simulator) -> Iterator[SimClient]:
    with SimClient(sim) as api:
        yield api


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


@pytest.fixture
def make_cc_client() -> Iterator[Callable[[Simulator], CcClient]]:
    yield from closing_factory(CcClient)


@pytest.fixture
def make_client() -> Iterator[Callable[[Simulator], SimClient]]:
    yield from closing_factory(SimClient)
