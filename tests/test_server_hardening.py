"""The HTTP server against hostile clients (issue #17, items 1 and 3): many clients at once,
slowloris, a low `ulimit -n`, smuggled requests, the lifecycle flag, the content type. Loopback
only, every loop bounded, every wait with a timeout; measured numbers are printed."""

from __future__ import annotations

import errno
import json
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.config.command_line import build_parser
from exporter.pollers.base import Scheduler
from exporter.serving.connections import (
    AcceptBackoff,
    ConnectionTable,
    RefusalLog,
    ServerLimits,
)
from exporter.serving.exposition import Exposition
from exporter.serving.handler import Reload, reload_answer
from exporter.serving.server import ExporterServer
from tests.support.clock import FakeClock
from tests.support.processes import REPO
from tests.support.waiting import wait_for
from tests.support.web_config import PASSWORD, write_config
from tests.support.web_config import serving as web_serving


def served() -> types.SimpleNamespace:
    scheduler = Scheduler()
    return types.SimpleNamespace(
        exposition=Exposition(scheduler, CollectorRegistry()), scheduler=scheduler
    )


@contextmanager
def serving(**kwargs: Any) -> Iterator[ExporterServer]:
    server = ExporterServer(served(), "127.0.0.1:0", **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def scrape(port: int, timeout: float = 5.0) -> int:
    with requests.Session() as session:
        session.trust_env = False
        return session.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout).status_code


