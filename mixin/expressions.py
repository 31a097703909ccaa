"""The pieces every rule is written with: selectors, expressions, alerts, and the join of a
queue's `_info` series that gives queue alerts their routing labels (`site`, `queue_id`,
`team`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mixin.config import MixinConfig

WA_QUEUE_INFO = "eightbyeight_queue_info"
CC_QUEUE_INFO = "eightbyeight_cc_queue_info"


def le(value: float) -> str:
    """A bucket bound as prometheus_client writes it in `le` (20 -> "20.0")."""
    return repr(float(value))


def sel(config: MixinConfig, *matchers: str) -> str:
    """`{<selector>, <matchers>}`, or nothing when both are empty."""
    parts = [p for p in (config.selector.strip(), *matchers) if p]
    return "{" + ", ".join(parts) + "}" if parts else ""


class Expr(str):
    """A PromQL expression: written as a YAML literal block, line breaks kept as they are."""


def _indent(expr: str) -> str:
    return "\n".join("  " + line for line in expr.splitlines())


def queue_labels(
    config: MixinConfig, expr: str, info: str, on: Sequence[str], labels: Sequence[str]
) -> str:
    """`expr` with `labels` copied from its queue's `_info` series, matched `on` the queue's
    key; `expr` as it is where no info series matches (discovery not run yet, or its data
    stale): an alert must not vanish because a label for routing is missing.

    `topk by (key) (1, ...)` keeps one info series per queue: HA replicas export equal ones
    (different `instance`), and two replicas may briefly disagree on a team during a reload;
    either would be a many-to-many match, which fails the whole rule."""
    key = ", ".join(on)
    return (
        f"(\n{_indent(expr)}\n)\n* on({key}) group_left({', '.join(labels)})\n"
        f"  topk by ({key}) (1, {info}{sel(config)})\nor on({key})\n(\n{_indent(expr)}\n)"
    )


def wa_team(config: MixinConfig, expr: str) -> str:
    """A Work Analytics queue series (labels pbx, site, queue, extension, queue_id) with its
    team."""
    return queue_labels(config, expr, WA_QUEUE_INFO, ("pbx", "queue_id"), ("team",))


def cc_team(config: MixinConfig, expr: str) -> str:
    """A Contact Center queue series (labels tenant, queue_id, queue) with its team."""
    return queue_labels(config, expr, CC_QUEUE_INFO, ("tenant", "queue_id"), ("team",))


def alert(
    name: str,
    expr: str,
    for_: str,
    severity: str,
    summary: str,
    description: str,
    *,
    runbooks: str,
    keep_firing_for: str | None = None,
) -> dict[str, Any]:
    """One alert, with a `runbook_url` to its section of docs/runbooks.md as published at
    `runbooks` (the section's heading is the alert's name, GitHub's anchor its lower case)."""
    annotations = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{runbooks}#{name.lower()}",
    }
    rule: dict[str, Any] = {"alert": name, "expr": Expr(expr), "for": for_}
    if keep_firing_for:
        rule["keep_firing_for"] = keep_firing_for
    return rule | {"labels": {"severity": severity}, "annotations": annotations}
