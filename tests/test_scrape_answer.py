"""What one scrape costs the exporter (issue #20): the gzip answer deflated per snapshot
segment and as small as the whole page gzipped, the figures that follow the clock rendered at
most once a second, and the answer sent in as few system calls as the socket takes."""

from __future__ import annotations

import gzip
import http.client
import socket
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from exporter.metrics.rendering import Family, GaugeFamily
from exporter.pollers.base import Poller, Scheduler
from exporter.serving.connections import send_pieces
from exporter.serving.exposition import CLOCK_PART_SECONDS, Exposition
from exporter.serving.server import ExporterServer
from tests.support.clock import FakeClock
from tests.support.files import FIXTURES
from tests.support.page import exposition_of
from tests.support.waiting import free_port

# The answer may be this much bigger than the whole page gzipped once at level 6.
OVER_WHOLE_PAGE_GZIP = 1.10
# The exporter's own families: on the page already, from the live and clock parts.
_OWN = ("eightbyeight_up", "eightbyeight_collector_", "eightbyeight_exporter_")


class Replay(Poller):
    """Serves fixed families, rendered again on every run."""

    interval = 30.0

    def __init__(self, name: str, families: Sequence[Family]) -> None:
        self.name = name
        self.families = list(families)

    def collect(self) -> Sequence[Family]:
        return self.families


def golden_families(path: Path) -> list[Metric]:
    text = path.read_text()
    return [
        family
        for family in text_string_to_metric_families(text)
        if not family.name.startswith(_OWN)
    ]


