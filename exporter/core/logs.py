"""Structured logging: structlog configured once, JSON by default, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import structlog

LOG_LEVELS = ("debug", "info", "warn", "error")
LOG_FORMATS = ("json", "console")

# Keys whose values are never written, whatever the event. Matched case-insensitively on the
# key's last part so `api_key`, `client_secret`, `Authorization` are all caught.
_SECRET_MARKERS = ("password", "secret", "token", "api_key", "apikey", "authorization")
REDACTED = "<redacted>"


def _redact(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        if key == "event":
            continue
        lowered = key.lower().replace("-", "_")
        if any(marker in lowered for marker in _SECRET_MARKERS):
            event[key] = REDACTED
    return event


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Set up structlog for the whole process. Safe to call more than once."""
    numeric = {
        "debug": logging.DEBUG,
        "info": logging.INFO,
        "warn": logging.WARNING,
        "error": logging.ERROR,
    }[level]
    renderer: Any
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_factory(stream),
        cache_logger_on_first_use=False,
    )


def _factory(stream: TextIO | None) -> Any:
    if stream is not None:
        return structlog.PrintLoggerFactory(file=stream)
    # Resolve sys.stderr when a line is written, not when logging is configured, so a later
    # redirection of stderr (a test harness, a daemon manager) is followed.
    return lambda *_args: structlog.PrintLogger(file=sys.stderr)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    # Lazy: the processors configured later by configure_logging() still apply.
    # structlog types get_logger as Any; configure_logging() makes it a filtering logger.
    return cast(structlog.typing.FilteringBoundLogger, structlog.get_logger(logger_name=name))
