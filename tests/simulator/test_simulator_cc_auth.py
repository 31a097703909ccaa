"""Simulator, Contact Center: the client-credentials token, bearer checks, tenants (X-Tenant-Info)
and regions, faults on CC paths."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests

from simulator import Simulator
from tests.support.simulator import (
    CC_CLIENT_ID,
    CC_CLIENT_SECRET,
    HTTP_TIMEOUT,
    CcClient,
    basic_auth,
)

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import SimClient

MISSING = "Bad request: X-Tenant-Info header is missing."
INVALID = "Bad request: Invalid value for X-Tenant-Info header."


@pytest.fixture
def cc(sim: Simulator, make_cc_client: Callable[[Simulator], CcClient]) -> CcClient:
    return make_cc_client(sim)


# ----------------------------------------------------------------- token
def test_token_uses_basic_client_credentials_and_a_string_expires_in(cc: CcClient) -> None:
    response = cc.issue_token()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "BearerToken"
    assert body["expires_in"] == "1799"  # a string, ttl - 1 (Work Analytics: the integer 1800)
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 20


def test_token_ttl_and_credentials_are_constructor_arguments(
    make_simulator: Callable[..., Simulator], make_cc_client: Callable[[Simulator], CcClient]
) -> None:
    simulator = make_simulator(
        cc_client_id="my-client", cc_client_secret="my s3cret", cc_token_ttl=600
    )
    assert (simulator.cc_client_id, simulator.cc_client_secret) == ("my-client", "my s3cret")
    api = make_cc_client(simulator)
    assert api.issue_token().status_code == 401  # the default credentials no longer work
    response = api.issue_token(authorization=basic_auth("my-client", "my s3cret"))
    assert response.status_code == 200 and response.json()["expires_in"] == "599"


def test_each_token_is_unique(cc: CcClient) -> None:
    assert len({cc.issue_token().json()["access_token"] for _ in range(4)}) == 4


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        basic_auth(CC_CLIENT_ID, "wrong"),
        basic_auth("someone-else", CC_CLIENT_SECRET),
        "Basic not-base64!",
        "Basic " + base64.b64encode(CC_CLIENT_ID.encode()).decode(),  # no colon
        f"Bearer {CC_CLIENT_SECRET}",
    ],
)
def test_token_with_wrong_or_missing_credentials_is_401_invalid_client(
    cc: CcClient, authorization: str
) -> None:
    response = cc.issue_token(authorization=authorization)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client" and body["error_description"]


@pytest.mark.parametrize("grant_type", [None, "password", "authorization_code", ""])
def test_token_with_a_missing_or_other_grant_type_is_400(
    cc: CcClient, grant_type: str | None
) -> None:
    response = cc.issue_token(grant_type=grant_type)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unsupported_grant_type" and body["error_description"]


# ----------------------------------------------------------------- bearer checks
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", basic_auth()])
def test_data_calls_need_a_known_bearer_token(cc: CcClient, authorization: str | None) -> None:
    headers = {"X-Tenant-Info": "acme-sales"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for response in (
        cc.realtime("acme-sales", "/queues", headers=headers),
        cc.historical("acme-sales", "/report-types", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json() == {
            "error": "invalid_token",
            "error_description": "Access token invalid",
        }
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_expire_after_their_ttl_on_the_fake_clock(
    cc: CcClient, fake_clock: FakeClock
) -> None:
    token = cc.token
    fake_clock.advance(1799)
    assert cc.realtime("acme-sales", "/queues", {"summary": "true"}).status_code == 200
    fake_clock.advance(1)
    response = cc.realtime("acme-sales", "/queues", {"summary": "true"})
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "Access token expired",
    }
    fresh = cc.issue_token().json()["access_token"]
    assert fresh != token
    assert (
        cc.realtime(
            "acme-sales", "/queues", {"summary": "true"}, headers=cc.headers("acme-sales", fresh)
        ).status_code
        == 200
    )


def test_expire_tokens_also_expires_contact_center_tokens(sim: Simulator, cc: CcClient) -> None:
    assert cc.realtime("acme-sales", "/groups").status_code == 200
    assert sim.expire_tokens() >= 1
    response = cc.realtime("acme-sales", "/groups")
    assert (
        response.status_code == 401
        and response.json()["error_description"] == "Access token expired"
    )
    # Also through the admin interface.
    cc._token = None
    assert cc.realtime("acme-sales", "/groups").status_code == 200
    assert (
        requests.post(sim.root_url + "/_sim/expire-tokens", timeout=HTTP_TIMEOUT).json()["expired"]
        >= 1
    )
    assert cc.realtime("acme-sales", "/groups").status_code == 401


def test_work_analytics_and_contact_center_tokens_are_not_interchangeable(
    sim: Simulator, cc: CcClient, client: SimClient
) -> None:
    response = cc.realtime("acme-sales", "/queues", headers=cc.headers("acme-sales", client.token))
    assert response.status_code == 401
    response = client.get(
        "/v2/pbxes/", headers={"8x8-apikey": sim.api_key, "Authorization": f"Bearer {cc.token}"}
    )
    assert response.status_code == 401


def test_one_token_serves_every_tenant(cc: CcClient) -> None:
    for tenant in ("acme-sales", "acme-support"):
        assert cc.realtime(tenant, "/queues").status_code == 200
        assert cc.historical(tenant, "/report-types").status_code == 200


# ----------------------------------------------------------------- tenants and regions
def _assert_bad_request(response: requests.Response, message: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"status": 400, "error": "Bad Request", "message": message}


def test_multi_tenant_client_without_the_header_gets_400_missing(cc: CcClient) -> None:
    headers = {"Authorization": f"Bearer {cc.token}"}
    _assert_bad_request(cc.realtime(None, "/queues", headers=headers), MISSING)
    _assert_bad_request(cc.historical(None, "/report-types", headers=headers), MISSING)
    _assert_bad_request(cc.historical(None, "/123/status", headers=headers), MISSING)


@pytest.mark.parametrize("tenant", ["acme-unknown", "ACME-SALES", "acme-sales,acme-support"])
def test_unknown_tenant_gets_400_invalid(cc: CcClient, tenant: str) -> None:
    response = cc.realtime(None, "/queues", headers=cc.headers(tenant), region="us")
    _assert_bad_request(response, INVALID)


def test_a_tenant_is_known_in_its_region_only(
    make_simulator: Callable[..., Simulator], make_cc_client: Callable[[Simulator], CcClient]
) -> None:
    simulator = make_simulator(
        cc_tenants=[("acme-sales", "us"), ("acme-eu", "eu"), ("acme-au", "au")]
    )
    api = make_cc_client(simulator)
    assert simulator.cc.region_of("acme-eu") == "eu"
    assert api.realtime("acme-eu", "/queues").status_code == 200  # under /eu
    assert api.historical("acme-au", "/report-types").status_code == 200  # under /au
    _assert_bad_request(api.realtime("acme-eu", "/queues", region="us"), INVALID)
    _assert_bad_request(api.realtime("acme-sales", "/queues", region="eu"), INVALID)
    _assert_bad_request(api.historical("acme-au", "/report-types", region="ca"), INVALID)
    assert list(simulator.cc.tenants) == ["acme-sales", "acme-eu", "acme-au"]
    assert [simulator.cc.time_zone_of(t) for t in simulator.cc.tenants] == [
        "America/New_York",
        "Europe/London",
        "America/Chicago",
    ]


def test_single_tenant_client_needs_no_header(
    make_simulator: Callable[..., Simulator], make_cc_client: Callable[[Simulator], CcClient]
) -> None:
    simulator = make_simulator(cc_tenants=[("solo", "ca")])
    api = make_cc_client(simulator)
    bare = {"Authorization": f"Bearer {api.token}"}
    response = api.realtime(None, "/queues", headers=bare, region="ca")
    assert response.status_code == 200 and len(response.json()) == 4
    assert api.realtime("solo", "/queues").status_code == 200  # the header may still be given
    _assert_bad_request(
        api.realtime(None, "/queues", headers=api.headers("other"), region="ca"), INVALID
    )
    # No tenant of this client in the region at all.
    response = api.realtime(None, "/queues", headers=bare, region="us")
    assert response.status_code == 403 and response.json()["status"] == 403


def test_tenants_have_their_own_configuration(sim: Simulator) -> None:
    sales, support = sim.cc.queues("acme-sales"), sim.cc.queues("acme-support")
    assert len(sales) == len(support) == 4
    assert sales != support
    assert len(sim.cc.groups("acme-sales")) == 2 and len(sim.cc.agents("acme-sales")) == 12
    queue_id, name = sales[0]  # (id, name) pairs
    assert queue_id.isdigit() and name
    assert all(agent.id.startswith("ag") for agent in sim.cc.agents("acme-support"))


def test_invalid_tenant_arguments_are_refused(make_simulator: Callable[..., Simulator]) -> None:
    for tenants in ([("a", "mars")], [("a", "us"), ("a", "eu")], [], [("", "us")]):
        with pytest.raises(ValueError):
            Simulator(cc_tenants=tenants)


# ----------------------------------------------------------------- faults
def test_faults_apply_to_contact_center_paths(sim: Simulator, cc: CcClient) -> None:
    assert cc.token
    sim.faults.add(r"/analytics/cc/v5/realtime-metrics/queues$", status=503, times=1)
    sim.faults.add(r"/oauth/v2/token$", status=429, headers={"Retry-After": "2"}, times=1)
    assert cc.realtime("acme-sales", "/queues").status_code == 503
    assert cc.realtime("acme-sales", "/queues").status_code == 200
    limited = cc.issue_token()
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    sim.faults.add(r"/historical-metrics/report-types$", malformed=True, times=1)
    broken = cc.historical("acme-sales", "/report-types")
    with pytest.raises(ValueError):
        broken.json()
    assert [r.path for r in sim.requests][-1].endswith("/report-types")
