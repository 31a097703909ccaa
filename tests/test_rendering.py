"""The page is rendered once per snapshot, byte for byte what prometheus-client would write,
and served from that cache as text, OpenMetrics and gzip."""

from __future__ import annotations

import gzip
import http.client
import platform
import zlib
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics_exposition
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.registry import Collector

from exporter.metrics.rendering import (
    GZIP_HEADER,
    CounterFamily,
    Family,
    GaugeFamily,
    HistogramFamily,
    deflate_piece,
    gzip_trailer,
    render_families,
)
from exporter.pollers.base import STALE_INTERVALS, Poller, PollerRunner, Scheduler
from exporter.serving.exposition import Exposition
from exporter.serving.server import ExporterServer, accepts_gzip
from tests.support.clock import FakeClock
from tests.support.page import PageReader, exposition_of
from tests.support.waiting import free_port

OPENMETRICS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


class Fixed(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Sequence[Metric]:
        return self.families


def client_render(families: Sequence[Metric], openmetrics: bool) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed(families))
    if openmetrics:
        return openmetrics_exposition.generate_latest(registry)
    return generate_latest(registry)


def our_render(families: Sequence[Family], openmetrics: bool) -> bytes:
    rendered = render_families(families)
    text = b"".join(f.header(openmetrics) + f.samples for f in rendered)
    return text + (b"# EOF\n" if openmetrics else b"")


def sample_families(
    gauge_class: Any = GaugeMetricFamily,
    counter_class: Any = CounterMetricFamily,
    histogram_class: Any = HistogramMetricFamily,
) -> list[Any]:
    gauge = gauge_class(
        "eightbyeight_queue_waiting_calls",
        'Help with \\ and "quotes"\nand a line.',
        labels=["queue", "pbx", "site"],
    )
    gauge.add_metric(['Sales "EU"', "acme\\main", "line\nbreak"], 3)
    gauge.add_metric(["Support", "acme", "Zürich ☎"], 0.1 + 0.2)
    gauge.add_metric(["big", "acme", "x"], 1234567890.0)
    gauge.add_metric(["tiny", "acme", "x"], 1e-9)
    gauge.add_metric(["neg", "acme", "x"], -42.5)
    gauge.add_metric(["inf", "acme", "x"], float("inf"))
    gauge.add_metric(["-inf", "acme", "x"], float("-inf"))
    gauge.add_metric(["nan", "acme", "x"], float("nan"))
    counter = counter_class("eightbyeight_queue_calls_total", "Calls.", labels=["outcome"])
    counter.add_metric(["answered"], 7)
    unlabelled = gauge_class("eightbyeight_pbx_count", "PBXes.", value=2)
    info = gauge_class("eightbyeight_queue_info", "A queue.", labels=["queue", "site"])
    info.add_metric(["Sales", ""], 1)
    histogram = histogram_class(
        "eightbyeight_queue_wait_seconds", "Waits.", labels=["zone", "queue"]
    )
    histogram.add_metric(["eu", "Sales"], [("5.0", 1), ("30.0", 4), ("+Inf", 6)], 97.5)
    histogram.add_metric(["us", "Support"], [("5.0", 0), ("30.0", 0), ("+Inf", 0)], 0)
    return [gauge, counter, unlabelled, info, histogram]


@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
def test_rendering_is_byte_for_byte_what_prometheus_client_writes(openmetrics: bool) -> None:
    families = sample_families()
    build = InfoMetricFamily("eightbyeight_exporter_build", "Build.", value={"version": "1.0"})
    expected = client_render([*families, build], openmetrics)
    assert our_render([*families, build], openmetrics) == expected


@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
def test_text_families_write_what_prometheus_client_families_write(openmetrics: bool) -> None:
    ours = sample_families(GaugeFamily, CounterFamily, HistogramFamily)
    expected = client_render(sample_families(), openmetrics)
    assert our_render(ours, openmetrics) == expected
    # They read like prometheus-client's families too (tests and generate_latest use that).
    assert client_render(ours, openmetrics) == expected
    assert [s.labels for s in ours[4].samples][:2] == [
        {"zone": "eu", "queue": "Sales", "le": "5.0"},
        {"zone": "eu", "queue": "Sales", "le": "30.0"},
    ]


def test_text_families_refuse_what_prometheus_client_would_not_write() -> None:
    with pytest.raises(ValueError):
        GaugeFamily("eightbyeight_x", "x", labels=["bad-label"])
    family = GaugeFamily("eightbyeight_x", "x", labels=["a", "b"])
    with pytest.raises(ValueError):
        family.add_metric(["only one"], 1)