def raw_exchange(port: int, data: bytes, quiet: float = 1.0) -> bytes:
    """Sends `data` on one connection and reads until the server closes it or says nothing
    more for `quiet` seconds (at most 40 reads)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.settimeout(quiet)
        for _ in range(40):
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
    return received


def answers(received: bytes) -> list[bytes]:
    """The status lines of every answer in `received` (an answer's body may end without a
    newline, right before the next status line)."""
    return re.findall(rb"HTTP/1\.[01] \d{3} [^\r\n]*", received)


# -- Many clients at once: the backlog --------------------------------------------------------


def connection_per_request(port: int, clients: int, seconds: float) -> tuple[list[float], int]:
    """`clients` threads, each opening a connection per request for `seconds`: the connect
    times and the number of failed requests."""
    connects: list[float] = []
    failures = [0]
    deadline = time.monotonic() + seconds
    request = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    def client() -> None:
        for _ in range(100_000):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    connects.append(time.perf_counter() - started)
                    sock.sendall(request)
                    reply = b""
                    for _ in range(100):
                        chunk = sock.recv(65536)
                        if not chunk:
                            break
                        reply += chunk
                    if not reply.startswith(b"HTTP/1.1 200"):
                        failures[0] += 1
            except OSError:
                failures[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    return sorted(connects), failures[0]


def p99(values: list[float]) -> float:  # nearest rank, of sorted values
    return values[max(0, int(0.99 * len(values)) - 1)]


def test_fifty_clients_with_a_connection_per_request_all_get_in_quickly() -> None:
    # With socketserver's backlog of 5, SYNs were dropped: connect p99 1 s (the SYN
    # retransmission), and requests timed out.
    with serving() as server:
        connects, failures = connection_per_request(server.port, clients=50, seconds=4.0)
    print(
        f"50 clients, 4 s: {len(connects)} connections, connect p99 {p99(connects) * 1000:.1f} ms"
    )
    assert failures == 0
    assert len(connects) > 200
    assert p99(connects) < 0.5  # the target is 100 ms (see the slow test); 1 s meant dropped SYNs


@pytest.mark.slow
def test_fifty_clients_for_thirty_seconds_connect_p99_under_100_ms() -> None:
    with serving() as server:
        connects, failures = connection_per_request(server.port, clients=50, seconds=30.0)
    print(f"50 clients, 30 s: {len(connects)} connections, p99 {p99(connects) * 1000:.1f} ms")
    assert failures == 0 and p99(connects) < 0.100


# -- Slowloris: deadlines and the connection cap ----------------------------------------------


def half_sent_requests(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True  # reset


def test_slowloris_connections_are_closed_by_the_read_deadline_and_never_block_a_scrape() -> None:
    limits = ServerLimits(read_timeout=1.5, max_connections=1000)
    with serving(limits=limits) as server, ExitStack() as stack:
        slow = half_sent_requests(server.port, 200)
        for sock in slow:
            stack.callback(sock.close)
        # A byte every 0.3 s renews no deadline: the read deadline counts from the first byte.
        for _ in range(3):
            for sock in slow:
                sock.sendall(b"a")
            time.sleep(0.3)
        started = time.monotonic()
        assert scrape(server.port) == 200
        assert time.monotonic() - started < 1.0
        assert wait_for(lambda: all(closed_by_server(s) for s in slow), timeout=10)
        assert wait_for(lambda: len(server.httpd.connections) == 0, timeout=5)


def test_over_the_cap_a_new_connection_evicts_the_oldest_idle_one() -> None:
    limits = ServerLimits(max_connections=20, idle_timeout=60)
    threads_before = threading.active_count()
    with serving(limits=limits) as server, ExitStack() as stack:
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(200)]
        for sock in idle:
            stack.callback(sock.close)
        assert scrape(server.port) == 200  # never kept out by idle connections
        assert wait_for(lambda: len(server.httpd.connections) <= 20, timeout=5)
        # One thread per connection at most, whatever the clients do.
        assert threading.active_count() <= threads_before + 20 + 3
        assert closed_by_server(idle[0])  # the oldest went first
        assert server.httpd.connections.evicted >= 180


# -- A low ulimit -n: no busy loop, scrapes answered ------------------------------------------


@contextmanager
def server_process(*args: str, nofile: int = 100) -> Iterator[tuple[subprocess.Popen[str], int]]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.server_process", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=limit,
    )
    try:
        assert process.stdout is not None
        port = int(json.loads(process.stdout.readline())["port"])
        yield process, port
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def idle_cpu(pid: int, seconds: float = 3.0) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def test_with_ulimit_n_100_idle_connections_neither_block_scrapes_nor_spin() -> None:
    with server_process() as (process, port), ExitStack() as stack:
        for _ in range(110):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            stack.callback(sock.close)
        for _ in range(5):
            assert scrape(port) == 200
        used = idle_cpu(process.pid)
        print(f"ulimit -n 100, 110 idle connections: {used:.2f} s CPU in 3 s idle")
        assert used < 0.3


def test_accept_out_of_descriptors_backs_off_instead_of_spinning() -> None:
    # Descriptors used up by something else than connections: accept() fails with EMFILE
    # while the connections wait in the backlog (socketserver retried at once: 100% CPU).
    with server_process("--hog-fds-to", "5") as (process, port), ExitStack() as stack:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            stack.callback(sock.close)
        time.sleep(0.5)
        used = idle_cpu(process.pid)
        print(f"accept() at EMFILE: {used:.2f} s CPU in 3 s")
        assert used < 0.3
        assert process.poll() is None


def test_accept_backoff_doubles_to_a_second_and_logs_once_per_episode() -> None:
    slept: list[float] = []
    backoff = AcceptBackoff(sleep=slept.append)
    emfile = OSError(errno.EMFILE, "Too many open files")
    with capture_logs() as logs:
        for _ in range(10):
            backoff.failed(emfile)
        backoff.failed(OSError(errno.ECONNABORTED, "aborted"))  # a client's problem: no wait
        backoff.succeeded()
        backoff.failed(emfile)
    assert slept[:4] == [0.01, 0.02, 0.04, 0.08] and max(slept) == 1.0
    assert len(slept) == 11 and slept[-1] == 0.01
    events = [e["event"] for e in logs]
    assert events == ["http_accept_failed", "http_accept_recovered", "http_accept_failed"]


# -- Request bodies: nothing smuggled ---------------------------------------------------------


def test_a_get_whose_body_is_a_request_gets_one_answer() -> None:
    inner = b"GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n"
    outer = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(inner)
    with serving() as server:
        received = raw_exchange(server.port, outer + inner)
    assert answers(received) == [b"HTTP/1.1 200 OK"]
    assert b"pending_collectors" not in received  # /-/ready's answer never came


@contextmanager
def counting_reloads() -> Iterator[tuple[list[int], Reload]]:
    calls: list[int] = []

    def on_reload() -> tuple[bool, str]:
        calls.append(1)
        return True, "configuration reloaded"

    yield calls, on_reload


def test_a_chunked_reload_whose_body_is_another_reload_runs_none() -> None:
    inner = b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner)
    outer = b"POST /-/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    with counting_reloads() as (calls, on_reload):
        with serving(on_reload=on_reload, enable_lifecycle=True) as server:
            received = raw_exchange(server.port, outer + chunked)
    assert answers(received) == [b"HTTP/1.1 501 Not Implemented"]
    assert calls == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (b"Content-Length: abc\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"Content-Length: -1\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"HTTP/1.1 501 Not Implemented"),
        (b"Content-Length: 1000000\r\n", b"HTTP/1.1 413 Request Entity Too Large"),
        # A malformed line hides the headers after it from the parser (and not from a proxy).
        (b"garbage\r\nContent-Length: 38\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"Content-Length : 38\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"Transfer-Encoding : chunked\r\n", b"HTTP/1.1 400 Bad Request"),
    ],
)
def test_bodies_that_cannot_be_framed_safely_are_refused_and_the_connection_closed(
    headers: bytes, status: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    follower = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
    with counting_reloads() as (calls, on_reload):
        with serving(on_reload=on_reload, enable_lifecycle=True) as server:
            request = b"POST /-/reload HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + follower
            received = raw_exchange(server.port, request)
    assert answers(received) == [status]
    assert calls == []
    assert "Traceback" not in capsys.readouterr().err


def test_a_small_body_is_read_and_the_connection_kept() -> None:
    with counting_reloads() as (calls, on_reload):
        with serving(on_reload=on_reload, enable_lifecycle=True) as server:
            first = b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            second = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
            received = raw_exchange(server.port, first + second)
    assert answers(received) == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK"]
    assert calls == [1]


# -- The lifecycle flag and error bodies ------------------------------------------------------


def test_reload_is_refused_without_web_enable_lifecycle() -> None:
    with counting_reloads() as (calls, on_reload), serving(on_reload=on_reload) as server:
        answer = requests.post(f"http://127.0.0.1:{server.port}/-/reload", timeout=5)
    assert answer.status_code == 403 and "--web.enable-lifecycle" in answer.text
    assert calls == []


def test_the_flag_is_off_by_default() -> None:
    assert build_parser().parse_args([]).enable_lifecycle is False
    assert build_parser().parse_args(["--web.enable-lifecycle"]).enable_lifecycle is True


def test_a_failed_reload_names_the_keys_without_values_or_paths() -> None:
    message = (
        "configuration not reloaded, the running one stays: "
        "cannot read /etc/secret/config.yaml: Permission denied; "
        "work_analytics.interval: 'hunter2' is not a duration"
    )

    def on_reload() -> tuple[bool, str]:
        return False, message

    with serving(on_reload=on_reload, enable_lifecycle=True) as server:
        answer = requests.post(f"http://127.0.0.1:{server.port}/-/reload", timeout=5)
    assert answer.status_code == 500
    assert "work_analytics.interval" in answer.text and "2 problem(s)" in answer.text
    assert "/etc/secret" not in answer.text and "hunter2" not in answer.text
    assert reload_answer(True, "configuration reloaded") == "configuration reloaded"


# -- Content type -----------------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["99.1.0", "1.0.0"])
def test_the_content_type_says_the_openmetrics_version_rendered(asked: str) -> None:
    accept = f"application/openmetrics-text; version={asked}"
    with serving() as server:
        answer = requests.get(
            f"http://127.0.0.1:{server.port}/metrics", headers={"Accept": accept}, timeout=5
        )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert answer.text.endswith("# EOF\n")


def test_a_malformed_accept_header_gets_the_text_format_and_no_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serving() as server:
        answer = requests.get(
            f"http://127.0.0.1:{server.port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=x"},
            timeout=5,
        )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "Traceback" not in capsys.readouterr().err


def test_a_request_with_megabytes_of_headers_is_cut_and_the_server_goes_on() -> None:
    # 99 header lines of 8 KB each: 800 KB a connection, held before any authentication.
    headers = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 8000) for i in range(99))
    with serving() as server:
        request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
        assert answers(raw_exchange(server.port, request)) == []  # cut, not answered
        assert scrape(server.port) == 200


# -- Clients that send requests and never read the answers ------------------------------------

# Thousands of pipelined requests on one connection: tens of megabytes of answers (a page is
# several KB), far more than the kernel's buffers hold for a client that never reads.
PIPELINED = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 20_000


def pipeline_without_reading(port: int, count: int) -> list[socket.socket]:
    """`count` connections, each sending PIPELINED (for at most 3 s) and never reading."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]

    def send(sock: socket.socket) -> None:
        sock.settimeout(3)
        try:
            sock.sendall(PIPELINED)
        except OSError:
            pass  # the server stopped reading (blocked in a write) or closed: both expected

    threads = [threading.Thread(target=send, args=(s,), daemon=True) for s in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return sockets


def test_unauthenticated_pipelining_clients_never_keep_an_authenticated_scrape_out(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    limits = ServerLimits(max_connections=32, write_timeout=60)
    with web_serving(config, limits=limits) as server, ExitStack() as stack:
        for sock in pipeline_without_reading(server.port, 40):
            stack.callback(sock.close)
        # Each got one 401 and was closed: none holds a thread blocked in a write.
        assert wait_for(lambda: server.httpd.connections.busy() == 0, timeout=5)
        answer = requests.get(
            f"http://127.0.0.1:{server.port}/metrics", auth=("alice", PASSWORD), timeout=5
        )
        assert answer.status_code == 200


def test_connections_stuck_writing_to_clients_that_never_read_are_cut_after_the_grace() -> None:
    # No web config: anyone may ask, so a client can hold threads in writes it never reads.
    limits = ServerLimits(max_connections=16, busy_grace=0.5, write_timeout=60)
    with serving(limits=limits) as server, ExitStack() as stack:
        for sock in pipeline_without_reading(server.port, 16):
            stack.callback(sock.close)
        assert wait_for(lambda: server.httpd.connections.busy() == 16, timeout=10)
        # Refused at first (503) while every connection answers, within the grace; then a
        # connection stuck past it is cut for the scrape, long before the write timeout.
        started = time.monotonic()
        assert wait_for(lambda: scrape(server.port) == 200, timeout=10)
        assert time.monotonic() - started < 10
        assert server.httpd.connections.evicted >= 1


def test_the_victim_is_taken_from_the_address_holding_the_most_connections() -> None:
    clock = FakeClock()
    table = ConnectionTable(cap=4, busy_grace=5.0, clock=clock)
    pairs = [socket.socketpair() for _ in range(6)]
    try:
        scraper = table.admit(pairs[0][0], "10.0.0.9")
        flood = [table.admit(pairs[i][0], "10.0.0.66") for i in (1, 2, 3)]
        assert scraper is not None and all(flood)
        # All idle: the flooder's oldest goes, though the scraper's connection is older.
        assert table.admit(pairs[4][0], "10.0.0.66") is not None
        assert closed_by_server(pairs[1][1]) and not closed_by_server(pairs[0][1])
        # All busy: refused within the grace, then the flooder's longest busy is cut.
        for connection in table._open.values():
            table.set_busy(connection, True)
        assert table.admit(pairs[5][0], "10.0.0.1") is None
        clock.advance(5.0)
        assert table.admit(pairs[5][0], "10.0.0.1") is not None
        assert not closed_by_server(pairs[0][1])
        assert (table.evicted, table.refused) == (2, 1)
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_refused_connections_are_logged_at_a_bounded_rate() -> None:
    clock = FakeClock()
    refusals = RefusalLog(burst=5, interval=60.0, clock=clock)
    with capture_logs() as captured:
        for _ in range(100):
            refusals.refused("10.0.0.66", reason="busy")
        clock.advance(60.0)
        refusals.refused("10.0.0.66", reason="busy")
    lines = [e for e in captured if e["event"] == "http_connection_refused"]
    assert [e["suppressed"] for e in lines] == [0, 0, 0, 0, 0, 95]


def test_an_http09_request_gets_a_400_and_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    """The standard library takes a bare `GET /metrics` line for HTTP/0.9, whose answer has no
    status line and no headers: the handler wrote headers regardless and crashed."""
    with capture_logs() as logged, serving() as server:
        answer = raw_exchange(server.port, b"GET /metrics\r\n\r\n")
        assert scrape(server.port) == 200  # and the server goes on
    assert answer.startswith(b"HTTP/1.1 400 HTTP/0.9 is not served\r\n"), answer[:200]
    assert "Traceback" not in capsys.readouterr().err
    assert not [e for e in logged if e["event"] == "http_request_crashed"]


def test_a_handler_crash_is_logged_as_an_event_not_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with capture_logs() as logged, serving() as server:
        try:
            raise RuntimeError("a bug of the handler")
        except RuntimeError:
            server.httpd.handle_error(None, ("127.0.0.1", 40000))
    assert "Traceback" not in capsys.readouterr().err
    [event] = [e for e in logged if e["event"] == "http_request_crashed"]
    assert event["log_level"] == "error" and event["client"] == "127.0.0.1"
