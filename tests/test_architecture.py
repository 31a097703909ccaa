"""The structure docs/architecture.md describes, kept by a test: small modules, no import cycle,
no `type: ignore` anywhere, and the exporter free of the simulator and the mixin generator.

The import graph is read from the source (every import statement, those inside functions and
under TYPE_CHECKING included), so a cycle hidden in a function-local import fails here too.
The layers inside exporter/ are import-linter's contract in pyproject.toml (`lint-imports`).
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.files import REPO

PACKAGES = ("exporter", "simulator", "mixin")
MAX_LINES = 400
# The queueing model is one algorithm whose parts only make sense together.
ALLOWED_LONGER = frozenset({"simulator/model.py"})
# --demo starts the simulator, imported inside the function that needs it (and named under
# TYPE_CHECKING for its type): the exporter itself never loads it.
MAY_IMPORT_SIMULATOR = frozenset({"exporter.cli"})


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # the module it names: a submodule where `from package import submodule`
    line: int
    lazy: bool  # inside a function or under `if TYPE_CHECKING`: not run on import


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
    }


def _lazy_nodes(tree: ast.AST) -> set[int]:
    """Nodes inside a function or an `if TYPE_CHECKING:` block."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(child) for part in node.body for child in ast.walk(part))
    return inside


def imports_in(
    name: str, source: str, is_package: bool, known: Collection[str]
) -> Iterator[Import]:
    """The imports of module `name`, whose text is `source`; `known`: the modules that exist."""
    tree = ast.parse(source)
    lazy = _lazy_nodes(tree)
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import submodule` depends on the submodule, not on the package.
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t for t in submodules if t in known] or [base]
        for target in targets:
            yield Import(name, target, node.lineno, id(node) in lazy)


def imports_of(name: str, path: Path, known: Collection[str]) -> Iterator[Import]:
    return imports_in(name, path.read_text(), path.name == "__init__.py", known)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the three packages it imports (itself excluded)."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for found in imports_of(name, path, known):
            if found.imported in known and found.imported != name:
                graph[name].add(found.imported)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_module_is_longer_than_the_limit() -> None:
    too_long = {
        str(path.relative_to(REPO)): lines
        for path in modules().values()
        if str(path.relative_to(REPO)) not in ALLOWED_LONGER
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"over {MAX_LINES} lines, split them along a real seam: {too_long}"


def test_there_is_no_import_cycle() -> None:
    graph = import_graph()
    assert graph["exporter.cli"], "the graph must see the imports, or the test proves nothing"
    found = cycles(graph)
    assert not found, "modules that import each other, directly or around a loop:\n" + "\n".join(
        " <-> ".join(cycle) for cycle in found
    )


def test_cycles_are_found_through_function_local_imports() -> None:
    # The checker itself: a cycle closed by an import inside a function counts.
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = "def late():\n    from . import cli\n"
    found = list(imports_in("exporter.x", source, False, {"exporter.cli", "exporter.x"}))
    assert [(i.imported, i.lazy) for i in found] == [("exporter.cli", True)]
    source = "if TYPE_CHECKING:\n    import exporter.cli\nimport exporter.x\n"
    found = list(imports_in("exporter.y", source, False, {"exporter.cli", "exporter.x"}))
    assert sorted((i.imported, i.lazy) for i in found) == [
        ("exporter.cli", True),
        ("exporter.x", False),
    ]


def test_the_exporter_imports_neither_the_simulator_nor_the_mixin() -> None:
    known = modules()
    wrong = []
    for name, path in known.items():
        if not name.startswith("exporter"):
            continue
        for found in imports_of(name, path, known):
            top = found.imported.split(".")[0]
            allowed = top == "simulator" and name in MAY_IMPORT_SIMULATOR and found.lazy
            if top in {"simulator", "mixin"} and not allowed:
                wrong.append(f"{path.relative_to(REPO)}:{found.line} imports {found.imported}")
    assert not wrong, "\n".join(wrong)


def type_ignores(path: Path) -> list[int]:
    """Lines with a `type: ignore` comment (comments only: a string that spells it is fine)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [
        token.start[0]
        for token in tokens
        if token.type == tokenize.COMMENT and token.string.lstrip("# ").startswith("type: ignore")
    ]


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for folder in (*PACKAGES, "tests", "benchmarks")
        for p in (REPO / folder).rglob("*.py")
        if "vendor" not in p.parts
    ),
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_no_code_silences_the_type_checker(path: Path) -> None:
    lines = type_ignores(path)
    assert not lines, (
        f"type: ignore on lines {lines}: type the code instead (Protocol, cast, TypedDict)"
    )


def test_tests_share_helpers_through_tests_support_only() -> None:
    # A test module imported by another runs its tests twice and couples unrelated suites;
    # conftests hold fixtures, which pytest injects.
    wrong = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if "vendor" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [module, *(f"{module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if name.startswith("tests") and (last.startswith("test_") or last == "conftest"):
                    wrong.append(f"{path.relative_to(REPO)}:{node.lineno} imports {name}")
                elif name == "conftest" or name.startswith("conftest."):
                    wrong.append(f"{path.relative_to(REPO)}:{node.lineno} imports {name}")
    assert not wrong, "\n".join(wrong)