label_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**15), 10**15)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(label_values, label_values, numbers), max_size=8),
    openmetrics=st.booleans(),
)
def test_any_label_value_and_number_renders_as_prometheus_client_does(
    rows: list[tuple[str, str, float]], openmetrics: bool
) -> None:
    family = GaugeMetricFamily("eightbyeight_x", "x", labels=["zone", "agent"])
    ours = GaugeFamily("eightbyeight_x", "x", labels=["zone", "agent"])
    for zone, agent, value in rows:
        family.add_metric([zone, agent], value)
        ours.add_metric([zone, agent], value)
    expected = client_render([family], openmetrics)
    assert our_render([family], openmetrics) == expected
    assert our_render([ours], openmetrics) == expected


def test_what_the_two_formats_would_write_differently_is_refused() -> None:
    created = CounterMetricFamily("eightbyeight_calls", "Calls.", labels=["q"])
    created.add_metric(["a"], 1, created=1_700_000_000)
    stamped = GaugeMetricFamily("eightbyeight_x", "x", labels=["q"])
    stamped.add_metric(["a"], 1, timestamp=1_700_000_000)
    bad_label = GaugeMetricFamily("eightbyeight_x", "x", labels=["bad-label"])
    bad_label.add_metric(["v"], 1)
    for family in (created, stamped, bad_label):
        with pytest.raises(ValueError):
            render_families([family])


def test_deflate_pieces_concatenate_into_one_gzip_member() -> None:
    parts = [b"# HELP a x\n", b"a 1.0\n" * 5000, b"", b"b{x=\"y\"} 2.0\n"]
    body = b"".join(deflate_piece(p) for p in parts) + deflate_piece(b"tail\n", final=True)
    text = b"".join(parts) + b"tail\n"
    crc = 0
    for part in [*parts, b"tail\n"]:
        crc = zlib.crc32(part, crc)
    member = GZIP_HEADER + body + gzip_trailer(crc, len(text))
    decompressor = zlib.decompressobj(wbits=31)
    assert decompressor.decompress(member) == text
    assert decompressor.eof and decompressor.unused_data == b""  # one member, nothing after
    assert gzip.decompress(member) == text


class Counting(Poller):
    interval = 30.0

    def __init__(self, name: str, queue: str) -> None:
        self.name = name
        self.queue = queue
        self.runs = 0

    def collect(self) -> Sequence[Metric]:
        self.runs += 1
        family = GaugeMetricFamily("eightbyeight_queue_waiting_calls", "Waiting.", labels=["queue"])
        family.add_metric([self.queue], self.runs)
        return [family]


def make_page(clock: FakeClock) -> tuple[Scheduler, Exposition, list[PollerRunner]]:
    scheduler = Scheduler(wall_clock=clock)
    runners = [scheduler.add(Counting("a", "Sales")), scheduler.add(Counting("b", "Support"))]
    exposition = exposition_of(scheduler)
    return scheduler, exposition, runners


def renders(exposition: Exposition) -> float | None:
    return PageReader(exposition).get_sample_value("eightbyeight_exporter_exposition_renders_total")


def test_the_page_is_assembled_once_per_snapshot_not_per_scrape(clock: FakeClock) -> None:
    scheduler, exposition, runners = make_page(clock)
    assert scheduler.run_once()
    assert exposition.renders == 2  # once after each runner's snapshot
    for _ in range(10):
        for openmetrics in (False, True):
            for gzip_ in (False, True):
                exposition.answer(openmetrics=openmetrics, gzip=gzip_)
    assert renders(exposition) == 2
    assert runners[0].run_once()
    assert renders(exposition) == 3
    text = PageReader(exposition).text()
    assert 'eightbyeight_queue_waiting_calls{queue="Sales"} 2.0' in text
    assert text.count("# TYPE eightbyeight_queue_waiting_calls gauge") == 1
    assert PageReader(exposition).get_sample_value("eightbyeight_exporter_exposition_series") == 2


def test_a_snapshot_too_old_to_serve_leaves_the_page_without_a_collection(clock: FakeClock) -> None:
    scheduler, exposition, runners = make_page(clock)
    assert scheduler.run_once()
    clock.advance(STALE_INTERVALS * 60 + 1)
    assert runners[1].run_once()  # only b is fresh
    text = PageReader(exposition).text()
    assert 'queue="Support"' in text and 'queue="Sales"' not in text


@pytest.mark.parametrize("openmetrics", [False, True], ids=["text", "openmetrics"])
def test_gzip_answer_is_the_plain_answer_compressed(clock: FakeClock, openmetrics: bool) -> None:
    scheduler, exposition, _ = make_page(clock)
    assert scheduler.run_once()
    plain = b"".join(exposition.answer(openmetrics=openmetrics, gzip=False))
    compressed = b"".join(exposition.answer(openmetrics=openmetrics, gzip=True))
    assert gzip.decompress(compressed) == plain
    if openmetrics:
        assert plain.endswith(b"# EOF\n") and plain.count(b"# EOF") == 1
        names = [family.name for family in openmetrics_families(plain.decode())]
        assert "eightbyeight_queue_waiting_calls" in names and "eightbyeight_up" in names


