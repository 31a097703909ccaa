"""Fixtures for the simulator tests: a fake clock, started simulators, an API client and the
vendor's OpenAPI schemas (read from /work/shared/8x8-api, next to the repository)."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from jsonschema import Draft202012Validator
from zoneinfo import ZoneInfo

from exporter.simulator import Simulator

VENDOR_DOCS = Path(__file__).resolve().parents[3] / "shared" / "8x8-api"
OPENAPI_DIR = VENDOR_DOCS / "openapi"
GUIDES_DIR = VENDOR_DOCS / "guides"

# Tuesday 2024-03-05 15:00:00 UTC: business hours in Europe, morning in the Americas.
START_TIME = 1_709_650_800.0
HTTP_TIMEOUT = 10  # seconds; every request in these tests is bounded

API_KEY = "sim-api-key"
USERNAME = "supervisor@example.com"
PASSWORD = "sim-password"


class FakeClock:
    """A settable clock: the simulator reads it, tests move it. Never goes backwards by itself."""

    def __init__(self, now: float = START_TIME) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class SimClient:
    """A small HTTP client for one simulator: token handling and authenticated GETs."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.session = requests.Session()
        self._token: str | None = None

    def issue_token(self, *, api_key: str | None = API_KEY, username: str = USERNAME, password: str = PASSWORD) -> requests.Response:
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

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> requests.Response:
        """GET base_url + path with both auth headers unless `headers` is given."""
        url = path if path.startswith("http") else self.simulator.base_url + path
        return self.session.get(url, params=params, headers=self.auth_headers() if headers is None else headers, timeout=HTTP_TIMEOUT)

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

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SimClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class VendorSchemas:
    """Validators for the `#/components/schemas/...` of the vendor's OpenAPI documents."""

    # Vendor bug: QueueMetrics.metrics and QueueMetricsResponse.metricsSummary declare
    # additionalProperties {"type": "object"}, yet every value in the spec's own example is a
    # number. Validating against the literal schema would reject the vendor's example too.
    METRIC_VALUE_PATCHES = (("QueueMetrics", ("properties", "metrics")), ("QueueMetricsResponse", ("properties", "metricsSummary")))

    def __init__(self) -> None:
        if not OPENAPI_DIR.is_dir():
            pytest.fail(
                f"the vendor OpenAPI documents are missing: expected them in {OPENAPI_DIR} "
                "(the repository at /work/main, the shared documents at /work/shared/8x8-api)"
            )
        self.documents: dict[str, dict[str, Any]] = {
            path.name: json.loads(path.read_text(encoding="utf-8")) for path in OPENAPI_DIR.glob("*.json")
        }

    def document(self, file_name: str) -> dict[str, Any]:
        return self.documents[file_name]

    def validator(
        self, file_name: str, component: str, *, strict: tuple[str, ...] = (), patch_metric_values: bool = True
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

    def validate(self, file_name: str, component: str, instance: Any, *, strict: tuple[str, ...] = ()) -> None:
        errors = sorted(self.validator(file_name, component, strict=strict).iter_errors(instance), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])

    def response_schema(self, file_name: str, path: str, status: str = "200", method: str = "get") -> dict[str, Any]:
        """The inline schema of one operation's response (the historical spec has no components)."""
        operation = self.documents[file_name]["paths"][path][method]
        schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
        return schema

    def validate_response(
        self, file_name: str, path: str, instance: Any, *, status: str = "200", strict: bool = False,
        extra: frozenset[str] = frozenset(),
    ) -> None:
        """Validate against an operation's response schema. `strict`: every object with declared
        properties must have exactly those keys (the schemas require nothing), but for `extra`."""
        schema = copy.deepcopy(self.response_schema(file_name, path, status))
        if strict:
            _make_strict(schema, extra)
        errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])

    def token_response_schema(self, status: str) -> dict[str, Any]:
        operation = self.documents["work_analytics_historical.json"]["paths"]["/v1/oauth/token"]["post"]
        schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
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
        table = text.split("The time related metrics are measured in milliseconds.", 1)[1].split("Try out", 1)[0]
        names = [m.group(1) for m in re.finditer(r"^([a-zA-Z]+) \| .+\|$", table, re.MULTILINE)]
        example = json.loads(text[text.index('{\n"callQueues"') : text.index("Updated over")])
        return cls([name for name in names if name != "Metric"], example)


@pytest.fixture(scope="session")
def vendor_schemas() -> VendorSchemas:
    return VendorSchemas()


@pytest.fixture(scope="session")
def realtime_guide() -> RealtimeGuide:
    return RealtimeGuide.load()


def historical_window(start: float, end: float, zone: str = "UTC", pbx: str = "allpbxes") -> dict[str, str]:
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


@pytest.fixture
def make_client() -> Iterator[Callable[[Simulator], SimClient]]:
    clients: list[SimClient] = []

    def factory(simulator: Simulator) -> SimClient:
        api = SimClient(simulator)
        clients.append(api)
        return api

    try:
        yield factory
    finally:
        for api in clients:
            api.close()
