"""The daemon's life cycle: config reload on SIGHUP and POST /-/reload (an invalid file keeps
the running config), and a graceful stop on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from exporter.cli import SignalFlags
from simulator import Simulator
from tests.support.end_to_end import config_for
from tests.support.waiting import free_port, wait_for

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
RELOAD_OK = "eightbyeight_exporter_config_last_reload_successful"
RELOAD_AT = "eightbyeight_exporter_config_last_reload_success_timestamp_seconds"


def until(what: str, probe: Callable[[], object], timeout: float = 60.0) -> None:
    # A subprocess starting up or reloading its config: a minute, as a loaded CI machine is slow.
    if not wait_for(probe, timeout, interval=0.1):
        raise AssertionError(f"timed out waiting for {what}")


def http(url: str, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


def metrics(base: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    status, text = http(f"{base}/metrics")
    assert status == 200
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def collectors(base: str) -> set[str]:
    return {labels["collector"] for labels, _ in metrics(base).get("eightbyeight_up", [])}


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes], Path]]:
    with Simulator(seed=9, host="127.0.0.1", port=0) as sim:
        config = tmp_path / "config.json"  # JSON is YAML
        config.write_text(json.dumps(config_for(sim)))
        port = free_port()
        log = tmp_path / "exporter.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "exporter",
                    "--config.file",
                    str(config),
                    "--web.listen-address",
                    f"127.0.0.1:{port}",
                    "--web.enable-lifecycle",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            until("the exporter to be ready", lambda: http(f"{base}/-/ready")[0] == 200)
            yield base, config, process, log
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def test_reload_keeps_the_running_config_when_the_new_one_is_invalid(
    daemon: tuple[str, Path, subprocess.Popen[bytes], Path],
) -> None:
    base, config, process, log = daemon
    good = json.loads(config.read_text())
    started = metrics(base)[RELOAD_AT][0][1]
    assert metrics(base)[RELOAD_OK][0][1] == 1
    before = collectors(base)
    assert {"discovery", "call_queues", "call_records"} <= before

    # An invalid file on SIGHUP: nothing changes but the reload metric.
    config.write_text(
        json.dumps({**good, "work_analytics": {**good["work_analytics"], "colour": "red"}})
    )
    process.send_signal(signal.SIGHUP)
    until("the failed reload", lambda: metrics(base)[RELOAD_OK][0][1] == 0)
    assert collectors(base) == before and process.poll() is None
    assert "config_reload_failed" in log.read_text()
    # The same by HTTP: 500 naming the key at fault, not the file; GET is not a reload.
    status, body = http(f"{base}/-/reload", "POST")
    assert status == 500 and "work_analytics.colour" in body and str(config) not in body
    assert http(f"{base}/-/reload")[0] == 405

    # A valid change by HTTP: applied, and the metric says so.
    changed = {
        **good,
        "work_analytics": {**good["work_analytics"], "call_records": {"enabled": False}},
    }
    config.write_text(json.dumps(changed))
    status, body = http(f"{base}/-/reload", "POST")
    assert (status, body.strip()) == (200, "configuration reloaded")
    after = metrics(base)
    assert after[RELOAD_OK][0][1] == 1 and after[RELOAD_AT][0][1] >= started
    until("the new collectors", lambda: collectors(base) == before - {"call_records"})
    # The same file again changes nothing.
    assert http(f"{base}/-/reload", "POST") == (200, "configuration unchanged\n")
    until("readiness of the new exporter", lambda: http(f"{base}/-/ready")[0] == 200)


def test_sigterm_stops_the_daemon_gracefully(
    daemon: tuple[str, Path, subprocess.Popen[bytes], Path],
) -> None:
    base, _config, process, log = daemon
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    text = log.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    stopping = [e for e in events if e["msg"] == "exporter_stopping"]
    assert [e["signal"] for e in stopping] == ["SIGTERM"]
    assert events[-1]["msg"] == "exporter_stopped"
    assert http(f"{base}/metrics")[0] == 0  # nothing listens any more


def test_signal_handlers_only_record_what_was_asked() -> None:
    # A handler runs in the main thread between two bytecodes, possibly while that thread holds
    # the log stream's lock in the middle of a log line (structlog's lock is not reentrant): a
    # handler that logged would deadlock the process, as SIGTERM right after start-up once did.
    flags = SignalFlags()

    def stop() -> str | None:
        # Read through a call: the handlers change the flag behind the type checker's back,
        # so a narrowed `flags.stop` would make the later checks look unreachable.
        return flags.stop

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        flags.install()
        with structlog.testing.capture_logs() as logged:
            assert not flags.take_reload() and stop() is None
            signal.raise_signal(signal.SIGHUP)
            signal.raise_signal(signal.SIGHUP)
            assert flags.take_reload() and not flags.take_reload()  # two SIGHUPs, one reload
            signal.raise_signal(signal.SIGTERM)
            assert stop() == "SIGTERM"
            signal.raise_signal(signal.SIGINT)
            assert stop() == "SIGINT"
        assert logged == []
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


STOPPED_IN_THE_START = """
import os, signal, sys
import exporter.cli as cli

def checked(exporter, strict):  # the start asks the Contact Center API here
    os.kill(os.getpid(), signal.SIGHUP)
    return ["stopped in the start"]

cli.check_reports_or_fail = checked
sys.exit(cli.main(["--demo", "--web.listen-address", "127.0.0.1:0"]))
"""


def test_a_sighup_during_the_start_does_not_end_the_exporter() -> None:
    """SIGHUP's default ends a process, and systemd counts that a clean exit it does not
    restart: a `systemctl reload` right after a start took the exporter down for good."""
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_IN_THE_START],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr.decode()[-2000:]
    assert b"stopped in the start" in done.stderr


def test_a_sighup_held_during_the_start_is_taken_by_the_main_loop() -> None:
    flags = SignalFlags()
    saved = signal.getsignal(signal.SIGHUP)
    try:
        flags.hold_reloads()
        signal.raise_signal(signal.SIGHUP)
        assert flags.take_reload() and not flags.take_reload()
    finally:
        signal.signal(signal.SIGHUP, saved)


STOPPED_BY = """
import os, signal, sys, time
import exporter.cli as cli

def checked(exporter, strict):  # the start asks the Contact Center API here, slowly
    os.kill(os.getpid(), signal.{name})
    time.sleep(60)
    return ["the stop was not taken"]

cli.check_reports_or_fail = checked
sys.exit(cli.main(["--demo", "--web.listen-address", "127.0.0.1:0"]))
"""


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_stop_during_the_start_ends_it_at_once_and_cleanly(name: str, code: int) -> None:
    """As PID 1 (a container) SIGTERM's default is to be ignored: a start asking a slow API
    held `docker stop` for its whole timeout; SIGINT ended with a KeyboardInterrupt traceback."""
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_BY.replace("{name}", name)],
        cwd=REPO,
        capture_output=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == code, done.stderr.decode()[-2000:]
    assert b"Traceback" not in done.stderr and b"not taken" not in done.stderr
