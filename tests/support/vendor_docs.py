"""The vendor's documents the simulator tests check against (kept in tests/vendor): validators
for the schemas of its OpenAPI specs, and the examples of its guide pages."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

# The vendor's OpenAPI specs and the guide pages the tests quote, kept in the repository.
VENDOR_DOCS = Path(__file__).resolve().parents[1] / "vendor"
OPENAPI_DIR = VENDOR_DOCS / "openapi"
GUIDES_DIR = VENDOR_DOCS / "guides"

CC_REALTIME_SPEC = "8x8_analytics_for_contact_center_real-time_metrics_api.json"
CC_HISTORICAL_SPEC = "8x8_analytics_for_contact_center_historical_metrics_api.json"


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

    def agent_activity_validator(self, component: str) -> Draft202012Validator:
        """Validator of the agent activity schemas of work_analytics.json, strict (every
        documented property but `interaction` and the summaries required, no other key), with
        two patches. The same vendor bug as QueueMetrics: metrics and summaries declare values
        of type object, the examples hold numbers (agentAverageTimeToAnswer may be null). And
        QueueActivity documents `summary` where its example sends `metricsSummary`: either."""
        components = copy.deepcopy(self.documents["work_analytics.json"]["components"])
        schemas = components["schemas"]
        value = {"additionalProperties": {"type": ["number", "null"]}}
        queue_activity = schemas["QueueActivity"]["properties"]
        queue_activity["metricsSummary"] = {**queue_activity["summary"], **value}
        for name, key in (
            ("QueueAgentActivity", "metrics"),
            ("AgentActivity", "metrics"),
            ("QueueActivity", "summary"),
            ("AgentActivityResponse", "summary"),
        ):
            schemas[name]["properties"][key].update(value)
        optional = {"interaction", "summary", "metricsSummary"}
        for name in (
            "QueueAgentActivityResponse",
            "QueueActivity",
            "QueueAgentActivity",
            "AgentActivityResponse",
            "AgentActivity",
            "Interaction",
        ):
            schemas[name]["required"] = sorted(set(schemas[name]["properties"]) - optional)
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
