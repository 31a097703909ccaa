"""The dashboards read back as PromQL: every panel's and variable's query, with Grafana's
variables expanded as Grafana would, for tests that send them to Prometheus."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from mixin.dashboards.grafana import Dashboard, Json, Panel

# Grafana's variable syntaxes: ${name}, ${name:format}, [[name]] and $name.
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*)\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((.*)\)\s*$", re.S)


def _panels(panels: Sequence[Panel]) -> Iterator[Panel]:
    for item in panels:
        yield item
        yield from _panels(item.get("panels", []))


def variable_query(var: Json) -> str:
    """A query variable's query text, whether Grafana stored it as a string or an object."""
    query = var.get("query", "")
    return query.get("query", "") if isinstance(query, dict) else str(query)


def label_values(query: str) -> tuple[str, str] | None:
    """(selector, label) of a `label_values(selector, label)` variable query, else None."""
    match = _LABEL_VALUES.match(query)
    if not match:
        return None
    selector, _, label = match.group(1).rpartition(",")
    return selector.strip(), label.strip()


def query_result(query: str) -> str | None:
    """The PromQL of a `query_result(expr)` variable query, else None."""
    match = _QUERY_RESULT.match(query)
    return match.group(1).strip() if match else None


def template_variables(dashboard: Dashboard) -> list[Json]:
    return list(dashboard.get("templating", {}).get("list", []))


def variables_in(expr: str) -> set[str]:
    """The template variables `expr` refers to, Grafana's own (`$__interval`) left out."""
    names = {m.group(1) or m.group(2) or m.group(3) for m in _VARIABLE.finditer(expr)}
    return {name for name in names if not name.startswith("__")}


def panel_expressions(dashboard: Dashboard) -> list[tuple[str, list[str]]]:
    """(title, PromQL of its targets) of every panel with targets, rows' nested panels
    included: a panel shows data when any of its targets does."""
    found = (
        (item.get("title", ""), [t["expr"] for t in item.get("targets", []) if t.get("expr")])
        for item in _panels(dashboard.get("panels", []))
    )
    return [(title, exprs) for title, exprs in found if exprs]


def panel_targets(dashboard: Dashboard) -> list[tuple[str, str]]:
    """(title, PromQL) of every panel target, rows' nested panels included."""
    return [(title, e) for title, exprs in panel_expressions(dashboard) for e in exprs]


def panel_queries(dashboard: Dashboard) -> list[tuple[str, str]]:
    """(title, PromQL) of every panel target, rows' nested panels included, and of every query
    variable (`label_values(selector, label)` gives its selector, `query_result(expr)` its
    expression): all a test sends to Prometheus."""
    out = panel_targets(dashboard)
    for var in template_variables(dashboard):
        if var.get("type") != "query":
            continue
        query = variable_query(var)
        listed = label_values(query)
        query = listed[0] if listed else query_result(query) or query
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
