"""Simulator: the Customer Data API (PBXes, sites, queues, agents) and its HAL paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from simulator import Simulator

if TYPE_CHECKING:
    from tests.support.simulator import SimClient
    from tests.support.vendor_docs import VendorSchemas

CUSTOMER_DATA = "work_analytics_customer_data.json"
STRICT_ITEMS = ("Pbx", "Site", "CallQueue", "Agent", "PageMetadata", "Link")


def walk_pages(
    client: SimClient, path: str, list_key: str, size: int, max_pages: int = 200
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow `next` links from page 0; returns (items, bodies). Bounded by max_pages."""
    items: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    url: str | None = client.simulator.base_url + path
    params: dict[str, Any] | None = {"size": size}
    for _ in range(max_pages):
        assert url is not None
        body = client.get_json(url, params)
        bodies.append(body)
        items.extend(body["_embedded"][list_key])
        next_link = body["_links"].get("next")
        if next_link is None:
            return items, bodies
        url, params = next_link["href"], None
    raise AssertionError(f"more than {max_pages} pages")


def test_pbxes_page_matches_the_schema(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    body = client.get_json("/v2/pbxes/")
    vendor_schemas.validate(CUSTOMER_DATA, "PbxesResponsePage", body, strict=STRICT_ITEMS)
    assert [p["id"] for p in body["_embedded"]["pbxList"]] == [p.id for p in sim.directory]
    assert body["page"] == {"size": 50, "totalElements": 2, "totalPages": 1, "number": 0}
    assert body["_links"]["self"]["href"] == sim.base_url + "/v2/pbxes/?page=0&size=50"
    assert "next" not in body["_links"] and "prev" not in body["_links"]


def test_pbxes_without_trailing_slash(client: SimClient, sim: Simulator) -> None:
    body = client.get_json("/v2/pbxes")
    assert len(body["_embedded"]["pbxList"]) == len(sim.directory)


def test_sites_queues_and_agents_match_the_schemas(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    pbx = sim.directory[0]
    sites = client.get_json(f"/v2/pbxes/{pbx.id}/sites")
    vendor_schemas.validate(CUSTOMER_DATA, "SitesResponsePage", sites, strict=STRICT_ITEMS)
    assert [s["id"] for s in sites["_embedded"]["siteList"]] == [s.id for s in pbx.sites]

    site = pbx.sites[0]
    site_queues = client.get_json(f"/v2/pbxes/{pbx.id}/sites/{site.id}/queues")
    vendor_schemas.validate(
        CUSTOMER_DATA, "CallQueuesResponsePage", site_queues, strict=STRICT_ITEMS
    )
    assert [q["id"] for q in site_queues["_embedded"]["queueList"]] == [q.id for q in site.queues]

    queues = client.get_json(f"/v2/pbxes/{pbx.id}/queues")
    vendor_schemas.validate(CUSTOMER_DATA, "CallQueuesResponsePage", queues, strict=STRICT_ITEMS)
    expected = {q.id: q for s in pbx.sites for q in s.queues}
    listed = queues["_embedded"]["queueList"]
    assert [q["id"] for q in listed] == list(expected)
    for item in listed:
        queue = expected[item["id"]]
        # The schema's extensionNumber (a string), not the examples' "extension".
        assert item["extensionNumber"] == queue.extension and isinstance(
            item["extensionNumber"], str
        )
        assert (item["pbxId"], item["siteId"], item["name"], item["deleted"]) == (
            queue.pbx_id,
            queue.site_id,
            queue.name,
            queue.deleted,
        )

    agents = client.get_json(f"/v2/pbxes/{pbx.id}/agents")
    vendor_schemas.validate(CUSTOMER_DATA, "AgentsResponsePage", agents, strict=STRICT_ITEMS)
    # The schema names the agents list "queueList" (its example says "agentList").
    assert [a["id"] for a in agents["_embedded"]["queueList"]] == [a.id for a in pbx.agents]


def test_deleted_entities_are_listed_with_their_flag(client: SimClient, sim: Simulator) -> None:
    pbx = sim.directory[0]
    sites = client.get_json(f"/v2/pbxes/{pbx.id}/sites")["_embedded"]["siteList"]
    queues = client.get_json(f"/v2/pbxes/{pbx.id}/queues", {"size": 100})["_embedded"]["queueList"]
    agents = client.get_json(f"/v2/pbxes/{pbx.id}/agents", {"size": 100})["_embedded"]["queueList"]
    assert any(s["deleted"] for s in sites) and any(not s["deleted"] for s in sites)
    assert any(q["deleted"] for q in queues)
    assert any(a["deleted"] for a in agents)
    assert sum(not q["deleted"] for q in queues) == 2 * 3  # sites_per_pbx * queues_per_site active


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100])
def test_paging_visits_every_queue_exactly_once(
    client: SimClient, sim: Simulator, size: int
) -> None:
    pbx = sim.directory[0]
    expected = [q.id for s in pbx.sites for q in s.queues]
    items, bodies = walk_pages(client, f"/v2/pbxes/{pbx.id}/queues", "queueList", size)
    assert [q["id"] for q in items] == expected
    total_pages = -(-len(expected) // size)
    assert len(bodies) == total_pages
    for number, body in enumerate(bodies):
        links = body["_links"]
        assert body["page"] == {
            "size": size,
            "totalElements": len(expected),
            "totalPages": total_pages,
            "number": number,
        }
        assert ("prev" in links) == (number > 0)
        assert ("next" in links) == (number < total_pages - 1)
        for name, link in links.items():
            query = parse_qs(urlsplit(link["href"]).query)
            assert query["size"] == [str(size)], name
        assert parse_qs(urlsplit(links["last"]["href"]).query)["page"] == [str(total_pages - 1)]
        assert parse_qs(urlsplit(links["first"]["href"]).query)["page"] == ["0"]
        assert parse_qs(urlsplit(links["self"]["href"]).query)["page"] == [str(number)]


def test_paging_of_agents_across_pages(client: SimClient, sim: Simulator) -> None:
    pbx = sim.directory[1]
    items, _ = walk_pages(client, f"/v2/pbxes/{pbx.id}/agents", "queueList", 5)
    assert [a["id"] for a in items] == [a.id for a in pbx.agents]
    assert len({a["id"] for a in items}) == len(items)


def test_page_after_the_last_is_empty(client: SimClient, sim: Simulator) -> None:
    pbx = sim.directory[0]
    body = client.get_json(f"/v2/pbxes/{pbx.id}/sites", {"page": 5, "size": 2})
    assert body["_embedded"]["siteList"] == []
    assert "next" not in body["_links"]
    assert body["page"]["number"] == 5


@pytest.mark.parametrize(
    "params",
    [{"size": 101}, {"size": 0}, {"size": -3}, {"page": -1}, {"size": "ten"}, {"page": "x"}],
)
def test_page_and_size_limits(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas, params: dict[str, Any]
) -> None:
    response = client.get("/v2/pbxes/", params)
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.validate(CUSTOMER_DATA, "ErrorResponse", body, strict=("ErrorResponse",))
    assert (
        body["status"] == 400 and body["messages"] and body["path"] == "/analytics/work/v2/pbxes/"
    )


def test_size_100_is_allowed(client: SimClient) -> None:
    assert client.get("/v2/pbxes/", {"size": 100}).status_code == 200


def test_default_page_size_is_configurable(
    make_simulator: Callable[..., Simulator], make_client: Callable[[Simulator], SimClient]
) -> None:
    simulator = make_simulator(page_size_default=2)
    body = make_client(simulator).get_json(f"/v2/pbxes/{simulator.directory[0].id}/queues")
    assert (
        body["page"]["size"] == 2
        and len(body["_embedded"]["queueList"]) == 2
        and "next" in body["_links"]
    )


@pytest.mark.parametrize(
    ("sort", "reverse"),
    [("name,ASC", False), ("name,DESC", True), ("name", False), ("name,desc", True)],
)
def test_sort_by_name(client: SimClient, sim: Simulator, sort: str, reverse: bool) -> None:
    pbx = sim.directory[0]
    body = client.get_json(f"/v2/pbxes/{pbx.id}/queues", {"sort": sort, "size": 100})
    names = [q["name"].lower() for q in body["_embedded"]["queueList"]]
    assert names == sorted(names, reverse=reverse)
    assert "sort=" in body["_links"]["self"]["href"]


def test_queues_sort_by_extension(client: SimClient, sim: Simulator) -> None:
    pbx = sim.directory[0]
    body = client.get_json(f"/v2/pbxes/{pbx.id}/queues", {"sort": "extension,DESC", "size": 100})
    extensions = [int(q["extensionNumber"]) for q in body["_embedded"]["queueList"]]
    assert extensions == sorted(extensions, reverse=True)


def test_invalid_sort_is_rejected(client: SimClient, sim: Simulator) -> None:
    assert client.get("/v2/pbxes/", {"sort": "colour,ASC"}).status_code == 400
    assert client.get("/v2/pbxes/", {"sort": "name,UP"}).status_code == 400


def test_unknown_pbx_and_site_are_404(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    for path in (
        "/v2/pbxes/unknownPbx/sites",
        "/v2/pbxes/unknownPbx/queues",
        "/v2/pbxes/unknownPbx/agents",
        f"/v2/pbxes/{sim.directory[0].id}/sites/unknownSite/queues",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        vendor_schemas.validate(
            CUSTOMER_DATA, "ErrorResponse", response.json(), strict=("ErrorResponse",)
        )


def test_alternative_spellings_of_the_spec_examples(
    make_simulator: Callable[..., Simulator], make_client: Callable[[Simulator], SimClient]
) -> None:
    """The spec's examples use "agentList" and "extension"; the simulator can serve those too."""
    simulator = make_simulator(agents_list_key="agentList", queue_extension_key="extension")
    api = make_client(simulator)
    pbx = simulator.directory[0]
    agents = api.get_json(f"/v2/pbxes/{pbx.id}/agents")
    assert "agentList" in agents["_embedded"]
    queue = api.get_json(f"/v2/pbxes/{pbx.id}/queues")["_embedded"]["queueList"][0]
    assert "extension" in queue and "extensionNumber" not in queue


def test_links_follow_the_host_the_client_used(client: SimClient, sim: Simulator) -> None:
    headers = {**client.auth_headers(), "Host": "gateway.example:8443"}
    response = client.get("/v2/pbxes/", headers=headers)
    assert response.status_code == 200
    assert (
        response.json()["_links"]["self"]["href"]
        == "http://gateway.example:8443/analytics/work/v2/pbxes/?page=0&size=50"
    )
