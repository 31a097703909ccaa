"""Summary and call-detail collectors on the vendor's examples and on a scripted record store."""

from __future__ import annotations

import copy
import tracemalloc
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config import Selection
from exporter.core.errors import ServerError
from exporter.core.windows import parse_window
from exporter.pollers.call_counting import SeenIds, outcome
from exporter.pollers.discovery import Directory, FixedDirectory, Pbx
from exporter.pollers.limits import FoldedKeys
from exporter.pollers.ring_group_sources import FixedRingGroups, RingGroup
from exporter.pollers.summaries import (
    CompanySummaryPoller,
    ExtensionPoller,
    RingGroupMemberPoller,
    RingGroupPoller,
)
from tests.support.call_details import (
    CdrStore,
    calls,
    leg,
    leg_collector,
    polled_once,
    record,
    records_collector,
)
from tests.support.clock import FakeClock
from tests.support.files import fixture_json
from tests.support.historical import DIRECTORY, NOW, Groups, summary_kwargs
from tests.support.page import Recorder

# The labels of eightbyeight_extension_info that are personal data.
PERSON_LABELS = ("first_name", "last_name", "email", "user_name")


class SummaryClient:
    historical_params = staticmethod(WorkAnalyticsClient.historical_params)

    def __init__(
        self, answers: Mapping[str, Any], clock: Callable[[], float] | None = None
    ) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, str]]] = []
        # The API's clock; the pollers' own (summary_kwargs) unless a test skews it.
        self.clock = clock if clock is not None else FakeClock(NOW)

    def now(self) -> float:
        return self.clock()

    def summary(self, endpoint: str, params: Mapping[str, str]) -> list[Mapping[str, Any]]:
        self.calls.append((endpoint, dict(params)))
        answer = self.answers[endpoint]
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer(params) if callable(answer) else answer)


# --- summaries -----------------------------------------------------------------------------


def test_company_summary_converts_units_and_labels_windows() -> None:
    client = SummaryClient({"/v1/compsum": fixture_json("compsum.json")})
    collector = CompanySummaryPoller(client, FixedDirectory(DIRECTORY), **summary_kwargs())
    out = Recorder(collector.collect())
    for window in ("1h", "today"):
        assert (
            out.get("eightbyeight_pbx_inbound_calls", pbx="demonstrationname", window=window)
            == 4014
        )
        assert (
            out.get("eightbyeight_pbx_answered_calls", pbx="demonstrationname", window=window)
            == 2204
        )
        assert out.get("eightbyeight_pbx_calls", pbx="demonstrationname", window=window) == 5334
        assert (
            out.get("eightbyeight_pbx_voicemail_calls", pbx="demonstrationname", window=window)
            == 2514
        )
        # milliseconds -> seconds
        assert out.get(
            "eightbyeight_pbx_talk_time_seconds", pbx="demonstrationname", window=window
        ) == pytest.approx(431034.927)
        assert out.get(
            "eightbyeight_pbx_average_ring_time_seconds", pbx="demonstrationname", window=window
        ) == pytest.approx(5.982)
        assert (
            out.get(
                "eightbyeight_pbx_external_inbound_answered_calls_ratio",
                pbx="demonstrationname",
                window=window,
            )
            == 0
        )
    # One request per window, every PBX in one `allpbxes` request, times in UTC: `today` is
    # New York's midnight (05:00 UTC in November).
    assert [c[1]["pbxId"] for c in client.calls] == ["allpbxes", "allpbxes"]
    one_hour, today = (c[1] for c in client.calls)
    assert (one_hour["startTime"], one_hour["endTime"]) == (
        "2025-11-18 16:00:00",
        "2025-11-18 17:00:00",
    )
    assert today["startTime"] == "2025-11-18 05:00:00"
    assert today["timeZone"] == "UTC"


