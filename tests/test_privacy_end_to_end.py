"""Personal data end to end: with every collector of the demo on (extension summaries, agents one
by one, Contact Center agents and a report grouped by agent) against the simulator, the default
config puts no person's name, e-mail address or user name anywhere on the page; each section's
`personal_data: true` brings them back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.demo import demo_config_data
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.end_to_end import BUSINESS_HOURS
from tests.support.page import PageReader

pytestmark = pytest.mark.e2e

# The families that carry people when allowed: each must be on the page, so that a page
# without names proves the switch, not a collector that did not run.
PERSON_FAMILIES = (
    "eightbyeight_extension_info",
    "eightbyeight_agent_info",
    "eightbyeight_cc_agent_info",
    "eightbyeight_cc_report_agent_accepted_interactions",
)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    clock = FakeClock(BUSINESS_HOURS)
    with Simulator(
        seed=7, host="127.0.0.1", port=0, clock=clock, cc_report_delay_seconds=0
    ) as simulator:
        yield simulator


def people(sim: Simulator) -> dict[str, set[str]]:
    """The simulator's people, by what of them could leak."""
    agents = sim.account.all_agents()
    return {
        "e-mail": {a.email for a in agents},
        "user name": {a.username for a in agents},
        "name": {n for a in agents for n in (a.first_name, a.last_name, a.name)},
        "Contact Center name": {
            agent.name for tenant in sim.cc.tenants for agent in sim.cc.agents(tenant)
        },
    }


def page(sim: Simulator, personal_data: bool | None) -> str:
    """One run of the demo's collectors; `personal_data` None: the sections' defaults."""
    data = demo_config_data({}, sim)
    for section in (data["work_analytics"], data["contact_center"]):
        section.pop("personal_data")  # the demo's own `true`
        if personal_data is not None:
            section["personal_data"] = personal_data
    exporter = build_exporter(
        load_config_data(data), process_metrics=False, sleep=lambda _seconds: None
    )
    try:
        assert exporter.scheduler.run_once(), [
            (r.name, r.state.last_error) for r in exporter.scheduler.runners if r.state.last_error
        ]
        return PageReader(exporter.exposition).text()
    finally:
        exporter.close()


def label_values(text: str) -> dict[str, set[str]]:
    """Every label value of the page, by family."""
    values: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values.setdefault(sample.name, set()).update(sample.labels.values())
    return values


def test_the_default_config_exports_no_personal_data(sim: Simulator) -> None:
    text = page(sim, None)
    values = label_values(text)
    assert set(PERSON_FAMILIES) <= set(values)
    everywhere = set().union(*values.values())
    for kind, strings in people(sim).items():
        assert strings, kind
        assert sorted(everywhere & strings) == [], kind
    # Nor in a HELP text or anywhere else: the e-mail addresses and user names are unique.
    leaked = [s for s in people(sim)["e-mail"] | people(sim)["user name"] if s in text]
    assert leaked == []
    # Where a name would be, the label is there, empty.
    info = [
        s.labels
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "eightbyeight_extension_info"
    ]
    assert info and all(i["email"] == i["first_name"] == "" for i in info)
    assert all(i["department"] for i in info)  # the organisation's details stay


def test_personal_data_true_brings_the_names_back(sim: Simulator) -> None:
    values = label_values(page(sim, True))
    who = people(sim)
    expected: dict[str, tuple[str, set[str]]] = {
        "eightbyeight_extension_info": ("e-mail", who["e-mail"]),
        "eightbyeight_agent_info": ("name", who["name"]),
        "eightbyeight_cc_agent_info": ("Contact Center name", who["Contact Center name"]),
        "eightbyeight_cc_report_agent_accepted_interactions": (
            "Contact Center name",
            who["Contact Center name"],
        ),
    }
    for family, (kind, strings) in expected.items():
        assert values[family] & strings, (family, kind)
    assert values["eightbyeight_extension_info"] & who["user name"]
    assert values["eightbyeight_extension_info"] & who["name"]


def test_the_demo_turns_personal_data_on_unless_the_users_file_says_not(sim: Simulator) -> None:
    on = load_config_data(demo_config_data({}, sim))
    assert on.work_analytics.personal_data and on.contact_center.personal_data
    off = {"personal_data": False}
    data = demo_config_data({"work_analytics": off, "contact_center": off}, sim)
    mine = load_config_data(data)
    assert not mine.work_analytics.personal_data and not mine.contact_center.personal_data
