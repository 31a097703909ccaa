"""Property-based tests (hypothesis) of every parser of an 8x8 answer.

Why: the vendor's answers drift from its own examples (camelCase here, PascalCase there, numbers
as strings, null where a number belongs, keys missing, records repeated). Whatever arrives, a
collector must either build a valid page or fail with an `ExporterError` (the runner reports it
and keeps serving the last good snapshot), never with a TypeError or KeyError; and a record it
cannot use is counted in its self metrics and logged once, never dropped silently.

Two kinds of answers feed each parser, driven the way the exporter drives it (`collect()` on a
collector whose client answers with the generated body, over HTTP with `responses` where a real
client parses it):

* arbitrary JSON, as the whole answer and (through the near-miss "replace" change) in place
  of single fields;
* near misses of the vendor's examples (`tests/fixtures`, the Contact Center specs): a key
  dropped or re-cased, a value of the wrong type, a list truncated, a record duplicated.

The properties checked on every answer are in `Runs`; the `*_are_counted` tests add bad records
of known kinds to a vendor example and check that each one is counted exactly once.
"""

from __future__ import annotations

import copy
import json
import math
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any, Generic, TypeVar

import pytest
import requests
import requests.adapters
import responses
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from exporter.api.clock import ApiClock
from exporter.api.contact_center import ContactCenterClient, _header_int, parse_links
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.core.errors import ExporterError, MalformedResponseError
from exporter.core.windows import parse_window
from exporter.metrics.call_queues import CALL_QUEUE_METRICS, REALTIME_METRICS, ApiChoice
from exporter.metrics.contact_center import (
    AGENT_LINE_RE,
    AGENT_STATUS_KEYS,
    TABLES,
    parse_key,
    qualifier,
)
from exporter.metrics.rendering import Family, render_families
from exporter.metrics.summaries import fold
from exporter.pollers.agent_directory import AgentDirectoryPoller
from exporter.pollers.base import Poller
from exporter.pollers.call_legs import CallLegPoller
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.call_records import CallRecordPoller
from exporter.pollers.cc_reports import check_report
from exporter.pollers.discovery import DiscoveryPoller, FixedDirectory
from exporter.pollers.queue_agents import QueueAgentPoller, status_word
from exporter.pollers.ring_group_sources import FixedRingGroups, RingGroup
from exporter.pollers.summaries import (
    CompanySummaryPoller,
    ExtensionPoller,
    RingGroupMemberPoller,
    RingGroupPoller,
    SummaryPoller,
)
from tests.support import agents as agent_support
from tests.support import contact_center as cc
from tests.support import work_analytics as wa
from tests.support.call_queues import CannedClient, directory
from tests.support.clock import FakeClock
from tests.support.files import REPO, fixture_json
from tests.support.historical import DIRECTORY, NOW, Groups, summary_kwargs

# Deterministic (CI sees the same examples every time) and bounded: the file runs in seconds.
FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FEWER = settings(FAST, max_examples=40)

INVALID = "eightbyeight_collector_records_invalid"
UNUSABLE = "eightbyeight_collector_values_unusable"
DUPLICATE = "eightbyeight_collector_records_duplicate"
PROBLEM_COUNTERS = (INVALID, UNUSABLE, DUPLICATE)
# Warnings about conditions rather than about records: each has its own rule (once per change
# of the dropped count, once per window, once per run of a truncated report, ...).
NOT_RECORD_WARNINGS = {
    "series_limit_reached",
    "series_limit_cleared",
    "cc_report_truncated",
    "discovery_pbx_not_found",
    "window_clamped_to_retention",
    "api_request_retry",
    "cc_report_failed",
}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers come from `responses` only: a request made outside a mock fails at once rather
    than reaching the vendor (or waiting for its timeouts)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise requests.ConnectionError("no network in the property tests")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)


# --- strategies ---------------------------------------------------------------------------------

# Keys the parsers look for, so arbitrary objects reach past the first check now and then.
KNOWN_KEYS = [
    "id",
    "name",
    "extension",
    "metrics",
    "metricsSummary",
    "callQueues",
    "_embedded",
    "_links",
    "next",
    "page",
    "totalPages",
    "number",
    "pbxList",
    "siteList",
    "queueList",
    "deleted",
    "siteId",
    "meta",
    "data",
    "scrollId",
    "callId",
    "legId",
    "disconnectedTimeUTC",
    "pbxId",
    "PbxId",
    "Extension",
    "key",
    "value",
    "items",
    "total",
    "status",
    "reason",
    "access_token",
    "expires_in",
    "groupBy",
    "type",
]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=16,
)
# Values of the wrong type for a field: words for numbers, numbers for words, null, containers,
# booleans, numbers no float holds, NaN and infinities (as JSON numbers and as strings), negative
# durations, a lone surrogate (valid JSON: "\ud800"), a clock duration out of range.
WRONG = st.sampled_from(
    [
        None,
        True,
        False,
        "",
        " ",
        "n/a",
        "12",
        "-3",
        "1e3",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "1e999",
        0,
        -1,
        -86_400_000,
        2**63,
        10**400,
        -(10**400),
        1.5,
        -0.0,
        float("nan"),
        float("inf"),
        float("-inf"),
        [],
        [1],
        ["a", None],
        {},
        {"value": 1},
        "\ud800",
        "2025-11-18T16:00:00.000Z",
        "99:99:99",
        "1" * 400 + ":00:00",
    ]
)
ODD = WRONG | JSON


def _recase(key: str) -> str:
    """PascalCase <-> camelCase: the drift between the vendor's endpoints."""
    if not key:
        return key
    return (key[0].lower() if key[0].isupper() else key[0].upper()) + key[1:]


