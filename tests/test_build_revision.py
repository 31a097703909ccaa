"""`eightbyeight_exporter_build_info`'s revision: the image's build argument, a checkout's
commit, or "unknown"."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exporter import __version__
from exporter.core.revision import REVISION_ENV, UNKNOWN, build_revision, read_revision
from exporter.pollers.base import Scheduler
from exporter.serving.self_metrics import ExporterCollector

REPO = Path(__file__).resolve().parents[1]


def test_the_environment_wins_over_the_checkout() -> None:
    assert read_revision({REVISION_ENV: " 0123abc \n"}, REPO) == "0123abc"


def git_in(directory: Path, *args: str) -> str:
    git = shutil.which("git")
    assert git, "git is needed to make a checkout"
    done = subprocess.run(
        [git, "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=directory,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_a_checkout_gives_its_commit(tmp_path: Path) -> None:
    git_in(tmp_path, "init", "-q")
    (tmp_path / "file").write_text("x")
    git_in(tmp_path, "add", "file")
    git_in(tmp_path, "commit", "-qm", "x")
    head = git_in(tmp_path, "rev-parse", "HEAD")
    assert len(head) == 40
    # An empty variable is what a build without the argument leaves: the checkout answers.
    assert read_revision({REVISION_ENV: ""}, tmp_path) == head


def test_without_either_it_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No .git beside the package (an installed wheel), however deep a repository above it.
    assert read_revision({}, tmp_path) == UNKNOWN
    # A .git that git does not take for a repository, and no git at all.
    (tmp_path / ".git").write_text("gitdir: /nonexistent\n")
    assert read_revision({}, tmp_path) == UNKNOWN
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    assert read_revision({}, REPO) == UNKNOWN


def test_build_info_carries_the_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    build_revision.cache_clear()
    monkeypatch.setenv(REVISION_ENV, "feedface")
    try:
        registry = CollectorRegistry()
        registry.register(ExporterCollector(Scheduler([])))
    finally:
        build_revision.cache_clear()
    samples = [
        sample
        for family in registry.collect()
        if family.name == "eightbyeight_exporter_build_info"
        for sample in family.samples
    ]
    assert len(samples) == 1
    assert samples[0].labels["revision"] == "feedface"
    assert samples[0].labels["version"] == __version__
    assert samples[0].value == 1
