"""Simulator: GET /v2/pbxes/{pbxId}/calls answers from its index of completed passages exactly
what rebuilding every view of the window gives (the reference), request by request: every page
of walks in every order, with filters and windows, while time advances between pages (calls
complete mid-read), the history is pruned and the book compacts."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from simulator import Simulator
from simulator.aggregated_calls import AggregatedCallsApi
from simulator.routing import Headers, Request, Response
from tests.support.clock import FakeClock
from tests.support.simulator import START_TIME

ORDERS = [
    (field, direction)
    for field in ("callId", "startTime", "stopTime", "handlingDuration")
    for direction in ("ASC", "DESC")
]
HOUR = 3600.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_TIME)


@pytest.fixture
def simulator(clock: FakeClock) -> Iterator[Simulator]:
    # An hour of history kept two: the book prunes from the first hour on and compacts once
    # more than half of its legs are gone (after about 4 hours). Not started: the handler is
    # called directly, a request costs no HTTP round trip.
    yield Simulator(
        7,
        clock=clock,
        pbxes=2,
        sites_per_pbx=2,
        queues_per_site=2,
        agents_per_queue=4,
        history_seconds=HOUR,
        history_retention_seconds=2 * HOUR,
    )


def respond(
    api: AggregatedCallsApi, pbx_id: str, query: dict[str, str], reference: bool
) -> Response:
    """The handler's answer, from the index or (`reference`) from every view built again."""
    path = f"/analytics/work/v2/pbxes/{pbx_id}/calls"
    match = re.search(r"/v2/pbxes/(?P<pbx_id>[^/]+)/calls", path)
    assert match is not None
    api.rebuild_every_page = reference
    try:
        return api.aggregated_calls(Request("GET", path, query, Headers()), match)
    finally:
        api.rebuild_every_page = False


def answer(api: AggregatedCallsApi, pbx_id: str, query: dict[str, str], reference: bool) -> bytes:
    response = respond(api, pbx_id, query, reference)
    assert response.status == 200, response.body
    return response.body


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class Walker:
    """Walks pages with the fast path and checks each against the reference at that instant."""

    def __init__(self, api: AggregatedCallsApi, clock: FakeClock, rng: random.Random) -> None:
        self.api, self.clock, self.rng = api, clock, rng
        self.pages = 0
        self.items = 0

    def page(self, pbx_id: str, query: dict[str, str]) -> list[dict[str, object]]:
        fast = answer(self.api, pbx_id, query, reference=False)
        # The same instant (the clock has not moved): the model is not advanced again.
        assert fast == answer(self.api, pbx_id, query, reference=True), (pbx_id, query)
        self.pages += 1
        calls: list[dict[str, object]] = json.loads(fast)["calls"]
        self.items += len(calls)
        return calls

    def walk(self, pbx_id: str, query: dict[str, str], field: str, limit: int) -> None:
        params = {**query, "limit": str(limit)}
        for _ in range(200):
            calls = self.page(pbx_id, params)
            if len(calls) < limit:
                return
            last = calls[-1]
            params = {
                **params,
                "startingAfter": str(last["callId"]),
                "latestSortingValue": str(last[field]),
            }
            # Time moves on mid-read now and then: calls complete, new ones start.
            if self.rng.random() < 0.5:
                self.clock.advance(self.rng.choice((0.3, 7.0, 45.0)))
        raise AssertionError("the pages never ended")


def test_every_page_is_the_reference_page_as_time_advances(
    simulator: Simulator, clock: FakeClock
) -> None:
    api = simulator.work_analytics.aggregated_calls
    rng = random.Random(20)
    walker = Walker(api, clock, rng)
    pbx = simulator.account.pbxes[0]
    site = pbx.sites[0]
    generations = {simulator.model.book.legs_generation}
    heads: set[int] = set()
    orders = itertools.cycle(ORDERS)
    # Soon forgotten, so that a narrow window then the default one drop the passages before
    # the narrow one's start and build them again.
    api.completed.forget_after = 16
    for tick in range(28):  # 28 steps of 13 minutes: past the book's first compaction
        clock.advance(13 * 60.0)
        now = clock()
        field, direction = next(orders)
        walker.walk(
            pbx.id,
            {
                "startDate": iso(now - 20 * 60),
                "endDate": iso(now + HOUR),
                "sortingField": field,
                "sortingDirection": direction,
            },
            field,
            20,
        )
        for pbx_id in [p.id for p in simulator.account.pbxes if not p.deleted]:
            field, direction = next(orders)
            walker.walk(
                pbx_id,
                {"sortingField": field, "sortingDirection": direction},
                field,
                rng.choice((7, 25, 200)),
            )
        field, direction = next(orders)
        sorting = {"sortingField": field, "sortingDirection": direction}
        for query in (
            {"siteIds": site.id},
            {"queueIds": ",".join(q.id for q in site.queues[:1])},
            # Explicit windows, one starting before anything the index covers so far.
            {"startDate": iso(now - 2.5 * HOUR), "endDate": iso(now - 0.5 * HOUR)},
            {"startDate": iso(now - HOUR), "endDate": iso(now + HOUR)},
            {
                "startDate": iso(now - 2 * HOUR),
                "endDate": iso(now),
                "intraDayStart": "00:00:00+0000",
                "intraDayEnd": datetime.fromtimestamp(now - 1800, UTC).strftime("%H:%M:%S+0000"),
            },
        ):
            walker.walk(pbx.id, {**query, **sorting}, field, 20)
        generations.add(simulator.model.book.legs_generation)
        heads.add(simulator.model.book.leg_span(0, 0)[0])
        assert tick < 27 or walker.items > 0
    # The run must have seen what could go wrong: many pages, pruning and a compaction.
    assert walker.pages > 300, walker.pages
    assert walker.items > 5000, walker.items
    assert len(heads) > 2, "the history was never pruned"
    assert len(generations) > 1, "the book never compacted: the test would miss that case"


def test_a_deleted_pbx_is_refused_by_both_paths(simulator: Simulator) -> None:
    api = simulator.work_analytics.aggregated_calls
    pbx = simulator.account.pbxes[0]
    answer(api, pbx.id, {}, reference=False)  # the index holds its passages
    pbx.deleted = True
    try:
        for reference in (False, True):
            assert respond(api, pbx.id, {}, reference).status == 403
    finally:
        pbx.deleted = False
