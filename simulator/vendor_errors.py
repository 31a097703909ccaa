"""Error bodies exactly as the vendor's specs show them (Work Analytics)."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from .routing import Response


def vendor_timestamp(epoch_seconds: float) -> str:
    """The ErrorResponse timestamp format of the specs: 2023-01-05T12:04:59.100+0000."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def error_response(
    status: int, messages: list[str], path: str, now: float, headers: dict[str, str] | None = None
) -> Response:
    """The `ErrorResponse` schema: {timestamp, status, messages[], path}."""
    body: dict[str, Any] = {
        "timestamp": vendor_timestamp(now),
        "status": status,
        "messages": messages,
        "path": path,
    }
    return Response.json(status, body, headers)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def invalid_api_key() -> Response:
    """400 of the token endpoint (and of every call) for a missing or wrong `8x8-apikey`."""
    return Response.json(
        400,
        {
            "status": 400,
            "message": "Invalid 8x8-apikey",
            "code": "SHA001",
            "details": [
                {
                    "type": "invalidValue",
                    "location": "header",
                    "path": ["8x8-apikey"],
                    "hint": "Please provide valid apikey. If you don't have one, please sign up and create a developer account",
                }
            ],
        },
    )


def invalid_parameter(
    parameter: str, message: str, hint: str, *, missing: bool = False
) -> Response:
    """400 of the historical endpoints for a missing or invalid query parameter, in the shape of
    their spec's 400 schema. The spec documents only SHA001 (the API key): "SIM400" is ours."""
    return Response.json(
        400,
        {
            "status": 400,
            "message": message,
            "code": "SIM400",
            "details": [
                {
                    "type": "missingValue" if missing else "invalidValue",
                    "location": "query",
                    "path": [parameter],
                    "hint": hint,
                }
            ],
        },
    )


def invalid_grant() -> Response:
    """400 of the token endpoint for a wrong username or password (the spec's only example)."""
    return Response.json(
        400, {"error_description": "USER_NOTFOUND_ERROR", "error": "invalid_grant"}
    )


def _unauthorized(description: str) -> Response:
    return Response.json(
        401,
        {"error": "invalid_token", "error_description": description},
        # Spring Security's resource server adds this challenge next to the JSON body.
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


def token_unreadable() -> Response:
    """401 for a missing, malformed or unknown bearer token."""
    return _unauthorized("Cannot convert access token to JSON")


def token_expired(token: str) -> Response:
    """401 for an expired bearer token; the vendor echoes the token."""
    return _unauthorized(f"Access token expired: {token}")
