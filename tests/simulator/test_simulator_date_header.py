"""Simulator: every answer carries exactly one `Date`, from the simulated API's clock (not this
machine's), errors and faults included; `--clock-offset` skews that clock for manual runs."""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from simulator import Simulator
from simulator.__main__ import build_parser, signed_duration
from tests.support.clock import FakeClock
from tests.support.simulator import API_KEY, HTTP_TIMEOUT

# Far from today, so a Date from the wall clock could never pass for the simulated one.
SKEWED = 1_500_000_000.0  # 2017-07-14 02:40:00 UTC


def dates(simulator: Simulator, method: str, path: str, **headers: str) -> tuple[int, list[str]]:
    """The status and every Date header of one answer, as sent (http.client keeps repeats)."""
    split = urlsplit(simulator.base_url)
    connection = http.client.HTTPConnection(split.netloc, timeout=HTTP_TIMEOUT)
    try:
        connection.request(method, path, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.msg.get_all("Date") or []
    finally:
        connection.close()


@pytest.fixture
def skewed_clock() -> FakeClock:
    return FakeClock(SKEWED)


@pytest.fixture
def skewed_sim(skewed_clock: FakeClock) -> Iterator[Simulator]:
    with Simulator(seed=42, clock=skewed_clock, host="127.0.0.1", port=0) as simulator:
        yield simulator


WA = "/analytics/work"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/_sim/state", {}, 200),  # admin: served, never faulted
        ("GET", f"{WA}/v2/pbxes", {"8x8-apikey": API_KEY}, 401),  # no token
        ("GET", f"{WA}/no/such/endpoint", {}, 404),
        ("POST", f"{WA}/v1/oauth/token", {"8x8-apikey": "wrong"}, 400),
        ("HEAD", "/_sim/state", {}, 405),  # a method the route does not take
    ],
)
def test_every_answer_has_one_date_from_the_simulated_clock(
    skewed_sim: Simulator, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    assert dates(skewed_sim, method, path, **headers) == (
        status,
        [formatdate(SKEWED, usegmt=True)],
    )


def test_the_date_moves_with_the_simulated_clock(
    skewed_sim: Simulator, skewed_clock: FakeClock
) -> None:
    skewed_clock.advance(3600.75)  # truncated to the second, as the header has no fractions
    _, sent = dates(skewed_sim, "GET", "/_sim/state")
    assert sent == [formatdate(SKEWED + 3600, usegmt=True)]
    assert parsedate_to_datetime(sent[0]).timestamp() == SKEWED + 3600


def test_faults_carry_the_simulated_date_or_their_own_exactly_once(
    skewed_sim: Simulator,
) -> None:
    expected = formatdate(SKEWED, usegmt=True)
    skewed_sim.faults.add(r"/v2/pbxes$", status=503)
    skewed_sim.faults.add(r"/v2/pbxes$", status=429, headers={"Retry-After": "2"})
    skewed_sim.faults.add(r"/v2/pbxes$", empty=True)
    skewed_sim.faults.add(r"/v2/pbxes$", status=502, headers={"date": "not a date"})
    assert dates(skewed_sim, "GET", f"{WA}/v2/pbxes") == (503, [expected])
    assert dates(skewed_sim, "GET", f"{WA}/v2/pbxes") == (429, [expected])
    assert dates(skewed_sim, "GET", f"{WA}/v2/pbxes", **{"8x8-apikey": API_KEY}) == (
        200,
        [expected],
    )
    # A fault may set its own Date (a broken proxy): it replaces the clock's, never adds one.
    assert dates(skewed_sim, "GET", f"{WA}/v2/pbxes") == (502, ["not a date"])


def test_the_clock_offset_flag_takes_signed_durations() -> None:
    parse = build_parser().parse_args
    assert parse([]).clock_offset == 0.0
    assert parse(["--clock-offset=-20m"]).clock_offset == -1200.0
    assert parse(["--clock-offset", "90s"]).clock_offset == 90.0
    assert parse(["--clock-offset", "+1h"]).clock_offset == 3600.0
    assert parse(["--clock-offset=-3600"]).clock_offset == -3600.0
    for bad in ("--5", "-soon", "", "nan"):
        with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
            signed_duration(bad)


def test_the_cli_serves_dates_of_a_clock_offset_from_this_machines() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--clock-offset=-20m"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None  # stdout=PIPE
        base_url = json.loads(process.stdout.readline())["base_url"]
        split = urlsplit(base_url)
        connection = http.client.HTTPConnection(split.netloc, timeout=HTTP_TIMEOUT)
        before = time.time()
        connection.request("GET", "/_sim/state")
        answer = connection.getresponse()
        answer.read()
        after = time.time()
        connection.close()
        (date,) = answer.msg.get_all("Date") or []
        served = parsedate_to_datetime(date).timestamp()
        # 20 minutes behind this machine's clock, within the header's second.
        assert before - 1200 - 1 <= served <= after - 1200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()
