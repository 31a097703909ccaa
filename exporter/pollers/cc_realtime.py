"""Contact Center realtime metrics (v5 `/queues`, `/groups`, `/agents`), one collector per
endpoint and tenant.

Keys arrive as `name.period[.qualifier]`; each name becomes one metric with a `period` label
(`rt`, `int-15m`, `int-30m`, `int-1h`, ..., `today`), durations in seconds, percentages as
ratios. Values that are null are left out; numeric strings are read as numbers; words, arrays or
anything else where a number belongs are left out and counted; keys the exporter does not know
are logged once (`cc_metric_unknown`) and counted, never guessed at.

    eightbyeight_cc_queue_waiting_interactions{period="rt",queue="Sales",queue_id="101",tenant="acme-sales"} 3.0
    eightbyeight_cc_queue_service_level_ratio{period="int-1h",queue="Sales",queue_id="101",tenant="acme-sales"} 0.82
    eightbyeight_cc_agent_status_info{agent_id="ag1",status="available",status_code="",tenant="acme-sales"} 1.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exporter.api.contact_center import ContactCenterClient
from exporter.config.model import Selection
from exporter.core.logs import get_logger
from exporter.metrics.cc_tables import (
    AGENT_LINE_RE,
    AGENT_STATUS_KEYS,
    TABLES,
    CcMetric,
    convert,
    parse_key,
    snake,
)
from exporter.metrics.rendering import Family, GaugeFamily
from exporter.pollers.base import LeftOut, SnapshotCollector
from exporter.pollers.discovery import label_text
from exporter.pollers.limits import SeriesBudget

log = get_logger(__name__)

# kind -> (metric prefix, id label, name label)
ENTITIES = {
    "queues": ("eightbyeight_cc_queue_", "queue_id", "queue"),
    "groups": ("eightbyeight_cc_group_", "group_id", "group"),
    "agents": ("eightbyeight_cc_agent_", "agent_id", None),
}
DEFAULT_TENANT = "default"  # the `tenant` label of a single-tenant account
AGENT_INFO = (
    "eightbyeight_cc_agent_info",
    "Contact Center agent's name and group, with value 1.",
    ["tenant", "agent_id", "agent", "group_id", "group"],
)
AGENT_STATUS = (
    "eightbyeight_cc_agent_status_info",
    "Contact Center agent's current status (`status.rt`, lower snake case) and "
    "status code (`statusCode.rt`), with value 1.",
    ["tenant", "agent_id", "status", "status_code"],
)
AGENT_LINE_STATUS = (
    "eightbyeight_cc_agent_line_status_info",
    "Status of the agent's phone line (`lineNStatus.rt`), with value 1.",
    ["tenant", "agent_id", "line", "status"],
)
AGENT_LINE_TIME = (
    "eightbyeight_cc_agent_line_time_on_status_seconds",
    "Time the agent's phone line has been in its status (`lineNTimeOnStatus.rt`).",
    ["tenant", "agent_id", "line"],
)


def collector_name(base: str, tenant: str | None) -> str:
    return f"{base}@{tenant}" if tenant else base


def family_name(kind: str, metric: CcMetric) -> str:
    return ENTITIES[kind][0] + metric.stem + metric.suffix


def entity_labels(kind: str) -> list[str]:
    _, id_label, name_label = ENTITIES[kind]
    return ["tenant", id_label, *([name_label] if name_label else []), "period"]


class CcRealtimeCollector(SnapshotCollector):
    """Polls one realtime endpoint for one tenant."""

    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: ContactCenterClient,
        kind: str,
        tenant: str | None,
        *,
        interval: float,
        metrics: Sequence[str] = (),
        page_size: int = 100,
        time_zone: str | None = None,
        duration_scale: float = 0.001,
        select: Selection = Selection(),
        max_series: int = 20_000,
    ) -> None:
        if kind not in ENTITIES:
            raise ValueError(f"unknown realtime endpoint {kind!r}")
        self.client = client
        self.kind = kind
        self.tenant = tenant
        self.tenant_label = tenant or DEFAULT_TENANT
        self.name = collector_name(f"cc_{kind}", tenant)
        self.interval = interval
        self.metrics = list(metrics)
        self.page_size = page_size
        self.time_zone = time_zone
        self.duration_scale = duration_scale
        self.select = select
        self.max_series = max_series
        self.table = TABLES[kind]
        self.unknown: set[str] = set()
        self.invalid = LeftOut(self.name)  # items (queues, groups, agents) left out
        self.unusable = LeftOut(self.name)  # values left out

    def collect(self) -> Sequence[Family]:
        items = self.client.realtime(
            self.kind,
            self.tenant,
            metrics=self.metrics,
            page_size=self.page_size,
            time_zone=self.time_zone,
        )
        budget = SeriesBudget(self.name, self.max_series)
        families: dict[str, GaugeFamily] = {}
        info = {
            spec[0]: GaugeFamily(spec[0], spec[1], labels=spec[2])
            for spec in (AGENT_INFO, AGENT_STATUS, AGENT_LINE_STATUS, AGENT_LINE_TIME)
        }
        _, _id_label, name_label = ENTITIES[self.kind]
        seen: set[tuple[str, ...]] = set()  # (family, labels...): two spellings count once
        entities: set[str] = set()
        for item in items:
            if not isinstance(item, Mapping):
                self.invalid.add("cc_record_invalid", f"{self.kind} item that is not an object")
                continue
            entity_id = _text(item.get("id"))
            entity_name = _text(item.get("name"))
            metrics = item.get("metrics")
            if not entity_id or not isinstance(metrics, list):
                self.invalid.add(
                    "cc_record_invalid", f"{self.kind} item without id or metrics list"
                )
                continue
            if entity_id in entities:
                # Offset paging over data that changes every few seconds can list an item on
                # two pages: the first one counts, so no series is exported twice.
                continue
            entities.add(entity_id)
            if not self.select.keeps(entity_name, entity_id):
                continue
            if not budget.take(len(metrics) + (2 if self.kind == "agents" else 0)):
                continue
            base = [self.tenant_label, entity_id, *([entity_name] if name_label else [])]
            status: dict[str, str] = {}
            for entry in metrics:
                if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                    self._unusable("entry", "metric entry without a key")
                    continue
                self._add(families, info, base, entry["key"], entry.get("value"), status, seen)
            if self.kind == "agents":
                info[AGENT_INFO[0]].add_metric(
                    [
                        self.tenant_label,
                        entity_id,
                        entity_name,
                        _text(item.get("groupId")),
                        _text(item.get("groupName")),
                    ],
                    1.0,
                )
                if "status" in status:
                    info[AGENT_STATUS[0]].add_metric(
                        [
                            self.tenant_label,
                            entity_id,
                            status["status"],
                            status.get("statusCode", ""),
                        ],
                        1.0,
                    )
        self.series = budget.finish(self.series)
        out: list[Family] = [families[name] for name in sorted(families)]
        if self.kind == "agents":
            out.extend(info.values())
        return out

    def _add(
        self,
        families: dict[str, GaugeFamily],
        info: dict[str, GaugeFamily],
        base: list[str],
        key: str,
        value: Any,
        status: dict[str, str],
        seen: set[tuple[str, ...]],
    ) -> None:
        parsed = parse_key(key)
        if parsed is None:
            self._unknown(key)
            return
        if self.kind == "agents" and parsed.name in AGENT_STATUS_KEYS:
            if value is not None and not isinstance(value, (list, dict)):
                text = label_text(value)
                status[parsed.name] = snake(text) if parsed.name == "status" else text
            return
        line = AGENT_LINE_RE.match(parsed.name) if self.kind == "agents" else None
        if line is not None:
            agent = base[:2]
            # One series per line, whatever the period (`line1Status.rt`, `.today`, twice...).
            family = AGENT_LINE_STATUS[0] if line[2] == "Status" else AGENT_LINE_TIME[0]
            if (family, *agent, line[1]) in seen:
                return
            if line[2] == "Status":
                if isinstance(value, str) and value:
                    seen.add((family, *agent, line[1]))
                    info[family].add_metric([*agent, line[1], snake(value)], 1.0)
                return
            seconds = convert("duration", value, self.duration_scale)
            if seconds is not None:
                seen.add((family, *agent, line[1]))
                info[family].add_metric([*agent, line[1]], seconds)
            elif value is not None:
                self._unusable(key, f"value of type {type(value).__name__}")
            return
        metric = self.table.get(parsed.name)
        if metric is None or metric.qualifier != parsed.qualifier:
            self._unknown(key)
            return
        if value is None:
            return  # e.g. an average over no interactions: no value, not an error
        number = convert(metric.kind, value, self.duration_scale)
        if number is None:
            self._unusable(key, f"value of type {type(value).__name__}")
            return
        name = family_name(self.kind, metric)
        # `eligibl.rt` and `eligible.rt` (the spec's two spellings) are one metric.
        identity = (name, *base, parsed.period)
        if identity in seen:
            return
        seen.add(identity)
        family = families.get(name)
        if family is None:
            family = families[name] = GaugeFamily(
                name,
                f"{metric.help} Contact Center `{metric.name}`, polled every {self.interval:g}s.",
                labels=entity_labels(self.kind),
            )
        family.add_metric([*base, parsed.period], number)

    def _unknown(self, key: str) -> None:
        if key not in self.unknown:
            self.unknown.add(key)
            log.warning("cc_metric_unknown", collector=self.name, key=key)

    def _unusable(self, key: str, why: str) -> None:
        self.unusable.add("cc_value_unusable", key, reason=why)

    def self_metrics(self) -> dict[str, float]:
        values = super().self_metrics()
        values["eightbyeight_collector_unknown_metrics"] = float(len(self.unknown))
        return values


def _text(value: Any) -> str:
    return label_text(value)
