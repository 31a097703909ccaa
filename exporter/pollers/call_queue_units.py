"""The Call Queue Metric API's duration unit, decided from its answers.

The vendor's guide says the API answers durations in seconds, its OpenAPI example looks like
milliseconds. Read in the wrong unit every wait is 1000 times off, so the exporter checks:

- **Comparison** (now and then, per PBX): the deprecated realtime API, documented in ms, is
  asked for the same PBX right after the poll's live answer, and each live duration both carry
  for the same queue (`ongoingWaitingTime` here, `waitingTime` there) is compared.
- **Plausibility** (every poll, free): a single call's duration over a day, read as seconds.

Exposition (with the call-queue poller):

    eightbyeight_call_queue_api_duration_unit_info{applied="milliseconds",configured="auto",decided_by="realtime_comparison",observed="milliseconds",pbx="acme-main"} 1.0
    eightbyeight_call_queue_api_duration_unit_mismatch{pbx="acme-main"} 0.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from exporter.core.errors import ApiError, ExporterError
from exporter.core.logs import get_logger
from exporter.metrics.call_queues import CALL_QUEUE_METRICS, REALTIME_METRICS
from exporter.metrics.spec import FamilySet, MetricSpec, gauge
from exporter.metrics.units import DurationUnit, to_number
from exporter.pollers.base import label_text

log = get_logger(__name__)

ConfiguredUnit = Literal["auto", "seconds", "milliseconds"]
DecidedBy = Literal["realtime_comparison", "plausibility", "none"]
# Until the data says otherwise, `auto` reads the vendor's guide: seconds.
AUTO_FALLBACK: DurationUnit = "seconds"

SOURCE = "call_queues (unit check)"
INFO = gauge(
    "eightbyeight_call_queue_api_duration_unit_info",
    "The unit of the Call Queue Metric API's durations: as configured, as observed in its "
    "answers (unknown until the data decides it), the one applied, and the rule that decided.",
    ("pbx", "configured", "observed", "applied", "decided_by"),
    SOURCE,
)
MISMATCH = gauge(
    "eightbyeight_call_queue_api_duration_unit_mismatch",
    "1 when the observed unit of the Call Queue Metric API's durations contradicts the applied "
    "one (duration_unit set explicitly, and wrong): every duration of the PBX is 1000 times off.",
    ("pbx",),
    SOURCE,
)
SPECS: tuple[MetricSpec, ...] = (INFO, MISMATCH)

# The realtime API's live duration keys and the Call Queue Metric API's twin of each: the same
# quantity about the calls in the queue now ("ongoing" + the realtime name).
DURATION_PAIRS: dict[str, str] = {
    key: "ongoing" + key[0].upper() + key[1:]
    for key, spec in REALTIME_METRICS.items()
    if spec.unit == "duration"
}
REALTIME_DURATION_KEYS = tuple(DURATION_PAIRS)
# A pair votes only when the realtime value is at least 10 s: a value in whole seconds is then
# off by rounding by 10 % at most, far from the factor of 1000 that separates the readings.
MIN_REALTIME_MS = 10_000.0
# realtime (ms) / call-queue-metrics: about 1 when both are ms, about 1000 when the second is in
# seconds. The bands are wide because the two answers are a moment apart (a wait grows by that
# moment); ratios between the bands (a call that left between the two requests, a sum over
# other calls) vote for neither.
MS_BAND = (0.5, 2.0)
SECONDS_BAND = (500.0, 2000.0)
# A decision needs 3 votes at least and 4 in 5 of them: one odd pair never decides.
MIN_VOTES = 3
MIN_SHARE = 0.8

# The durations of one call (averages and maxima), not sums over many calls. A queue call that
# lasted over a day is not believable (a caller does not wait, talk or hold for 24 hours), while
# 86,400 ms is 86.4 s, an everyday longest talk time: such a value read as seconds proves ms.
SINGLE_CALL_KEYS = frozenset(
    key
    for key, spec in CALL_QUEUE_METRICS.items()
    if spec.unit == "duration"
    and not key.startswith(("total", "ongoingTotal"))
    and key not in {"ongoingWaitingTime", "ongoingTalkingTime", "ongoingOnHoldTime"}
)
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Verdict:
    """What one look at the data says: a unit, or None (undecided), and why."""

    unit: DurationUnit | None
    decided_by: DecidedBy
    evidence: str


UNDECIDED = Verdict(None, "none", "no evidence yet")


def _items(body: Any) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The metrics of each queue of an answer by (name, extension), the summary under ("", "").

    The realtime API gives no queue id; name and extension identify a queue on one PBX (an
    extension is unique there), and the spec's integer extension equals the guide's string."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    if not isinstance(body, Mapping):
        return found
    for item in body.get("callQueues") or []:
        if isinstance(item, Mapping) and isinstance(item.get("metrics"), Mapping):
            found[(label_text(item.get("name")), label_text(item.get("extension")))] = item[
                "metrics"
            ]
    if isinstance(body.get("metricsSummary"), Mapping):
        found[("", "")] = body["metricsSummary"]
    return found


def _live_durations(body: Any) -> bool:
    """Whether a live answer has a duration of the calls in a queue now that is not 0."""
    for metrics in _items(body).values():
        for key in DURATION_PAIRS.values():
            number = to_number(metrics.get(key))
            if number is not None and number > 0:
                return True
    return False


def compare(call_queue_metrics: Any, realtime: Any) -> Verdict:
    """The unit of a Call Queue Metric API answer, from the realtime API's answer (in ms, as
    its guide documents) for the same PBX a moment later."""
    ours, theirs = _items(call_queue_metrics), _items(realtime)
    votes: dict[DurationUnit, int] = {"milliseconds": 0, "seconds": 0}
    other = 0
    example = ""
    for queue in ours.keys() & theirs.keys():
        for rt_key, cqm_key in DURATION_PAIRS.items():
            rt_value = to_number(theirs[queue].get(rt_key))
            cqm_value = to_number(ours[queue].get(cqm_key))
            if rt_value is None or cqm_value is None or cqm_value <= 0:
                continue
            if rt_value < MIN_REALTIME_MS:
                continue
            ratio = rt_value / cqm_value
            if MS_BAND[0] <= ratio <= MS_BAND[1]:
                votes["milliseconds"] += 1
            elif SECONDS_BAND[0] <= ratio <= SECONDS_BAND[1]:
                votes["seconds"] += 1
            else:
                other += 1
                continue
            if not example:
                where = queue[0] or "the PBX summary"
                example = f"; e.g. {where}: {rt_key} {rt_value:g} ms, {cqm_key} {cqm_value:g}"
    cast = votes["milliseconds"] + votes["seconds"] + other
    evidence = (
        f"{votes['milliseconds']} durations equal to the realtime API's ms, "
        f"{votes['seconds']} about 1000 times smaller, {other} neither{example}"
    )
    for unit, count in votes.items():
        if count >= MIN_VOTES and count >= MIN_SHARE * cast:
            return Verdict(unit, "realtime_comparison", evidence)
    return Verdict(None, "none", evidence)


def plausibility(call_queue_metrics: Any) -> Verdict:
    """Milliseconds when a single call's duration, read as seconds, would exceed a day; else
    undecided (small values fit both readings: this rule can never prove seconds)."""
    for queue, metrics in _items(call_queue_metrics).items():
        for key in SINGLE_CALL_KEYS & metrics.keys():
            value = to_number(metrics[key])
            if value is not None and value > DAY_SECONDS:
                where = queue[0] or "the PBX summary"
                return Verdict(
                    "milliseconds",
                    "plausibility",
                    f"{key} of {where} is {value:g}: over a day if seconds",
                )
    return UNDECIDED


@dataclass
class _PbxState:
    verdict: Verdict = UNDECIDED
    last_comparison: float | None = None  # the API's time of the last realtime request
    realtime_error: str = ""


class DurationUnitCheck:
    """The observed unit per PBX, the one applied, and the exposition of both.

    A comparison's decision outranks plausibility, and an undecided look keeps the last
    decision: the API's unit does not change from one quiet hour to the next, and `auto` must
    not flip back to its fallback every night when the queues are empty.
    """

    def __init__(self, configured: ConfiguredUnit, comparison_interval: float | None) -> None:
        self.configured = configured
        # None: the realtime API is never asked (plausibility still runs: it costs nothing).
        self.comparison_interval = comparison_interval
        self._pbxes: dict[str, _PbxState] = {}

    def applied(self, pbx_id: str) -> DurationUnit:
        if self.configured != "auto":
            return self.configured
        state = self._pbxes.get(pbx_id)
        unit = state.verdict.unit if state is not None else None
        return unit or AUTO_FALLBACK

    def _due(self, state: _PbxState, now: float, body: Any) -> bool:
        if self.comparison_interval is None:
            return False
        last = state.last_comparison
        if (
            state.verdict.decided_by != "realtime_comparison"
            and not state.realtime_error
            and _live_durations(body)
        ):
            # Undecided (a quiet start: idle queues compare nothing) and calls now in the
            # queues: compare at once, not in an hour, while `auto` applies its fallback to
            # them (a 45 s wait in ms, read as seconds, is 12.5 hours on the wallboard).
            return True
        # A clock stepped back (now < last) is due too, rather than silent until it catches up.
        return last is None or now < last or now - last >= self.comparison_interval

    def examine(
        self,
        pbx_id: str,
        pbx_name: str,
        body: Any,
        now: float,
        ask_realtime: Callable[[], Any],
    ) -> None:
        """Look at one live answer of the Call Queue Metric API; ask the realtime API when due."""
        state = self._pbxes.setdefault(pbx_id, _PbxState())
        verdict = UNDECIDED
        if self._due(state, now, body):
            state.last_comparison = now
            try:
                verdict = compare(body, ask_realtime())
                self._realtime_error(state, pbx_name, "")
            except ApiError as error:  # deprecated: 404/410 once retired, any failure: unknown
                status = (
                    f"HTTP {error.status}" if error.status is not None else type(error).__name__
                )
                self._realtime_error(state, pbx_name, status)
            except ExporterError as error:
                self._realtime_error(state, pbx_name, type(error).__name__)
        if verdict.unit is None and state.verdict.decided_by != "realtime_comparison":
            verdict = plausibility(body)
        if verdict.unit is not None:
            self._decide(state, pbx_name, verdict)

    def _realtime_error(self, state: _PbxState, pbx_name: str, error: str) -> None:
        if error and error != state.realtime_error:
            log.warning(
                "call_queue_duration_unit_comparison_failed",
                pbx=pbx_name,
                error=error,
                hint="the deprecated realtime API did not answer; plausibility checks only",
            )
        state.realtime_error = error

    def _decide(self, state: _PbxState, pbx_name: str, verdict: Verdict) -> None:
        previous = state.verdict.unit
        state.verdict = verdict
        if verdict.unit == previous:
            return
        details: dict[str, Any] = {
            "pbx": pbx_name,
            "configured": self.configured,
            "observed": verdict.unit,
            "decided_by": verdict.decided_by,
            "evidence": verdict.evidence,
        }
        if self.configured == "auto":
            log.info("call_queue_duration_unit_observed", **details)
        elif verdict.unit != self.configured:
            log.warning(
                "call_queue_duration_unit_mismatch",
                **details,
                hint=f"set work_analytics.call_queues.duration_unit to {verdict.unit} or auto",
            )

    def add_families(self, families: FamilySet, pbxes: Iterable[tuple[str, str]]) -> None:
        """The info and mismatch series of the PBXes (id, name) polled this run."""
        for pbx_id, pbx_name in pbxes:
            state = self._pbxes.get(pbx_id, _PbxState())
            observed = state.verdict.unit
            applied = self.applied(pbx_id)
            families.add(
                INFO,
                [
                    pbx_name,
                    self.configured,
                    observed or "unknown",
                    applied,
                    state.verdict.decided_by,
                ],
                1.0,
            )
            families.add(MISMATCH, [pbx_name], float(observed not in (None, applied)))