def _nodes(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _nodes(value, (*path, index))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


@st.composite
def near_miss(draw: st.DrawFn, example: Any, max_changes: int = 3) -> Any:
    """The example with one to `max_changes` changes of the kinds the vendor's answers show."""
    doc = copy.deepcopy(example)
    for _ in range(draw(st.integers(1, max_changes))):
        path, node = draw(st.sampled_from(list(_nodes(doc))))
        changes = ["replace"]
        if isinstance(node, dict) and node:
            changes += ["drop", "recase"]
        if isinstance(node, list) and node:
            changes += ["truncate", "duplicate"]
        change = draw(st.sampled_from(changes))
        if change == "replace":
            doc = _set(doc, path, draw(ODD))
        elif change in ("drop", "recase"):
            key = draw(st.sampled_from(sorted(node)))
            value = node.pop(key)
            if change == "recase":
                node[_recase(key)] = value
        elif change == "truncate":
            del node[draw(st.integers(0, len(node) - 1)) :]
        else:
            record = copy.deepcopy(node[draw(st.integers(0, len(node) - 1))])
            node.insert(draw(st.integers(0, len(node))), record)
    return doc


def answers(example: Any) -> st.SearchStrategy[Any]:
    """What an endpoint may send: near misses of its example, or any JSON at all."""
    return near_miss(example) | JSON


@st.composite
def with_bad(
    draw: st.DrawFn, good: list[Any], bad: st.SearchStrategy[Any], first: int = 0
) -> tuple[list[Any], int]:
    """`good` with one to three records of `bad` inserted (at `first` or later): the list and
    how many were inserted."""
    records = copy.deepcopy(good)
    count = draw(st.integers(1, 3))
    for _ in range(count):
        records.insert(draw(st.integers(first, len(records))), copy.deepcopy(draw(bad)))
    return records, count


NON_OBJECTS = st.sampled_from([None, True, 0, 12.5, "", "record", [], [1, "a"]])


def without(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


# --- what every answer must give ----------------------------------------------------------------

Series = tuple[str, tuple[tuple[str, str], ...]]


def render(families: Sequence[Family]) -> dict[Series, float]:
    """The families as /metrics shows them, parsed back: the bytes a snapshot serves (rendered
    as the runner renders them) are valid text, each series once, no NaN."""
    names = [family.name for family in families]
    assert len(names) == len(set(names)), f"a family twice: {sorted(names)}"
    text = b"".join(f.header(False) + f.samples for f in render_families(families)).decode()
    page: dict[Series, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series = (sample.name, tuple(sorted(sample.labels.items())))
            assert series not in page, f"series twice: {series}"
            assert not math.isnan(sample.value), f"NaN: {series}"
            page[series] = sample.value
    return page


def problems(collector: Poller) -> dict[str, float]:
    values = collector.self_metrics()
    return {name: values.get(name, 0.0) for name in PROBLEM_COUNTERS}


PollerT = TypeVar("PollerT", bound=Poller, covariant=True)


class Runs(Generic[PollerT]):
    """Runs a collector like the runner does and checks every run: only an ExporterError may
    escape; a page is valid text without a series twice or NaN; the problem counters never go
    down; a warning about records is logged at most once per collector, event and kind/key."""

    def __init__(self, poller: PollerT) -> None:
        self.poller = poller
        self.logs: list[MutableMapping[str, Any]] = []
        self.counts: list[dict[str, float]] = [problems(poller)]
        self.errors: list[ExporterError] = []
        self.pages: list[dict[Series, float] | None] = []  # one per run, None when it failed

    def run(self) -> dict[Series, float] | None:
        with capture_logs() as logs:
            try:
                families = self.poller.collect()
            except ExporterError as exc:
                self.errors.append(exc)
                families = None
        self.logs.extend(logs)
        counts = problems(self.poller)
        before = self.counts[-1]
        assert all(counts[name] >= before[name] for name in counts), (before, counts)
        self.counts.append(counts)
        self.check_logged_once()
        self.pages.append(None if families is None else render(families))
        return self.pages[-1]

    def record_warnings(self) -> list[MutableMapping[str, Any]]:
        return [
            e
            for e in self.logs
            if e.get("log_level") in ("warning", "error") and e["event"] not in NOT_RECORD_WARNINGS
        ]

    def check_logged_once(self) -> None:
        keys = Counter(
            (e["event"], e.get("collector"), e.get("kind"), e.get("key"))
            for e in self.record_warnings()
        )
        repeated = [key for key, times in keys.items() if times > 1]
        assert not repeated, f"logged more than once: {repeated}"

    def delta(self, name: str, run: int = 1) -> float:
        """How much a problem counter grew in run `run` (1 is the first)."""
        return self.counts[run][name] - self.counts[run - 1][name]


def json_response(
    body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    return 200, headers or {}, json.dumps(body)


def page_number(request: requests.PreparedRequest) -> int:
    """The `page` asked for; -1 when it is not a number (a Link header may hold anything)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url or "").query)
    try:
        return int(query.get("page", ["0"])[0])
    except ValueError:
        return -1


def mock() -> responses.RequestsMock:
    return responses.RequestsMock(assert_all_requests_are_fired=False)


# --- Work Analytics: tokens ---------------------------------------------------------------------


def wa_client(wall: FakeClock | None = None) -> WorkAnalyticsClient:
    """`wall`: the API's clock the windows follow (the vendor's answers carry no Date here)."""
    return wa.make_client(
        CollectorRegistry(),
        wa.Sleeps(),
        initial_backoff=0.001,
        max_backoff=0.002,
        api_clock=ApiClock("work_analytics", wall or FakeClock(NOW)),
    )


@FAST
@given(body=answers(fixture_json("token.json")))
@example(body={"access_token": "t", "expires_in": 10**400})  # float() overflows
@example(body={"access_token": "t", "expires_in": "NaN"})  # never renewed
@example(body={"access_token": "t", "expires_in": float("inf")})
def test_work_analytics_token_answers(body: Any) -> None:
    with mock() as rsps:
        rsps.add(
            responses.POST, wa.TOKEN_URL, body=json.dumps(body), content_type="application/json"
        )
        try:
            token, lifetime = wa_client()._fetch_token()
        except ExporterError:
            return
    assert isinstance(token, str)
    assert math.isfinite(lifetime) and lifetime > 0  # else the token is never renewed


CC_TOKEN = {"access_token": "eyJhbGciOi", "token_type": "BearerToken", "expires_in": "1799"}


@FAST
@given(body=answers(CC_TOKEN))
@example(body={**CC_TOKEN, "expires_in": 10**400})
@example(body={**CC_TOKEN, "expires_in": "nan"})
def test_contact_center_token_answers(body: Any) -> None:
    with mock() as rsps:
        rsps.add(
            responses.POST, cc.TOKEN_URL, body=json.dumps(body), content_type="application/json"
        )
        try:
            token, lifetime = cc.make_client()._fetch_token()
        except ExporterError:
            return
    assert isinstance(token, str)
    assert math.isfinite(lifetime) and lifetime > 0


# --- Work Analytics: discovery over HAL pages ---------------------------------------------------

PBXES, SITES = fixture_json("pbxes.json"), fixture_json("sites.json")
QUEUES = fixture_json("queues_page0.json")
QUEUES["_embedded"]["queueList"] += fixture_json("queues_page1.json")["_embedded"]["queueList"]
QUEUES["page"] = {"size": 5, "totalElements": 5, "totalPages": 1, "number": 0}
del QUEUES["_links"]["next"]
SITE_URL = re.compile(re.escape(wa.BASE) + r"/v2/pbxes/[^/]+/sites")
QUEUE_URL = re.compile(re.escape(wa.BASE) + r"/v2/pbxes/[^/]+/queues")


def run_discovery(pbxes: Any, sites: Any, queues: Any, times: int = 2) -> Runs[DiscoveryPoller]:
    def first_page(body: Any, list_key: str) -> Callable[[requests.PreparedRequest], Any]:
        empty: dict[str, Any] = {"_embedded": {list_key: []}}
        return lambda request: json_response(body if page_number(request) == 0 else empty)

    runs = Runs(DiscoveryPoller(wa_client(), interval=600, pbx_refs=[]))
    with mock() as rsps:
        wa.add_token(rsps)
        rsps.add_callback(responses.GET, f"{wa.BASE}/v2/pbxes/", first_page(pbxes, "pbxList"))
        rsps.add_callback(responses.GET, SITE_URL, first_page(sites, "siteList"))
        rsps.add_callback(responses.GET, QUEUE_URL, first_page(queues, "queueList"))
        for _ in range(times):
            runs.run()
    return runs


@FAST
@given(pbxes=answers(PBXES))
@example(pbxes={"_embedded": {"pbxList": [{"id": "p", "name": "a\ud800b"}]}})  # lone surrogate
@example(pbxes={"_embedded": {"pbxList": [{"id": "p", "name": "a", "deleted": "false"}]}})
def test_pbx_list_answers(pbxes: Any) -> None:
    runs = run_discovery(pbxes, SITES, QUEUES)
    directory_found = runs.poller.directory
    if directory_found is not None:
        ids = [p.id for p in directory_found.pbxes]
        names = [p.name for p in directory_found.pbxes]
        # Other collectors label by PBX name and ask per PBX id: each must be there once.
        assert len(ids) == len(set(ids)) and len(names) == len(set(names))


@FAST
@given(sites=answers(SITES), queues=answers(QUEUES))
@example(sites={**SITES, "page": {"totalPages": None, "number": 0}}, queues=QUEUES)
@example(sites={**SITES, "page": {"totalPages": "2", "number": float("inf")}}, queues=QUEUES)
def test_site_and_queue_list_answers(sites: Any, queues: Any) -> None:
    run_discovery(PBXES, sites, queues)


SITE = SITES["_embedded"]["siteList"][0]
QUEUE = QUEUES["_embedded"]["queueList"][0]


def bad_directory_items(item: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Sites or queues the directory cannot hold: not an object, or without an id."""
    return (
        NON_OBJECTS
        | st.just(without(item, "id"))
        | st.sampled_from([None, "", [], {}]).map(lambda v: {**item, "id": v})
    )


@FAST
@given(
    sites=with_bad(SITES["_embedded"]["siteList"], bad_directory_items(SITE)),
    queues=with_bad(QUEUES["_embedded"]["queueList"], bad_directory_items(QUEUE)),
)
def test_bad_sites_and_queues_are_counted(
    sites: tuple[list[Any], int], queues: tuple[list[Any], int]
) -> None:
    (site_list, bad_sites), (queue_list, bad_queues) = sites, queues
    runs = run_discovery(
        PBXES,
        {"_embedded": {"siteList": site_list}},
        {"_embedded": {"queueList": queue_list}},
        times=1,
    )
    assert not runs.errors
    assert runs.delta(INVALID) == bad_sites + bad_queues
    assert runs.record_warnings()
    found = runs.poller.directory
    assert found is not None
    assert SITE["id"] in found.sites and QUEUE["id"] in found.queues  # good ones kept


@FAST
@given(count=st.integers(1, 3))
def test_a_pbx_listed_twice_is_counted_and_exported_once(count: int) -> None:
    pbx = PBXES["_embedded"]["pbxList"][0]
    twin = {**pbx, "id": "another-id"}  # another id under the same name: labels would clash
    body = {"_embedded": {"pbxList": [pbx] * (count + 1) + [twin]}}
    runs = run_discovery(body, SITES, QUEUES, times=2)
    assert not runs.errors and runs.delta(INVALID) == count + 1
    found = runs.poller.directory
    assert found is not None
    assert [p.id for p in found.pbxes] == [pbx["id"]]


# --- Work Analytics: call queues (Call Queue Metric API and the deprecated realtime API) --------

CALL_QUEUE_EXAMPLES = {
    "call_queue_metrics": fixture_json("call_queue_metrics.json"),
    "realtime": fixture_json("realtime_call_queues.json"),
}
CALL_QUEUE_EXAMPLES["call_queue_metrics"]["metricsSummary"] = {
    "ongoingWaitingCalls": 3,
    "acceptedCallsPercentage": 80,
}


def call_queue_runs(api: ApiChoice, body: Any, times: int = 2) -> Runs[CallQueuePoller]:
    client: Any = CannedClient({api: body})  # answers like WorkAnalyticsClient
    runs = Runs(CallQueuePoller(client, directory, interval=30, api=api))
    for _ in range(times):
        runs.run()
    return runs


@pytest.mark.parametrize("api", sorted(CALL_QUEUE_EXAMPLES))
@FAST
@given(data=st.data())
def test_call_queue_answers(api: ApiChoice, data: st.DataObject) -> None:
    call_queue_runs(api, data.draw(answers(CALL_QUEUE_EXAMPLES[api])))


def bad_queue_items(item: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Queue items the collector cannot use: not an object, metrics that are not an object,
    nothing to say which queue it is, or a second copy of a queue."""
    return (
        NON_OBJECTS
        | st.sampled_from(["n/a", 3, [1], None, True]).map(lambda v: {**item, "metrics": v})
        | st.just(without(item, "metrics", "id"))
        | st.just(without(item, "id", "name", "extension"))
        | st.sampled_from([None, ""]).map(lambda v: {**item, "id": v, "name": v, "extension": v})
        | st.just(item)
    )


@pytest.mark.parametrize("api", sorted(CALL_QUEUE_EXAMPLES))
@FAST
@given(data=st.data())
def test_bad_call_queue_items_are_counted(api: ApiChoice, data: st.DataObject) -> None:
    vendor = CALL_QUEUE_EXAMPLES[api]
    items, bad = data.draw(
        with_bad(vendor["callQueues"], bad_queue_items(vendor["callQueues"][-1]))
    )
    clean = call_queue_runs(api, vendor, times=1)
    runs = call_queue_runs(api, {**vendor, "callQueues": items})
    assert runs.delta(INVALID) == bad and runs.delta(INVALID, 2) == bad
    assert runs.record_warnings()
    assert clean.pages[0] and runs.pages[0] == clean.pages[0]  # good queues all there, alone


@pytest.mark.parametrize("api", sorted(CALL_QUEUE_EXAMPLES))
@FAST
@given(data=st.data())
def test_unusable_call_queue_values_are_counted(api: ApiChoice, data: st.DataObject) -> None:
    vendor = copy.deepcopy(CALL_QUEUE_EXAMPLES[api])
    table = CALL_QUEUE_METRICS if api == "call_queue_metrics" else REALTIME_METRICS
    metrics = vendor["callQueues"][0]["metrics"]
    keys = data.draw(
        st.lists(
            st.sampled_from(sorted(k for k in metrics if k in table)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    bad_values = st.sampled_from(
        ["n/a", "NaN", "inf", [1], {"v": 1}, True, 10**400, float("nan"), float("inf")]
    )
    for key in keys:
        metrics[key] = data.draw(bad_values)
    runs = call_queue_runs(api, vendor, times=1)
    assert not runs.errors and runs.delta(UNUSABLE) == len(keys)
    assert runs.record_warnings()


# --- Work Analytics: queue agents and the agent directory ---------------------------------------

QUEUE_AGENT_EXAMPLE = fixture_json("queue_agent_activity.json")
AGENTS_EXAMPLE = fixture_json("agents_page0.json")["_embedded"]["agentList"]


@FAST
@given(body=answers(QUEUE_AGENT_EXAMPLE), per_agent=st.booleans())
@example(
    body={"queuesAgentActivity": [{"queueId": "\ud800", "queueAgentActivity": [{}]}]},
    per_agent=True,
)
def test_queue_agent_answers(body: Any, per_agent: bool) -> None:
    client = agent_support.AgentClient(body)
    runs = Runs(QueueAgentPoller(client, agent_support.directory, interval=30, per_agent=per_agent))
    for _ in range(2):
        page = runs.run()
        if page is not None:  # every queue's statuses add up to its agents, whatever came
            statuses = Counter[tuple[tuple[str, str], ...]]()
            for (name, labels), value in page.items():
                if name == "eightbyeight_queue_agents_by_queue_status":
                    statuses[tuple(kv for kv in labels if kv[0] != "queue_status")] += int(value)
            for (name, labels), value in page.items():
                if name == "eightbyeight_queue_agents_by_user_status":
                    statuses[tuple(kv for kv in labels if kv[0] != "user_status")] -= int(value)
            assert all(count == 0 for count in statuses.values()), statuses


@FAST
@given(agents=answers(AGENTS_EXAMPLE), names=st.booleans())
def test_agent_list_answers(agents: Any, names: bool) -> None:
    client = agent_support.AgentClient(agents=agents if isinstance(agents, list) else [agents])
    runs = Runs(
        AgentDirectoryPoller(client, agent_support.directory, interval=600, personal_data=names)
    )
    for _ in range(2):
        page = runs.run()
        assert page is not None
        assert names or all(dict(labels)["agent"] == "" for _, labels in page)


@FAST
@given(word=ODD)
def test_status_words_are_known_lower_case_or_none(word: Any) -> None:
    label = status_word(word, ("AVAILABLE_IDLE", "ON_CALL"))
    assert label in (None, "available_idle", "on_call")


# --- Work Analytics: historical summaries -------------------------------------------------------

RING_GROUP = RingGroup("demonstrationname", "West", "West Office", "2001")
SUMMARIES: dict[str, tuple[type[SummaryPoller], str, tuple[str, ...]]] = {
    # endpoint -> (collector, fixture, the keys that say whose row it is)
    "/v1/compsum": (CompanySummaryPoller, "compsum.json", ("pbxId",)),
    "/v2/rgsum-groups": (RingGroupPoller, "rgsum_groups.json", ("pbxId", "extension")),
    "/v2/rgsum-members": (RingGroupMemberPoller, "rgsum_members.json", ("extension",)),
    "/v2/extsum": (ExtensionPoller, "extsum.json", ("PbxId", "Extension")),
}


def summary_runs(endpoint: str, body: Any, times: int = 2, windows: int = 2) -> Runs[Poller]:
    kind = SUMMARIES[endpoint][0]
    extra: dict[str, Any] = {}
    if kind is RingGroupMemberPoller:
        extra["ring_groups"] = FixedRingGroups({(RING_GROUP.pbx, RING_GROUP.extension): RING_GROUP})
    chosen = [parse_window("1h"), parse_window("today")][:windows]
    collector = kind(
        wa_client(), FixedDirectory(DIRECTORY), **extra, **summary_kwargs(windows=chosen)
    )
    runs = Runs(collector)
    with mock() as rsps:
        wa.add_token(rsps)
        rsps.add_callback(
            responses.GET, f"{wa.BASE}{endpoint}", lambda request: json_response(body)
        )
        for _ in range(times):
            runs.run()
    return runs


@pytest.mark.parametrize("endpoint", sorted(SUMMARIES))
@FEWER
@given(data=st.data())
def test_summary_answers(endpoint: str, data: st.DataObject) -> None:
    summary_runs(endpoint, data.draw(answers(fixture_json(SUMMARIES[endpoint][1]))))


def bad_summary_rows(row: dict[str, Any], identity: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Rows the collector cannot label: not an object, or a key that says whose row it is
    missing, re-cased or of the wrong type; and a second copy of a row."""
    key = st.sampled_from(identity)
    return (
        NON_OBJECTS
        | key.map(lambda k: without(row, k))
        | key.map(lambda k: {**without(row, k), _recase(k): row[k]})
        | st.tuples(key, st.sampled_from([None, "", [], {}])).map(lambda kv: {**row, kv[0]: kv[1]})
        | st.just(row)
    )


@pytest.mark.parametrize("endpoint", sorted(SUMMARIES))
@FEWER
@given(data=st.data())
def test_bad_summary_rows_are_counted(endpoint: str, data: st.DataObject) -> None:
    _, fixture, identity = SUMMARIES[endpoint]
    rows = fixture_json(fixture)
    body, bad = data.draw(with_bad(rows, bad_summary_rows(rows[-1], identity)))
    clean = summary_runs(endpoint, rows, times=1, windows=1)
    runs = summary_runs(endpoint, body, times=2, windows=1)
    assert not runs.errors
    assert runs.delta(INVALID) == bad and runs.delta(INVALID, 2) == bad
    assert runs.record_warnings()
    assert clean.pages[0] and runs.pages[0] == clean.pages[0]  # good rows all there, alone


@pytest.mark.parametrize("endpoint", sorted(SUMMARIES))
@FEWER
@given(data=st.data())
def test_unusable_summary_values_are_counted(endpoint: str, data: st.DataObject) -> None:
    kind, fixture, _ = SUMMARIES[endpoint]
    rows = fixture_json(fixture)
    numeric = {fold(k) for k in kind.shape.keys}
    keys = data.draw(
        st.lists(
            st.sampled_from(sorted(k for k in rows[0] if fold(k) in numeric)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    for key in keys:
        rows[0][key] = data.draw(st.sampled_from(["n/a", "NaN", [1], {"v": 1}, True, 10**400]))
    runs = summary_runs(endpoint, rows, times=1, windows=1)
    assert not runs.errors and runs.delta(UNUSABLE) == len(keys)
    assert runs.record_warnings()


# --- Work Analytics: call records and call legs (scroll ids) ------------------------------------

# The first poll (answered with no records) is just before the examples' calls ended; the
# second, with the look-back, asks for a window that holds both.
CDR_NOW = 1_643_899_140.0
END = {"meta": {"totalRecordCount": 0, "scrollId": "No Data"}, "data": []}
GROUPS = {
    ("demonstrationname", "120088"): ("queue", "Support"),
    ("demonstrationname", "110081"): ("queue", "Sales Queue"),
}
CDRS: dict[str, tuple[type, str]] = {
    "/v2/call-records": (CallRecordPoller, "call_records.json"),
    "/v2/call-legs": (CallLegPoller, "call_legs.json"),
}


def cdr_runs(endpoint: str, body: Any, polls: int = 3) -> Runs[Poller]:
    """The first poll (the day so far) finds nothing, every later one finds `body` and then the
    end marker when it follows a scroll id."""
    kind, _ = CDRS[endpoint]
    clock = FakeClock(CDR_NOW)
    extra = {"groups": Groups(GROUPS)} if kind is CallLegPoller else {}
    collector = kind(
        wa_client(clock),
        FixedDirectory(DIRECTORY),
        interval=60.0,
        lookback=900.0,
        page_size=100,
        time_zone="UTC",
        wait_buckets=[10.0, 20.0, 30.0, 60.0],
        talk_buckets=[60.0, 300.0],
        **extra,
    )
    runs = Runs(collector)
    polled = [0]

    def answer(request: requests.PreparedRequest) -> Any:
        scrolling = "scrollId" in (urllib.parse.urlsplit(request.url or "").query)
        return json_response(END if polled[0] == 1 or scrolling else body)

    with mock() as rsps:
        wa.add_token(rsps)
        rsps.add_callback(responses.GET, f"{wa.BASE}{endpoint}", answer)
        for _ in range(polls):
            polled[0] += 1
            runs.run()
            clock.advance(60)
    return runs


@pytest.mark.parametrize("endpoint", sorted(CDRS))
@FAST
@given(data=st.data())
def test_call_detail_pages(endpoint: str, data: st.DataObject) -> None:
    cdr_runs(endpoint, data.draw(answers(fixture_json(CDRS[endpoint][1]))))


def bad_cdrs(record: dict[str, Any], endpoint: str) -> st.SearchStrategy[Any]:
    """Records that cannot be counted: not an object, without an id, or without a usable end."""
    ids = ("callId", "legId") if endpoint == "/v2/call-legs" else ("callId",)
    return (
        NON_OBJECTS
        | st.sampled_from(ids).map(lambda k: without(record, k))
        | st.tuples(st.sampled_from(ids), st.sampled_from([None, ""])).map(
            lambda kv: {**record, kv[0]: kv[1]}
        )
        | st.just(without(record, "disconnectedTimeUTC"))
        | st.sampled_from([None, "soon", -1, [], {}, "NaN", 10**400, True]).map(
            lambda v: {**record, "disconnectedTimeUTC": v}
        )
    )


@pytest.mark.parametrize("endpoint", sorted(CDRS))
@FAST
@given(data=st.data())
def test_bad_call_details_are_counted(endpoint: str, data: st.DataObject) -> None:
    page = fixture_json(CDRS[endpoint][1])
    rows, bad = data.draw(with_bad(page["data"], bad_cdrs(page["data"][0], endpoint)))
    duplicates = data.draw(st.integers(0, 2))
    rows += copy.deepcopy(page["data"][:1]) * duplicates
    clean = cdr_runs(endpoint, page)
    runs = cdr_runs(endpoint, {**page, "data": rows})
    assert not runs.errors
    assert runs.delta(INVALID, 2) == bad and runs.delta(DUPLICATE, 2) == duplicates
    assert runs.record_warnings()
    # Good records counted once, bad ones not at all.
    assert clean.pages[1] and runs.pages[1:] == clean.pages[1:]


@pytest.mark.parametrize("endpoint", sorted(CDRS))
@FAST
@given(data=st.data())
def test_unusable_call_detail_durations_are_counted(endpoint: str, data: st.DataObject) -> None:
    page = fixture_json(CDRS[endpoint][1])
    key = "waitTimeMS" if endpoint == "/v2/call-records" else "callTime"
    for row in page["data"]:
        row[key] = data.draw(st.sampled_from(["n/a", "NaN", -5, [1], {"v": 1}, True, 10**400]))
    runs = cdr_runs(endpoint, page)
    counted = 1 if endpoint == "/v2/call-records" else 2  # both example legs are group legs
    assert not runs.errors and runs.delta(UNUSABLE, 2) == counted
    assert runs.delta(UNUSABLE, 3) == 0  # records read again are not counted again
    assert runs.record_warnings()


# --- Contact Center: realtime queues, groups and agents -----------------------------------------

_SPEC = json.loads(
    (
        REPO / "tests/vendor/openapi/8x8_analytics_for_contact_center_real-time_metrics_api.json"
    ).read_text()
)
_KEYS = {
    "queues": _SPEC["paths"]["/queues"]["get"]["parameters"][0]["example"],
    "groups": _SPEC["paths"]["/groups"]["get"]["parameters"][0]["example"],
    "agents": _SPEC["paths"]["/agents"]["get"]["parameters"][3]["schema"]["example"],
}
_WORDS = {
    "status.rt": "Available",
    "statusCode.rt": "",
    "line1Status.rt": "Busy",
    "line2Status.rt": "Idle",
    "lastLogin.rt": "2025-11-18T16:00:00.000Z",
    "lastLogout.rt": None,
}


def cc_item(kind: str, entity_id: str, name: str) -> dict[str, Any]:
    """An item in the spec's schema (SingleQueueResponse, SingleAgentWithMetricsResponse...)
    with every key of the spec's example list."""
    item: dict[str, Any] = {"id": entity_id, "name": name}
    if kind == "agents":
        item.update(groupId="131", groupName="some_group")
    item["metrics"] = [{"key": k, "value": _WORDS.get(k, 5)} for k in _KEYS[kind]]
    return item


CC_EXAMPLES = {
    kind: [cc_item(kind, "123", "Demo Sales Queue"), cc_item(kind, "124", "Other")]
    for kind in ("queues", "groups", "agents")
}
CC_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Total-Pages": st.sampled_from(["1", "2", "0", "-1", "x", "", "9" * 5000]),
        "Link": st.sampled_from([f'<{cc.RT}/x?page=1>; rel="next"', "<>; rel=", "garbage", "<a"])
        | st.text(max_size=30),
    },
)


def numeric_key(kind: str, key: str) -> bool:
    """A key the exporter reads as a number (the spec's lists also hold keys it does not know,
    such as agents' `averageHandlingTime.today` without `.inQueue`: those are counted apart)."""
    parsed = parse_key(key)
    if parsed is None or parsed.name in AGENT_STATUS_KEYS or AGENT_LINE_RE.match(parsed.name):
        return False
    metric = TABLES[kind].get(parsed.name)
    return metric is not None and qualifier(metric) == parsed.qualifier


def cc_realtime_runs(
    kind: str, body: Any, headers: dict[str, str] | None = None, times: int = 2
) -> Runs[Poller]:
    runs = Runs(cc.realtime_collector(kind))
    with mock() as rsps:
        cc.add_token(rsps)
        rsps.add_callback(
            responses.GET,
            f"{cc.RT}/{kind}",
            lambda request: json_response(body if page_number(request) == 0 else [], headers),
        )
        for _ in range(times):
            runs.run()
    return runs


@pytest.mark.parametrize("kind", sorted(CC_EXAMPLES))
@FAST
@given(data=st.data())
def test_cc_realtime_answers(kind: str, data: st.DataObject) -> None:
    cc_realtime_runs(kind, data.draw(answers(CC_EXAMPLES[kind])), data.draw(CC_HEADERS))


def bad_cc_items(item: dict[str, Any]) -> st.SearchStrategy[Any]:
    return (
        NON_OBJECTS
        | st.just(without(item, "id"))
        | st.sampled_from([None, ""]).map(lambda v: {**item, "id": v})
        | st.sampled_from([None, "x", 5, {}]).map(lambda v: {**item, "metrics": v})
    )


@pytest.mark.parametrize("kind", sorted(CC_EXAMPLES))
@FAST
@given(data=st.data())
def test_bad_cc_realtime_items_are_counted(kind: str, data: st.DataObject) -> None:
    items, bad = data.draw(with_bad(CC_EXAMPLES[kind], bad_cc_items(CC_EXAMPLES[kind][0])))
    entries = data.draw(st.lists(NON_OBJECTS | st.just({"value": 1}), max_size=3))
    items[items.index(CC_EXAMPLES[kind][1])]["metrics"] += entries
    runs = cc_realtime_runs(kind, items)
    assert not runs.errors
    # A bad item is a record left out; an entry without a key, a value.
    assert runs.delta(INVALID) == bad and runs.delta(INVALID, 2) == bad
    assert runs.delta(UNUSABLE) == len(entries) and runs.delta(UNUSABLE, 2) == len(entries)
    assert runs.record_warnings()


@pytest.mark.parametrize("kind", sorted(CC_EXAMPLES))
@FAST
@given(data=st.data())
def test_unusable_cc_realtime_values_are_counted(kind: str, data: st.DataObject) -> None:
    items = copy.deepcopy(CC_EXAMPLES[kind])
    entries = [e for e in items[0]["metrics"] if numeric_key(kind, e["key"])]
    chosen = data.draw(
        st.lists(st.sampled_from(range(len(entries))), min_size=1, max_size=4, unique=True)
    )
    for index in chosen:
        entries[index]["value"] = data.draw(
            st.sampled_from(["n/a", "NaN", "inf", [1], {"v": 1}, True, 10**400, float("nan")])
        )
    runs = cc_realtime_runs(kind, items)
    assert not runs.errors and runs.delta(UNUSABLE) == len(chosen)
    assert runs.record_warnings()


# --- Contact Center: report types, report status, report data and Link headers ------------------

REPORT_TYPES = fixture_json("cc_report_types.json")
STATUS_LINK = f'<{cc.HM}/2710192/data?page=0&size=100>; rel="data"'
REPORT_ROWS = [
    cc.data_row("Ann", "10", "90.91", "65000"),
    cc.data_row("Bob", "4", "80.00", "00:02:00"),
    fixture_json("cc_report_subtotal_row.json"),
]
STATUS_URL = re.compile(re.escape(cc.HM) + r"/[^/]+/status")
DATA_URL = re.compile(re.escape(cc.HM) + r"/[^/]+/data")


def report_runs(
    *,
    types: Any = REPORT_TYPES,
    created: Any = None,
    status: Any = None,
    rows: Any = REPORT_ROWS,
    link: str = STATUS_LINK,
    data_link: str | None = None,
    times: int = 2,
) -> Runs[Poller]:
    """A report collector on the real client: the report types, the creation answer (DONE by
    default), the status answers, then `rows` on the first data page."""
    created = {"id": 2710192, "status": "DONE"} if created is None else created
    clock = FakeClock(cc.NOW)
    runs = Runs(cc.report_collector(clock, cc.Sleeps(clock)))

    def data(request: requests.PreparedRequest) -> Any:
        first = page_number(request) == 0
        headers = {"Link": data_link} if data_link and first else {}
        return json_response(rows if first else [], headers)

    with mock() as rsps:
        cc.add_token(rsps)
        rsps.add_callback(
            responses.GET, f"{cc.HM}/report-types", lambda request: json_response(types)
        )
        rsps.add_callback(
            responses.POST, cc.HM, lambda request: json_response(created, {"Link": link})
        )
        rsps.add_callback(
            responses.GET,
            STATUS_URL,
            lambda request: json_response(created if status is None else status, {"Link": link}),
        )
        rsps.add_callback(responses.GET, DATA_URL, data)
        for _ in range(times):
            runs.run()
    return runs


@FAST
@given(types=answers(REPORT_TYPES))
def test_report_types_answers(types: Any) -> None:
    report_runs(types=types, times=1)
    if isinstance(types, list):
        check_report(cc.report(), [t for t in types if isinstance(t, dict)])


LINKS = st.sampled_from(
    [
        STATUS_LINK,
        "",
        "<>; rel=data",
        '<http://[bad/x?page=1>; rel="data"',
        f'<{cc.HM}/1/data?page=x&size=-1>; rel="data"',
        f'<{cc.HM}/1/data?page=0>; rel="data next"',
        "<a; rel=b",
    ]
) | st.text(max_size=40).map(lambda t: f"<{t}>; rel=\"data\"")


@FAST
@given(
    created=answers({"id": 2710192, "status": "IN_PROGRESS"}),
    status=answers({"id": 2710192, "status": "DONE"}),
    link=LINKS,
)
@example(created={"id": float("inf"), "status": "DONE"}, status={}, link=STATUS_LINK)
@example(created={"id": 1, "status": "DONE"}, status={}, link='<http://[bad/x>; rel="data"')
def test_report_status_answers(created: Any, status: Any, link: str) -> None:
    report_runs(created=created, status=status, link=link, times=1)


@FAST
@given(rows=answers(REPORT_ROWS), data_link=st.none() | LINKS)
def test_report_data_answers(rows: Any, data_link: str | None) -> None:
    if data_link:
        data_link = data_link.replace('rel="data"', 'rel="next"')
    report_runs(rows=rows, data_link=data_link)


def bad_report_rows(row: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Rows the collector cannot read: not an object, without items, with other dimensions
    than the first row, a second copy of a row."""
    return (
        NON_OBJECTS
        | st.sampled_from([None, "x", 5]).map(lambda v: {**row, "items": v})
        | st.just(without(row, "items"))
        | st.just(
            {
                "total": None,
                "items": [{"key": "queue", "value": "Sales"}, {"key": "accepted", "value": "9"}],
            }
        )
        | st.just(row)
    )


@FAST
@given(data=st.data())
def test_bad_report_rows_are_counted(data: st.DataObject) -> None:
    # After the first row: it fixes the dimensions every other row must have.
    rows, bad = data.draw(with_bad(REPORT_ROWS, bad_report_rows(REPORT_ROWS[1]), first=1))
    items = data.draw(st.lists(NON_OBJECTS | st.just({"value": "1"}), max_size=3))
    rows[0]["items"] += items
    clean = report_runs(times=1)
    runs = report_runs(rows=rows)
    assert not runs.errors
    # A bad row is a record left out; an item without a key, a value.
    assert runs.delta(INVALID) == bad and runs.delta(INVALID, 2) == bad
    assert runs.delta(UNUSABLE) == len(items) and runs.delta(UNUSABLE, 2) == len(items)
    assert runs.record_warnings()
    assert clean.pages[0] and runs.pages[0] == clean.pages[0]


@FAST
@given(data=st.data())
def test_unusable_report_values_are_counted(data: st.DataObject) -> None:
    rows = copy.deepcopy(REPORT_ROWS)
    metrics = [i for i in rows[0]["items"] if i["key"] in cc.report().metrics]
    chosen = data.draw(
        st.lists(st.sampled_from(range(len(metrics))), min_size=1, max_size=3, unique=True)
    )
    for index in chosen:
        metrics[index]["value"] = data.draw(
            st.sampled_from(["n/a", "NaN", "inf", [1], {"v": 1}, True, 10**400, "99:99:99"])
        )
    runs = report_runs(rows=rows)
    assert not runs.errors and runs.delta(UNUSABLE) == len(chosen)
    assert runs.record_warnings()


@FAST
@example(header='<http://[bad/x?page=1>; rel="data"', report_id=1, size=1, total="1")
@given(
    header=st.text(max_size=60) | LINKS,
    report_id=st.integers(-5, 10**20),
    size=st.integers(-5, 5000),
    total=st.text(max_size=8) | WRONG.map(str),
)
def test_link_and_paging_headers(header: str, report_id: int, size: int, total: str) -> None:
    links = parse_links(header)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in links.items())
    for link in [None, *links.values()]:
        try:
            path = ContactCenterClient._data_path(report_id, link, size)
        except MalformedResponseError:
            continue
        assert path.startswith(f"/{report_id}/data?") and f"size={size}" in path
    assert _header_int({"X-Total-Pages": total}, "X-Total-Pages") is None or total.strip()


# --- regressions the properties found, pinned -------------------------------------------------


def _agent_with_a_line_twice() -> Runs[Poller]:
    agent = cc_item("agents", "ag1", "Jane Doe")
    agent["metrics"] += [
        {"key": "line1Status.today", "value": "Idle"},
        {"key": "line1TimeOnStatus.today", "value": 7},
    ]
    return cc_realtime_runs("agents", [agent])


def _queue_values_no_float_holds() -> Runs[Poller]:
    item = cc_item("queues", "1", "Sales")
    for entry, value in zip(item["metrics"], [float("nan"), "NaN", "inf", 10**400, "9" * 400]):
        entry["value"] = value
    return cc_realtime_runs("queues", [item])


def _call_queue_integer_beyond_float() -> Runs[Poller]:
    vendor = copy.deepcopy(CALL_QUEUE_EXAMPLES["call_queue_metrics"])
    vendor["callQueues"][0]["metrics"]["ongoingWaitingCalls"] = 10**400
    return call_queue_runs("call_queue_metrics", vendor)


def _summary_integer_beyond_float() -> Runs[Poller]:
    return summary_runs("/v1/compsum", [{**fixture_json("compsum.json")[0], "totalCall": 10**400}])


def _call_queue_negative_values() -> Runs[Poller]:
    vendor = copy.deepcopy(CALL_QUEUE_EXAMPLES["call_queue_metrics"])
    metrics = vendor["callQueues"][0]["metrics"]
    metrics["ongoingWaitingCalls"], metrics["averageWaitingTime"] = -3, "-40"
    return call_queue_runs("call_queue_metrics", vendor)


def _summary_negative_count() -> Runs[Poller]:
    return summary_runs("/v1/compsum", [{**fixture_json("compsum.json")[0], "totalCall": -5}])


def _cc_queue_negative_values() -> Runs[Poller]:
    item = cc_item("queues", "1", "Sales")
    for entry, value in zip(item["metrics"], [-1, "-2.5", -0.001]):
        entry["value"] = value
    return cc_realtime_runs("queues", [item])


def _report_negative_value() -> Runs[Poller]:
    rows = copy.deepcopy(REPORT_ROWS)
    rows[0]["items"][2]["value"] = "-11"  # accepted
    return report_runs(rows=rows)


def _scroll_id_that_cannot_be_sent_back() -> Runs[Poller]:
    page = fixture_json("call_records.json")
    page["meta"]["scrollId"] = "\ud800"  # a UnicodeEncodeError in requests before
    runs = cdr_runs("/v2/call-records", page)
    assert [type(e) for e in runs.errors] == [MalformedResponseError] * 2
    return runs


def _report_metric_twice_in_a_row() -> Runs[Poller]:
    rows = copy.deepcopy(REPORT_ROWS)
    rows[0]["items"].append({"key": "accepted", "label": "Accepted", "value": "11"})
    return report_runs(rows=rows)


def _report_types_of_the_wrong_type() -> Runs[Poller]:
    return report_runs(types=[{**REPORT_TYPES[0], "groupBy": 5, "metrics": "accepted"}], times=1)


@pytest.mark.parametrize(
    ("case", "unusable"),
    [
        (_agent_with_a_line_twice, 0),
        (_queue_values_no_float_holds, 5),
        (_call_queue_integer_beyond_float, 1),
        (_summary_integer_beyond_float, 2),
        (_report_metric_twice_in_a_row, 1),
        # Negative counts and durations were exported as they came, as gauges.
        (_call_queue_negative_values, 2),
        (_summary_negative_count, 2),
        (_cc_queue_negative_values, 3),
        (_report_negative_value, 1),
    ],
)
def test_pinned_regressions(case: Callable[[], Runs], unusable: int) -> None:
    """Answers that broke a parser before (a series twice, NaN, OverflowError): checked on
    every run whatever hypothesis draws; `Runs` checks the page, the counts say what was left
    out in the first run."""
    runs = case()
    assert not runs.errors and runs.delta(UNUSABLE) == unusable


def test_pinned_scroll_id_that_cannot_be_sent_back() -> None:
    """A lone surrogate in `scrollId` (valid JSON) made requests raise UnicodeEncodeError when
    it was sent back; now the poll fails with MalformedResponseError and keeps what it read."""
    _scroll_id_that_cannot_be_sent_back()


def test_pinned_report_types_of_the_wrong_type() -> None:
    """A word or a number where the report types API documents an array was a TypeError; now
    the report is checked against what is offered (nothing) and fails with a clear error."""
    runs = _report_types_of_the_wrong_type()
    assert [str(e) for e in runs.errors] == [
        "report agents_today: group_by 'agent' is not offered by agent-interactions-summary "
        "(offered: ); unknown metric 'accepted' for agent-interactions-summary; unknown metric "
        "'acceptedPercentage' for agent-interactions-summary; unknown metric 'avgHandlingTime' "
        "for agent-interactions-summary"
    ]


@pytest.mark.parametrize("length", ["\u00b2", "9" * 5000], ids=["superscript", "5000_digits"])
def test_a_content_length_that_is_no_number(length: str) -> None:
    with mock() as rsps:
        wa.add_token(rsps)
        rsps.add(
            responses.GET,
            f"{wa.BASE}/v2/pbxes/",
            body=json.dumps(PBXES),
            content_type="application/json",
            headers={"Content-Length": length},
        )
        try:
            wa_client().pbxes()
        except ExporterError:
            pass
