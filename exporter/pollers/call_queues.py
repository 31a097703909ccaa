"""Live call-queue metrics from the Call Queue Metric API or the deprecated realtime API.

Exposition (polled every 30 s by default; durations in seconds, percentages as ratios):

    eightbyeight_queue_ongoing_waiting_calls{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose"} 3.0
    eightbyeight_queue_ongoing_longest_waiting_time_seconds{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose"} 41.0
    eightbyeight_queue_available_agents{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose"} 2.0
    eightbyeight_queue_abandoned_calls_ratio{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose",window="24h"} 0.04
    eightbyeight_queue_entered_calls{extension="1000",pbx="acme-main",queue="Support",queue_id="tqte...",site="SanJose",window="1h"} 12.0
    eightbyeight_pbx_queues_ongoing_waiting_calls{pbx="acme-main"} 7.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from exporter.api.protocols import CallQueueApi
from exporter.config import Selection
from exporter.core.errors import CollectionError, MalformedResponseError
from exporter.core.logs import get_logger
from exporter.core.windows import DateRange, Window, date_range, parse_window, resolve
from exporter.metrics.call_queues import (
    CALL_QUEUE_METRICS_AGGREGATE_KEYS,
    CALL_QUEUE_METRICS_ALIASES,
    CALL_QUEUE_METRICS_WINDOW,
    PLACED,
    SPECS,
    ApiChoice,
)
from exporter.metrics.rendering import Family
from exporter.metrics.spec import FamilySet, MetricSpec
from exporter.metrics.units import DurationUnit, convert_number, why_unusable
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.call_queue_units import (
    REALTIME_DURATION_KEYS,
    ConfiguredUnit,
    DurationUnitCheck,
)
from exporter.pollers.discovery import Directory, DirectorySource, Pbx
from exporter.pollers.limits import SeriesBudget

log = get_logger(__name__)

ENDPOINTS = {
    "call_queue_metrics": "/v2/pbxes/{pbxId}/call-queue-metrics",
    "realtime": "/v2/call-queues/real-time/pbxes/{pbxId}",
}
__all__ = ["SPECS", "CallQueuePoller"]
# Without dates the Call Queue Metric API aggregates over the last 24 hours.
API_DEFAULT_SECONDS = 86_400


@dataclass(frozen=True)
class Reading:
    """What the answers of one PBX in one poll are read into, and the unit they are read in."""

    families: FamilySet
    seen: set[tuple[str, ...]]  # (window, *labels)
    budget: SeriesBudget
    directory: Directory
    pbx: Pbx
    durations: DurationUnit


class CallQueuePoller(Poller):
    """Per-queue gauges and the API's own per-PBX summary, for every watched PBX.

    One request per PBX without dates gives the live `ongoing*` metrics and the 24-hour
    aggregates; each other window is one more request per PBX, with a date range, of which
    only the aggregates are read (labelled with that window).
    """

    name = "call_queues"
    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: CallQueueApi,
        directory: DirectorySource,
        *,
        interval: float,
        api: ApiChoice = "call_queue_metrics",
        duration_unit: ConfiguredUnit = "seconds",
        unit_check_interval: float | None = None,
        sites: Sequence[str] = (),
        queues: Sequence[str] = (),
        metrics: Sequence[str] = (),
        include_summary: bool = True,
        select: Selection = Selection(),
        max_series: int = 20_000,
        windows: Sequence[Window] = (parse_window(CALL_QUEUE_METRICS_WINDOW),),
        time_zone: str = "UTC",
    ) -> None:
        self.client = client
        self.directory = directory
        self.interval = interval
        self.api = api
        self.specs = PLACED[api]  # vendor key -> (per-queue spec, per-PBX summary spec)
        # The deprecated API is documented in ms; the Call Queue Metric API's unit is disputed
        # between the vendor's guide (seconds) and spec example (ms), hence the setting and the
        # check of the data against it (call_queue_units); `unit_check_interval` None: the
        # deprecated API is never asked for the check.
        self.unit_check = (
            DurationUnitCheck(duration_unit, unit_check_interval)
            if api == "call_queue_metrics"
            else None
        )
        self.site_refs = list(sites)
        self.queue_refs = list(queues)
        self.metrics = list(metrics)
        self.include_summary = include_summary
        self.select = select
        self.max_series = max_series
        self.endpoint = ENDPOINTS[api]
        # The 24-hour window is the no-date answer's; the label is the name it was given.
        self.default_window = next(
            (w.name for w in windows if w.seconds == API_DEFAULT_SECONDS), None
        )
        self.dated_windows = [w for w in windows if w.seconds != API_DEFAULT_SECONDS]
        if api == "realtime" and self.dated_windows:
            raise ValueError("the deprecated realtime API takes no date range")
        self.zone = ZoneInfo(time_zone)  # where `today` starts
        # A date range asks for aggregates only; with no metrics configured, all of them.
        self.dated_metrics = [m for m in self.metrics if m in CALL_QUEUE_METRICS_AGGREGATE_KEYS]
        self.invalid = LeftOut(self.name)  # queue items (and summaries) left out
        self.unusable = LeftOut(self.name)  # values of known metrics that are not numbers

    def collect(self) -> Sequence[Family]:
        directory = self.directory.directory
        if directory is None:
            raise CollectionError("the PBX directory has not been discovered yet")
        help_suffix = (
            f" Polled from {self.endpoint} (how often: eightbyeight_collector_interval_seconds)."
        )
        families = FamilySet(help_suffix)
        seen: set[tuple[str, ...]] = set()  # (window, *labels)
        budget = SeriesBudget(self.name, self.max_series)
        # One "now" for the poll, so every PBX is asked for the same ranges; the API's time,
        # so a skewed exporter asks for the ranges it means.
        now = self.client.now()
        ranges = [(w.name, date_range(resolve(w, now, self.zone))) for w in self.dated_windows]
        polled: list[tuple[str, str]] = []  # (id, name) of the PBXes asked
        for pbx in directory.pbxes:
            filters = directory.filter_ids(pbx.id, self.site_refs, self.queue_refs)
            if filters is None:
                continue
            body = self._fetch(pbx, filters, self.metrics, None)
            durations = self._durations(pbx, filters, body, now)
            read = Reading(families, seen, budget, directory, pbx, durations)
            self._read(read, body, self.default_window, True)
            for window_name, dates in ranges:
                body = self._fetch(pbx, filters, self.dated_metrics, dates)
                self._read(read, body, window_name, False)
            polled.append((pbx.id, pbx.name))
        if self.unit_check is not None:
            self.unit_check.add_families(families, polled)
        self.series = budget.finish(self.series)
        return tuple(families)

    def _fetch(
        self,
        pbx: Pbx,
        filters: tuple[list[str], list[str]],
        metrics: list[str],
        dates: DateRange | None,
    ) -> Any:
        site_ids, queue_ids = filters
        if self.api == "realtime":
            return self.client.realtime_call_queues(
                pbx.id,
                site_ids=site_ids,
                queue_ids=queue_ids,
                metrics=metrics,
                include_summary=self.include_summary,
            )
        return self.client.call_queue_metrics(
            pbx.id,
            site_ids=site_ids,
            queue_ids=queue_ids,
            metrics=metrics,
            include_summary=self.include_summary,
            date_range=dates,
        )

    def _durations(
        self, pbx: Pbx, filters: tuple[list[str], list[str]], body: Any, now: float
    ) -> DurationUnit:
        """The unit to read this PBX's answer in, after the unit check has looked at it."""
        if self.unit_check is None:
            return "milliseconds"  # the deprecated realtime API: ms, as its guide documents
        site_ids, queue_ids = filters
        self.unit_check.examine(
            pbx.id,
            pbx.name,
            body,
            now,
            # Right after the live answer, with its filters, so both describe the same queues
            # a moment apart; only the durations compared, to keep the answer small.
            lambda: self.client.realtime_call_queues(
                pbx.id,
                site_ids=site_ids,
                queue_ids=queue_ids,
                metrics=REALTIME_DURATION_KEYS,
                include_summary=self.include_summary,
            ),
        )
        return self.unit_check.applied(pbx.id)

    def _read(self, read: Reading, body: Any, window: str | None, live: bool) -> None:
        """One answer's queues and summary: the live metrics if `live`, the aggregates under
        `window` unless it is None (24h not configured)."""
        pbx = read.pbx
        # A missing callQueues is another shape, not "no queues": fail, keep the last data.
        if not isinstance(body, Mapping) or not isinstance(body.get("callQueues"), list):
            raise MalformedResponseError(self.endpoint, "answer has no callQueues list")
        for item in body.get("callQueues") or []:
            labels = self._usable(read.directory, pbx, item)
            if labels is None:
                continue
            # Checked after the item itself, so a broken copy never hides the good one.
            if (window or "", *labels) in read.seen:
                self.invalid.add(
                    "call_queue_duplicate",
                    "queue listed twice",
                    pbx=pbx.name,
                    queue=labels[2],
                    extension=labels[3],
                )
                continue
            read.seen.add((window or "", *labels))
            if not self.select.keeps(labels[2], labels[3], labels[4]):
                continue
            metrics = item["metrics"]
            if not read.budget.take(len(metrics)):
                continue
            self._add(read, metrics, labels, window, live)
        summary = body.get("metricsSummary")
        if self.include_summary and summary is not None:
            if isinstance(summary, Mapping):
                self._add(read, summary, [pbx.name], window, live, summary_of=True)
            else:
                self.invalid.add("call_queue_invalid", "metricsSummary not an object", pbx=pbx.name)

    def _usable(self, directory: Directory, pbx: Pbx, item: Any) -> list[str] | None:
        """The labels of a queue item, or None (counted and logged) when it cannot be used."""
        if not isinstance(item, Mapping):
            self.invalid.add("call_queue_invalid", "queue item not an object", pbx=pbx.name)
            return None
        if not isinstance(item.get("metrics"), Mapping):
            self.invalid.add(
                "call_queue_invalid",
                "metrics not an object",
                pbx=pbx.name,
                queue=label_text(item.get("name")),
            )
            return None
        labels = self._queue_labels(directory, pbx, item)
        if not any(labels[2:]):
            self.invalid.add("call_queue_invalid", "no id, name or extension", pbx=pbx.name)
            return None
        return labels

    def _queue_labels(self, directory: Directory, pbx: Pbx, item: Mapping[str, Any]) -> list[str]:
        # The spec's example gives `extension` as an integer, the guide as a string.
        extension = label_text(item.get("extension"))
        name = label_text(item.get("name"))
        queue_id = label_text(item.get("id"))
        if not queue_id:  # the deprecated API carries no id: look it up
            known = directory.find_queue(pbx.id, name=name, extension=extension)
            queue_id = known.id if known else ""
        site = label_text(item.get("site"))
        if not site and queue_id in directory.queues:
            site = directory.site_name(directory.queues[queue_id].site_id)
        return [pbx.name, site, name, extension, queue_id]

    def _add(
        self,
        read: Reading,
        metrics: Any,
        labels: list[str],
        window: str | None,
        live: bool,
        summary_of: bool = False,
    ) -> None:
        if not isinstance(metrics, Mapping):
            return
        done: set[str] = set()
        for key, raw in metrics.items():
            if self.api == "call_queue_metrics":
                key = CALL_QUEUE_METRICS_ALIASES.get(key, key)
            placed = self.specs.get(key)
            # A metric newer than this exporter is ignored rather than guessed at; null is
            # "no value" (e.g. an average over no calls), not an error.
            if placed is None or key in done or raw is None:
                continue
            spec: MetricSpec = placed[1] if summary_of else placed[0]
            windowed = spec.labels[-1] == "window"
            # A dated answer's ongoing* (should the API send them) would repeat the live ones.
            if (windowed and window is None) or (not windowed and not live):
                continue
            # A word, an array, NaN, a boolean, a negative number, a clock text: unusable.
            value = convert_number(spec.unit, raw, read.durations)
            if value is None:
                self.unusable.add("call_queue_value_unusable", key, type=why_unusable(raw))
                continue
            done.add(key)  # only now: `divertedCalls` may be unusable, `diverted` fine
            sample_labels = [*labels, window] if windowed and window is not None else labels
            read.families.add(spec, sample_labels, value)
