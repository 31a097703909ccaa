"""Reading the YAML files users write (the config, the web config) without quoting them, and
within bounds: a file of a few KB is never allowed to take seconds or gigabytes to load."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from exporter.core.errors import YamlFileError

# A config file is a few KB; a listing of 20,000 PBXes is about 300 KB.
MAX_YAML_BYTES = 1024 * 1024
# Values of the document once every alias is expanded. A "billion laughs" file of a few hundred
# bytes expands to millions of them (PyYAML shares the aliased objects, but validating the
# document walks every copy): it is refused before anything walks it.
MAX_YAML_VALUES = 100_000
# Nesting of the document with aliases expanded; the config nests about 5 levels.
MAX_YAML_DEPTH = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _YamlLimit(Exception):
    """A document beyond the limits: `reason` is the rest of the message (` at line ...: ...`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _at(node: yaml.Node, problem: str) -> _YamlLimit:
    mark = node.start_mark
    return _YamlLimit(f" at line {mark.line + 1}, column {mark.column + 1}: {problem}")


def _child_path(path: str, key: yaml.Node) -> str:
    name = key.value if isinstance(key, yaml.ScalarNode) else "?"
    return f"{path}.{name}" if path else str(name)


class _Measure:
    """The values and nesting of a composed document with its aliases expanded, each node
    measured once (an alias is the same node object as its anchor), and the key path of every
    mapping, for the messages of the loader."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)
        self.active: set[int] = set()
        self.paths: dict[int, str] = {}

    def node(self, node: yaml.Node, depth: int, path: str) -> tuple[int, int]:
        if depth > MAX_YAML_DEPTH:
            raise _at(node, f"nested more than {MAX_YAML_DEPTH} levels deep")
        known = self.memo.get(id(node))
        if known is not None:
            if depth + known[1] > MAX_YAML_DEPTH:
                raise _at(node, f"nested more than {MAX_YAML_DEPTH} levels deep")
            return known
        if id(node) in self.active:
            raise _at(node, "an alias refers to a value that contains it")
        self.active.add(id(node))
        children: list[tuple[yaml.Node, str]] = []
        if isinstance(node, yaml.MappingNode):
            self.paths.setdefault(id(node), path)
            for key, value in node.value:
                children += [(key, path), (value, _child_path(path, key))]
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        values, height = 1, 0
        for child, child_path in children:
            child_values, child_height = self.node(child, depth + 1, child_path)
            values += child_values
            height = max(height, child_height + 1)
        self.active.discard(id(node))
        self.memo[id(node)] = (values, height)
        return values, height


# What YAML makes of an unquoted key that is no name (anything else: a number).
_YAML_KINDS: dict[type, str] = {
    bool: "a boolean (YAML 1.1: on, off, yes, no, true, false)",
    type(None): "null",
    datetime.date: "a date",
    datetime.datetime: "a timestamp",
}


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a key written twice in one mapping (PyYAML keeps the
    last one silently). Keys a merge (`<<: *defaults`) brings may be overridden, as YAML says."""

    paths: dict[int, str]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str) and isinstance(key_node, yaml.ScalarNode):
                # Every key of both files is a name: `on:`, `null:` or `2024-01-01:` unquoted
                # would else be reported as `[1]`, `None` or a Python repr by the model.
                where = _child_path(self.paths.get(id(node), ""), key_node)
                raise _at(
                    key_node,
                    f"key {where} is read as {_YAML_KINDS.get(type(key), 'a number')}, not a "
                    "name: quote it",
                )
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: PyYAML's own error follows
                continue
            if duplicate:
                where = _child_path(self.paths.get(id(node), ""), key_node)
                raise _at(key_node, f"duplicate key {where}")
            seen.add(key)
        return super().construct_mapping(node, deep)


def _read_text(path: str | Path) -> str:
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise YamlFileError(True, exc.strerror or type(exc).__name__) from None
    if len(data) > MAX_YAML_BYTES:
        raise YamlFileError(True, f"larger than {MAX_YAML_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise YamlFileError(True, "not UTF-8 text") from None


def load_yaml_text(text: str) -> Any:
    """The document of a YAML text, within the limits above; YamlFileError otherwise."""
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        measure = _Measure()
        values, _ = measure.node(root, 1, "")
        if values > MAX_YAML_VALUES:
            raise _YamlLimit(
                f": more than {MAX_YAML_VALUES} values once aliases are expanded (an alias bomb?)"
            )
        loader.paths = measure.paths
        return loader.construct_document(root)
    except _YamlLimit as exc:
        raise YamlFileError(False, exc.reason) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise YamlFileError(False, f"{where}: {problem}") from None
    except RecursionError:  # PyYAML composes recursively: `[[[[...` a few hundred deep
        raise YamlFileError(False, f": nested more than {MAX_YAML_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> Any:
    """The document of a YAML file (the config, the web config).

    Errors carry only the position, the key path and the parser's own words: PyYAML's message
    quotes the offending line, which may hold a secret. For a parse error, `reason` is
    ` at line L, column C: problem`.
    """
    return load_yaml_text(_read_text(path))
