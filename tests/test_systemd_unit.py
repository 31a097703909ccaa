"""docs/systemd/eightbyeight-exporter.service: hardened, reloading on SIGHUP, starting the
exporter with flags it accepts, and clean for `systemd-analyze verify`."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.config.command_line import build_parser

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "docs" / "systemd" / "eightbyeight-exporter.service"
BINARY = "/opt/eightbyeight/bin/eightbyeight-exporter"


def settings(text: str) -> dict[str, list[str]]:
    """Each key's values, continuation lines joined, comments and sections dropped."""
    found: dict[str, list[str]] = {}
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped[0] in "#;["):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        key, _, value = (pending + stripped).partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
        pending = ""
    return found


def test_the_unit_is_hardened_and_reloads_on_sighup() -> None:
    unit = settings(UNIT.read_text(encoding="utf-8"))
    for key, value in {
        "DynamicUser": "yes",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "2",  # cli.py's exit status of an invalid configuration
        "EnvironmentFile": "/etc/eightbyeight-exporter/credentials.env",
        "ExecReload": "/bin/kill -HUP $MAINPID",
    }.items():
        assert unit[key] == [value], key


def test_the_exporter_accepts_the_units_command_line() -> None:
    (exec_start,) = settings(UNIT.read_text(encoding="utf-8"))["ExecStart"]
    binary, *args = shlex.split(exec_start)
    assert binary == BINARY
    options = build_parser().parse_args(args)
    # The configuration path the image uses too (Dockerfile, README).
    assert options.config_file == "/etc/eightbyeight-exporter/config.yaml"
    assert options.listen_address == ":9878"


def verify(unit_text: str, tmp_path: Path) -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is missing (Debian's systemd package)")
    # verify wants ExecStart's program to exist: the interpreter running the tests stands in.
    unit = tmp_path / "eightbyeight-exporter.service"
    unit.write_text(unit_text.replace(BINARY, sys.executable), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    return f"{result.returncode} {result.stdout}{result.stderr}".strip()


def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    assert verify(UNIT.read_text(encoding="utf-8"), tmp_path) == "0"


def test_systemd_analyze_verify_finds_a_misspelt_key(tmp_path: Path) -> None:
    # The test above can fail: a misspelt hardening key is reported (and would be ignored).
    text = UNIT.read_text(encoding="utf-8").replace("NoNewPrivileges=", "NoNewPrivilege=")
    assert "Unknown key 'NoNewPrivilege'" in verify(text, tmp_path)
