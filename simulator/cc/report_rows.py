"""The rows of a historical summary report, computed from a tenant's model when the report is
created (the definition is report_definition.py), and its CSV download.

Rows: one per time bucket (calendar-aligned in the report's time zone; a single one without
granularity) and per value combination of the grouping's dimensions that the tenant's
configuration has (every queue with its media and channels, every agent with its group and
queues), zeros included. Facts are counted in the bucket of their own time (an entry at its
entry, an acceptance when accepted, ...), in [start, end) and within the intra-day range.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .aggregate import Agg
from .facts import status_seconds
from .model import TenantModel
from .report_calendar import allowed_intervals, buckets, local_label
from .report_definition import ReportDefinition
from .report_types import (
    DIMENSION_ITEMS,
    TIME_ITEMS,
    Source,
    dimensions,
    format_value,
    metric_label,
)
from .tenants import CcAgent, CcGroup, CcQueue, CcTenant

# Media filter values: "InboundPhone" is the phone media (every simulated interaction is inbound).
_MEDIA_FILTER_ALIASES = {"InboundPhone": "Phone"}
_MEDIA_ORDER = {"Phone": 0, "Chat": 1}


@dataclass
class _Dimensions:
    """Names and display order of the tenant's dimension values."""

    tenant: CcTenant
    channel_order: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for queue in self.tenant.queues:
            for _, channel in queue.channels:
                self.channel_order.setdefault(channel, len(self.channel_order))

    def order(self, dimension: str, value: str) -> int:
        tenant = self.tenant
        if dimension == "queue":
            return tenant.queues.index(tenant.queue_by_id[value])
        if dimension == "agent":
            return tenant.agents.index(tenant.agent_by_id[value])
        if dimension == "group":
            return tenant.groups.index(tenant.group_by_id[value])
        if dimension == "media":
            return _MEDIA_ORDER.get(value, len(_MEDIA_ORDER))
        return self.channel_order.get(value, len(self.channel_order))

    def items(self, dimension: str, value: str | None) -> list[tuple[str, str, str | None]]:
        (key, label), *rest = DIMENSION_ITEMS[dimension]
        if dimension in ("media", "channel"):
            return [(key, label, value)]
        id_key, id_label = rest[0]
        if value is None:
            return [(key, label, None), (id_key, id_label, None)]
        tenant = self.tenant
        entity: CcQueue | CcAgent | CcGroup
        if dimension == "queue":
            entity = tenant.queue_by_id[value]
        elif dimension == "agent":
            entity = tenant.agent_by_id[value]
        else:
            entity = tenant.group_by_id[value]
        return [(key, label, entity.name), (id_key, id_label, entity.id)]


def _universe(tenant: CcTenant, source: Source) -> list[dict[str, str]]:
    """Every dimension-value combination the tenant's configuration has, for a source."""
    combos: list[dict[str, str]] = []
    if source is Source.QUEUE:
        for queue in tenant.queues:
            for media, channel in queue.channels:
                combos.append({"queue": queue.id, "media": media, "channel": channel})
    elif source is Source.AGENT_INTERACTIONS:
        for agent in tenant.agents:
            for queue_id in agent.queue_ids:
                for media, channel in tenant.queue_by_id[queue_id].channels:
                    combos.append(
                        {
                            "group": agent.group_id,
                            "agent": agent.id,
                            "queue": queue_id,
                            "media": media,
                            "channel": channel,
                        }
                    )
    else:
        for agent in tenant.agents:
            combos.append({"group": agent.group_id, "agent": agent.id})
    return combos