def test_windows_that_resolve_alike_ask_once_and_both_are_exported() -> None:
    # Monday 2024-06-10 10:00 in New York: this week began at midnight, as today did.
    monday = datetime(2024, 6, 10, 10, tzinfo=ZoneInfo("America/New_York")).timestamp()
    client = SummaryClient({"/v1/compsum": fixture_json("compsum.json")}, FakeClock(monday))
    windows = [parse_window("today"), parse_window("this_week"), parse_window("1h")]
    collector = CompanySummaryPoller(
        client, FixedDirectory(DIRECTORY), **summary_kwargs(windows=windows)
    )
    out = Recorder(collector.collect())
    assert len(client.calls) == 2  # today and this_week once, 1h once
    for window in ("today", "this_week", "1h"):
        assert out.get("eightbyeight_pbx_calls", pbx="demonstrationname", window=window) == 5334
    client.clock = FakeClock(monday + 86_400)  # Tuesday: the week is two days
    collector.collect()
    assert len(client.calls) == 2 + 3


def test_configured_pbxes_are_batched_into_comma_lists() -> None:
    many = Directory(pbxes=tuple(Pbx(f"id{i}", f"pbx{i:02}") for i in range(5)))
    client = SummaryClient({"/v1/compsum": []})
    collector = CompanySummaryPoller(
        client,
        FixedDirectory(many),
        **summary_kwargs(windows=[parse_window("today")], all_pbxes=False, pbx_batch_size=2),
    )
    collector.collect()
    assert [c[1]["pbxId"] for c in client.calls] == ["pbx00,pbx01", "pbx02,pbx03", "pbx04"]


def test_ring_group_summary_labels_and_the_known_groups() -> None:
    client = SummaryClient({"/v2/rgsum-groups": fixture_json("rgsum_groups.json")})
    collector = RingGroupPoller(client, FixedDirectory(DIRECTORY), **summary_kwargs())
    out = Recorder(collector.collect())
    labels = {
        "pbx": "demonstrationname",
        "site": "West",
        "ring_group": "West Office",
        "extension": "2001",
        "window": "1h",
    }
    assert out.get("eightbyeight_ring_group_missed_calls", **labels) == 1
    assert out.get("eightbyeight_ring_group_calls", **labels) == 1
    assert out.get("eightbyeight_ring_group_members", **labels) == 0
    assert collector.groups == {
        ("demonstrationname", "2001"): RingGroup("demonstrationname", "West", "West Office", "2001")
    }


def test_ring_group_members_are_asked_per_group_with_ext_id() -> None:
    groups = {
        ("acmecorp", "2001"): RingGroup("acmecorp", "West", "Sales", "2001"),
        ("acmecorp", "2002"): RingGroup("acmecorp", "West", "Billing", "2002"),
    }
    member = {**fixture_json("rgsum_members.json")[0], "extension": "1001", "totalAnswered": 4}
    client = SummaryClient({"/v2/rgsum-members": [member]})
    collector = RingGroupMemberPoller(
        client,
        FixedDirectory(DIRECTORY),
        ring_groups=FixedRingGroups(groups),
        refs=["Billing"],
        **summary_kwargs(windows=[parse_window("today")]),
    )
    out = Recorder(collector.collect())
    assert [(c[1]["pbxId"], c[1]["extId"]) for c in client.calls] == [("acmecorp", "2002")]
    assert (
        out.get(
            "eightbyeight_ring_group_member_answered_calls",
            pbx="acmecorp",
            ring_group="Billing",
            ring_group_extension="2002",
            extension="1001",
            window="today",
        )
        == 4
    )
    assert "eightbyeight_ring_group_member_members" not in out.names()


