"""Simulator: fault injection, the request log, the /_sim admin interface and the CLI."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from simulator import Simulator
from tests.support.simulator import HTTP_TIMEOUT
from tests.support.waiting import wait_for

if TYPE_CHECKING:
    from tests.support.clock import FakeClock
    from tests.support.simulator import SimClient
    from tests.support.vendor_docs import VendorSchemas

REPO_ROOT = Path(__file__).resolve().parents[2]
CQ_REGEX = r"/call-queue-metrics$"


def cq_path(sim: Simulator) -> str:
    return f"/v2/pbxes/{sim.directory[0].id}/call-queue-metrics"


def test_status_fault_with_retry_after(
    client: SimClient, sim: Simulator, vendor_schemas: VendorSchemas
) -> None:
    rule = sim.faults.add(CQ_REGEX, status=429, headers={"Retry-After": "2"})
    response = client.get(cq_path(sim))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    body = response.json()
    vendor_schemas.validate("work_analytics.json", "ErrorResponse", body, strict=("ErrorResponse",))
    assert body["status"] == 429 and body["messages"] == ["Too Many Requests"]
    assert rule.hits == 1
    assert client.get(cq_path(sim)).status_code == 200  # times=1 by default


def test_times_counts_down_and_only_matching_paths_are_hit(
    client: SimClient, sim: Simulator
) -> None:
    sim.faults.add(CQ_REGEX, status=503, times=2)
    assert client.get("/v2/pbxes/").status_code == 200
    assert [client.get(cq_path(sim)).status_code for _ in range(3)] == [503, 503, 200]


def test_regex_sees_the_path_without_the_query(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(r"size=5", status=500, times=None)
    assert client.get("/v2/pbxes/", {"size": 5}).status_code == 200


def test_until_cleared_and_clear(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(
        r"/v2/pbxes",
        status=502,
        times=None,
        body="<html>Bad Gateway</html>",
        headers={"Content-Type": "text/html"},
    )
    for _ in range(3):
        response = client.get("/v2/pbxes/")
        assert response.status_code == 502 and response.text == "<html>Bad Gateway</html>"
        assert response.headers["Content-Type"] == "text/html"
    assert sim.faults.clear() == 1
    assert client.get("/v2/pbxes/").status_code == 200


def test_json_body_fault(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(CQ_REGEX, status=500, body={"status": 500, "messages": ["boom"]})
    response = client.get(cq_path(sim))
    assert response.status_code == 500 and response.json() == {"status": 500, "messages": ["boom"]}


def test_delay_then_the_normal_answer(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(CQ_REGEX, delay=0.3)
    started = time.monotonic()
    response = client.get(cq_path(sim))
    assert time.monotonic() - started >= 0.3  # a lower bound only: never a speed assumption
    assert response.status_code == 200 and "callQueues" in response.json()


def test_malformed_body(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(CQ_REGEX, malformed=True)
    response = client.get(cq_path(sim))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text.startswith('{"callQueues":')
    with pytest.raises(ValueError):
        json.loads(response.text)
    assert client.get(cq_path(sim)).json()["callQueues"]


def test_token_endpoint_can_be_faulted(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(r"/oauth/token$", status=503)
    assert client.issue_token().status_code == 503
    assert client.issue_token().status_code == 200


@pytest.mark.parametrize(
    "arguments",
    [
        {"path_regex": "("},
        {"path_regex": "x", "status": 42},
        {"path_regex": "x", "status": 500, "times": 0},
        {"path_regex": "x", "delay": -1},
        {"path_regex": "x"},
        {"path_regex": "x", "body": {"a": 1}, "delay": 1},
    ],
)
def test_invalid_fault_rules_are_refused(sim: Simulator, arguments: dict[str, Any]) -> None:
    with pytest.raises((ValueError, re.error)):
        sim.faults.add(**arguments)
    assert sim.faults.rules() == []


def test_request_log(client: SimClient, sim: Simulator) -> None:
    sim.requests_clear()
    client.get(cq_path(sim), {"metrics": "enteredCalls", "includeSummary": "false"})
    assert len(sim.requests) >= 1
    method, path, query, headers = sim.requests[-1]
    assert (method, path) == ("GET", "/analytics/work" + cq_path(sim))
    assert query == {"metrics": "enteredCalls", "includeSummary": "false"}
    assert headers["8x8-apikey"] == "sim-api-key" and headers["authorization"].startswith("Bearer ")
    assert headers["Authorization"] == headers["authorization"]  # case-insensitive
    token_requests = [r for r in sim.requests if r.path.endswith("/v1/oauth/token")]
    assert token_requests and token_requests[0].method == "POST"
    sim.requests_clear()
    assert len(sim.requests) == 0


def test_method_not_allowed(client: SimClient, sim: Simulator) -> None:
    response = client.session.delete(
        sim.base_url + "/v2/pbxes/", headers=client.auth_headers(), timeout=10
    )
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert client.session.get(sim.base_url + "/v1/oauth/token", timeout=10).status_code == 405


def test_admin_faults_over_http(client: SimClient, sim: Simulator) -> None:
    admin = sim.root_url + "/_sim"
    created = requests.post(
        admin + "/faults",
        json={
            "path_regex": CQ_REGEX,
            "status": 429,
            "times": None,
            "headers": {"Retry-After": "1"},
        },
        timeout=10,
    )
    assert created.status_code == 201 and created.json()["times"] is None
    assert requests.get(admin + "/faults", timeout=10).json()[0]["status"] == 429
    for _ in range(2):
        response = client.get(cq_path(sim))
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    cleared = requests.delete(admin + "/faults", timeout=10)
    assert cleared.status_code == 200 and cleared.json() == {"cleared": 1}
    assert client.get(cq_path(sim)).status_code == 200
    # Malformed and delayed rules travel over HTTP too.
    assert (
        requests.post(
            admin + "/faults", json={"path_regex": CQ_REGEX, "malformed": True}, timeout=10
        ).status_code
        == 201
    )
    with pytest.raises(ValueError):
        client.get(cq_path(sim)).json()
    for bad in ({"status": 500}, {"path_regex": "x", "colour": "red"}, {"path_regex": "x"}, ["x"]):
        assert requests.post(admin + "/faults", json=bad, timeout=10).status_code == 400


def test_admin_is_neither_logged_nor_faulted(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(r".*", status=500, times=None)
    sim.requests_clear()
    assert requests.get(sim.root_url + "/_sim/faults", timeout=10).status_code == 200
    assert len(sim.requests) == 0
    sim.faults.clear()


def test_admin_expire_tokens(client: SimClient, sim: Simulator) -> None:
    assert client.get("/v2/pbxes/").status_code == 200
    response = requests.post(sim.root_url + "/_sim/expire-tokens", timeout=10)
    assert response.status_code == 200 and response.json()["expired"] >= 1
    expired = client.get("/v2/pbxes/")
    assert expired.status_code == 401 and expired.json()["error_description"].startswith(
        "Access token expired: "
    )


def test_admin_state(client: SimClient, sim: Simulator, fake_clock: FakeClock) -> None:
    fake_clock.advance(30)
    state = requests.get(sim.root_url + "/_sim/state", timeout=10).json()
    assert state["now"] == fake_clock.now
    assert [p["id"] for p in state["directory"]] == [p.id for p in sim.directory]
    first_site = state["directory"][0]["sites"][0]
    assert {"id", "name", "pbx_id", "deleted", "queues"} <= set(first_site)
    assert {"id", "name", "extension", "site_id", "auto_login", "deleted", "members"} <= set(
        first_site["queues"][0]
    )
    assert set(state["queues"]) == set(sim.model.queue_ids())
    for queue_id, values in state["queues"].items():
        assert values == sim.model.queue_state(queue_id)
    requested = client.get_json(cq_path(sim))
    for queue in requested["callQueues"]:
        assert queue["metrics"] == state["queues"][queue["id"]]


def test_admin_request_log(client: SimClient, sim: Simulator) -> None:
    client.get("/v2/pbxes/", {"size": 3})
    log = requests.get(sim.root_url + "/_sim/requests", timeout=10).json()
    assert log[-1]["path"] == "/analytics/work/v2/pbxes/" and log[-1]["query"] == {"size": "3"}
    assert requests.delete(sim.root_url + "/_sim/requests", timeout=10).json()["cleared"] == len(
        log
    )
    assert len(sim.requests) == 0


def test_stop_is_idempotent_and_context_manager(fake_clock: FakeClock) -> None:
    with Simulator(seed=1, clock=fake_clock, host="127.0.0.1", port=0) as simulator:
        url = simulator.base_url
        assert requests.get(url + "/v2/pbxes/", timeout=10).status_code == 400  # alive, no api key
    simulator.stop()
    assert not simulator.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/v2/pbxes/", timeout=2)


def test_cli_prints_credentials_and_stops_on_sigterm() -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--host", "127.0.0.1", "--port", "0", "--seed", "42"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "the simulator printed nothing within 20 s"
        announcement = json.loads(process.stdout.readline())
        assert set(announcement) >= {"base_url", "api_key", "username", "password"}
        assert announcement["base_url"].startswith("http://127.0.0.1:") and announcement[
            "base_url"
        ].endswith("/analytics/work")
        token = requests.post(
            announcement["base_url"] + "/v1/oauth/token",
            headers={"8x8-apikey": announcement["api_key"]},
            data={"username": announcement["username"], "password": announcement["password"]},
            timeout=10,
        )
        assert token.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_a_fault_can_target_requests_with_a_query_parameter(
    client: SimClient, sim: Simulator
) -> None:
    sim.faults.add(CQ_REGEX, status=500, times=None, with_param="scrollId")
    assert client.get(cq_path(sim)).status_code == 200  # no scrollId: not this fault's request
    assert client.get(cq_path(sim), params={"scrollId": "abc"}).status_code == 500
    assert sim.faults.rules()[0].to_json()["with_param"] == "scrollId"


# --- transport faults: what a client sees on the wire -------------------------------------------


def raw_get(sim: Simulator, path: str, headers: dict[str, str]) -> tuple[bytes, bytes, str]:
    """GET over a bare socket with `Connection: close`: (status line and headers, body, how it
    ended: "eof" or the exception's class name). Bounded by a 10 s socket timeout."""
    host, port = sim.root_url.removeprefix("http://").split(":")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    data, ended = b"", "eof"
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            while chunk := connection.recv(65536):
                data += chunk
        except OSError as error:
            ended = type(error).__name__
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, ended


def content_length(head: bytes) -> int:
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    assert match, head
    return int(match.group(1))


def test_refuse_closes_the_connection_without_an_answer(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(CQ_REGEX, refuse=True, times=2)
    head, body, ended = raw_get(sim, "/analytics/work" + cq_path(sim), client.auth_headers())
    assert (head, body, ended) == (b"", b"", "eof")  # a clean close, not one byte of answer
    with pytest.raises(requests.ConnectionError, match="without response"):
        client.get(cq_path(sim))
    assert client.get(cq_path(sim)).status_code == 200  # the next connection is served


def test_reset_aborts_the_connection(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(CQ_REGEX, reset=True, times=2)
    head, body, ended = raw_get(sim, "/analytics/work" + cq_path(sim), client.auth_headers())
    assert (head, body, ended) == (b"", b"", "ConnectionResetError")
    with pytest.raises(requests.ConnectionError, match="reset"):
        client.get(cq_path(sim))
    assert client.get(cq_path(sim)).status_code == 200


def test_empty_answer(client: SimClient, sim: Simulator) -> None:
    sim.faults.add(CQ_REGEX, empty=True)
    sim.faults.add(CQ_REGEX, empty=True, status=503)
    for status in (200, 503):
        response = client.get(cq_path(sim))
        assert response.status_code == status and response.content == b""
        assert response.headers["Content-Length"] == "0"
        assert response.headers["Content-Type"] == "application/json"
    assert client.get(cq_path(sim)).json()["callQueues"]


def test_truncate_announces_the_whole_body_and_sends_half(
    client: SimClient, sim: Simulator
) -> None:
    whole = client.get(cq_path(sim)).content
    sim.faults.add(CQ_REGEX, truncate=True, times=2)
    head, body, ended = raw_get(sim, "/analytics/work" + cq_path(sim), client.auth_headers())
    assert head.startswith(b"HTTP/1.1 200 ") and ended == "eof"
    assert content_length(head) == len(whole) and body == whole[: len(whole) // 2]
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        client.get(cq_path(sim))
    # On a status answer too: the body cut is the fault's own.
    sim.faults.add(
        CQ_REGEX, truncate=True, status=502, body={"status": 502, "messages": ["x" * 40]}
    )
    head, body, ended = raw_get(sim, "/analytics/work" + cq_path(sim), client.auth_headers())
    assert head.startswith(b"HTTP/1.1 502 ") and len(body) == content_length(head) // 2


def test_oversize_pads_a_valid_answer_and_streams_it(client: SimClient, sim: Simulator) -> None:
    """20 MB go out while the process holds a few 64 KB slices: tracemalloc sees every thread,
    the server's included, and the client here reads in chunks and keeps nothing."""
    whole = client.get(cq_path(sim)).content
    size = 20 * 1024 * 1024
    sim.faults.add(CQ_REGEX, oversize_bytes=size)
    tracemalloc.start()
    try:
        with client.session.get(
            sim.base_url + cq_path(sim),
            headers=client.auth_headers(),
            timeout=HTTP_TIMEOUT,
            stream=True,
        ) as response:
            assert response.status_code == 200
            assert int(response.headers["Content-Length"]) == size
            received, head = 0, b""
            for chunk in response.iter_content(65536):
                if len(head) < len(whole):
                    head += chunk[: len(whole) - len(head)]
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size and head == whole
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes: the padding was built in memory"
    # Whitespace after a JSON value is still JSON: the padded answer parses to the real one.
    sim.faults.add(CQ_REGEX, oversize_bytes=len(whole) + 1000)
    padded = client.get(cq_path(sim))
    assert len(padded.content) == len(whole) + 1000 and padded.json() == json.loads(whole)
    sim.faults.add(CQ_REGEX, oversize_bytes=10)  # smaller than the answer: the answer as it is
    assert client.get(cq_path(sim)).content == whole


def test_trickle_sends_the_real_answer_slowly_in_small_pieces(
    client: SimClient, sim: Simulator
) -> None:
    """A read timeout shorter than the whole answer's time does not fire: each piece comes
    well within it. Only lower bounds on time are asserted."""
    whole = client.get(cq_path(sim)).content
    rate = len(whole) / 1.5  # the whole answer takes 1.5 s, each piece 50 ms
    sim.faults.add(CQ_REGEX, trickle_bytes_per_second=rate, times=2)
    started = time.monotonic()
    head, body, ended = raw_get(sim, "/analytics/work" + cq_path(sim), client.auth_headers())
    assert time.monotonic() - started >= 1.5 * 0.9
    assert head.startswith(b"HTTP/1.1 200 ") and ended == "eof"
    assert len(body) == content_length(head) and body == whole
    response = client.session.get(
        sim.base_url + cq_path(sim), headers=client.auth_headers(), timeout=(5, 1.0)
    )
    assert response.content == body and response.json()["callQueues"]


def test_a_transport_fault_can_follow_a_delay_and_target_a_later_page(
    client: SimClient, sim: Simulator
) -> None:
    sim.faults.add(CQ_REGEX, reset=True, delay=0.1, with_param="scrollId")
    assert client.get(cq_path(sim)).status_code == 200
    with pytest.raises(requests.ConnectionError):
        client.get(cq_path(sim), params={"scrollId": "x"})
    assert sim.faults.rules() == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"refuse": True, "reset": True},
        {"malformed": True, "truncate": True},
        {"empty": True, "oversize_bytes": 10},
        {"truncate": True, "trickle_bytes_per_second": 10},
        {"refuse": True, "status": 500},
        {"reset": True, "headers": {"Retry-After": "1"}},
        {"empty": True, "status": 500, "body": "x"},
        {"refuse": "yes"},
        {"empty": 1},
        {"oversize_bytes": 0},
        {"oversize_bytes": 2.5},
        {"oversize_bytes": True},
        {"trickle_bytes_per_second": 0},
        {"trickle_bytes_per_second": float("inf")},
        {"trickle_bytes_per_second": "fast"},
    ],
)
def test_invalid_transport_faults_are_refused(sim: Simulator, arguments: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        sim.faults.add(CQ_REGEX, **arguments)
    assert sim.faults.rules() == []


def test_admin_transport_faults_over_http(client: SimClient, sim: Simulator) -> None:
    admin = sim.root_url + "/_sim/faults"
    created = requests.post(
        admin, json={"path_regex": CQ_REGEX, "refuse": True, "times": None}, timeout=10
    )
    assert created.status_code == 201
    described = created.json()
    assert described["refuse"] is True and described["reset"] is False
    assert described["oversize_bytes"] is None and described["trickle_bytes_per_second"] is None
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            client.get(cq_path(sim))
    assert requests.delete(admin, timeout=10).json() == {"cleared": 1}
    rule = {"path_regex": CQ_REGEX, "oversize_bytes": 100_000, "trickle_bytes_per_second": None}
    assert requests.post(admin, json=rule, timeout=10).status_code == 201
    assert len(client.get(cq_path(sim)).content) == 100_000
    for bad in (
        {"path_regex": "x", "refuse": True, "truncate": True},
        {"path_regex": "x", "oversize_bytes": -1},
        {"path_regex": "x", "trickle_bytes_per_second": "fast"},
        {"path_regex": "x", "reset": "true"},
    ):
        response = requests.post(admin, json=bad, timeout=10)
        assert response.status_code == 400 and response.json()["error"], bad
    assert sim.faults.rules() == []


def test_a_client_hanging_up_on_an_oversize_or_trickle_answer_is_counted(
    client: SimClient, sim: Simulator
) -> None:
    oversize = sim.faults.add(CQ_REGEX, oversize_bytes=50 * 1024 * 1024)
    with client.session.get(
        sim.base_url + cq_path(sim),
        headers=client.auth_headers(),
        timeout=HTTP_TIMEOUT,
        stream=True,
    ) as response:
        assert int(response.headers["Content-Length"]) == 50 * 1024 * 1024
        next(response.iter_content(65536))  # a first slice, then the client gives up
    # The server notices the closed connection at its next write, in its own thread.
    wait_for(lambda: oversize.hung_up >= 1)
    assert oversize.hung_up == 1
    trickle = sim.faults.add(CQ_REGEX, trickle_bytes_per_second=1000)
    with client.session.get(
        sim.base_url + cq_path(sim),
        headers=client.auth_headers(),
        timeout=HTTP_TIMEOUT,
        stream=True,
    ) as response:
        response.raw.read(10)
    wait_for(lambda: trickle.hung_up >= 1)
    assert trickle.hung_up == 1
    assert trickle.to_json()["hung_up"] == 1
    # Read to the end, nothing is counted.
    whole = sim.faults.add(CQ_REGEX, oversize_bytes=100_000)
    assert len(client.get(cq_path(sim)).content) == 100_000 and whole.hung_up == 0
