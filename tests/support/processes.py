"""Daemons of the end-to-end tests as subprocesses on loopback: the exporter of this tree,
Debian's Prometheus and Alertmanager, their logs (for a failure's message), bounded waits, and
Prometheus's HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

# The tree under test: a subprocess imports its sources, not those of the editable install.
REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_until(
    what: str, probe: Callable[[], T | None], timeout: float = 90.0, every: float = 0.5
) -> T:
    """What `probe` returns once it is truthy; polled every `every` seconds, bounded by a
    deadline and by a count of polls. Raises AssertionError naming `what` on time-out."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / every) + 1):
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            break
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def get_json(url: str) -> Any:
    """The decoded JSON answer of `url`, or None while it does not answer with JSON."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


@dataclass
class Process:
    """One daemon, its output going to `log`."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine or a container dies."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start(
    name: str, command: Sequence[str], directory: Path, env: dict[str, str] | None = None
) -> Process:
    """`command` started in `directory`, its output appended to `<name>.log` there (a process
    started again under the same name goes on in the same log)."""
    log = directory / f"{name}.log"
    with log.open("ab") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            list(command), stdout=out, stderr=subprocess.STDOUT, cwd=directory, env=env
        )
    return Process(name, process, log)


def start_exporter(name: str, config_file: Path, port: int, directory: Path) -> Process:
    """`python -m exporter` of this tree, listening on 127.0.0.1:`port`."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable,
        "-m",
        "exporter",
        "--config.file",
        str(config_file),
        "--web.listen-address",
        f"127.0.0.1:{port}",
    ]
    return start(name, command, directory, env)


def binary(*names: str) -> str:
    """The path of the first of `names` on PATH."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(
        f"{names[0]} is missing: scripts/test.sh installs Debian's prometheus "
        "and prometheus-alertmanager packages"
    )


def start_prometheus(
    directory: Path, port: int, config: dict[str, Any], *flags: str
) -> tuple[Process, Prometheus]:
    """Prometheus with `config` (written to prometheus.yml in `directory`, where relative rule
    files are found) and its TSDB in `directory`."""
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = start(
        "prometheus",
        [
            binary("prometheus"),
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            *flags,
        ],
        directory,
    )
    return process, Prometheus(f"http://127.0.0.1:{port}")


@dataclass(frozen=True)
class Prometheus:
    """Prometheus's HTTP API at `url`."""

    url: str

    def query(self, expr: str, at: float | None = None) -> dict[str, Any]:
        """The answer of `/api/v1/query` (evaluated at `at`, else now), with Prometheus's reason
        on a bad query, or status "unreachable" while it does not listen."""
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:  # 400/422: a bad query
            return json.loads(err.read())
        except OSError as err:  # not listening yet, or gone
            return {"status": "unreachable", "error": str(err)}

    def result(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """The result of a query that must succeed."""
        answer = self.query(expr, at)
        assert answer.get("status") == "success", f"{expr}\n{answer.get('error')}"
        return list(answer["data"]["result"])

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False