@pytest.mark.parametrize("personal_data", [False, True])
def test_extension_summary_reads_pascal_case_and_keeps_details_in_info(
    personal_data: bool,
) -> None:
    client = SummaryClient({"/v2/extsum": fixture_json("extsum.json")})
    collector = ExtensionPoller(
        client,
        FixedDirectory(DIRECTORY),
        personal_data=personal_data,
        **summary_kwargs(windows=[parse_window("today")]),
    )
    out = Recorder(collector.collect())
    rows = fixture_json("extsum.json")
    first = rows[0]
    labels = {"pbx": first["PbxId"], "extension": first["Extension"], "window": "today"}
    assert out.get("eightbyeight_extension_inbound_calls", **labels) == first["Inbound_Total"]
    assert (
        out.get("eightbyeight_extension_talk_time_seconds", **labels)
        == first["Total_Talk_Time"] / 1000
    )
    assert out.get("eightbyeight_extension_voicemail_calls", **labels) == first["Total_Calls_To_VM"]
    assert (
        out.get("eightbyeight_extension_external_inbound_answered_calls_ratio", **labels)
        == first["Percent_External_Inbound_Answered"] / 100
    )
    info = [k for k in out.samples if k[0] == "eightbyeight_extension_info"]
    assert len(info) == len(rows)
    info_labels = dict(next(k[1] for k in info if dict(k[1])["extension"] == first["Extension"]))
    # The person's details only with personal_data; without, their labels are there, empty.
    assert info_labels["first_name"] == (first["FirstName"] if personal_data else "")
    assert info_labels["last_name"] == (first["LastName"] if personal_data else "")
    assert info_labels["email"] == (first["Email"] if personal_data else "")
    assert info_labels["user_name"] == (first["UserName"] if personal_data else "")
    if not personal_data:
        assert all(dict(k[1])[label] == "" for k in info for label in PERSON_LABELS)
    assert info_labels["department"] == first["Department"]
    assert info_labels["branch"] == first["Branch"]
    # Names never ride on the per-window series.
    for name, labelset in out.samples:
        if name != "eightbyeight_extension_info":
            assert set(dict(labelset)) == {"pbx", "extension", "window"}


def test_select_patterns_include_and_exclude() -> None:
    rows = [
        {
            "pbxId": "p",
            "site": "s",
            "name": f"Group {i}",
            "extension": str(2000 + i),
            "totalCalls": i,
        }
        for i in range(6)
    ]
    client = SummaryClient({"/v2/rgsum-groups": rows})
    select = Selection.model_validate({"include": ["Group [0-3]"], "exclude": ["2002"]})
    collector = RingGroupPoller(
        client,
        FixedDirectory(DIRECTORY),
        select=select,
        **summary_kwargs(windows=[parse_window("1h")]),
    )
    out = Recorder(collector.collect())
    kept = {dict(labels)["ring_group"] for name, labels in out.samples}
    assert kept == {"Group 0", "Group 1", "Group 3"}


def test_series_ceiling_exports_what_fits_and_says_so(capsys) -> None:
    rows = [
        {
            "pbxId": "p",
            "site": "s",
            "name": f"G{i:02}",
            "extension": str(2000 + i),
            "totalCalls": i,
            "totalAnswered": i,
        }
        for i in range(10)
    ]
    client = SummaryClient({"/v2/rgsum-groups": rows})
    collector = RingGroupPoller(
        client,
        FixedDirectory(DIRECTORY),
        max_series=7,
        **summary_kwargs(windows=[parse_window("1h")]),
    )
    out = Recorder(collector.collect())
    kept = sorted({dict(labels)["ring_group"] for name, labels in out.samples})
    assert kept == ["G00", "G01", "G02"]  # 2 series per group, 7 fit 3 groups; always the same 3
    assert collector.series is not None
    assert (collector.series.exported, collector.series.limit, collector.series.dropped) == (
        6,
        7,
        14,
    )
    assert collector.self_metrics()["eightbyeight_collector_series_dropped"] == 14
    captured = capsys.readouterr()
    assert "series_limit_reached" in captured.out + captured.err


def test_the_series_ceiling_is_logged_once_per_crossing() -> None:
    def rows(count: int) -> list[dict[str, Any]]:
        return [
            {"pbxId": "acmecorp", "site": "s", "name": f"G{i:02}", "extension": str(2000 + i)}
            | {"totalCalls": i}
            for i in range(count)
        ]

    answers: dict[str, Any] = {}
    collector = RingGroupPoller(
        SummaryClient(answers),
        FixedDirectory(DIRECTORY),
        max_series=3,
        **summary_kwargs(windows=[parse_window("1h")]),
    )
    with capture_logs() as logs:
        # Over the ceiling by more and more groups, then under it, then over it again: the
        # number dropped is the metric's, the log says only when dropping starts and stops.
        for count in (5, 9, 20, 2, 4):
            answers["/v2/rgsum-groups"] = rows(count)
            collector.collect()
    assert [e["event"] for e in logs if e["event"].startswith("series_limit")] == [
        "series_limit_reached",
        "series_limit_cleared",
        "series_limit_reached",
    ]
    assert collector.self_metrics()["eightbyeight_collector_series_dropped"] == 1


