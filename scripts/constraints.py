"""Prints constraints.txt: the installed version of every runtime dependency of the project
and of their own dependencies, for reproducible images (`pip install -c constraints.txt .`).

    python3 scripts/constraints.py > constraints.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
HEADER = """\
# The exact versions the exporter's image is built and tested with: every runtime dependency
# of pyproject.toml and their own dependencies (the closure, no test tools). Used by the
# Dockerfile (`pip install -c constraints.txt .`) and by CI for reproducible installs.
# Regenerate in an environment where the project is installed, after changing a dependency:
#   python3 scripts/constraints.py > constraints.txt
"""


def canonical(name: str) -> str:
    """The PEP 503 form, the one pip compares names in."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(requirements: list[str]) -> dict[str, str]:
    """Each distribution the requirements need on this platform, with its installed version."""
    pinned: dict[str, str] = {}
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        # Extras of our own requirements are not used; markers are this platform's.
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonical(requirement.name)
        if name in pinned:
            continue
        installed = distribution(requirement.name)
        pinned[name] = installed.version
        pending.extend(Requirement(text) for text in installed.requires or [])
    return pinned


def main() -> int:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = runtime_closure(project["dependencies"])
    sys.stdout.write(HEADER + "".join(f"{name}=={pinned[name]}\n" for name in sorted(pinned)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
