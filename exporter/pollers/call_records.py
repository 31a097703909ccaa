"""Calls per PBX and direction from `/v2/call-records`, counted as call_details says (the day's
calls, read in full at start-up, then incrementally): one record per call.

    eightbyeight_calls_total{direction="inbound",outcome="answered",pbx="acmecorp"} 1042.0
    eightbyeight_call_wait_seconds_bucket{direction="inbound",le="20.0",outcome="answered",pbx="acmecorp"} 977.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from exporter.metrics.spec import MetricSpec
from exporter.pollers.base import label_text
from exporter.pollers.call_counting import (
    OTHER,
    RecordKey,
    call_detail_specs,
    direction,
    milliseconds,
)
from exporter.pollers.call_details import CallDetailPoller

# Directions every PBX is exported with from 0 (`other` only once seen).
KNOWN_DIRECTIONS = ("inbound", "outbound", "internal")

RECORD_SPECS = call_detail_specs(
    "call_records",
    "/v2/call-records",
    ("pbx", "direction"),
    "Calls that ended, by direction and outcome (one per call record).",
    "How long callers waited before an answer or giving up (waitTimeMS of the call record).",
    "Talk time of answered calls (talkTimeMS of the call record).",
)
SPECS: tuple[MetricSpec, ...] = tuple(RECORD_SPECS)


class CallRecordPoller(CallDetailPoller):
    """One record per call: calls by PBX, direction and outcome."""

    name = "call_records"
    endpoint = "/v2/call-records"
    specs = RECORD_SPECS
    disposition_key = "lastLegDisposition"
    duration_keys = ("waitTimeMS", "talkTimeMS")

    def record_id(self, row: Mapping[str, Any]) -> str | None:
        return label_text(row.get("callId")) or None

    def record_key(self, row: Mapping[str, Any]) -> RecordKey:
        return (label_text(row.get("pbxId")), direction(row))

    def wait_ms(self, row: Mapping[str, Any]) -> float | None:
        return milliseconds(row, "waitTimeMS")

    def fold(self, key: tuple[str, ...]) -> tuple[str, ...]:
        return (OTHER, key[1])  # PBXes beyond the ceiling, by direction

    def known_keys(self) -> Iterable[tuple[str, ...]]:
        directory = self.directory.directory
        if directory is None:
            return
        for pbx in directory.pbxes:
            for way in KNOWN_DIRECTIONS:
                yield (pbx.name, way)
