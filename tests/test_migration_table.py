"""docs/migration.md stays honest: every new name is one the exporter exports (in the
catalogue), no old name is, and every report metric the exporter knows has its row."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from exporter.catalogue import entries
from exporter.metrics.contact_center import (
    KNOWN_REPORT_METRICS,
    REPORT_PREFIX,
    report_family,
    report_subject,
)
from exporter.pollers.cc_reports import REPORT_METRIC
from simulator.cc import REPORT_TYPES
from tests.support.vendor_docs import cc_guide_report_type_sample

ROOT = Path(__file__).resolve().parents[1]
MIGRATION = ROOT / "docs" / "migration.md"
ROW = re.compile(r"^\| `(eightbyeight_[^`]+)` \| `(eightbyeight_[^`]+)` \| (.+) \|$")
SUBJECT = "<subject>"


def rows() -> list[tuple[str, str, str]]:
    found = [
        (match[1], match[2], match[3].strip("` "))
        for line in MIGRATION.read_text(encoding="utf-8").splitlines()
        if (match := ROW.match(line))
    ]
    assert found, "no table rows in docs/migration.md"
    return found


def subjects() -> set[str]:
    """The subjects of every grouping the guide and the simulator offer, with and without a
    granularity."""
    groupings = {str(g["name"]) for g in cc_guide_report_type_sample()["groupBy"]}
    for report_type in REPORT_TYPES.values():
        groupings |= {name for name, _ in report_type.groupings}
    return {report_subject(g, granularity) for g in groupings for granularity in ("none", "hour")}


@functools.cache
def exported() -> frozenset[str]:
    """Every catalogue row, and every report family the exporter makes for a known grouping
    and metric (the catalogue lists those as one pattern)."""
    names = {entry.name for entry in entries()}
    assert REPORT_METRIC.name in names
    return frozenset(
        names
        | {report_family(subject, key)[0] for subject in subjects() for key in KNOWN_REPORT_METRICS}
    )


def catalogued(name: str) -> bool:
    return name in exported()


def test_new_names_are_exported_and_old_names_are_not() -> None:
    for old, new, _ in rows():
        if SUBJECT in new and new != REPORT_METRIC.name:
            # One row per metric stands for every subject: try each.
            news = [new.replace(SUBJECT, subject) for subject in sorted(subjects())]
        else:
            news = [new]
        for name in news:
            assert catalogued(name), f"{name} (new name of {old}) is not exported"
        assert not catalogued(old), f"{old} (old name of {new}) is still exported"
    names = {entry.name for entry in entries()}
    patterns = [(old, new) for old, new, _ in rows() if "<" in old]
    assert patterns == [("eightbyeight_cc_report_<metric>", REPORT_METRIC.name)]
    assert REPORT_METRIC.name in names and "eightbyeight_cc_report_<metric>" not in names


def test_every_known_report_metric_has_its_row() -> None:
    by_key = {vendor: new for _, new, vendor in rows() if new.startswith(REPORT_PREFIX)}
    for key in KNOWN_REPORT_METRICS:
        assert by_key.get(key) == report_family(SUBJECT, key)[0], key


def test_the_check_would_catch_a_stale_row() -> None:
    # The old names are really gone and the new ones really there: the helper tells them apart.
    assert catalogued("eightbyeight_cc_report_queue_accepted_interactions")
    assert not catalogued("eightbyeight_cc_report_accepted")
    assert not catalogued("eightbyeight_cc_report_avg_handling_time_seconds")
    assert not catalogued("eightbyeight_ring_group_ring_group_time_seconds")
    assert catalogued("eightbyeight_ring_group_time_in_group_seconds")


def test_the_readme_links_the_table_from_its_metric_section() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Metrics\n") :]
    section = section[: section.index("\n## ", 1)]
    assert "(docs/migration.md)" in section


RULE_ROW = re.compile(r"^\| `(queue:[^`]+)` \| `(queue:[^`]+)`")


def test_the_renamed_recording_rules_are_the_generated_ones() -> None:
    from mixin.config import MixinConfig
    from mixin.rules import rule_groups

    recorded = {
        rule["record"]
        for group in rule_groups(MixinConfig())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    renamed = [
        (match[1], match[2])
        for line in MIGRATION.read_text(encoding="utf-8").splitlines()
        if (match := RULE_ROW.match(line))
    ]
    assert len(renamed) == 2
    for old, new in renamed:
        assert new in recorded, new
        # A rule kept under its name is said so in the same row.
        assert old not in recorded or old == new, old
