"""The harness's child processes: each answers in JSON lines on stdout, every wait for it is
bounded, and it is always terminated and reaped.

They are the simulator (one announcement line), the exporter under test (one answer per
command), and the two baselines (one "ready" line). A child's stderr goes to a log file, never
to a pipe nobody reads (a full pipe would block it).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the baselines import this module: they need not load exporter.cli
    from benchmarks.account import Account

# Where `python3 -m benchmarks.<module>` is found, wherever the harness is started from.
REPOSITORY = Path(__file__).resolve().parents[1]
# Seconds a child may take to say it is ready: the simulator builds a 500k account in ~15.
START_TIMEOUT = 600.0


class ChildFailed(RuntimeError):
    """A child exited, answered nonsense, or took longer than its bound."""


class Child:
    """`python3 -m <module> args...` in its own process; a context manager that always
    terminates and reaps it."""

    def __init__(self, name: str, module: str, args: list[str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "ab")
        self._lines: queue.Queue[str | None] = queue.Queue()
        path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                text=True,
                bufsize=1,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path},
            )
        except BaseException:
            self._log.close()
            raise
        # A reader thread, so that every wait for a line can have a timeout.
        threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of file: the child exited

    def read(self, timeout: float) -> dict[str, Any]:
        """The next JSON line, within `timeout` seconds."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise ChildFailed(f"{self.name}: no answer within {timeout:g}s{self._tail()}") from None
        if line is None:
            self._lines.put(None)
            raise ChildFailed(f"{self.name}: exited (code {self.process.poll()}){self._tail()}")
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):  # every child of ours answers JSON objects only
            raise ChildFailed(f"{self.name}: not a JSON object line: {line[:200]!r}")
        if "error" in answer:
            raise ChildFailed(f"{self.name}: {answer['error']}{self._tail()}")
        return answer

    def ask(self, command: str, timeout: float) -> dict[str, Any]:
        """Send one command line, return its answer line."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ChildFailed(f"{self.name}: gone before {command!r}{self._tail()}") from None
        return self.read(timeout)

    def _tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()[-8:]
        except OSError:
            return ""
        return ("\n  " + "\n  ".join(text)) if text else ""

    def close(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; always reaped."""
        try:
            if self.process.stdin is not None:
                try:
                    self.process.stdin.close()  # our children also end on end of input
                except OSError:
                    pass
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
        finally:
            self._log.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# A moment of the week the simulator's clock may be pinned to: how many calls a day holds, so
# how many /calls pages a round reads (74 to 97 at 500k), depends on the simulated weekday and
# hour. Tuesday 2024-03-05 15:00 UTC: the simulator's tests' instant, a busy weekday afternoon.
PINNED_WEEK_MOMENT = 1_709_650_800.0
WEEK_SECONDS = 7 * 86_400.0


def pinned_clock_offset(now: float, moment: float = PINNED_WEEK_MOMENT) -> float:
    """The --clock-offset (behind, less than a week) that starts the simulator's clock at the
    weekday and time of `moment`, some whole weeks later."""
    return -((now - moment) % WEEK_SECONDS)


@contextmanager
def simulator(
    account: Account, work_dir: Path, token_ttl: str | None = None, pin_clock: bool = False
) -> Iterator[dict[str, Any]]:
    """The simulator in its own process (its CPU is not the exporter's); its announcement.
    `token_ttl`: both APIs' token lifetime instead of the account's short ones; `pin_clock`:
    its clock starts at PINNED_WEEK_MOMENT's weekday and time (`clock_offset` in the
    announcement), for figures that do not depend on when they were taken."""
    args = account.simulator_args()
    if token_ttl is not None:
        for flag in ("--token-ttl", "--cc-token-ttl"):
            args[args.index(flag) + 1] = token_ttl
    offset = pinned_clock_offset(time.time()) if pin_clock else 0.0
    if pin_clock:
        args.append(f"--clock-offset={offset:.3f}s")
    with Child(
        "simulator",
        "simulator",
        ["--host", "127.0.0.1", "--port", "0", "--seed", "42", *args],
        work_dir,
    ) as child:
        announcement = child.read(START_TIMEOUT)
        # The simulator announces its Work Analytics base URL; its other APIs and /_sim/
        # hang off the root, which the exporter's config and the request log both need.
        root = announcement["base_url"].rsplit("/analytics/work", 1)[0]
        yield {**announcement, "pid": child.pid, "root_url": root, "clock_offset": offset}


@contextmanager
def sized_simulator(
    size: str, prefix: str, token_ttl: str | None = None, pin_clock: bool = False
) -> Iterator[dict[str, Any]]:
    """A script's simulator: warnings on stderr, the account of `size` (said on stderr), the
    simulator on it in a temporary directory (`token_ttl`, `pin_clock`: see `simulator`); its
    announcement."""
    from benchmarks.account import account_for, parse_size
    from exporter.core.logs import configure_logging

    configure_logging("warn", "json", stream=sys.stderr)
    account = account_for(parse_size(size))
    print(f"account: {account.describe()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        with simulator(account, Path(tmp), token_ttl, pin_clock) as sim:
            yield sim


@contextmanager
def exporter_under_test(config: dict[str, Any], work_dir: Path) -> Iterator[tuple[Child, int]]:
    """benchmarks/exporter_process.py with `config` (the exporter's configuration data):
    (the child, its port)."""
    config_file = work_dir / "exporter-config.json"
    config_file.write_text(json.dumps(config))
    with Child(
        "exporter", "benchmarks.exporter_process", [str(config_file), str(work_dir)], work_dir
    ) as child:
        yield child, int(child.read(START_TIMEOUT)["port"])


@contextmanager
def baseline(module: str, page_file: Path, work_dir: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """benchmarks.floor or benchmarks.naive serving `page_file`: (its port, its ready line)."""
    with Child(module.rsplit(".", 1)[-1], module, [str(page_file)], work_dir) as child:
        ready = {**child.read(START_TIMEOUT), "pid": child.pid}
        yield int(ready["port"]), ready


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process so far (/proc/PID/stat), all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> int:
    """The highest resident memory of a process so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def serve_until_end_of_input() -> None:
    """For a child: block until the parent closes our stdin (or dies), ignoring Ctrl-C, which
    the terminal sends to the whole process group: the parent cleans up in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.read()


def serve_baseline(server: Any) -> int:
    """For a baseline child: announce the port of its running `server` (an http.server one)
    and serve until the parent closes our stdin, then shut the server down."""
    try:
        announce({"port": server.server_address[1]})
        serve_until_end_of_input()
    finally:
        server.shutdown()
        server.server_close()
    return 0


def announce(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()
