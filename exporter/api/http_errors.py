"""An 8x8 error answer as the exporter's error class, with the vendor's own words and pauses."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from exporter.api.clock import parse_http_date
from exporter.core.errors import (
    ApiError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
)


def parse_retry_after(
    value: str | None, now: Callable[[], float] = time.time, date: str | None = None
) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when
    it is neither, or not a finite number (`1e400` is infinite as a float, `nan` no number:
    either would pause an API forever, and neither can be written in a JSON log line).

    A date is read as HTTP dates are (UTC, the asctime form too) and measured against the
    answer's own `Date` when it has one: both are the API's clock, so a skewed exporter clock
    neither spends every retry at once nor pauses for hours; else against `now`."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    when = parse_http_date(value)
    if when is None:
        return None
    sent = parse_http_date(date)
    return max(0.0, when - (now() if sent is None else sent))


def vendor_detail(body: Any) -> str | None:
    """The human part of an 8x8 error body; the APIs use several shapes (see the specs)."""
    if not isinstance(body, Mapping):
        return None
    parts: list[str] = []
    messages = body.get("messages")
    if isinstance(messages, list):
        parts.extend(str(m) for m in messages if m)
    for key in ("message", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
            break
    details = body.get("details")
    if isinstance(details, list):
        parts.extend(str(d["hint"]) for d in details if isinstance(d, Mapping) and d.get("hint"))
    return "; ".join(parts) or None


def error_for_status(endpoint: str, response: requests.Response) -> ApiError:
    """Map an HTTP error answer to the exporter's error class, keeping the vendor's message."""
    status = response.status_code
    try:
        detail = vendor_detail(response.json())
    except ValueError:
        detail = None
    if detail is None and response.text and len(response.text) < 300 and "<" not in response.text:
        detail = response.text.strip() or None
    kwargs: dict[str, Any] = {"status": status, "detail": detail}
    location = response.headers.get("Location")
    if 300 <= status < 400 and location:
        # Followed only within the origin (sessions.SameOriginSession): this one left it. The
        # target's scheme and host only: its path or query may carry what is not ours to log.
        where = urlsplit(urljoin(response.url or "", location))
        target = f"{where.scheme}://{where.hostname}" if where.hostname else "elsewhere"
        return ApiError(endpoint, f"redirected to {target}, another origin: not followed", **kwargs)
    if status == 400:
        return BadRequestError(endpoint, "bad request", **kwargs)
    if status == 401:
        return UnauthorizedError(endpoint, "unauthorized", **kwargs)
    if status == 403:
        return ForbiddenError(endpoint, "forbidden", **kwargs)
    if status == 404:
        return NotFoundError(endpoint, "not found", **kwargs)
    if status == 429:
        return RateLimitedError(
            endpoint,
            "rate limited",
            retry_after=parse_retry_after(
                response.headers.get("Retry-After"), date=response.headers.get("Date")
            ),
            **kwargs,
        )
    if status >= 500:
        return ServerError(
            endpoint,
            "server error",
            retry_after=parse_retry_after(
                response.headers.get("Retry-After"), date=response.headers.get("Date")
            ),
            **kwargs,
        )
    return ApiError(endpoint, "unexpected answer", **kwargs)
