"""The exporter's error hierarchy: every failure a user can cause or meet has a class here."""

from __future__ import annotations

from exporter.core.redaction import redact


class ExporterError(Exception):
    """Base of every error the exporter raises on purpose."""


class ConfigError(ExporterError):
    """The configuration is invalid; `problems` lists every problem with its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class YamlFileError(ExporterError):
    """A YAML file that cannot be read (`unreadable`) or parsed; `reason` never quotes it."""

    def __init__(self, unreadable: bool, reason: str) -> None:
        super().__init__(reason)
        self.unreadable = unreadable
        self.reason = reason


class CollectionError(ExporterError):
    """A poller could not build a snapshot for a reason of its own (not an HTTP error)."""


class ApiError(ExporterError):
    """A call to an 8x8 API failed.

    `endpoint` is the templated path (never carries ids or secrets), `status` the HTTP status
    when there was an answer, `detail` the vendor's own message where its body had one.
    """

    retryable: bool = False

    def __init__(
        self,
        endpoint: str,
        message: str,
        *,
        status: int | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.status = status
        # The vendor's words may quote the request, its secrets included: scrubbed here, once,
        # before the text reaches a log line, a page or a poller's last error.
        self.detail = None if detail is None else redact(detail)
        self.retry_after = retry_after
        text = f"{endpoint}: {message}"
        if status is not None:
            text += f" (HTTP {status})"
        if self.detail:
            text += f": {self.detail}"
        super().__init__(redact(text))


class AuthenticationError(ApiError):
    """The token endpoint refused the API key or the user's credentials."""


class UnauthorizedError(ApiError):
    """HTTP 401 on a data endpoint: the token was rejected (expired or invalid)."""


class ForbiddenError(ApiError):
    """HTTP 403: the user has no access to the PBX (or the resource)."""


class BadRequestError(ApiError):
    """HTTP 400 on a data endpoint: the vendor rejected the request's parameters or API key."""


class NotFoundError(ApiError):
    """HTTP 404."""


class RateLimitedError(ApiError):
    """HTTP 429: too many requests; `retry_after` holds the vendor's hint in seconds."""

    retryable = True


class ServerError(ApiError):
    """HTTP 5xx from the vendor."""

    retryable = True


class TransportError(ApiError):
    """No HTTP answer: connection refused, reset, DNS failure or a timeout."""

    retryable = True


class MalformedResponseError(ApiError):
    """The answer was not the JSON shape the vendor documents."""


class PagingLoopError(MalformedResponseError):
    """A paged answer repeats itself (a scrollId, a page or a link already seen): following it
    would ask the same pages until the request budget is gone, so the run stops at once."""
