"""What every poller does with the rows of an answer: label values made of JSON values, and
the rows and values it leaves out, counted and logged once per kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.core.logs import get_logger

log = get_logger("exporter.pollers.base")  # the event's logger name as before the move


def label_text(value: Any) -> str:
    """A label value from a JSON value: "" for null, objects and arrays (never a Python repr),
    and always encodable: JSON may carry a lone surrogate ("\\ud800"), which would make the
    whole /metrics page fail to encode at scrape time, so it becomes U+FFFD."""
    if value.__class__ is str and value.isascii():
        return value  # the common case, at once: the ABC check below costs more than the rest
    if value is None or isinstance(value, (Mapping, list)):
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


class LeftOut:
    """What a poller leaves out of an answer (records, values): counted for its self
    metrics, and logged once per event and kind in the poller's life, so a bad record
    repeated at every poll does not flood the log.
    """

    def __init__(self, poller: str) -> None:
        self.poller = poller
        self.count = 0
        self._logged: set[tuple[str, str]] = set()

    def add(self, event: str, kind: str, **details: Any) -> None:
        self.count += 1
        if (event, kind) not in self._logged:
            self._logged.add((event, kind))
            log.warning(event, collector=self.poller, kind=kind, **details)
