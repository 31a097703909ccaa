"""Contact Center historical summary reports (v8), one poller per configured report and
tenant.

Each run creates the report for its window, polls its status with exponential backoff (the
guide: never a tight loop) until DONE, follows the data pages through `Link: rel="next"`, and
turns the `key/label/value` string items into gauges labelled by the grouping's dimensions.
Sub- and grand-total rows are left out. While a new report is being generated the runner keeps
serving the previous result, and `eightbyeight_collector_snapshot_age_seconds` shows its age.

    eightbyeight_cc_report_queue_accepted_interactions{queue="Sales",queue_id="101",report="queues_today",tenant="acme-sales"} 412.0
    eightbyeight_cc_report_queue_accepted_in_sla_interactions_ratio{queue="Sales",queue_id="101",report="queues_today",tenant="acme-sales"} 0.86
    eightbyeight_cc_report_rows{report="queues_today",tenant="acme-sales"} 4.0
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from exporter.api.contact_center import REPORT_RECORD_CAP
from exporter.api.protocols import ReportApi
from exporter.config import ReportConfig, ReportStatusPolling
from exporter.core.errors import CollectionError
from exporter.core.logs import get_logger
from exporter.core.windows import resolve
from exporter.metrics.contact_center import (
    PERSONAL_REPORT_DIMENSIONS,
    REPORT_PREFIX,
    report_family,
    report_subject,
    snake,
)
from exporter.metrics.rendering import Family, GaugeFamily, LabelCache
from exporter.metrics.spec import gauge
from exporter.metrics.units import DurationUnit, Unit, convert
from exporter.pollers.base import LeftOut, Poller, label_text
from exporter.pollers.cc_realtime import DEFAULT_TENANT, poller_name

# `check_report` is re-exported: app.py and the tests check a report through this module.
from exporter.pollers.cc_report_definition import check_report as check_report
from exporter.pollers.cc_report_definition import definition, offered_metrics
from exporter.pollers.limits import SeriesBudget

log = get_logger(__name__)

RESERVED_LABELS = ("tenant", "report", "interval_start")
_REPORT = "cc_report:NAME"
_PER_REPORT = ("tenant", "report")
# One pattern for every metric of a configured report, named by `report_family`. The subject
# names every dimension label, so two reports share a family only when they share its labels
# (told apart by `report`); a report grouped otherwise gets other names rather than a refusal,
# since which metrics two reports share is known only from the report types API at run time.
REPORT_METRIC = gauge(
    REPORT_PREFIX + "<subject>_<metric>",
    "One gauge per metric of a configured report. `<subject>` is the report's group_by, "
    "its dimensions joined by `_` (`queue`, `agent`, `group_agent`, `media_queue`, ...), "
    "then `_interval` when the granularity is not `none`; `<metric>` is the vendor's "
    "metric in snake case: `fooPercentage` becomes `foo_ratio`, a metric ending in Time "
    "or Duration `foo_time_seconds`, a count gets its noun (`accepted_interactions`, "
    "`holds`), `avg` is spelled `average` (the list: docs/migration.md). Labelled by the "
    "grouping's dimensions in snake case (`queue`, `queue_id`, `agent`, `media`, ...), "
    "and by `interval_start` when the granularity is not `none`. `agent` (a name) is "
    "empty unless contact_center.personal_data: true.",
    ("tenant", "report", "<dimensions>", "[interval_start]"),
    f"{_REPORT} (`/historical-metrics`)",
)
REPORT_ROWS = gauge(
    "eightbyeight_cc_report_rows",
    "Rows (totals left out) of the report's last good result.",
    _PER_REPORT,
    _REPORT,
)
REPORT_TRUNCATED = gauge(
    "eightbyeight_cc_report_truncated",
    "1 when the report reached the vendor's cap of 10,000 JSON records, so rows are missing.",
    _PER_REPORT,
    _REPORT,
)
REPORT_GENERATION = gauge(
    "eightbyeight_cc_report_generation_seconds",
    "How long the vendor took to generate the report (creation to DONE), as waited for.",
    _PER_REPORT,
    _REPORT,
)
REPORT_POLLS = gauge(
    "eightbyeight_cc_report_status_polls",
    "Status requests made while the last good report was being generated.",
    _PER_REPORT,
    _REPORT,
)
REPORT_RANGE_START = gauge(
    "eightbyeight_cc_report_range_start_timestamp_seconds",
    "Start of the date range of the report's last good result.",
    _PER_REPORT,
    _REPORT,
)
REPORT_RANGE_END = gauge(
    "eightbyeight_cc_report_range_end_timestamp_seconds",
    "End of the date range of the report's last good result.",
    _PER_REPORT,
    _REPORT,
)
SPECS = (
    REPORT_METRIC,
    REPORT_ROWS,
    REPORT_TRUNCATED,
    REPORT_GENERATION,
    REPORT_POLLS,
    REPORT_RANGE_START,
    REPORT_RANGE_END,
)


# The v8 spec's statuses of a report not ready yet: waited for alike (a report QUEUED was a
# failed run, and under the vendor's load every run may start queued).
WAITING_STATUSES = ("QUEUED", "IN_PROGRESS")


class CcReportPoller(Poller):
    """One configured report for one tenant."""

    invalid: LeftOut
    unusable: LeftOut

    def __init__(
        self,
        client: ReportApi,
        report: ReportConfig,
        tenant: str | None,
        *,
        time_zone: str | None,
        duration_unit: DurationUnit,
        page_size: int,
        polling: ReportStatusPolling,
        sleep: Callable[[float], None] = time.sleep,
        personal_data: bool = False,
    ) -> None:
        self.client = client
        self.report = report
        self.tenant = tenant
        self.tenant_label = tenant or DEFAULT_TENANT
        self.name = poller_name(f"cc_report:{report.name}", tenant)
        self.interval = report.interval
        self.time_zone = time_zone
        # Without a zone only rolling windows are allowed (config), which need none.
        self.zone = ZoneInfo(time_zone or "UTC")
        self.durations = duration_unit
        self.page_size = page_size
        self.polling = polling
        self.sleep = sleep
        self.personal_data = personal_data
        self.subject = report_subject(report.group_by, report.granularity)
        self.metric_names: list[str] | None = None  # known once the report types were read
        self.invalid = LeftOut(self.name)  # rows left out
        self.unusable = LeftOut(self.name)  # values (and the items that carry them) left out

    def _validate(self) -> list[str]:
        """The report's metrics, after checking the report against the report types API
        (once; a config error names what is wrong)."""
        if self.metric_names is None:
            types = self.client.report_types(self.tenant)
            problems = check_report(self.report, types)
            if problems:
                raise CollectionError(f"report {self.report.name}: " + "; ".join(problems))
            self.metric_names = list(self.report.metrics) or offered_metrics(
                types, self.report.type
            )
        return self.metric_names

    def collect(self) -> Sequence[Family]:
        metric_names = self._validate()
        window = resolve(self.report.window, self.client.now(), self.zone)  # the API's time
        status = self.client.create_report(
            self.tenant,
            definition(
                self.report, window.start.timestamp(), window.end.timestamp(), self.time_zone
            ),
        )
        report_id, waited, polls = status.id, 0.0, 0
        backoff = self.polling.initial_backoff
        while status.status in WAITING_STATUSES:
            if waited >= self.polling.timeout:
                raise CollectionError(
                    f"report {self.report.name} (id {report_id}) still "
                    f"{status.status} after {waited:g}s"
                )
            delay = min(backoff, self.polling.timeout - waited)
            self.sleep(delay)
            waited += delay
            backoff = min(backoff * 2, self.polling.max_backoff)
            status = self.client.report_status(self.tenant, report_id)
            polls += 1
        if status.status == "FAILED":
            log.warning(
                "cc_report_failed", collector=self.name, report_id=report_id, reason=status.reason
            )
            raise CollectionError(
                f"report {self.report.name} (id {report_id}) FAILED"
                + (f": {status.reason}" if status.reason else "")
            )
        if status.status != "DONE":
            raise CollectionError(
                f"report {self.report.name} (id {report_id}): unexpected status {status.status!r}"
            )
        families, rows, truncated = self._read(report_id, status.links.get("data"), metric_names)
        meta = {
            REPORT_ROWS: float(rows),
            REPORT_TRUNCATED: 1.0 if truncated else 0.0,
            REPORT_GENERATION: waited,
            REPORT_POLLS: float(polls),
            REPORT_RANGE_START: window.start.timestamp(),
            REPORT_RANGE_END: window.end.timestamp(),
        }
        out: list[Family] = [families[name] for name in sorted(families)]
        for spec, value in meta.items():
            family = spec.gauge()
            family.add_metric([self.tenant_label, self.report.name], value)
            out.append(family)
        return out

    def _read(
        self, report_id: int, data_link: str | None, metric_names: list[str]
    ) -> tuple[dict[str, GaugeFamily], int, bool]:
        metrics = set(metric_names)
        families: dict[str, GaugeFamily] = {}
        # A row's labels are the same in every family it feeds: written once for all of them.
        label_cache: LabelCache = {}
        named: dict[str, tuple[str, Unit]] = {}  # report metric -> (family name, unit)
        feeds: dict[str, str] = {}  # family name -> the report metric feeding it
        seen: set[tuple[str, ...]] = set()
        budget = SeriesBudget(self.name, self.report.max_series)
        dimension_names: tuple[str, ...] | None = None  # fixed by the first data row
        rows = records = 0
        total_elements: int | None = None
        for page, total in self.client.report_pages(
            self.tenant, report_id, self.page_size, data_link
        ):
            total_elements = total if total is not None else total_elements
            for row in page:
                records += 1
                if not isinstance(row, Mapping):
                    self.invalid.add("cc_record_invalid", "row that is not an object")
                    continue
                # Sub- and grand totals are not items (`total` in the guide, `totals` in the spec).
                if row.get("total") is not None or row.get("totals") is not None:
                    continue
                items = row.get("items")
                if isinstance(items, Mapping):  # the guide's second form: {"name": value}
                    items = [{"key": k, "value": v} for k, v in items.items()]
                if not isinstance(items, list):
                    self.invalid.add("cc_record_invalid", "row without items")
                    continue
                dimensions, values = self._split(items, metrics)
                if dimension_names is None:
                    dimension_names = tuple(dimensions)
                if set(dimensions) != set(dimension_names):
                    self.invalid.add(
                        "cc_record_invalid", "row with other dimensions than the first row"
                    )
                    continue
                labels = [
                    self.tenant_label,
                    self.report.name,
                    *(dimensions[d] for d in dimension_names),
                ]
                label_names = ["tenant", "report", *dimension_names]
                if tuple(labels) in seen:
                    self.invalid.add(
                        "cc_record_invalid", "row with the dimensions of an earlier row"
                    )
                    continue
                seen.add(tuple(labels))
                if not budget.take(len(values)):
                    continue
                rows += 1
                for key, raw in values:
                    known = named.get(key)
                    if known is None:
                        known = named[key] = report_family(self.subject, key)
                    name, unit = known
                    if feeds.setdefault(name, key) != key:
                        # Two vendor spellings of one name (`avgX`, `averageX`) would give
                        # one family the same series twice: the first one counts.
                        self._unusable(key, f"a metric named like {feeds[name]}")
                        continue
                    number = convert(unit, raw, self.durations)
                    if number is None:
                        if raw is not None:
                            self._unusable(key, f"value {str(raw)[:20]!r}")
                        continue
                    family = families.get(name)
                    if family is None:
                        spec = REPORT_METRIC.instance(
                            name,
                            f"Contact Center report metric `{key}`, per "
                            f"{self.subject.replace('_', ' and ')};",
                            tuple(label_names),
                        )
                        family = families[name] = spec.gauge(
                            " polled (how often: eightbyeight_collector_interval_seconds).",
                            label_cache,
                        )
                    family.add_metric(labels, number)
        self.series = budget.finish(self.series)
        truncated = records >= REPORT_RECORD_CAP or (total_elements or 0) >= REPORT_RECORD_CAP
        if truncated:
            log.warning(
                "cc_report_truncated",
                collector=self.name,
                report_id=report_id,
                records=records,
                cap=REPORT_RECORD_CAP,
            )
        return families, rows, truncated

    def _split(
        self, items: list[Any], metrics: set[str]
    ) -> tuple[dict[str, str], list[tuple[str, Any]]]:
        """Dimension labels (in the answer's order) and metric values of one row."""
        dimensions: dict[str, str] = {}
        values: list[tuple[str, Any]] = []
        seen: set[str] = set()  # metrics of `values`
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
                self._unusable("item_without_key", "item that is not an object with a key")
                continue
            key, value = item["key"], item.get("value")
            if key in metrics:
                if key in seen:  # the first one counts
                    self._unusable("metric_twice", "a metric twice in one row")
                    continue
                seen.add(key)
                values.append((key, value))
            elif key == "startTime":
                if self.report.granularity != "none":
                    dimensions["interval_start"] = label_text(value)
            elif key == "endTime":
                continue
            else:
                label = snake(key)
                if label in RESERVED_LABELS or label.startswith("__"):
                    label = f"dimension_{label.lstrip('_')}"
                personal = label in PERSONAL_REPORT_DIMENSIONS and not self.personal_data
                dimensions[label] = "" if personal else label_text(value)
        return dimensions, values

    def _unusable(self, key: str, why: str) -> None:
        """Count a value left out; log it once per key (a metric or a kind of item)."""
        self.unusable.add("cc_value_unusable", key, reason=why)
