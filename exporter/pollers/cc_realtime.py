"""Contact Center realtime metrics (v5 `/queues`, `/groups`, `/agents`), one poller per
endpoint and tenant.

Keys arrive as `name.period[.qualifier]`; each name becomes one metric with a `period` label
(`rt`, `int-15m`, `int-30m`, `int-1h`, ..., `today`), durations in seconds, percentages as
ratios. Values that are null are left out; numeric strings are read as numbers; words, arrays or
anything else where a number belongs are left out and counted; keys the exporter does not know
are logged once (`cc_metric_unknown`) and counted, never guessed at.

    eightbyeight_cc_queue_waiting_interactions{period="rt",queue="Sales",queue_id="101",tenant="acme-sales"} 3.0
    eightbyeight_cc_queue_service_level_ratio{period="int-1h",queue="Sales",queue_id="101",tenant="acme-sales"} 0.82
    eightbyeight_cc_agent_status_info{agent_id="ag1",status="available",status_code="",tenant="acme-sales"} 1.0
    eightbyeight_cc_agent_info{agent="",agent_id="ag1",group="Tier 1",group_id="7",tenant="acme-sales"} 1.0
    eightbyeight_cc_queue_info{queue="Sales",queue_id="101",team="sales",tenant="acme-sales"} 1.0

`team` is the queue's team as contact_center.teams maps it (empty when no rule matches and no
default_team is set): the mixin's rules join it onto every queue alert, for routing.

An agent's name (`agent`) is exported only with contact_center.personal_data: true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exporter.api.protocols import RealtimeApi
from exporter.config import QueueServiceLevels, QueueTeams, Selection
from exporter.core.logs import get_logger
from exporter.metrics.contact_center import (
    AGENT_DETAILS,
    AGENT_INFO,
    AGENT_LINE_RE,
    AGENT_LINE_STATUS,
    AGENT_LINE_TIME,
    AGENT_STATUS,
    AGENT_STATUS_KEYS,
    ENTITIES,
    PLACED,
    REALTIME_SPECS,
    MetricKey,
    parse_key,
    qualifier,
    snake,
    vendor_name,
)
from exporter.metrics.rendering import Family, GaugeFamily, LabelCache
from exporter.metrics.spec import gauge
from exporter.metrics.units import DurationUnit, convert, why_unusable
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.limits import SeriesBudget

log = get_logger(__name__)

DEFAULT_TENANT = "default"  # the `tenant` label of a single-tenant account
QUEUE_INFO = gauge(
    "eightbyeight_cc_queue_info",
    "A Contact Center queue, with its team (contact_center.teams).",
    ("tenant", "queue_id", "queue", "team"),
    "cc_queues",
)
# The objective of a queue that 8x8 gives none (contact_center.service_levels): the mixin's
# rules take the queue's own `slaPercentageTarget`/`slaTimeThreshold` first, these otherwise.
CONFIGURED_TARGET = gauge(
    "eightbyeight_cc_queue_configured_service_level_target_ratio",
    "The service-level target of a Contact Center queue that 8x8 gives none "
    "(contact_center.service_levels).",
    ("tenant", "queue_id", "queue"),
    "cc_queues",
)
CONFIGURED_THRESHOLD = gauge(
    "eightbyeight_cc_queue_configured_service_level_threshold_seconds",
    "The service-level threshold of a Contact Center queue that 8x8 gives none "
    "(contact_center.service_levels).",
    ("tenant", "queue_id", "queue"),
    "cc_queues",
)
SPECS = (*REALTIME_SPECS, QUEUE_INFO, CONFIGURED_TARGET, CONFIGURED_THRESHOLD)
# Distinct metric keys remembered parsed: the spec's keys times their periods, with room; an
# upstream inventing keys must not grow the process.
_MAX_PARSED_KEYS = 4096
_OWN_OBJECTIVE = {
    CONFIGURED_TARGET.name: PLACED["queues"]["slaPercentageTarget"].name,
    CONFIGURED_THRESHOLD.name: PLACED["queues"]["slaTimeThreshold"].name,
}


def poller_name(base: str, tenant: str | None) -> str:
    return f"{base}@{tenant}" if tenant else base


class CcRealtimePoller(Poller):
    """Polls one realtime endpoint for one tenant."""

    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: RealtimeApi,
        kind: str,
        tenant: str | None,
        *,
        interval: float,
        metrics: Sequence[str] = (),
        page_size: int = 100,
        time_zone: str | None = None,
        duration_unit: DurationUnit = "milliseconds",
        select: Selection = Selection(),
        max_series: int = 20_000,
        personal_data: bool = False,
        teams: QueueTeams | None = None,
        service_levels: QueueServiceLevels | None = None,
    ) -> None:
        if kind not in ENTITIES:
            raise ValueError(f"unknown realtime endpoint {kind!r}")
        self.client = client
        self.kind = kind
        self.tenant = tenant
        self.tenant_label = tenant or DEFAULT_TENANT
        self.name = poller_name(f"cc_{kind}", tenant)
        self.interval = interval
        self.metrics = list(metrics)
        self.page_size = page_size
        self.time_zone = time_zone
        self.durations = duration_unit
        self.select = select
        self.max_series = max_series
        self.personal_data = personal_data
        # Queues only (None elsewhere): a new mapping renews the queues' pollers alone.
        self.teams = teams or QueueTeams()
        self.service_levels = service_levels or QueueServiceLevels()
        self.specs = PLACED[kind]  # vendor name -> family
        self.unknown: set[str] = set()
        # Keys as answered, parsed once for the poller's life (an entity repeats them all).
        self._parsed_keys: dict[str, MetricKey] = {}
        self._label_cache: LabelCache = {}
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
        # An entity's metrics of one period share their labels: written once for all families.
        self._label_cache = {}
        info = {spec.name: spec.gauge() for spec in AGENT_DETAILS}
        queue_info = QUEUE_INFO.gauge()
        configured = {spec.name: spec.gauge() for spec in (CONFIGURED_TARGET, CONFIGURED_THRESHOLD)}
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
            # The `_info` series: an agent's two, a queue's one.
            extra = {"agents": 2, "queues": 1}.get(self.kind, 0)
            if not budget.take(len(metrics) + extra):
                continue
            base = [self.tenant_label, entity_id, *([entity_name] if name_label else [])]
            status: dict[str, str] = {}
            for entry in metrics:
                if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                    self._unusable("entry", "metric entry without a key")
                    continue
                self._add(families, info, base, entry["key"], entry.get("value"), status, seen)
            if self.kind == "queues":
                team = self.teams.team_of(entity_name, entity_id)
                queue_info.add_metric([self.tenant_label, entity_id, entity_name, team], 1.0)
                objective = self.service_levels.of(entity_name, entity_id)
                values = {
                    CONFIGURED_TARGET.name: objective.target,
                    CONFIGURED_THRESHOLD.name: objective.threshold_seconds,
                }
                missing = [n for n in values if (_OWN_OBJECTIVE[n], *base, "today") not in seen]
                if missing and budget.take(len(missing)):
                    for name in missing:
                        configured[name].add_metric(base, values[name])
            if self.kind == "agents":
                info[AGENT_INFO.name].add_metric(
                    [
                        self.tenant_label,
                        entity_id,
                        # Empty rather than left out: see summaries.ExtensionPoller.
                        entity_name if self.personal_data else "",
                        _text(item.get("groupId")),
                        _text(item.get("groupName")),
                    ],
                    1.0,
                )
                if "status" in status:
                    info[AGENT_STATUS.name].add_metric(
                        [
                            self.tenant_label,
                            entity_id,
                            status["status"],
                            status.get("statusCode", ""),
                        ],
                        1.0,
                    )
        self.series = budget.finish(self.series)
        self._label_cache = {}  # the run's label text goes with its families, once rendered
        out: list[Family] = [families[name] for name in sorted(families)]
        if self.kind == "agents":
            out.extend(info.values())
        if self.kind == "queues":
            out.extend((queue_info, *configured.values()))
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
        parsed = self._parsed_keys.get(key)
        if parsed is None:
            parsed = parse_key(key)
            if parsed is not None and len(self._parsed_keys) < _MAX_PARSED_KEYS:
                self._parsed_keys[key] = parsed
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
            line_family = AGENT_LINE_STATUS.name if line[2] == "Status" else AGENT_LINE_TIME.name
            if (line_family, *agent, line[1]) in seen:
                return
            if line[2] == "Status":
                if isinstance(value, str) and value:
                    seen.add((line_family, *agent, line[1]))
                    info[line_family].add_metric([*agent, line[1], snake(value)], 1.0)
                return
            seconds = convert("duration", value, self.durations)
            if seconds is not None:
                seen.add((line_family, *agent, line[1]))
                info[line_family].add_metric([*agent, line[1]], seconds)
            elif value is not None:
                self._unusable(key, f"value: {why_unusable(value)}")
            return
        spec = self.specs.get(parsed.name)
        if spec is None or qualifier(spec) != parsed.qualifier:
            self._unknown(key)
            return
        if value is None:
            return  # e.g. an average over no interactions: no value, not an error
        number = convert(spec.unit, value, self.durations)
        if number is None:
            self._unusable(key, f"value: {why_unusable(value)}")
            return
        # `eligibl.rt` and `eligible.rt` (the spec's two spellings) are one metric.
        identity = (spec.name, *base, parsed.period)
        if identity in seen:
            return
        seen.add(identity)
        family = families.get(spec.name)
        if family is None:
            suffix = f" Contact Center `{vendor_name(spec)}`, polled (how often: eightbyeight_collector_interval_seconds)."
            family = families[spec.name] = spec.gauge(suffix, self._label_cache)
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