def get(port: int, headers: dict[str, str], method: str = "GET") -> tuple[Any, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, "/metrics", headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_the_server_negotiates_format_and_compression(clock: FakeClock) -> None:
    scheduler, exposition, _ = make_page(clock)
    assert scheduler.run_once()
    server = ExporterServer(
        type("Served", (), {"exposition": exposition, "scheduler": scheduler})(),
        f"127.0.0.1:{free_port()}",
    )
    server.start()
    try:
        response, body = get(server.port, {})
        assert response.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
        assert response.getheader("Content-Encoding") is None
        assert int(response.getheader("Content-Length")) == len(body)
        assert b'eightbyeight_queue_waiting_calls{queue="Sales"} 1.0' in body
        response, body = get(
            server.port, {"Accept": OPENMETRICS_ACCEPT, "Accept-Encoding": "gzip, deflate"}
        )
        assert response.getheader("Content-Type").startswith("application/openmetrics-text")
        assert response.getheader("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in response.getheader("Vary")
        assert gzip.decompress(body).endswith(b"# EOF\n")
        response, body = get(server.port, {"Accept-Encoding": "gzip;q=0"})
        assert response.getheader("Content-Encoding") is None and body.startswith(b"# HELP")
        response, body = get(server.port, {"Accept-Encoding": "gzip"}, method="HEAD")
        assert body == b"" and int(response.getheader("Content-Length")) > 0
    finally:
        server.stop()


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("deflate, gzip;q=1.0", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("br", False),
        ("x-gzip", True),
    ],
)
def test_accept_encoding(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_a_family_that_cannot_be_rendered_fails_its_collector_only(clock: FakeClock) -> None:
    class Broken(Poller):
        name = "broken"
        interval = 30.0

        def collect(self) -> Sequence[Metric]:
            family = GaugeMetricFamily("eightbyeight_x", "x", labels=["bad-label"])
            family.add_metric(["v"], 1)
            return [family]

    scheduler, exposition, _ = make_page(clock)
    scheduler.add(Broken())
    assert not scheduler.run_once()
    reader = PageReader(exposition)
    assert reader.get_sample_value("eightbyeight_up", {"collector": "broken"}) == 0
    assert reader.get_sample_value("eightbyeight_up", {"collector": "a"}) == 1


def test_a_large_snapshot_gives_free_memory_back(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    import exporter.pollers.base as base
    from exporter.core.memory import TRIM_AFTER_BYTES, release_free_memory

    trims: list[int] = []

    def trim() -> bool:
        trims.append(1)
        return True

    monkeypatch.setattr(base, "release_free_memory", trim)

    class Big(Poller):
        name = "big"
        interval = 30.0

        def __init__(self, series: int) -> None:
            self.series_count = series

        def collect(self) -> Sequence[Family]:
            family = GaugeFamily("eightbyeight_x", "x", labels=["extension"])
            for i in range(self.series_count):
                family.add_metric([f"{i:08d}"], i)
            return [family]

    small, big = (
        PollerRunner(Big(10), wall_clock=clock),
        PollerRunner(Big(TRIM_AFTER_BYTES // 20), wall_clock=clock),
    )
    assert small.run_once() and trims == []
    assert big.run_once() and trims == [1]
    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")


def test_the_exporters_own_metrics_are_rendered_again_only_when_they_change(
    clock: FakeClock,
) -> None:
    from exporter.api.request_stats import RequestStats

    scheduler, exposition, runners = make_page(clock)
    stats = RequestStats()
    exposition.add_versioned(stats)
    assert scheduler.run_once()
    first = exposition._live_part(False)
    assert exposition._live_part(False) is first  # nothing happened: the same bytes
    stats.attempted("work_analytics", "/v2/pbxes/")
    reader = PageReader(exposition)
    labels = {"api": "work_analytics", "endpoint": "/v2/pbxes/"}
    assert reader.get_sample_value("eightbyeight_api_requests_total", labels) == 1
    failed = {**labels, "code": "503"}
    assert reader.get_sample_value("eightbyeight_api_request_failures_total", failed) is None
    stats.failed("work_analytics", "/v2/pbxes/", "503")
    stats.took("work_analytics", "/v2/pbxes/", 0.2)
    assert reader.get_sample_value("eightbyeight_api_request_failures_total", failed) == 1
    assert reader.get_sample_value("eightbyeight_api_request_duration_seconds_count", labels) == 1
    before = exposition._live_part(False)
    assert runners[0].run_once()  # a run changes the runner's own metrics
    assert exposition._live_part(False) is not before
    assert reader.get_sample_value("eightbyeight_collector_runs_total", {"collector": "a"}) == 2


def test_glibc_takes_the_arena_limit() -> None:
    from exporter.core.memory import limit_malloc_arenas

    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")  # elsewhere a no-op