def compute_rows(definition: ReportDefinition, model: TenantModel) -> list[dict[str, Any]]:
    """Every row of the report from the model's facts up to now (hold the model's lock)."""
    tenant = model.tenant
    zone = ZoneInfo(definition.time_zone)
    dims = dimensions(definition.grouping)
    names = _Dimensions(tenant)
    filters = {
        name: {_MEDIA_FILTER_ALIASES.get(v, v) for v in values} if name == "media" else set(values)
        for name, values in definition.filters
    }

    def passes(values: Mapping[str, str]) -> bool:
        return all(values.get(name) in accepted for name, accepted in filters.items())

    source = definition.type.source
    combos_seen = {tuple(c[d] for d in dims) for c in _universe(tenant, source) if passes(c)}
    spans = buckets(definition.granularity, definition.start, definition.end, definition.time_zone)
    starts = [span[0] for span in spans]
    intervals = allowed_intervals(
        definition.start, definition.end, definition.time_zone, definition.intra_day
    )
    interval_starts = [low for low, _ in intervals]
    cells: dict[tuple[int, tuple[str, ...]], Agg] = {}

    def cell(at: float, values: Mapping[str, str]) -> Agg | None:
        position = bisect_right(interval_starts, at) - 1
        if position < 0 or at >= intervals[position][1] or not passes(values):
            return None
        key = (bisect_right(starts, at) - 1, tuple(values[d] for d in dims))
        combos_seen.add(key[1])
        agg = cells.get(key)
        if agg is None:
            agg = cells[key] = Agg()
        return agg

    start, end = definition.start, definition.end
    agent_group = {agent.id: agent.group_id for agent in tenant.agents}
    if source is Source.QUEUE:
        for entry in model.entries.window(start, end):
            target = cell(
                entry.at, {"queue": entry.queue, "media": entry.media, "channel": entry.channel}
            )
            if target is not None:
                target.add_entry(entry)
        for leave in model.leaves.window(start, end):
            target = cell(
                leave.at, {"queue": leave.queue, "media": leave.media, "channel": leave.channel}
            )
            if target is not None:
                target.add_leave(leave)
    if source in (Source.QUEUE, Source.AGENT_INTERACTIONS):
        for offer in model.offers.window(start, end):
            target = cell(
                offer.at,
                {
                    "queue": offer.queue,
                    "media": offer.media,
                    "channel": offer.channel,
                    "agent": offer.agent,
                    "group": agent_group[offer.agent],
                },
            )
            if target is not None:
                target.add_offer(offer)
        for completion in model.completions.window(start, end):
            target = cell(
                completion.at,
                {
                    "queue": completion.queue,
                    "media": completion.media,
                    "channel": completion.channel,
                    "agent": completion.agent,
                    "group": agent_group[completion.agent],
                },
            )
            if target is not None:
                target.add_completion(completion)
    if source is Source.AGENT_STATUS:
        pieces = _pieces(spans, intervals)
        for agent in tenant.agents:
            values = {"agent": agent.id, "group": agent.group_id}
            if not passes(values):
                continue
            combo = tuple(values[d] for d in dims)
            times, statuses = model.status_history(agent.id)
            now = model.now
            for index, low, high in pieces:
                seconds = status_seconds(times, statuses, low, min(high, now))
                if seconds:
                    key = (index, combo)
                    agg = cells.get(key)
                    if agg is None:
                        agg = cells[key] = Agg()
                    agg.add_status_seconds(seconds)

    combos = sorted(
        combos_seen, key=lambda combo: tuple(names.order(d, v) for d, v in zip(dims, combo))
    )
    return _assemble(definition, zone, dims, names, spans, combos, cells)


def _pieces(
    spans: list[tuple[float, float]], intervals: list[tuple[float, float]]
) -> list[tuple[int, float, float]]:
    """(bucket index, low, high) of every part of a bucket within the allowed intervals."""
    result: list[tuple[int, float, float]] = []
    position = 0
    for index, (low, high) in enumerate(spans):
        while position < len(intervals) and intervals[position][1] <= low:
            position += 1
        scan = position
        while scan < len(intervals) and intervals[scan][0] < high:
            a, b = max(low, intervals[scan][0]), min(high, intervals[scan][1])
            if b > a:
                result.append((index, a, b))
            scan += 1
    return result


def _assemble(
    definition: ReportDefinition,
    zone: ZoneInfo,
    dims: tuple[str, ...],
    names: _Dimensions,
    spans: list[tuple[float, float]],
    combos: list[tuple[str, ...]],
    cells: dict[tuple[int, tuple[str, ...]], Agg],
) -> list[dict[str, Any]]:
    timed = definition.granularity != "none"
    metrics = definition.metrics
    rows: list[dict[str, Any]] = []

    def row(
        total: dict[str, Any] | None,
        times: tuple[str | None, str | None] | None,
        values: Iterable[str | None],
        agg: Agg,
    ) -> None:
        items: list[dict[str, Any]] = []
        if timed:
            for (key, label), value in zip(TIME_ITEMS, times or (None, None)):
                items.append({"key": key, "label": label, "value": value})
        for dimension, value in zip(dims, values):
            items.extend(
                {"key": key, "label": label, "value": shown}
                for key, label, shown in names.items(dimension, value)
            )
        for metric in metrics:
            items.append(
                {
                    "key": metric.name,
                    "label": metric_label(metric.name),
                    "value": format_value(metric.kind, metric.value(agg)),
                }
            )
        rows.append({"total": total, "items": items})

    def close_block(
        block: tuple[str, int, Agg] | None, times: tuple[str | None, str | None] | None
    ) -> None:
        """The subtotal row of the rows since `block` began (its first dimension value)."""
        if block is not None and definition.include_sub_total:
            first, first_index, agg = block
            row(
                {"type": "subtotal", "startIndex": first_index, "endIndex": len(rows) - 1},
                times,
                [first] + [None] * (len(dims) - 1),
                agg,
            )

    grand = Agg()
    for index, (low, high) in enumerate(spans):
        times = (local_label(low, zone), local_label(high, zone)) if timed else None
        block: tuple[str, int, Agg] | None = None  # first dimension value, first row index, sum
        for combo in combos:
            agg = cells.get((index, combo)) or Agg()
            if block is None or block[0] != combo[0]:
                close_block(block, times)
                block = (combo[0], len(rows), Agg())
            block[2].merge(agg)
            grand.merge(agg)
            row(None, times, combo, agg)
        close_block(block, times)
    if definition.include_grand_total:
        row(
            {"type": "grandtotal", "startIndex": None, "endIndex": None},
            None,
            [None] * len(dims),
            grand,
        )
    return rows


def rows_csv(definition: ReportDefinition, rows: list[dict[str, Any]]) -> str:
    """The download: a header of labels, then every row (no cap), null as an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label for _, label in definition.columns()])
    for data in rows:
        writer.writerow(["" if item["value"] is None else item["value"] for item in data["items"]])
    return out.getvalue()
