"""Simulator: the Work Analytics OAuth flow and the two required headers on every call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests
from jsonschema import Draft202012Validator

from simulator import Simulator

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import ClockFactory, SimClient
    from tests.support.vendor_docs import VendorSchemas

PBXES = "/v2/pbxes/"


def test_token_success_matches_the_spec(client: SimClient, vendor_schemas: VendorSchemas) -> None:
    response = client.issue_token()
    assert response.status_code == 200
    body = response.json()
    Draft202012Validator(vendor_schemas.token_response_schema("200")).validate(body)
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    # Work Analytics sends an integer (the Contact Center token API a string).
    assert body["expires_in"] == 1800 and isinstance(body["expires_in"], int)
    header, payload, signature = body["access_token"].split(".")
    assert header == "eyJhbGciOiJSUzI1NiJ9" and payload and signature


def test_each_token_issue_is_unique(client: SimClient) -> None:
    tokens = {client.issue_token().json()["access_token"] for _ in range(5)}
    assert len(tokens) == 5


def test_token_ttl_is_the_constructor_argument(
    make_simulator: Callable[..., Simulator], make_client: Callable[[Simulator], SimClient]
) -> None:
    api = make_client(make_simulator(token_ttl=60))
    assert api.issue_token().json()["expires_in"] == 60


@pytest.mark.parametrize("api_key", [None, "wrong-key"])
def test_token_with_missing_or_wrong_api_key(
    client: SimClient, vendor_schemas: VendorSchemas, api_key: str | None
) -> None:
    response = client.issue_token(api_key=api_key)
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.token_error_branch("Invalid API Key").validate(body)
    assert body["status"] == 400
    assert body["message"] == "Invalid 8x8-apikey"
    assert body["code"] == "SHA001"
    assert body["details"][0]["path"] == ["8x8-apikey"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody@example.com", "sim-password"), ("supervisor@example.com", "wrong")],
)
def test_token_with_wrong_user_or_password(
    client: SimClient, vendor_schemas: VendorSchemas, username: str, password: str
) -> None:
    response = client.issue_token(username=username, password=password)
    assert response.status_code == 400
    body = response.json()
    vendor_schemas.token_error_branch("Authentication Error").validate(body)
    assert body == {"error_description": "USER_NOTFOUND_ERROR", "error": "invalid_grant"}


def test_token_needs_a_form_body(sim: Simulator) -> None:
    response = requests.post(
        sim.base_url + "/v1/oauth/token", headers={"8x8-apikey": sim.api_key}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_api_calls_need_the_api_key(client: SimClient, vendor_schemas: VendorSchemas) -> None:
    for headers in (
        {"Authorization": f"Bearer {client.token}"},
        {"8x8-apikey": "wrong", "Authorization": f"Bearer {client.token}"},
    ):
        response = client.get(PBXES, headers=headers)
        assert response.status_code == 400
        vendor_schemas.token_error_branch("Invalid API Key").validate(response.json())
        assert response.json()["code"] == "SHA001"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-token", "Basic abc", "eyJhbGciOiJSUzI1NiJ9.x.y"]
)
def test_api_calls_need_a_known_bearer_token(
    client: SimClient, vendor_schemas: VendorSchemas, authorization: str | None
) -> None:
    headers = {"8x8-apikey": "sim-api-key"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.get(PBXES, headers=headers)
    assert response.status_code == 401
    body = response.json()
    vendor_schemas.validate(
        "work_analytics.json", "401ErrorResponse", body, strict=("401ErrorResponse",)
    )
    assert body == {
        "error": "invalid_token",
        "error_description": "Cannot convert access token to JSON",
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_token_expires_with_the_clock(
    client: SimClient, fake_clock: FakeClock, vendor_schemas: VendorSchemas
) -> None:
    token = client.token
    fake_clock.advance(1799)
    assert client.get(PBXES).status_code == 200
    fake_clock.advance(1)
    response = client.get(PBXES)
    assert response.status_code == 401
    body = response.json()
    vendor_schemas.validate(
        "work_analytics.json", "401ErrorResponse", body, strict=("401ErrorResponse",)
    )
    assert body == {"error": "invalid_token", "error_description": f"Access token expired: {token}"}
    # A new token works again.
    fresh = client.issue_token().json()["access_token"]
    assert (
        client.get(
            PBXES, headers={"8x8-apikey": "sim-api-key", "Authorization": f"Bearer {fresh}"}
        ).status_code
        == 200
    )


def test_expire_tokens_expires_every_issued_token(client: SimClient, sim: Simulator) -> None:
    first = client.issue_token().json()["access_token"]
    second = client.issue_token().json()["access_token"]
    assert sim.expire_tokens() >= 2
    for token in (first, second):
        response = client.get(
            PBXES, headers={"8x8-apikey": "sim-api-key", "Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["error_description"] == f"Access token expired: {token}"
    third = client.issue_token().json()["access_token"]
    assert (
        client.get(
            PBXES, headers={"8x8-apikey": "sim-api-key", "Authorization": f"Bearer {third}"}
        ).status_code
        == 200
    )


def test_tokens_are_deterministic(
    make_simulator: Callable[..., Simulator],
    make_client: Callable[[Simulator], SimClient],
    clock_factory: ClockFactory,
) -> None:
    tokens = []
    for _ in range(2):
        api = make_client(make_simulator(seed=7, clock=clock_factory()))
        tokens.append([api.issue_token().json()["access_token"] for _ in range(2)])
    assert tokens[0] == tokens[1]
