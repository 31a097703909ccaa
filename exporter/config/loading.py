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

_ENV_RE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate_env(value: Any, env: Mapping[str, str], problems: list[str], path: str = "") -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in every string; `$$` is a literal `$`."""
    if isinstance(value, dict):
        return {
            k: interpolate_env(v, env, problems, f"{path}.{k}" if path else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate_env(v, env, problems, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(f"{path}: environment variable {name} is not set")
        return ""

    return _ENV_RE.sub(substitute, value)


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
            problems.append(f"{where}: unknown key")
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
