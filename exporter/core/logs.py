"""Structured logging: structlog configured once, JSON by default, secrets redacted.

`json` and `logfmt` lines carry the keys the Prometheus exporter-toolkit (promslog) writes:
`time`, `level` (DEBUG, INFO, WARN, ERROR), `source` (file:line), `msg` (the event's stable
name), then the event's own fields; `console` is structlog's human-readable layout."""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog
from structlog.processors import CallsiteParameter

from exporter.core.redaction import REDACTED, redact

LOG_LEVELS = ("debug", "info", "warn", "error")
LOG_FORMATS = ("json", "logfmt", "console")
# The keys every toolkit-format line starts with, in this order.
TOOLKIT_KEYS = ("time", "level", "source", "msg")
# promslog's level names; structlog's method names differ only in `warning`.
_TOOLKIT_LEVELS = {"debug": "DEBUG", "info": "INFO", "warning": "WARN", "error": "ERROR"}

# Keys whose values are never written, whatever the event. Matched case-insensitively on the
# key's last part so `api_key`, `client_secret`, `Authorization` are all caught.
_SECRET_MARKERS = ("password", "secret", "token", "api_key", "apikey", "authorization")
# How deep the value scrubber follows nested lists and mappings; deeper ones are written as
# text (and scrubbed as text).
_MAX_VALUE_DEPTH = 8


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


def _scrub_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        # JSON has no Infinity or NaN: `"seconds": Infinity` would make the line unparsable.
        return value if math.isfinite(value) else repr(value)
    if depth < _MAX_VALUE_DEPTH and isinstance(value, list | tuple):
        return [_scrub_value(item, depth + 1) for item in value]
    if depth < _MAX_VALUE_DEPTH and isinstance(value, Mapping):
        return {str(k): _scrub_value(v, depth + 1) for k, v in value.items()}
    # An exception, a path, any object: written as its text, scrubbed like any other.
    return redact(str(value))


def _scrub_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Every value of the line, the formatted traceback included, through the one redaction
    of the secrets and tokens the process holds: the vendor's words may quote them."""
    for key, value in event.items():
        if key != "event":  # the event name is ours, a constant: never a secret
            event[key] = _scrub_value(value)
    return event


def _toolkit_keys(
    _logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog's `timestamp`/`level`/`event` and call site renamed to the toolkit's keys,
    placed first. Last before the renderer: redaction and scrubbing know `event` by name."""
    first: dict[str, Any] = {
        "time": event.pop("timestamp", None),
        "level": _TOOLKIT_LEVELS.get(str(event.pop("level", method)), method.upper()),
        "source": f"{event.pop('filename', '?')}:{event.pop('lineno', 0)}",
        "msg": event.pop("event", ""),
    }
    return {**first, **event}


def _logfmt_values(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Lists as comma-separated words and mappings as compact JSON: logfmt has neither, and
    Python's repr (`['a', 'b']`) is no format a log pipeline parses."""
    for key, value in event.items():
        if isinstance(value, list):
            event[key] = ",".join(str(item) for item in value)
        elif isinstance(value, Mapping):
            event[key] = json.dumps(value, separators=(",", ":"), default=str)
    return event


def _renderers(fmt: str) -> list[Any]:
    """The processors after the common ones, the renderer last."""
    if fmt == "console":
        return [structlog.dev.ConsoleRenderer(colors=False)]
    # The caller's file and line for `source`: a frame walk per line, cheap at our log rate.
    callsite = structlog.processors.CallsiteParameterAdder(
        [CallsiteParameter.FILENAME, CallsiteParameter.LINENO]
    )
    if fmt == "logfmt":
        # bool_as_flag off: `retried=true`, as Go's logfmt writes it, not a bare `retried`.
        renderer = structlog.processors.LogfmtRenderer(key_order=TOOLKIT_KEYS, bool_as_flag=False)
        return [callsite, _toolkit_keys, _logfmt_values, renderer]
    if fmt == "json":
        return [callsite, _toolkit_keys, structlog.processors.JSONRenderer(sort_keys=False)]
    raise ValueError(f"unknown log format {fmt!r}; one of {', '.join(LOG_FORMATS)}")


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Set up structlog for the whole process. Safe to call more than once."""
    numeric = {
        "debug": logging.DEBUG,
        "info": logging.INFO,
        "warn": logging.WARNING,
        "error": logging.ERROR,
    }[level]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            _scrub_secrets,
            *_renderers(fmt),
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
