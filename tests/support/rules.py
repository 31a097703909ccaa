"""The metric names an alerting or recording rule's expression refers to."""

from __future__ import annotations

import re

METRIC_NAME = re.compile(
    r"\b([a-z_]+:eightbyeight_[a-z0-9_]+:[a-z0-9_]+|eightbyeight_[a-z0-9_]+)\b"
)


def referenced_names(expr: str) -> set[str]:
    return set(METRIC_NAME.findall(expr))
