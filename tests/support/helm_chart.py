"""The Helm chart in helm/eightbyeight-exporter as the chart tests read it: its files, its values
merged the way Helm merges them, and its objects rendered with Helm's own engine (the
`helm-python-sdk` of the test extras: Helm's Go SDK behind ctypes)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "eightbyeight-exporter"
TEMPLATES = CHART / "templates"
CI_DIR = CHART / "ci"
CI_VALUES = sorted(CI_DIR.glob("*-values.yaml"))


def load_yaml(path: Path) -> Any:
    """A YAML file as Helm reads it (safe types only)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def values() -> dict[str, Any]:
    """The chart's defaults, fresh on each call so that no test can change another's."""
    data = load_yaml(CHART / "values.yaml")
    assert isinstance(data, dict)
    return data


def schema() -> dict[str, Any]:
    """values.schema.json, the schema Helm validates every install and upgrade with."""
    data = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def helm_merge(base: Any, override: Any) -> Any:
    """Helm's merge of a values file over the chart's values: maps merge key by key, any other
    value (lists included) replaces, and null deletes the key."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def helm_sdk() -> Any:
    """The helm_python module. It is in the test extras: a missing one fails the chart tests
    (with how to install it) rather than skipping them, so CI never passes without Helm."""
    try:
        import helm_python
    except ImportError as exc:  # pragma: no cover - only without the test extras
        pytest.fail(f"helm-python-sdk is needed (pip install -e '.[test]'): {exc}")
    return helm_python


def render(overrides: dict[str, Any], release: str = "8x8") -> list[dict[str, Any]]:
    """The chart's objects for these values, as `helm template` would print them; release
    "8x8" as in the README, whose name starts with a digit."""
    with helm_sdk().Chart.load(str(CHART)) as chart:
        manifests = chart.render(overrides, name=release, namespace="monitoring")
    documents: list[Any] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith("NOTES.txt"):
            documents.extend(d for d in yaml.safe_load_all(text) if d)
    return documents


def by_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The rendered objects of one kind."""
    return [d for d in documents if d["kind"] == kind]


def container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The exporter container of the one workload (Deployment or StatefulSet)."""
    (workload,) = by_kind(documents, "Deployment") + by_kind(documents, "StatefulSet")
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert isinstance(containers, list) and containers
    first = containers[0]
    assert isinstance(first, dict)
    return first
