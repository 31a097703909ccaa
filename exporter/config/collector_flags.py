"""`--collector.<name>` / `--no-collector.<name>`: the node_exporter flags, mapped onto the
`enabled` switches of the configuration's sections. The file wins: a flag only fills in a
section's `enabled` that the file leaves unsaid, so the file stays the one source of truth and
a flag copied from a chart's defaults never silently overrides it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from exporter.config.contact_center import ContactCenterConfig
from exporter.config.work_analytics import WorkAnalyticsConfig

# The collector names of the flags are the `collector` label's (eightbyeight_up{collector}):
# a Work Analytics section's own name, a Contact Center section's with `cc_` before it.
_APIS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("work_analytics", WorkAnalyticsConfig, ""),
    ("contact_center", ContactCenterConfig, "cc_"),
)


def _switchable() -> dict[str, tuple[str, str, bool]]:
    """Collector name -> (API key, section key, enabled by default), from the config model:
    every section with an `enabled` switch (reports are a list, named by the file: no flag)."""
    table: dict[str, tuple[str, str, bool]] = {}
    for api, model, prefix in _APIS:
        for section, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                if "enabled" in kind.model_fields:
                    default = bool(getattr(field.default, "enabled", True))
                    table[prefix + section] = (api, section, default)
    return table


COLLECTORS: dict[str, tuple[str, str, bool]] = _switchable()


def apply_collector_flags(
    data: Mapping[str, Any], wanted: Mapping[str, bool]
) -> tuple[dict[str, Any], list[str]]:
    """The config data with each flag's `enabled` where the file says nothing, and the names
    of the collectors whose flag the file overrode (for a warning). `wanted`: collector name ->
    on or off, names from COLLECTORS."""
    merged = copy.deepcopy(dict(data))
    overridden: list[str] = []
    for name, on in wanted.items():
        api, section, _default = COLLECTORS[name]
        api_data = merged.get(api) or {}
        section_data = api_data.get(section) if isinstance(api_data, Mapping) else None
        section_data = section_data or {}
        if not isinstance(api_data, Mapping) or not isinstance(section_data, Mapping):
            continue  # not a mapping: the validation says so, unchanged
        api_data, section_data = dict(api_data), dict(section_data)
        if "enabled" in section_data:
            if section_data["enabled"] is not on:
                overridden.append(name)
            continue
        section_data["enabled"] = on
        api_data[section] = section_data
        merged[api] = api_data
    return merged, overridden
