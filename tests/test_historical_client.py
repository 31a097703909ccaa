"""The client's historical endpoints: parameters as the vendor expects them, scroll paging to the end."""

from __future__ import annotations

import copy
import urllib.parse

import pytest
import responses
from prometheus_client import CollectorRegistry

from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.core.errors import MalformedResponseError, ServerError
from tests.support.files import fixture_json
from tests.support.work_analytics import BASE, Sleeps, add_token, make_client


@pytest.fixture
def client() -> WorkAnalyticsClient:
    return make_client(CollectorRegistry(), Sleeps(), initial_backoff=0.001, max_backoff=0.002)


def query(call: responses.Call) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(str(call.request.url)).query))


def legs_page(scroll_id: str, *call_ids: str) -> dict:
    page = fixture_json("call_legs.json")
    template = page["data"][0]
    page["data"] = [{**copy.deepcopy(template), "callId": cid} for cid in call_ids]
    page["meta"] = {"totalRecordCount": 5, "scrollId": scroll_id}
    return page


END = {"meta": {"totalRecordCount": 0, "scrollId": "No Data"}, "data": []}


def test_summary_parameters_and_headers(rsps, client) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/rgsum-groups", json=fixture_json("rgsum_groups.json"))
    params = client.historical_params(
        ["acmecorp", "acmecorp2"], "2022-10-20 08:30:00", "2022-10-20 19:00:00", "America/New_York"
    )
    rows = client.summary("/v2/rgsum-groups", params)
    assert rows[0]["name"] == "West Office"
    call = rsps.calls[1]
    assert query(call) == {
        "pbxId": "acmecorp,acmecorp2",
        "startTime": "2022-10-20 08:30:00",
        "endTime": "2022-10-20 19:00:00",
        "timeZone": "America/New_York",
    }
    # The space of the vendor's time format is encoded, never sent raw.
    assert " " not in call.request.url
    assert call.request.headers["8x8-apikey"] == "test_key"
    assert call.request.headers["Authorization"] == "Bearer tok-1"


def test_no_pbx_names_means_allpbxes(client) -> None:
    assert client.historical_params([], "a", "b", "UTC")["pbxId"] == "allpbxes"


def test_a_summary_that_is_not_a_list_is_malformed(rsps, client) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v1/compsum", json={"pbxId": "acmecorp"})
    with pytest.raises(MalformedResponseError, match="not a JSON list"):
        client.summary("/v1/compsum", client.historical_params([], "a", "b", "UTC"))


def test_scroll_follows_scroll_ids_to_the_no_data_marker(rsps, client) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/call-legs", json=legs_page("s1", "c1", "c2"))
    rsps.get(f"{BASE}/v2/call-legs", json=legs_page("s2", "c3", "c4"))
    rsps.get(f"{BASE}/v2/call-legs", json=legs_page("s3", "c5"))
    rsps.get(f"{BASE}/v2/call-legs", json=END)
    params = client.historical_params(
        ["acmecorp"], "2022-02-03 00:00:00", "2022-02-03 10:00:00", "UTC"
    )
    pages = list(client.scroll("/v2/call-legs", params, page_size=2))
    assert [[r["callId"] for r in page] for page in pages] == [["c1", "c2"], ["c3", "c4"], ["c5"]]
    sent = [query(call) for call in rsps.calls[1:]]
    assert [q.get("scrollId") for q in sent] == [None, "s1", "s2", "s3"]
    assert {q["pageSize"] for q in sent} == {"2"}
    assert all(q["pbxId"] == "acmecorp" and q["timeZone"] == "UTC" for q in sent)


def test_scroll_stops_on_an_empty_page_without_the_marker(rsps, client) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/call-records", json=legs_page("s1", "c1"))
    rsps.get(
        f"{BASE}/v2/call-records",
        json={"meta": {"totalRecordCount": 1, "scrollId": "s2"}, "data": []},
    )
    pages = list(client.scroll("/v2/call-records", {}, page_size=100))
    assert len(pages) == 1


def test_page_size_is_capped_at_the_spec_maximum(rsps, client) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/call-legs", json=END)
    assert list(client.scroll("/v2/call-legs", {}, page_size=50_000)) == []
    assert query(rsps.calls[1])["pageSize"] == "7000"


def test_a_failing_page_after_good_ones_raises_after_yielding_them(rsps, client) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/call-legs", json=legs_page("s1", "c1"))
    for _ in range(4):  # every retry of the second page fails
        rsps.get(f"{BASE}/v2/call-legs", status=503)
    received = []
    with pytest.raises(ServerError):
        for page in client.scroll("/v2/call-legs", {}, page_size=1):
            received.append(page)
    assert [r["callId"] for r in received[0]] == ["c1"]


@pytest.mark.parametrize("body", [[], {"meta": [], "data": []}, {"meta": {}, "data": {}}])
def test_scroll_pages_of_the_wrong_shape_are_malformed(rsps, client, body) -> None:
    add_token(rsps)
    rsps.get(f"{BASE}/v2/call-legs", json=body)
    with pytest.raises(MalformedResponseError):
        list(client.scroll("/v2/call-legs", {}, page_size=10))