def test_a_failing_summary_raises_so_only_this_collector_degrades() -> None:
    client = SummaryClient({"/v1/compsum": ServerError("/v1/compsum", "boom", status=503)})
    collector = CompanySummaryPoller(client, FixedDirectory(DIRECTORY), **summary_kwargs())
    with pytest.raises(ServerError):
        collector.collect()


def test_values_of_the_wrong_type_are_skipped_not_fatal() -> None:
    rows = [
        {
            "pbxId": "p",
            "totalInbound": "12",
            "totalCall": None,
            "totalAnswered": [1],
            "inboundTotal": "n/a",
            "totalVm": True,
        }
    ]
    collector = CompanySummaryPoller(
        SummaryClient({"/v1/compsum": rows}),
        FixedDirectory(DIRECTORY),
        **summary_kwargs(windows=[parse_window("1h")]),
    )
    out = Recorder(collector.collect())
    assert out.names() == set()  # totalInbound is not a compsum key; the rest are not numbers
    rows[0]["inboundTotal"] = "12"
    out = Recorder(collector.collect())
    assert out.get("eightbyeight_pbx_inbound_calls", pbx="p", window="1h") == 12


# --- call records and legs -----------------------------------------------------------------


def test_outcome_precedence_on_the_vendor_examples() -> None:
    legs = fixture_json("call_legs.json")["data"]
    assert outcome(legs[0], "propsLastPartyDisp") == "voicemail"
    assert outcome(legs[1], "propsLastPartyDisp") == "abandoned"  # Missed and Abandoned: abandoned
    assert (
        outcome(fixture_json("call_records.json")["data"][0], "lastLegDisposition") == "voicemail"
    )
    assert outcome({"answered": "Answered", "missed": "Missed"}, "x") == "answered"
    assert outcome({}, "x") == "other"


def test_the_first_poll_counts_the_day_so_far_then_new_calls_count_once() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    store.add(record("yesterday", NOW - 18 * 3600))  # 23:00 the day before, in London
    store.add(record("old-1", NOW - 120))
    store.add(record("old-2", NOW - 30, answered=False))
    collector = records_collector(store, clock)
    families = collector.collect()
    # Today's calls so far are counted; every key's series exist from the first poll on, at 0
    # where nothing happened yet, so rate() sees the first call.
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="answered") == 1
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="abandoned") == 1
    assert (
        Recorder(families).get(
            "eightbyeight_call_wait_seconds_count",
            pbx="acmecorp",
            direction="inbound",
            outcome="missed",
        )
        == 0
    )
    assert (
        Recorder(families).get(
            "eightbyeight_calls_total", pbx="acmecorp2", direction="internal", outcome="answered"
        )
        == 0
    )
    for i in range(5):
        clock.advance(60)
        store.add(record(f"new-{i}", clock() - 5, wait_ms=15_000 if i % 2 else 25_000))
        families = collector.collect()
    out = Recorder(families)
    assert (
        out.get("eightbyeight_calls_total", pbx="acmecorp", direction="inbound", outcome="answered")
        == 6
    )
    assert (
        out.get(
            "eightbyeight_calls_total", pbx="acmecorp", direction="inbound", outcome="abandoned"
        )
        == 1
    )
    assert (
        out.get("eightbyeight_calls_total", pbx="acmecorp", direction="inbound", outcome="other")
        is None
    )
    # Every poll overlaps the previous ones by the look-back: the same records were read again.
    assert collector.records_duplicate > 5
    # Histograms: old-1 answered in 12 s, 2 in 15 s, 3 in 25 s; `le="20.0"` gives "answered
    # within 20 s".
    labels = {"pbx": "acmecorp", "direction": "inbound", "outcome": "answered"}
    assert out.get("eightbyeight_call_wait_seconds_bucket", le="20.0", **labels) == 3
    assert out.get("eightbyeight_call_wait_seconds_bucket", le="30.0", **labels) == 6
    assert out.get("eightbyeight_call_wait_seconds_count", **labels) == 6
    assert out.get("eightbyeight_call_wait_seconds_sum", **labels) == pytest.approx(
        12 + 2 * 15 + 3 * 25
    )
    assert (
        out.get(
            "eightbyeight_call_talk_seconds_bucket", pbx="acmecorp", direction="inbound", le="60.0"
        )
        == 6
    )


