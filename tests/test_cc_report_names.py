"""Contact Center report families: each name has one label set whatever reports are
configured (the subject in the name says the grouping), counts have a noun, and reports that
share a grouping share a family told apart by `report`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.metrics.contact_center import (
    KNOWN_REPORT_METRICS,
    report_family,
    report_metric,
    report_subject,
)
from exporter.pollers.cc_reports import REPORT_METRIC, SPECS
from simulator import Simulator
from simulator.cc import REPORT_TYPES
from tests.support.clock import FakeClock
from tests.support.page import PageReader, promtool_check, samples
from tests.support.vendor_docs import cc_guide_report_type_sample

START = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC: the simulated contact centers are open
# Words a count's name ends in when it says what it counts.
NOUNS = ("interactions", "holds", "timeouts", "transfers", "initiated", "received", "completed")


def test_every_known_report_metric_is_named_by_what_it_measures() -> None:
    for key in KNOWN_REPORT_METRICS:
        metric, unit = report_metric(key)
        assert not metric.startswith("avg_"), key
        if unit == "ratio":
            assert metric.endswith("_ratio"), key
        elif unit == "duration":
            assert metric.endswith("_seconds"), key
        else:
            # A count names its noun: `transfers_received` ends in a participle but counts
            # transfers, so the noun may come before it.
            words = metric.split("_")
            assert any(noun in words for noun in NOUNS), key
    assert report_metric("accepted") == ("accepted_interactions", "count")
    assert report_metric("acceptedInSlaPercentage") == (
        "accepted_in_sla_interactions_ratio",
        "ratio",
    )
    assert report_metric("avgSpeedToAnswer") == ("average_speed_to_answer_seconds", "duration")
    assert report_metric("hold") == ("holds", "count")
    assert report_metric("busyTimePercentage") == ("busy_time_ratio", "ratio")
    # A metric nobody documented follows the same rule, without a noun it cannot know.
    assert report_metric("someNewCount") == ("some_new_count", "count")


def test_the_known_metrics_are_those_the_guide_and_the_simulator_offer() -> None:
    offered = set(cc_guide_report_type_sample()["metrics"])
    for report_type in REPORT_TYPES.values():
        offered |= {metric.name for metric in report_type.metrics}
    assert offered == set(KNOWN_REPORT_METRICS)


def test_the_subject_names_every_dimension_label() -> None:
    assert report_subject("queue", "none") == "queue"
    assert report_subject("media-and-channel-and-queue", "none") == "media_channel_queue"
    assert report_subject("group-and-agent", "hour") == "group_agent_interval"
    assert report_family("agent", "avgHandlingTime") == (
        "eightbyeight_cc_report_agent_average_handling_time_seconds",
        "duration",
    )
    # What the catalogue's pattern stands for, and not the meta families.
    assert REPORT_METRIC.matches(report_family("media_queue", "accepted")[0])
    assert {spec.name for spec in SPECS if spec is not REPORT_METRIC}.isdisjoint(
        report_family(subject, key)[0]
        for subject in ("queue", "agent", "group", "media", "channel")
        for key in KNOWN_REPORT_METRICS
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[Simulator]:
    with Simulator(
        seed=5, host="127.0.0.1", port=0, clock=clock, cc_report_delay_seconds=0
    ) as simulator:
        yield simulator


def queue_report(name: str, group_by: str = "queue", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "queue-interactions-summary",
        "group_by": group_by,
        "window": "today",
        "metrics": ["accepted", "acceptedPercentage"],
        **extra,
    }


def test_reports_grouped_otherwise_get_other_families_each_with_one_label_set(
    sim: Simulator, clock: FakeClock
) -> None:
    tenant = sim.cc.tenants[0]
    first_queue = sim.cc.queues(tenant)[0]
    reports = [
        queue_report("queues_all"),
        # Same grouping and metrics, another filter: the same families, apart by `report`.
        queue_report("queues_first", filters=[{"name": "queue", "values": [first_queue.id]}]),
        queue_report("media_queues", "media-and-queue"),
        queue_report("queues_hourly", granularity="hour"),
    ]
    config = {
        "work_analytics": {"enabled": False},
        "contact_center": {
            "enabled": True,
            "base_url": sim.root_url,
            "client_id": sim.cc_client_id,
            "client_secret": sim.cc_client_secret,
            "tenants": [tenant],
            "time_zone": "America/New_York",
            "reports": reports,
        },
    }
    exporter = build_exporter(
        load_config_data(config), process_metrics=False, clock=clock, sleep=clock.advance
    )
    try:
        assert exporter.scheduler.run_once()
        text = PageReader(exporter.exposition).text()
    finally:
        exporter.close()
    promtool_check(text)
    label_sets: dict[str, set[frozenset[str]]] = {}
    reports_of: dict[str, set[str]] = {}
    out = samples(text)
    for name, labels in out:
        if REPORT_METRIC.matches(name) and name.endswith(("_interactions", "_ratio")):
            label_sets.setdefault(name, set()).add(frozenset(dict(labels)))
            reports_of.setdefault(name, set()).add(dict(labels)["report"])
    assert reports_of == {
        "eightbyeight_cc_report_queue_accepted_interactions": {"queues_all", "queues_first"},
        "eightbyeight_cc_report_queue_accepted_interactions_ratio": {"queues_all", "queues_first"},
        "eightbyeight_cc_report_media_queue_accepted_interactions": {"media_queues"},
        "eightbyeight_cc_report_media_queue_accepted_interactions_ratio": {"media_queues"},
        "eightbyeight_cc_report_queue_interval_accepted_interactions": {"queues_hourly"},
        "eightbyeight_cc_report_queue_interval_accepted_interactions_ratio": {"queues_hourly"},
    }
    base = {"tenant", "report", "queue", "queue_id"}
    assert label_sets == {
        name: {
            frozenset(
                base
                | ({"media"} if "media_queue" in name else set())
                | ({"interval_start"} if "interval" in name else set())
            )
        }
        for name in label_sets
    }
    # The filtered report's row equals the unfiltered one's for its queue.
    row = {"tenant": tenant, "queue": first_queue.name, "queue_id": first_queue.id}
    name = "eightbyeight_cc_report_queue_accepted_interactions"
    values = {
        report: out[(name, frozenset({**row, "report": report}.items()))]
        for report in ("queues_all", "queues_first")
    }
    assert values["queues_all"] == values["queues_first"]
