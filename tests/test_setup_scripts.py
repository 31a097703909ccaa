"""The README's set-up commands make their own virtual environment (scripts/venv.sh): a fresh
Debian's system Python refuses `pip install` outside one (PEP 668)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What the scripts see of the environment after sourcing venv.sh.
REPORT = 'echo "$VIRTUAL_ENV"; command -v python3; python3 -c "import sys; print(sys.prefix)"'


def sourced(env: dict[str, str], cwd: Path, command: str = REPORT, *args: str) -> list[str]:
    """What `command` prints (its arguments `args`) after sourcing venv.sh."""
    done = subprocess.run(
        [
            "bash",
            "-c",
            f"set -euo pipefail; . {REPO / 'scripts' / 'venv.sh'}; {command}",
            "-",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def clean_env(path: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "EIGHTBYEIGHT_VENV")}
    env["PATH"] = path
    return env


def test_a_virtual_environment_is_made_in_the_checkout_and_put_first(tmp_path: Path) -> None:
    python_dir = str(Path(sys.executable).parent)
    env = clean_env(f"{python_dir}:/usr/bin:/bin")
    venv = tmp_path / ".venv"
    first = sourced(env, tmp_path)
    assert first == [str(venv), str(venv / "bin" / "python3"), str(venv)]
    assert (venv / "bin" / "pip").exists()  # pip is there to install into it
    # Made once: the second time it is used as it is.
    marker = venv / "made-once"
    marker.write_text("")
    assert sourced(env, tmp_path) == first and marker.exists()


def test_a_venv_left_without_pip_by_an_interrupted_run_is_made_again(tmp_path: Path) -> None:
    """venv writes python3 before pip: a first run stopped in its first seconds left one that
    every later run took as it was, failing with "No module named pip"."""
    python_dir = str(Path(sys.executable).parent)
    env = clean_env(f"{python_dir}:/usr/bin:/bin")
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    assert sourced(env, tmp_path)[0] == str(venv)
    assert (venv / "bin" / "pip").exists()


def test_the_environment_one_is_in_or_named_is_used(tmp_path: Path) -> None:
    python_dir = str(Path(sys.executable).parent)
    named = tmp_path / "named"
    env = clean_env(f"{python_dir}:/usr/bin:/bin") | {"EIGHTBYEIGHT_VENV": str(named)}
    assert sourced(env, tmp_path)[0] == str(named)
    env = clean_env(f"{python_dir}:/usr/bin:/bin") | {"VIRTUAL_ENV": str(named)}
    assert sourced(env, tmp_path)[0] == str(named)
    assert not (tmp_path / ".venv").exists()


def test_a_python_older_than_3_11_is_refused_with_a_message(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    python3 = fake / "python3"
    python3.write_text(
        '#!/bin/sh\ncase "$1" in -V) echo "Python 3.9.2";; *) exit 1;; esac\n', encoding="utf-8"
    )
    python3.chmod(0o755)
    done = subprocess.run(
        ["bash", "-c", f". {REPO / 'scripts' / 'venv.sh'}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(f"{fake}:/usr/bin:/bin"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: python3 is Python 3.9.2: the exporter needs Python 3.11 or newer"
    )
    assert not (tmp_path / ".venv").exists()


def test_an_unchanged_install_is_not_asked_of_pip_again(tmp_path: Path) -> None:
    """Every run installed again, so a second run without network failed (pip fetches the
    build backend); an unchanged install is now skipped, a changed one is not."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "pip.log"
    fake = venv / "bin" / "python3"  # stands for the venv's pip: logs what it is asked
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    entry = venv / "bin" / "eightbyeight-exporter"
    entry.write_text("#!/bin/sh\n", encoding="utf-8")
    entry.chmod(0o755)
    env = clean_env("/usr/bin:/bin") | {"VIRTUAL_ENV": str(venv)}

    checkout = tmp_path / "checkout"  # what the key is made of, here to be changed
    checkout.mkdir()
    for name in ("pyproject.toml", "constraints.txt"):
        (checkout / name).write_bytes((REPO / name).read_bytes())

    def install(*args: str) -> None:
        sourced(env, checkout, 'venv_install "$@"', *args)

    install("-c", "constraints.txt", "-e", ".")
    install("-c", "constraints.txt", "-e", ".")
    assert log.read_text().splitlines() == [
        "-m pip install --quiet --disable-pip-version-check -c constraints.txt -e ."
    ]
    install("-c", "constraints.txt", "-e", ".[test]")  # other arguments: installed
    install("-c", "constraints.txt", "-e", ".")  # and the first ones still need nothing
    assert len(log.read_text().splitlines()) == 2
    entry.unlink()  # gone from the venv: installed again
    install("-c", "constraints.txt", "-e", ".")
    assert len(log.read_text().splitlines()) == 3
    with (checkout / "constraints.txt").open("a") as constraints:
        constraints.write("# a pin moved\n")
    install("-c", "constraints.txt", "-e", ".")  # the constraints changed: installed again
    assert len(log.read_text().splitlines()) == 4