def test_the_first_request_reads_the_day_and_the_next_overlap_by_the_lookback_in_utc() -> None:
    _clock, store, collector = polled_once(page_size=500, time_zone="America/New_York")
    collector.collect()
    first, second = store.requests
    # The day began at midnight in New York, 05:00 UTC in November; then each poll asks again
    # from 10 minutes (the look-back) before the end of the previous complete poll.
    assert (first["startTime"], first["endTime"]) == ("2025-11-18 05:00:00", "2025-11-18 17:00:00")
    assert (second["startTime"], second["endTime"]) == (
        "2025-11-18 16:50:00",
        "2025-11-18 17:01:00",
    )
    assert second["pbxId"] == "allpbxes" and second["timeZone"] == "UTC"


def test_late_records_within_the_lookback_are_counted_exactly_once() -> None:
    clock, store, collector = polled_once()
    store.add(record("late", clock() - 10), delay=200)  # shows up 200 s after it ended
    store.add(record("prompt", clock() - 10))
    for _ in range(6):
        families = collector.collect()
        clock.advance(60)
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="answered") == 2


def test_a_page_failing_half_way_loses_nothing_and_counts_nothing_twice() -> None:
    clock, store, collector = polled_once(page_size=2)
    for i in range(7):
        store.add(record(f"c{i}", clock() - 50 + i))
    store.fail_on_page = 2  # pages 0 and 1 (4 records) are read, then the API fails
    watermark = collector.watermark
    with pytest.raises(ServerError):
        collector.collect()
    assert collector.watermark == watermark  # the poll did not complete
    store.fail_on_page = None
    clock.advance(60)
    families = collector.collect()
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="answered") == 7


def test_a_restarted_poller_shows_what_the_running_one_shows() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    for i in range(3):
        store.add(record(f"c{i}", NOW - 100 + i))
    first = records_collector(store, clock)
    first.collect()
    clock.advance(60)
    store.add(record("after", clock() - 5))
    assert calls(first.collect(), pbx="acmecorp", direction="inbound", outcome="answered") == 4
    restarted = records_collector(store, clock)  # a new process: same API, fresh memory
    assert calls(restarted.collect(), pbx="acmecorp", direction="inbound", outcome="answered") == 4
    clock.advance(60)
    store.add(record("later", clock() - 5))
    for poller in (first, restarted):
        assert calls(poller.collect(), pbx="acmecorp", direction="inbound", outcome="answered") == 5


def test_the_counters_start_again_a_lookback_after_local_midnight() -> None:
    # London, 23:58: a call at 23:59 is yesterday's, one at 00:01 today's. The day's counters
    # go on for the look-back (10 minutes) past midnight, so a record reaching the API late
    # is still counted in its day; then they start again with today's calls so far.
    midnight = NOW + 7 * 3600  # 2025-11-19 00:00 in London (UTC in November)
    clock = FakeClock(midnight - 120)
    store = CdrStore(clock)
    store.add(record("before", midnight - 60))
    store.add(record("late", midnight - 30), delay=300)  # reaches the API at 00:04:30
    store.add(record("after", midnight + 60))
    collector = records_collector(store, clock)
    answered: list[float] = []
    for _ in range(16):
        answered.append(
            calls(collector.collect(), pbx="acmecorp", direction="inbound", outcome="answered")
        )
        clock.advance(60)
    # 23:58 nothing yet; from 23:59 `before`; from 00:05 `late` too; at 00:10 (the look-back
    # past midnight) the day's last poll; from 00:11 the new day holds `after` alone.
    assert answered == [0] + [1] * 6 + [2] * 6 + [1] * 3
    start = collector.self_metrics()["eightbyeight_collector_counting_day_start_timestamp_seconds"]
    assert start == midnight


def test_an_answer_outside_the_window_asked_is_not_counted() -> None:
    clock, store, collector = polled_once()
    store.add(record("in", clock() - 5))
    store.ignore_window = True  # the API answers everything it has, whatever was asked
    for _ in range(30):
        clock.advance(60)
        families = collector.collect()
    # `in` was counted once when it was in the window; read again for half an hour outside it
    # (and forgotten since), it was never counted again.
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="answered") == 1
    assert collector.records_outside > 0


