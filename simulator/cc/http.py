"""HTTP helpers of the Contact Center endpoints: error bodies, repeated query parameters, paging
headers and links.

The vendor does not document the body of its 400/404 answers; the simulator sends the shape of
a Spring Boot error, `{"status": 400, "error": "Bad Request", "message": "..."}`, with the
guide's exact messages where it quotes them (X-Tenant-Info).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..routing import Request, Response
from ..server import _RequestHandler

# The region part of every Contact Center path: none for the US, /eu, /au or /ca.
REGION_PATTERN = r"(?P<region>/(?:eu|au|ca))?"

_RAW_QUERY: ContextVar[str | None] = ContextVar("cc_raw_query", default=None)


class MultiValueQueryHandler(_RequestHandler):
    """The simulator's request handler, remembering the raw query string while the request is
    answered: `Request.query` keeps only the last value of a repeated parameter, and the CC
    realtime API takes `metrics=a&metrics=b` (the spec's `explode: true` arrays)."""

    def _handle(self) -> None:
        token = _RAW_QUERY.set(urlsplit(self.path).query)
        try:
            super()._handle()
        finally:
            _RAW_QUERY.reset(token)


def query_pairs(request: Request) -> list[tuple[str, str]]:
    """Every (name, value) of the query in order, repeated names included (falls back to
    `request.query` when the request did not come through the HTTP server)."""
    raw = _RAW_QUERY.get()
    if raw is None:
        return list(request.query.items())
    return parse_qsl(raw, keep_blank_values=True)


def query_list(request: Request, name: str) -> list[str] | None:
    """All values of a repeatable parameter, each also split on commas; None when absent."""
    values = [value for key, value in query_pairs(request) if key == name]
    if not values:
        return None
    items: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in items:
                items.append(part)
    return items


class CcError(Exception):
    """An answer other than 200, raised from deep inside a handler."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def response(self) -> Response:
        return error_response(self.status, self.message)


def error_response(status: int, message: str) -> Response:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return Response.json(status, {"status": status, "error": phrase, "message": message})


def bad_request(message: str) -> CcError:
    return CcError(400, message)


def not_found(message: str) -> CcError:
    return CcError(404, message)


def integer_parameter(
    request: Request, name: str, default: int, low: int, high: int | None = None
) -> int:
    raw = request.query.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise bad_request(
            f"Bad request: invalid value [{raw}] for parameter [{name}]: an integer is expected."
        ) from None
    if value < low or (high is not None and value > high):
        limits = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(
            f"Bad request: invalid value [{raw}] for parameter [{name}]: must be {limits}."
        )
    return value


def boolean_parameter(request: Request, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None or raw.strip() == "":
        return False
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise bad_request(
            f"Bad request: invalid value [{raw}] for parameter [{name}]: true or false is expected."
        )
    return lowered == "true"


def absolute_root(request: Request, fallback: str) -> str:
    """Links point where the client connected (its Host header), like the real API."""
    return f"http://{request.host}" if request.host else fallback


def page_headers(
    request: Request,
    root: str,
    page: int,
    size: int,
    total: int,
    *,
    page_name: str = "page",
    size_name: str = "size",
) -> dict[str, str]:
    """X-Page, X-Page-Size, X-Total-Pages, X-Total-Elements and, when a later page exists,
    `Link: <next page>; rel="next"` (the request's own query with the next page number)."""
    pages = math.ceil(total / size) if total else 0
    headers = {
        "X-Page": str(page),
        "X-Page-Size": str(size),
        "X-Total-Pages": str(pages),
        "X-Total-Elements": str(total),
    }
    if page + 1 < pages:
        pairs = [(k, v) for k, v in query_pairs(request) if k not in (page_name, size_name)]
        pairs = [(page_name, str(page + 1)), (size_name, str(size)), *pairs]
        headers["Link"] = f'<{root}{request.path}?{urlencode(pairs)}>; rel="next"'
    return headers


def page_slice(items: Sequence[object], page: int, size: int) -> slice:
    start = page * size
    return slice(start, start + size)


def answers(
    handler: Callable[[Any, Request, re.Match[str]], Response],
) -> Callable[[Any, Request, re.Match[str]], Response]:
    """Turn a CcError raised by a handler into its error answer."""

    def wrapper(self: Any, request: Request, match: re.Match[str]) -> Response:
        try:
            return handler(self, request, match)
        except CcError as error:
            return error.response()

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper
