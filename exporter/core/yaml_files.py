"""Reading the YAML files users write (the config, the web config) without quoting them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from exporter.core.errors import YamlFileError


def read_yaml(path: str | Path) -> Any:
    """The document of a YAML file (the config, the web config).

    Errors carry only the position and the parser's own words: PyYAML's message quotes the
    offending line, which may hold a secret. For a parse error, `reason` is
    ` at line L, column C: problem`.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlFileError(True, exc.strerror or type(exc).__name__) from None
    except UnicodeDecodeError:
        raise YamlFileError(True, "not UTF-8 text") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise YamlFileError(False, f"{where}: {problem}") from None