def test_a_first_read_failing_half_way_is_thrown_away_and_read_again_whole() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    for i in range(7):
        store.add(record(f"c{i}", NOW - 3600 + i))
    collector = records_collector(store, clock)
    store.fail_on_page = 2
    with pytest.raises(ServerError):
        collector.collect()
    assert collector.calls == {} and len(collector.seen) == 0 and collector.watermark is None
    store.fail_on_page = None
    clock.advance(60)
    assert calls(collector.collect(), pbx="acmecorp", direction="inbound", outcome="answered") == 7


def test_directions_and_outcomes_are_normalised() -> None:
    clock, store, collector = polled_once()
    store.add(record("out", clock() - 5, direction="Outgoing"))
    store.add(record("vm", clock() - 5, answered=False, disposition="Voicemail"))
    store.add(record("ab", clock() - 5, answered=False))
    families = collector.collect()
    assert calls(families, pbx="acmecorp", direction="outbound", outcome="answered") == 1
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="voicemail") == 1
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="abandoned") == 1


def test_records_without_an_id_are_counted_as_invalid(capsys) -> None:
    clock, store, collector = polled_once()
    bad = record("x", clock() - 5)
    del bad["callId"]
    store.add(bad)
    store.add({**record("y", clock() - 5), "callId": ""})
    collector.collect()
    assert collector.invalid.count == 2
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("call_detail_record_invalid") == 1  # logged once


def test_pbxes_beyond_the_ceiling_fold_into_other_and_nothing_is_lost() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    # acmecorp and acmecorp2 are known from the directory, 3 directions each: with 45 series a
    # key, 8 keys fit.
    collector = records_collector(store, clock, max_series=8 * 45)
    collector.collect()
    clock.advance(60)
    for pbx in ("p1", "p2", "p3", "p4"):
        store.add(record(f"c-{pbx}", clock() - 5, pbx=pbx))
    out = Recorder(collector.collect())
    assert (
        out.get("eightbyeight_calls_total", pbx="p1", direction="inbound", outcome="answered") == 1
    )
    assert (
        out.get("eightbyeight_calls_total", pbx="p2", direction="inbound", outcome="answered") == 1
    )
    assert (
        out.get("eightbyeight_calls_total", pbx="_other", direction="inbound", outcome="answered")
        == 2
    )
    assert collector.self_metrics()["eightbyeight_collector_series_dropped"] > 0


def test_folding_is_logged_once_per_crossing_and_counts_every_folded_key() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    # 8 keys fit; the directory's two PBXes take 6 (3 directions each).
    collector = records_collector(store, clock, max_series=8 * 45, page_size=500)
    per_key = collector._series_per_key()
    collector.collect()
    clock.advance(60)
    for i in range(2_000):
        store.add(record(f"c{i}", clock() - 5, pbx=f"p{i:04}"))
    with capture_logs() as logs:
        collector.collect()  # p0000 and p0001 fit, 1,998 PBXes fold into _other
        assert collector.self_metrics()["eightbyeight_collector_series_dropped"] == 1_998 * per_key
        clock.advance(60)
        store.add(record("late", clock() - 5, pbx="p9999"))
        collector.collect()
        assert collector.self_metrics()["eightbyeight_collector_series_dropped"] == 1_999 * per_key
        clock.advance(86_400)  # the day's last poll, then a new day: the directory's PBXes
        collector.collect()
        clock.advance(60)
        collector.collect()
        assert collector.self_metrics()["eightbyeight_collector_series_dropped"] == 0
    # One warning for 1,999 folded PBXes (it was one per PBX), and one line when it clears.
    assert [e["event"] for e in logs if e["event"].startswith("series_limit")] == [
        "series_limit_reached",
        "series_limit_cleared",
    ]