def big_families(
    tenant: str, series: int, families: int = 20, area: str = "cc_agent"
) -> list[Family]:
    """`series` series over `families` families, labelled like an agent's."""
    made: list[Family] = []
    for f in range(families):
        family = GaugeFamily(
            f"eightbyeight_{area}_metric_{f}_seconds",
            f"Metric {f} of an agent, polled every 30 s.",
            labels=["tenant", "queue", "agent_id"],
        )
        for i in range(series // families):
            family.add_metric([tenant, f"queue-{i % 40}", f"agent-{i:06d}"], (i * 7919 % 1000) / 8)
        made.append(family)
    return made


def answers(exposition: Exposition, openmetrics: bool) -> tuple[bytes, bytes]:
    plain = b"".join(exposition.answer(openmetrics=openmetrics, gzip=False))
    member = b"".join(exposition.answer(openmetrics=openmetrics, gzip=True))
    return plain, member


def assert_gzip_of(plain: bytes, member: bytes) -> None:
    assert gzip.decompress(member) == plain
    decompressor = zlib.decompressobj(wbits=31)
    assert decompressor.decompress(member) == plain
    assert decompressor.eof and decompressor.unused_data == b""  # one member, nothing after
    whole = len(gzip.compress(plain, compresslevel=6))
    assert len(member) <= OVER_WHOLE_PAGE_GZIP * whole, (len(member), whole)


@pytest.mark.parametrize("golden", ["call_queue_metrics.prom", "realtime.prom"])
@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
def test_the_gzip_answer_of_a_golden_page_is_near_the_whole_page_gzipped(
    clock: FakeClock, golden: str, openmetrics: bool
) -> None:
    families = golden_families(FIXTURES / "golden" / golden)
    assert len(families) > 10
    scheduler = Scheduler(wall_clock=clock)
    half = len(families) // 2
    scheduler.add(Replay("first", families[:half]))
    scheduler.add(Replay("second", families[half:]))
    exposition = exposition_of(scheduler)
    assert scheduler.run_once()
    assert_gzip_of(*answers(exposition, openmetrics))


def test_the_gzip_answer_of_a_100k_page_is_near_the_whole_page_gzipped(clock: FakeClock) -> None:
    scheduler = Scheduler(wall_clock=clock)
    # Two tenants of one poller kind share family names: their groups mix on the page.
    scheduler.add(Replay("cc_agents@a", big_families("a", 40_000)))
    scheduler.add(Replay("cc_agents@b", big_families("b", 40_000)))
    scheduler.add(
        Replay("extensions", big_families("x", 20_000, families=7, area="extension")[::-1])
    )
    exposition = exposition_of(scheduler)
    assert scheduler.run_once()
    plain, member = answers(exposition, openmetrics=False)
    assert len(plain) > 6_000_000
    assert_gzip_of(plain, member)
    # Tenants sharing names make one segment; the other poller its own.
    assert len(exposition.refresh()[0].segments) == 2


def test_a_new_snapshot_recompresses_only_its_own_segment(clock: FakeClock) -> None:
    scheduler = Scheduler(wall_clock=clock)
    a = Replay("a", big_families("a", 4_000, families=3))
    b = Replay("b", big_families("b", 4_000, families=2, area="extension")[::-1])
    scheduler.add(a)
    runner = scheduler.add(b)
    exposition = exposition_of(scheduler)
    assert scheduler.run_once()
    for openmetrics in (False, True):
        answers(exposition, openmetrics)  # gzip asked for in both formats
    before = [exposition.refresh()[i].deflated or [] for i in (0, 1)]
    assert [len(deflated) for deflated in before] == [2, 2]  # each too big to be joined
    b.families = big_families(
        "b", 4_000, families=2, area="extension"
    )  # the same families, other order
    assert runner.run_once()
    for i, openmetrics in enumerate((False, True)):
        after = exposition.refresh()[i].deflated  # compressed by the run, not by a scrape
        assert after is not None
        assert after[0] is before[i][0]  # a's segment: the same bytes, not compressed again
        assert after[1] is not before[i][1] and after[1] != before[i][1]
        assert_gzip_of(*answers(exposition, openmetrics))


def test_small_snapshots_are_joined_into_one_segment(clock: FakeClock) -> None:
    scheduler = Scheduler(wall_clock=clock)
    for name in "abcd":
        scheduler.add(Replay(name, big_families(name, 200, families=2)))
    exposition = exposition_of(scheduler)
    assert scheduler.run_once()
    assert len(exposition.refresh()[0].segments) == 1
    assert_gzip_of(*answers(exposition, openmetrics=False))


class CountingCollector(Collector):
    def __init__(self) -> None:
        self.collected = 0

    def collect(self) -> Iterable[Metric]:
        self.collected += 1
        yield GaugeMetricFamily(
            "eightbyeight_test_clock_figure", "A figure of the clock.", value=self.collected
        )


def test_the_figures_that_follow_the_clock_are_rendered_at_most_once_a_second(
    clock: FakeClock,
) -> None:
    scheduler = Scheduler(wall_clock=clock)
    runner = scheduler.add(Replay("a", big_families("a", 10, families=1)))
    exposition = exposition_of(scheduler)
    counting = CountingCollector()
    exposition.per_scrape.register(counting)
    assert scheduler.run_once()
    for _ in range(5):
        exposition.answer(openmetrics=False, gzip=False)
        exposition.answer(openmetrics=False, gzip=True)
    assert counting.collected == 1
    clock.advance(CLOCK_PART_SECONDS * 0.9)
    exposition.answer(openmetrics=False, gzip=True)
    assert counting.collected == 1
    clock.advance(CLOCK_PART_SECONDS * 0.2)  # past the second: never older than that
    assert b"eightbyeight_test_clock_figure 2.0" in exposition.render()
    assert counting.collected == 2
    assert runner.run_once()  # a new snapshot shows its age of 0 at once
    exposition.render()
    assert counting.collected == 3
    clock.advance(-5)  # a clock set back: rendered again, not kept until it catches up
    exposition.render()
    assert counting.collected == 4
    # Each format has its own.
    exposition.render(openmetrics=True)
    assert counting.collected == 5


class CountingSocket(socket.socket):
    """Counts its sendmsg() calls."""

    sendmsg_calls = 0

    def sendmsg(self, buffers: Iterable[Any], *args: Any) -> int:
        self.sendmsg_calls += 1
        return super().sendmsg(buffers, *args)


def connected_pair(send_buffer: int | None = None) -> tuple[CountingSocket, socket.socket]:
    sender, receiver = socket.socketpair()
    if send_buffer is not None:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    counting = CountingSocket(sender.family, sender.type, sender.proto, sender.detach())
    receiver.settimeout(10)
    return counting, receiver


def receive(receiver: socket.socket, size: int, into: list[bytes]) -> None:
    received = 0
    while received < size:
        chunk = receiver.recv(1 << 16)
        if not chunk:
            return
        into.append(chunk)
        received += len(chunk)


def test_a_page_of_many_pieces_goes_out_in_one_sendmsg_per_1024_pieces() -> None:
    pieces = [b"# HELP x y\n" * (i % 3) + b"x 1.0\n" * (i % 50) for i in range(1500)]
    sender, receiver = connected_pair()
    with sender, receiver:
        got: list[bytes] = []
        reader = threading.Thread(target=receive, args=(receiver, sum(map(len, pieces)), got))
        reader.start()
        send_pieces(sender, pieces, timeout=10)
        reader.join(10)
        assert b"".join(got) == b"".join(pieces)
        # 1500 pieces (some empty, skipped) in at most 1024 a call; the buffer can take them.
        assert sender.sendmsg_calls == 2


def test_partial_sends_go_on_from_the_byte_they_stopped_at() -> None:
    # A small send buffer and a page of big and small pieces: most sendmsg() calls stop
    # inside a piece.
    pieces = [bytes([65 + i % 26]) * (1 + (i * 7919) % 70_000) for i in range(200)]
    sender, receiver = connected_pair(send_buffer=16_384)
    with sender, receiver:
        got: list[bytes] = []
        reader = threading.Thread(target=receive, args=(receiver, sum(map(len, pieces)), got))
        reader.start()
        send_pieces(sender, pieces, timeout=10)
        reader.join(10)
        assert b"".join(got) == b"".join(pieces)
        assert sender.sendmsg_calls > 2


def test_a_client_that_never_reads_gets_a_timeout_not_a_blocked_thread() -> None:
    sender, receiver = connected_pair(send_buffer=16_384)
    with sender, receiver:
        with pytest.raises(TimeoutError):
            send_pieces(sender, [b"x" * (8 << 20)], timeout=0.2)


@dataclass
class Served:
    exposition: Exposition
    scheduler: Scheduler


def test_one_keep_alive_connection_gets_every_answer_whole_in_turn(clock: FakeClock) -> None:
    scheduler = Scheduler(wall_clock=clock)
    # 1,500 families: more pieces than one sendmsg() takes.
    scheduler.add(Replay("many", big_families("m", 3_000, families=1_500)))
    exposition = exposition_of(scheduler)
    assert scheduler.run_once()
    plain = exposition.render()
    assert len(exposition.refresh()[0].plain) > 2_000
    server = ExporterServer(Served(exposition, scheduler), f"127.0.0.1:{free_port()}")
    server.start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for method, encoding in [
            ("GET", "gzip"),
            ("GET", "identity"),
            ("HEAD", "gzip"),
            ("GET", "gzip"),
            ("HEAD", "identity"),
            ("GET", "identity"),
        ]:
            connection.request(method, "/metrics", headers={"Accept-Encoding": encoding})
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200 and not response.will_close
            length = int(response.getheader("Content-Length") or -1)
            if method == "HEAD":
                assert body == b"" and length > 0
                continue
            assert len(body) == length
            assert (gzip.decompress(body) if encoding == "gzip" else body) == plain
    finally:
        connection.close()
        server.stop()
