"""yamllint over the repository's YAML with its .yamllint settings: any finding fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def yamllint(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    # As a module of this interpreter: its scripts directory need not be on PATH.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "--config-file",
            str(REPO / ".yamllint"),
            "--strict",
            "--format",
            "parsable",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_the_repository_yaml_passes_yamllint() -> None:
    result = yamllint(".")
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr


def test_every_yaml_file_but_templates_and_broken_fixtures_is_linted() -> None:
    listed = {
        Path(p).as_posix().removeprefix("./") for p in yamllint("--list-files", ".").stdout.split()
    }
    for expected in (
        "config/example.yaml",
        "mixin/rules.yml",
        "mixin/tests/alerts_test.yml",
        "helm/eightbyeight-exporter/values.yaml",
        "grafana_dashboards/provisioning/datasource.yaml",
    ):
        assert expected in listed
    assert not any("/templates/" in path or "/invalid/" in path for path in listed)


def test_yamllint_fails_on_a_duplicate_key_and_a_long_line(tmp_path: Path) -> None:
    # The first test can fail: the same settings find these in a hand-written file.
    (tmp_path / "bad.yaml").write_text("a: 1\na: 2\nb: " + "x" * 120 + "\n")
    result = yamllint("bad.yaml", cwd=tmp_path)
    assert result.returncode != 0
    assert "(key-duplicates)" in result.stdout and "(line-length)" in result.stdout