def test_folded_keys_are_counted_in_bounded_memory() -> None:
    folded = FoldedKeys()
    assert len(folded) == 0 and not folded
    for i in range(FoldedKeys.EXACT):
        folded.add(("pbx", f"queue-{i}"))
        folded.add(("pbx", f"queue-{i}"))  # a key folded again is not counted again
    assert len(folded) == FoldedKeys.EXACT  # exact up to here
    for i in range(FoldedKeys.EXACT, 10_000):
        folded.add(("pbx", f"queue-{i}"))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10_000, 200_000):
            folded.add(("pbx", f"queue-{i}"))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 4096  # nothing kept per key past EXACT: a fixed bitmap
    assert abs(len(folded) - 200_000) < 200_000 * 0.01


def test_seen_ids_are_bounded_and_forget_the_oldest_first() -> None:
    seen = SeenIds(max_entries=3)
    for i, when in enumerate([50, 10, 40, 30]):
        assert seen.add(f"k{i}", when)
    assert len(seen) == 3 and "k1" not in seen and seen.evicted == 1
    assert seen.evicted_until == 10  # no window asks for what ended up to there again
    assert not seen.add("k0", 50)
    # Known again with a later end: remembered until then, so it is evicted after k2 and k3.
    assert not seen.add("k3", 60)
    assert seen.add("k4", 70) and "k2" not in seen and seen.evicted_until == 40
    assert seen.add("k5", 80) and "k0" not in seen and "k3" in seen and seen.evicted == 3


def test_legs_count_per_queue_and_ring_group_with_waits_from_call_time() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    groups = {
        ("acmecorp", "2001"): ("ring_group", "Front Desk"),
        ("acmecorp", "110081"): ("queue", "Sales Queue"),
    }
    collector = leg_collector(store, clock, groups)
    collector.collect()
    clock.advance(60)
    t = clock() - 5
    store.add(leg("q1", t, lra="110081"))  # waited 80 - 60 - 5 = 15 s
    store.add(leg("q2", t, lra="110081", answered=False, call_ms=25_000))  # gave up after 25 s
    store.add(leg("q2", t, lra="1001", callee="1001", name="Agent", parent="q2"))  # a member's ring
    store.add(leg("r1", t, lra="2001", callee="2001", name="Front Desk", call_ms=70_000))
    store.add(leg("x1", t, lra="555", callee="555", name="Somebody"))  # not a group
    store.add(leg("q3", t, lra="999", name="Unlisted Queue"))  # callee CallQueue, not discovered
    out = Recorder(collector.collect())
    queue = {
        "pbx": "acmecorp",
        "group_type": "queue",
        "group": "Sales Queue",
        "extension": "110081",
    }
    assert out.get("eightbyeight_group_calls_total", outcome="answered", **queue) == 1
    assert out.get("eightbyeight_group_calls_total", outcome="abandoned", **queue) == 1
    assert (
        out.get(
            "eightbyeight_group_call_wait_seconds_bucket", outcome="answered", le="20.0", **queue
        )
        == 1
    )
    assert out.get("eightbyeight_group_call_wait_seconds_sum", outcome="abandoned", **queue) == 25
    ring = {
        "pbx": "acmecorp",
        "group_type": "ring_group",
        "group": "Front Desk",
        "extension": "2001",
    }
    assert out.get("eightbyeight_group_calls_total", outcome="answered", **ring) == 1
    assert out.get("eightbyeight_group_call_talk_seconds_count", **ring) == 1
    assert (
        out.get(
            "eightbyeight_group_calls_total",
            outcome="answered",
            pbx="acmecorp",
            group_type="queue",
            group="Unlisted Queue",
            extension="999",
        )
        == 1
    )
    total = sum(v for (n, _), v in out.samples.items() if n == "eightbyeight_group_calls_total")
    assert total == 4  # the member's ring and the non-group call are not group calls
    assert store.requests[-1]["isSimplified"] == "true"


@pytest.mark.parametrize("unusable", ["talkTimeMS", "calleeHoldDurationMS"])
def test_a_leg_with_an_unusable_talk_or_hold_time_records_no_wait(unusable: str) -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    collector = leg_collector(store, clock, {})
    collector.collect()
    clock.advance(60)
    t = clock() - 5
    store.add({**leg("q1", t, lra="110081"), unusable: "n/a"})
    store.add({**leg("q2", t, lra="110081"), "calleeHoldDurationMS": None})  # null: no hold
    out = Recorder(collector.collect())
    queue = {
        "pbx": "acmecorp",
        "group_type": "queue",
        "group": "Sales Queue",
        "extension": "110081",
        "outcome": "answered",
    }
    assert out.get("eightbyeight_group_calls_total", **queue) == 2
    # Counted as unusable, and not taken as 0: that would record all 80 s of q1 as waiting.
    assert collector.unusable.count == 1
    assert out.get("eightbyeight_group_call_wait_seconds_count", **queue) == 1
    assert out.get("eightbyeight_group_call_wait_seconds_sum", **queue) == 20  # q2: 80 - 60


