"""Reading and validating a config file: `${ENV_VAR}` interpolation, credentials, and every
problem reported at once with its path (`work_analytics.call_queues.interval: ...`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from exporter.config.credentials import CREDENTIALS, prepare_credentials
from exporter.config.root import Config
from exporter.core.errors import ConfigError, YamlFileError
from exporter.core.yaml_files import read_yaml

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `${A:-${B:-${C}}}` nests; deeper than this is no configuration anyone means.
MAX_DEFAULT_NESTING = 8
_SYNTAX = (
    "${ must name an environment variable, as in ${NAME} or ${NAME:-default} "
    "(write $$ for a literal $)"
)
# Keys that were replaced: the unknown-key message says by what.
REPLACED_KEYS = {
    "work_analytics.agent_names": "work_analytics.personal_data, which covers every name and "
    "e-mail address",
}


class _Refused(Exception):
    """A `${...}` that cannot be read: the message says why, never quoting the value."""


def _expand(
    text: str, start: int, env: Mapping[str, str], unset: list[str], depth: int
) -> tuple[str, int]:
    """`text` from `start` with its references replaced: to the end at depth 0, else (in a
    default) to the `}` that closes it, whose index + 1 is returned. The names of unset
    variables without a default go to `unset`."""
    out: list[str] = []
    i = start
    while i < len(text):
        char = text[i]
        if char == "$" and text.startswith("$$", i):
            out.append("$")
            i += 2
        elif char == "$" and text.startswith("${", i):
            value, i = _reference(text, i + 2, env, unset, depth)
            out.append(value)
        elif char == "}" and depth > 0:
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    if depth > 0:
        raise _Refused("${ without its closing } (write $$ for a literal $)")
    return "".join(out), i


def _reference(
    text: str, start: int, env: Mapping[str, str], unset: list[str], depth: int
) -> tuple[str, int]:
    """The value of the reference whose name starts at `start` (after `${`), and the index
    after its `}`. A default is read (to find its end) but its unset variables count only
    when the default is used, as in the shell."""
    match = _ENV_NAME.match(text, start)
    if match is None:
        raise _Refused(_SYNTAX)
    name, i = match.group(), match.end()
    if text.startswith("}", i):
        if name not in env:
            unset.append(name)
            return "", i + 1
        return env[name], i + 1
    if not text.startswith(":-", i):
        raise _Refused(_SYNTAX)
    if depth + 1 > MAX_DEFAULT_NESTING:
        raise _Refused(f"${{...}} defaults nested more than {MAX_DEFAULT_NESTING} deep")
    default_unset: list[str] = []
    default, i = _expand(text, i + 2, env, default_unset, depth + 1)
    if name in env:
        return env[name], i
    unset.extend(default_unset)
    return default, i


def interpolate_env(value: Any, env: Mapping[str, str], problems: list[str], path: str = "") -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in every string, defaults nesting
    (`${A:-${B}}`); `$$` is a literal `$`. Values from the environment are not read again."""
    if isinstance(value, dict):
        return {
            k: interpolate_env(v, env, problems, f"{path}.{k}" if path else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate_env(v, env, problems, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    unset: list[str] = []
    try:
        expanded, _ = _expand(value, 0, env, unset, 0)
    except _Refused as exc:
        problems.append(f"{path}: {exc}")
        return ""
    problems.extend(f"{path}: environment variable {name} is not set" for name in unset)
    return expanded


def _format_location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-") or part in ("literal_error",):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def _format_errors(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        where = _format_location(tuple(error["loc"]))
        if error["type"] == "extra_forbidden":
            replaced = REPLACED_KEYS.get(where)
            problems.append(
                f"{where}: unknown key" + (f" (replaced by {replaced})" if replaced else "")
            )
            continue
        if error["type"] in ("model_type", "dict_type"):
            problems.append(f"{where or '(top level)'}: must be a mapping")
            continue
        message = error["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if message.startswith(prefix):
                message = message[len(prefix) :]
        problems.append(f"{where or '(top level)'}: {message}")
    return problems


def load_config_data(data: Any, env: Mapping[str, str] | None = None) -> Config:
    """Validate already-parsed YAML. Raises ConfigError listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(["(top level): must be a mapping of sections"])
    env = os.environ if env is None else env
    problems: list[str] = []
    data = interpolate_env(data, env, problems)
    for name in CREDENTIALS:
        section = data.get(name)
        if section is None and name == "work_analytics":
            section = {}
        if isinstance(section, dict):
            data[name] = prepare_credentials(name, section, env, problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(_format_errors(exc))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Parse a YAML config file; an empty file is an empty config."""
    try:
        data = read_yaml(path)
    except YamlFileError as exc:
        problem = "cannot read the config file: " if exc.unreadable else "invalid YAML"
        raise ConfigError([f"{path}: {problem}{exc.reason}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections"])
    return data


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a YAML config file."""
    return load_config_data(read_config_file(path), env)
