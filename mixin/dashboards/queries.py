"""The dashboards read back as PromQL: every panel's and variable's query, with Grafana's
variables expanded as Grafana would, for tests that send them to Prometheus."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from mixin.dashboards.grafana import Dashboard, Json, Panel

# Grafana's variable syntaxes: ${name}, ${name:format}, [[name]] and $name.
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*)\)\s*$", re.S)


def _panels(panels: Sequence[Panel]) -> Iterator[Panel]:
    for item in panels:
        yield item
        yield from _panels(item.get("panels", []))


def variable_query(var: Json) -> str:
    """A query variable's query text, whether Grafana stored it as a string or an object."""
    query = var.get("query", "")
    return query.get("query", "") if isinstance(query, dict) else str(query)


def panel_queries(dashboard: Dashboard) -> list[tuple[str, str]]:
    """(title, PromQL) of every panel target, rows' nested panels included, and of every query
    variable (`label_values(selector, label)` gives its selector): all a test sends to
    Prometheus."""
    out = [
        (item.get("title", ""), t["expr"])
        for item in _panels(dashboard.get("panels", []))
        for t in item.get("targets", [])
        if t.get("expr")
    ]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = variable_query(var)
        match = _LABEL_VALUES.match(query)
        if match:
            selector, _, _label = match.group(1).rpartition(",")
            query = selector.strip()
        if query:
            out.append((f"variable {var['name']}", query))
    return out


def expand(expr: str, variables: dict[str, str] | None = None) -> str:
    """The query as Grafana would send it, for Prometheus's HTTP API: `$__rate_interval` and
    `$__interval` become 1m and every template variable `.*`, unless `variables` says
    otherwise. Equality matchers on single-value variables (`period`, `window`) are written
    `=~` in the dashboards so that `.*` still selects series."""
    values = {"__rate_interval": "1m", "__interval": "1m", **(variables or {})}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in values:
            return values[name]
        return match.group(0) if name.startswith("__") else ".*"

    return _VARIABLE.sub(substitute, expr)