def test_a_leg_whose_group_is_not_known_yet_is_counted_once_it_is() -> None:
    # The exporter started while the ring group summary failed, and it went on failing for
    # half an hour, twice the look-back: the ring group's legs are read, their group is
    # unknown, so they are not remembered and the polls keep asking from the oldest of them;
    # once the summary lists the group, every one is counted, once.
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    store.add(leg("r0", NOW - 3600, lra="2001", callee="2001", name="Front Desk"))
    store.add(leg("u0", NOW - 3000, lra="1001", callee="1001", name="A User"))  # not a group
    groups = Groups({}, listed_until=None)
    collector = leg_collector(store, clock, groups)
    ring = {
        "pbx": "acmecorp",
        "group_type": "ring_group",
        "group": "Front Desk",
        "extension": "2001",
    }
    for minute in range(30):
        if minute % 5 == 1:
            store.add(leg(f"r{minute}", clock() - 5, lra="2001", callee="2001", name="Front Desk"))
        out = Recorder(collector.collect())
        assert out.get("eightbyeight_group_calls_total", outcome="answered", **ring) is None
        clock.advance(60)
    assert collector.records_pending == 8  # 7 ring group legs and the user's, all pending
    assert store.requests[-1]["startTime"] == "2025-11-18 16:00:00"  # from the oldest, r0
    groups.groups[("acmecorp", "2001")] = ("ring_group", "Front Desk")  # the summary recovered
    groups.listed_until = clock()
    for _ in range(3):
        out = Recorder(collector.collect())
        assert out.get("eightbyeight_group_calls_total", outcome="answered", **ring) == 7
        clock.advance(60)
    # The user's leg is known not to be a group's now: nothing waits, the window is back to
    # the look-back.
    assert collector.records_pending == 0 and collector.pending_from is None
    assert store.requests[-1]["startTime"] == "2025-11-18 17:21:00"


def test_a_leg_to_a_group_newer_than_the_summarys_last_answer_waits_for_the_next() -> None:
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    groups = Groups({}, listed_until=NOW - 30)  # the summary's last answer: 30 s ago
    collector = leg_collector(store, clock, groups)
    store.add(leg("old", NOW - 60, lra="1001", callee="1001", name="A User"))
    store.add(leg("new", NOW - 10, lra="2002", callee="2002", name="New Group"))
    collector.collect()
    assert collector.records_pending == 1  # `old` is no group's; `new` may be a new group's
    groups.groups[("acmecorp", "2002")] = ("ring_group", "New Group")
    groups.listed_until = NOW + 50
    clock.advance(60)
    out = Recorder(collector.collect())
    assert (
        out.get(
            "eightbyeight_group_calls_total",
            outcome="answered",
            pbx="acmecorp",
            group_type="ring_group",
            group="New Group",
            extension="2002",
        )
        == 1
    )


@pytest.mark.parametrize("step", [7200.0, -1800.0])
def test_a_clock_stepped_ahead_or_back_loses_and_repeats_nothing(step: float) -> None:
    # For three polls the exporter's idea of the API's time is off by `step` (its clock was
    # stepped and the skew median has not followed yet); the API's Date headers are right.
    clock = FakeClock(NOW)
    store = CdrStore(clock)
    store.dated = True
    collector = records_collector(store, clock)
    added = 0
    for minute in range(60):
        store.misjudged = step if 40 <= minute < 43 else 0.0
        store.add(record(f"c{minute}", clock() - 5))
        added += 1
        families = collector.collect()
        clock.advance(60)
    assert calls(families, pbx="acmecorp", direction="inbound", outcome="answered") == added
    for asked in store.requests:
        assert asked["startTime"] < asked["endTime"]
