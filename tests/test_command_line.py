"""The command line as an operator coming from other exporters uses it: the toolkit's flags and
log keys, exact flag names, the collector switches, and a first run that fails fast."""

from __future__ import annotations

import io
import json
import re
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import structlog
from prometheus_client import CollectorRegistry

from exporter.api.request_stats import failure_code
from exporter.config.collector_flags import COLLECTORS, apply_collector_flags
from exporter.config.command_line import build_parser
from exporter.core.logs import configure_logging, get_logger
from exporter.pollers.base import Scheduler
from exporter.serving.exposition import Exposition
from exporter.serving.server import ExporterServer
from tests.support.processes import REPO
from tests.support.waiting import free_port, wait_for

# A logfmt line of the toolkit: `time=... level=... source=file:line msg=...` first.
TOOLKIT_LOGFMT = re.compile(r"^time=\S+ level=(DEBUG|INFO|WARN|ERROR) source=\S+:\d+ msg=\S+")


def rendered(fmt: str) -> list[str]:
    stream = io.StringIO()
    configure_logging("debug", fmt, stream=stream)
    try:
        log = get_logger("test")
        log.warning("api_paused", seconds=1.5, collectors=["a", "b"], answer={"x": 1}, ok=True)
        try:
            raise ValueError("broken")
        except ValueError:
            log.exception("collector_crashed", collector="call queues")
    finally:
        structlog.reset_defaults()
    return stream.getvalue().splitlines()


def test_json_lines_carry_the_toolkit_keys_first() -> None:
    lines = [json.loads(line) for line in rendered("json")]
    assert [list(line)[:4] for line in lines] == [["time", "level", "source", "msg"]] * 2
    assert [(line["level"], line["msg"]) for line in lines] == [
        ("WARN", "api_paused"),
        ("ERROR", "collector_crashed"),
    ]
    assert lines[0]["source"].startswith("test_command_line.py:")
    assert lines[0]["time"].endswith("Z") and "event" not in lines[0]
    assert lines[0]["collectors"] == ["a", "b"] and "ValueError: broken" in lines[1]["exception"]


def test_logfmt_lines_are_the_toolkits() -> None:
    warning, error = rendered("logfmt")
    assert TOOLKIT_LOGFMT.match(warning) and TOOLKIT_LOGFMT.match(error), (warning, error)
    assert " level=WARN " in warning and " msg=api_paused " in warning
    # Lists as words, mappings as JSON, booleans as Go writes them, spaces quoted.
    assert ' collectors=a,b answer="{\\"x\\":1}" ok=true' in warning
    assert ' collector="call queues"' in error and "\n" not in error


def test_the_console_format_stays() -> None:
    assert "api_paused" in rendered("console")[0]


def test_flag_names_are_exact() -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--web.listen=:9878"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--log.form=json"])
    args = parser.parse_args(["--web.listen-address=:9878", "--log.format=logfmt"])
    assert (args.listen_address, args.log_format, args.telemetry_path) == (
        ":9878",
        "logfmt",
        "/metrics",
    )


def test_collector_flags_fill_in_what_the_file_leaves_unsaid() -> None:
    args = build_parser().parse_args(
        ["--no-collector.call_legs", "--collector.ring_group_members", "--no-collector.cc_queues"]
    )
    wanted = {name: getattr(args, f"collector_{name}") for name in COLLECTORS}
    wanted = {name: on for name, on in wanted.items() if on is not None}
    assert wanted == {"call_legs": False, "ring_group_members": True, "cc_queues": False}
    data = {"work_analytics": {"ring_group_members": {"enabled": False, "interval": "5m"}}}
    merged, overridden = apply_collector_flags(data, wanted)
    assert merged["work_analytics"]["call_legs"] == {"enabled": False}
    assert merged["contact_center"]["queues"] == {"enabled": False}
    # The file wins, and says so.
    assert merged["work_analytics"]["ring_group_members"] == {"enabled": False, "interval": "5m"}
    assert overridden == ["ring_group_members"]
    assert data == {"work_analytics": {"ring_group_members": {"enabled": False, "interval": "5m"}}}


def test_every_collector_flag_names_a_section_with_a_switch() -> None:
    # The names are the `collector` label's: a flag for a collector that does not exist, or a
    # collector without a flag, would surprise an operator.
    assert {"call_queues", "call_legs", "ring_group_members", "cc_queues", "cc_agents"} <= set(
        COLLECTORS
    )
    assert "discovery" not in COLLECTORS  # always on: the others need it


@pytest.mark.parametrize(
    ("status", "answered", "code"),
    [(503, True, "503"), (429, True, "429"), (200, True, "malformed"), (None, False, "transport")],
)
def test_failure_codes_are_bounded(status: int | None, answered: bool, code: str) -> None:
    assert failure_code(status, answered=answered) == code


@contextmanager
def serving(telemetry_path: str) -> Iterator[int]:
    scheduler = Scheduler()
    served = types.SimpleNamespace(
        exposition=Exposition(scheduler, CollectorRegistry()), scheduler=scheduler
    )
    server = ExporterServer(served, "127.0.0.1:0", telemetry_path=telemetry_path)
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


def status_of(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_telemetry_path_moves_the_metrics_only() -> None:
    with serving("/x/metrics") as port:
        base = f"http://127.0.0.1:{port}"
        assert status_of(f"{base}/x/metrics")[0] == 200
        assert status_of(f"{base}/metrics")[0] == 404
        status, page = status_of(f"{base}/")
        assert status == 200 and b'href="x/metrics"' in page
        assert status_of(f"{base}/-/healthy")[0] == 200


def test_a_server_never_started_stops_at_once() -> None:
    scheduler = Scheduler()
    served = types.SimpleNamespace(
        exposition=Exposition(scheduler, CollectorRegistry()), scheduler=scheduler
    )
    server = ExporterServer(served, "127.0.0.1:0")
    port = server.port
    server.stop()  # would wait forever for a serve loop that never ran
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the port is free again


def exporter(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "exporter", *args],
            stdout=subprocess.DEVNULL,
            stderr=out,
            cwd=REPO,
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise


def metrics_page(url: str) -> str | None:
    try:
        status, body = status_of(url)
    except OSError:
        return None
    text = body.decode()
    return text if status == 200 and "eightbyeight_up{" in text else None


def first_page(process: subprocess.Popen[bytes], url: str, log: Path) -> str:
    """The first /metrics page with collector data, within 60 s (the process still running)."""
    found: list[str] = []

    def answered() -> bool:
        if process.poll() is not None:
            return True
        page = metrics_page(url)
        if page:
            found.append(page)
        return bool(page)

    wait_for(answered, timeout=60, interval=0.2)
    assert found, log.read_text()
    return found[0]


@pytest.mark.e2e
def test_a_node_exporter_style_flag_set_starts(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "exporter.log"
    process = exporter(
        "--demo",
        f"--web.listen-address=:{port}",
        "--log.level=info",
        "--log.format=logfmt",
        "--web.telemetry-path=/metrics",
        log=log,
    )
    try:
        page = first_page(process, f"http://127.0.0.1:{port}/metrics", log)
        assert "process_resident_memory_bytes" in page
    finally:
        code = stop(process)
    lines = log.read_text().splitlines()
    assert code == 0, lines
    assert lines and all(TOOLKIT_LOGFMT.match(line) for line in lines), lines
    assert any(" msg=exporter_started " in line for line in lines)


@pytest.mark.e2e
def test_exporter_metrics_can_be_left_out(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "exporter.log"
    process = exporter(
        "--demo",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.telemetry-path=/probe",
        "--web.disable-exporter-metrics",
        log=log,
    )
    try:
        text = first_page(process, f"http://127.0.0.1:{port}/probe", log)
        assert "eightbyeight_up{" in text and "eightbyeight_exporter_build_info" in text
        assert not re.search(r"^(process|python)_", text, re.MULTILINE)
        assert status_of(f"http://127.0.0.1:{port}/metrics")[0] == 404
    finally:
        assert stop(process) == 0, log.read_text()


@pytest.mark.e2e
def test_a_taken_port_fails_before_the_simulator_or_any_token(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "exporter", "--demo", f"--web.listen-address=127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert time.monotonic() - started < 30  # no collector, no token request: no retries


@pytest.mark.e2e
def test_the_demo_simulator_listens_where_asked(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "exporter",
                "--demo",
                f"--web.listen-address=127.0.0.1:{free_port()}",
                f"--demo.listen-address=127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port} (--demo.listen-address)" in result.stderr
    assert "Traceback" not in result.stderr
