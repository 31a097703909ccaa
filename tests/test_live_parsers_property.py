"""Property tests (hypothesis) of the agent activity and live calls parsers: whatever JSON
arrives, a run renders a valid page or fails with an ExporterError, never a TypeError."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from exporter.api.live import agent_rows, call_time, page_calls, time_in_seconds
from exporter.core.errors import ExporterError
from exporter.metrics.rendering import render_families
from exporter.pollers.agent_activity import AgentActivityPoller
from exporter.pollers.live_calls import LiveCallPoller
from exporter.pollers.ring_group_sources import NO_RING_GROUPS
from tests.support.call_queues import directory
from tests.support.files import fixture_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# Near misses: a vendor row with one key replaced by arbitrary JSON.
AGENT = fixture_json("agent_activity_schema_shape.json")["agentActivity"][0]
CALL = fixture_json("calls.json")["calls"][0]


def near_miss(row: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.sampled_from(sorted(row)), JSON).map(lambda kv: {**row, kv[0]: kv[1]})


class Answers:
    def __init__(self, body: Any) -> None:
        self.body = body
        self.stopped_by = "last_page"
        self.unsorted = False

    def now(self) -> float:
        return 1_717_760_000.0

    call_time = staticmethod(call_time)
    time_in_seconds = staticmethod(time_in_seconds)

    def agent_activity(self, pbx_id: str, *, metrics: Sequence[str] = ()) -> list[Any]:
        return agent_rows(self.body)

    def calls(self, pbx_id: str, **kwargs: Any) -> Answers:
        return self

    def __iter__(self) -> Iterator[list[Any]]:
        yield page_calls(self.body)


def renders(poller: AgentActivityPoller | LiveCallPoller) -> None:
    try:
        rendered = render_families(poller.collect())
    except ExporterError:
        return
    text = b"".join(f.header(False) + f.samples for f in rendered).decode()
    assert list(text_string_to_metric_families(text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON | st.lists(JSON | near_miss(AGENT), max_size=4).map(lambda r: {"agentActivity": r}))
def test_agent_activity_answers(body: Any) -> None:
    renders(AgentActivityPoller(Answers(body), directory, interval=30, per_agent=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON | st.lists(JSON | near_miss(CALL), max_size=4).map(lambda c: {"calls": c}))
def test_live_call_pages(body: Any) -> None:
    renders(LiveCallPoller(Answers(body), directory, NO_RING_GROUPS, interval=30))
