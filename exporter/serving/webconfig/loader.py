"""Reading a web config file: every problem at once, each with its key path, like the main
config (`web config tls_server_config.min_version: 'TLS9' is not one of ...`).

pydantic validates each section (model.py); its errors become the `ConfigError` problem list
the same way exporter/config/loading.py turns them, with the toolkit's order kept: the unknown
keys of a section first, then its keys in the documented order, then the rules across keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from exporter.core.errors import ConfigError, YamlFileError
from exporter.core.yaml_files import read_yaml
from exporter.serving.webconfig.model import (
    PREFIX,
    BasicAuthUsers,
    HTTPServerConfig,
    RateLimitConfig,
    Section,
    TLSServerConfig,
    WebConfigFile,
)

S = TypeVar("S", bound=Section)

_TOP_KEYS = tuple(WebConfigFile.model_fields)
_UNKNOWN = ("extra_forbidden", "invalid_key")  # invalid_key: a key that is not even a string
_USERS: TypeAdapter[dict[str, str]] = TypeAdapter(BasicAuthUsers)
_NO_FLAG = "leave --web.config.file out to serve plain HTTP without auth"


@dataclass(frozen=True)
class WebConfig:
    """A validated web config file. `tls` is None when the server speaks plain HTTP."""

    tls: TLSServerConfig | None = None
    http: HTTPServerConfig = field(default_factory=HTTPServerConfig)
    # Never in a repr: a hash is offline-crackable, so it is treated like the password.
    basic_auth_users: dict[str, str] = field(default_factory=dict, repr=False, hash=False)
    rate_limit: RateLimitConfig | None = None
    # Keys accepted for compatibility but without effect here, for a start-up warning.
    ignored: tuple[str, ...] = ()

    def files(self) -> tuple[Path, ...]:
        return self.tls.files() if self.tls else ()

    def protects(self) -> bool:
        """Whether the file turns anything on: without, the flag would change nothing."""
        return bool(self.tls or self.basic_auth_users or self.rate_limit or self.http.headers)


class _Problems:
    """The problems found so far, each as `web config <key path>: <message>`."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{PREFIX} {where}: {message}" if where else f"{PREFIX}: {message}")

    def record(self, exc: ValidationError, section: str) -> set[Any]:
        """Add pydantic's errors as problems; the section's keys that had one."""
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] not in _UNKNOWN)
        for error in errors:
            parts = [str(part) for part in error["loc"]]
            where = ".".join([section, *parts] if section else parts)
            self.add(where, _message(error))
        return {error["loc"][0] for error in errors if error["loc"]}

    def section(
        self, model: type[S], data: Any, where: str, context: dict[str, Any] | None = None
    ) -> tuple[S, set[Any]]:
        """`data` validated as `model`, and the keys that had a problem.

        With problems, the model returned holds only the keys without one (the others take
        their defaults): the rules across keys are still checked, so that one load reports
        every problem, as an operator fixing the file expects.
        """
        try:
            return model.model_validate({} if data is None else data, context=context), set()
        except ValidationError as exc:
            failed = self.record(exc, where)
        items = data.items() if isinstance(data, dict) else ()
        kept = {k: v for k, v in items if k in model.model_fields and k not in failed}
        while True:
            try:
                return model.model_validate(kept, context=context), failed
            except ValidationError as exc:
                # A key valid only beside a bad one (burst, beside a bad interval, is not
                # checked): without it, the rest still validates. Never reported twice.
                dropped = {error["loc"][0] for error in exc.errors() if error["loc"]}
                if not dropped & kept.keys():
                    raise
                kept = {k: v for k, v in kept.items() if k not in dropped}

    def conflicts(self, where: str, found: list[tuple[str, str]]) -> None:
        for key, message in found:
            self.add(f"{where}.{key}", message)


def _message(error: ErrorDetails) -> str:
    if error["type"] in _UNKNOWN:
        return "unknown key"
    if error["type"] in ("model_type", "dict_type"):
        return "must be a mapping"
    return error["msg"].removeprefix("Value error, ")


def read_web_config(path: Path) -> WebConfig:
    """Read and validate a web config file; ConfigError lists every problem. A file that is
    empty or turns nothing on is one too: the flag was given to protect something.

    The TLS files it names are not read here but by `ssl_context`, when the file is loaded
    (start-up or a change), so a typo fails the start or is refused by a reload instead of
    failing every scrape's handshake.
    """
    path = Path(path)
    try:
        raw = read_yaml(path)
    except YamlFileError as exc:
        problem = (
            f"cannot read {path}: {exc.reason}"
            if exc.unreadable
            else f"{path} is not valid YAML{exc.reason}"
        )
        raise ConfigError([f"{PREFIX}: {problem}"]) from None
    if raw is None:
        # `: > web.yml` or a file of comments: most often a file caught while being written.
        raise ConfigError([f"{PREFIX}: {path} is empty; {_NO_FLAG}"])
    if not isinstance(raw, dict):
        raise ConfigError([f"{PREFIX}: must be a mapping ({', '.join(_TOP_KEYS)})"])
    check = _Problems()
    top, _ = check.section(WebConfigFile, raw, "")
    ignored: list[str] = []
    tls = _tls(check, top.tls_server_config, path.resolve().parent, ignored)
    http, _ = check.section(HTTPServerConfig, top.http_server_config, "http_server_config")
    if http.http2:
        ignored.append("http_server_config.http2")  # the server speaks HTTP/1.1 only
    users = _users(check, top.basic_auth_users)
    rate, failed = check.section(RateLimitConfig, top.rate_limit, "rate_limit")
    check.conflicts("rate_limit", rate.conflicts(failed))
    if check.problems:
        raise ConfigError(check.problems)
    config = WebConfig(
        tls=tls,
        http=http,
        basic_auth_users=users,
        rate_limit=rate if rate.interval > 0 else None,  # the toolkit: 0 turns it off
        ignored=tuple(ignored),
    )
    if not config.protects():
        # The toolkit serves such a file as if there were none. Here it is a mistake or a file
        # read half-written (`basic_auth_users:` before its users): never a way to open up.
        raise ConfigError(
            [
                f"{PREFIX}: {path} turns nothing on (no tls_server_config, basic_auth_users, "
                f"rate_limit or headers); {_NO_FLAG}"
            ]
        )
    return config


def _tls(check: _Problems, raw: Any, directory: Path, ignored: list[str]) -> TLSServerConfig | None:
    where = "tls_server_config"
    if not isinstance(raw, dict) or all(value in (None, "", []) for value in raw.values()):
        # No tls_server_config, or an empty one: plain HTTP. Only its unknown keys (or not
        # being a mapping) are problems then.
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k not in TLSServerConfig.model_fields}
        check.section(TLSServerConfig, raw, where)
        return None
    tls, failed = check.section(TLSServerConfig, raw, where, {"directory": directory})
    ignored += [
        f"{where}.{key}" for key in ("cipher_suites", "curve_preferences") if getattr(tls, key)
    ]
    check.conflicts(where, tls.conflicts(failed))
    return tls


def _users(check: _Problems, raw: Any) -> dict[str, str]:
    try:
        return _USERS.validate_python(raw)
    except ValidationError as exc:
        check.record(exc, "basic_auth_users")
        return {}
