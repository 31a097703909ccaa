"""The pieces of Grafana's dashboard JSON model that every panel shares: the datasource
reference, whole numbers, and threshold steps."""

from __future__ import annotations

from typing import Any

# Grafana's dashboard model is open-ended (each panel type has its own options, and a field
# config takes any property by id), so dashboards and panels are plain JSON objects; what the
# generator does with them is kept typed by the builders' signatures, not by the dicts.
Json = dict[str, Any]
Panel = Json
Dashboard = Json

# Panels name the datasource through the variable, never by uid: each Grafana has its own uids.
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def json_number(value: float | None) -> float | int | None:
    """Whole numbers as ints, so the JSON says 300 rather than 300.0."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def steps(*pairs: tuple[str, float | None]) -> Json:
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": json_number(value)} for color, value in pairs],
    }


def plain() -> Json:
    return steps(("green", None))


def bad_above(limit: float) -> Json:
    """Green up to the limit, red from it: waits, abandon ratios, failures."""
    return steps(("green", None), ("red", limit))


def bad_below(limit: float) -> Json:
    """Red below the limit, green from it: service levels, available agents."""
    return steps(("red", None), ("green", limit))


# The value the guarded ratio queries give a queue with fewer calls than the alerts'
# `min_calls` (`promql.TOO_FEW`): greyed text, never a colour of the thresholds.
TOO_FEW_CALLS: tuple[Json, ...] = (
    {
        "options": {"-1": {"color": "#8e8e8e", "index": 0, "text": "too few calls"}},
        "type": "value",
    },
)


def fixed_colour(ref_id: str, colour: str) -> Json:
    """An override that paints every series of one query `colour`, whatever its value: how a
    bar is coloured by a comparison made in PromQL (a queue below its own target)."""
    return {
        "matcher": {"id": "byFrameRefID", "options": ref_id},
        "properties": [{"id": "color", "value": {"fixedColor": colour, "mode": "fixed"}}],
    }


def dotted(ref_id: str) -> Json:
    """An override that draws every series of one query dotted: a reference line (a queue's
    target or threshold) beside the values it is compared with."""
    return {
        "matcher": {"id": "byFrameRefID", "options": ref_id},
        "properties": [{"id": "custom.lineStyle", "value": {"dash": [2, 6], "fill": "dot"}}],
    }
