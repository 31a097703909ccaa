"""What ships with the package: the licence, the constraints the image is built with, the
changelog of the current version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from exporter import __version__

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def constraints() -> dict[str, str]:
    """constraints.txt's pins by canonical name; each line is `name==version`."""
    pins: dict[str, str] = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line.strip())
        assert match, f"constraints.txt: {line!r} is not name==version"
        name = canonicalize_name(match[1])
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = match[2]
    return pins


def test_every_runtime_dependency_is_pinned_within_its_range() -> None:
    pins = constraints()
    for text in PROJECT["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is a dependency but not in constraints.txt"
        # A raised lower bound or a new upper bound needs the pin moved with it.
        assert requirement.specifier.contains(pins[name], prereleases=True), (text, pins[name])


def test_no_test_tool_is_pinned_among_the_runtime_versions() -> None:
    test_tools = {
        canonicalize_name(Requirement(t).name) for t in PROJECT["optional-dependencies"]["test"]
    }
    assert not test_tools & constraints().keys()


def test_the_licence_is_the_apache_2_text_the_metadata_names() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    # The whole text: the nine sections of the terms and the appendix.
    for section in range(1, 10):
        assert f"\n   {section}. " in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX" in text


def test_the_changelog_has_the_current_version_and_an_unreleased_section() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert headings[0] == "Unreleased"
    assert __version__ in headings
