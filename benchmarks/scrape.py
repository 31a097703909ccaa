"""Scraping /metrics as Prometheus would, timed from request to last byte, and reading pages."""

from __future__ import annotations

import http.client
import math
import re
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

TIMEOUT = 120.0  # seconds for one scrape; a 500k-series page rendered per scrape takes ~5
_AGE = re.compile(
    rb'^eightbyeight_collector_snapshot_age_seconds\{collector="([^"]*)"\} (\S+)$', re.M
)
_RUNS = re.compile(rb'^eightbyeight_collector_runs_total\{collector="([^"]*)"\} (\S+)$', re.M)
_DURATION = re.compile(
    rb'^eightbyeight_collector_duration_seconds\{collector="([^"]*)"\} (\S+)$', re.M
)
_RENDERS = re.compile(rb"^eightbyeight_exporter_exposition_renders_total (\S+)$", re.M)
_SERIES = re.compile(rb"^eightbyeight_exporter_exposition_series (\S+)$", re.M)


OPENMETRICS_FIRST = (
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"
)


class Scraper:
    """One keep-alive connection to 127.0.0.1:port. A server that closes after each answer
    (prometheus-client's, HTTP/1.0) gets a new connection per scrape, as Prometheus would."""

    def __init__(self, port: int, path: str = "/metrics") -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.path = path

    def get(self, *, gzip: bool = False, openmetrics: bool = False) -> tuple[bytes, float]:
        """The body as sent (still compressed with `gzip`) and seconds to its last byte;
        `openmetrics`: asked for first, as Prometheus 2.x does (its default scrape_protocols)."""
        headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
        if openmetrics:
            headers["Accept"] = OPENMETRICS_FIRST
        started = time.perf_counter()
        self.connection.request("GET", self.path, headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"/metrics answered {response.status}")
        if gzip != (response.getheader("Content-Encoding") == "gzip"):
            raise RuntimeError(f"/metrics ignored Accept-Encoding: {headers}")
        return body, elapsed

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Latency:
    n: int
    median: float  # seconds
    p99: float
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def p99(values: list[float]) -> float:
    """Nearest rank: with fewer than 100 values, the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def time_scrapes(port: int, *, gzip: bool, n: int, budget: float, least: int = 5) -> Latency:
    """`n` timed scrapes after one untimed one (connection, caches), fewer when they would take
    longer than `budget` seconds, but at least `least`."""
    scraper = Scraper(port)
    try:
        body, _ = scraper.get(gzip=gzip)
        times: list[float] = []
        deadline = time.monotonic() + budget
        while len(times) < n and (len(times) < least or time.monotonic() < deadline):
            times.append(scraper.get(gzip=gzip)[1])
    finally:
        scraper.close()
    return Latency(len(times), statistics.median(times), p99(times), len(body))


def fetch(port: int, *, gzip: bool = False) -> bytes:
    scraper = Scraper(port)
    try:
        return scraper.get(gzip=gzip)[0]
    finally:
        scraper.close()


@dataclass(frozen=True)
class Scenario:
    """How Prometheus servers scrape: `scrapers` at once (several Prometheus replicas, or
    several jobs), each on one keep-alive connection or on a new connection per scrape."""

    scrapers: int
    keep_alive: bool

    @property
    def name(self) -> str:
        return f"{self.scrapers} {'keep-alive' if self.keep_alive else 'new connection'}"


SCENARIOS = (Scenario(1, True), Scenario(8, True), Scenario(1, False), Scenario(8, False))


def time_scenario(
    port: int, scenario: Scenario, *, gzip: bool, n: int, budget: float, path: str = "/metrics"
) -> Latency:
    """`n` timed scrapes per scraper after one untimed one each, all scrapers started
    together (fewer scrapes when they would take longer than `budget` seconds, at least 3
    each); the latencies of every scraper's scrapes together. A new-connection scrape is
    timed from connect to last byte."""
    barrier = threading.Barrier(scenario.scrapers)
    times: list[list[float]] = [[] for _ in range(scenario.scrapers)]
    sizes: list[int] = [0] * scenario.scrapers
    failures: list[BaseException] = []

    def scrape(index: int) -> None:
        scraper = Scraper(port, path)
        try:
            sizes[index] = len(scraper.get(gzip=gzip)[0])
            barrier.wait(TIMEOUT)
            deadline = time.monotonic() + budget
            mine = times[index]
            while len(mine) < n and (len(mine) < 3 or time.monotonic() < deadline):
                if scenario.keep_alive:
                    mine.append(scraper.get(gzip=gzip)[1])
                    continue
                scraper.close()
                started = time.perf_counter()
                scraper = Scraper(port, path)  # connects on the request
                scraper.get(gzip=gzip)
                mine.append(time.perf_counter() - started)
        except BaseException as exc:  # reported by the caller, not lost in a thread
            failures.append(exc)
            barrier.abort()
        finally:
            scraper.close()

    threads = [threading.Thread(target=scrape, args=(i,)) for i in range(scenario.scrapers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget + 2 * TIMEOUT)
    if failures:
        raise RuntimeError(f"{scenario.name}: {failures[0]!r}")
    every = [t for mine in times for t in mine]
    return Latency(len(every), statistics.median(every), p99(every), max(sizes))


def scenarios(port: int, n: int, budget: float, path: str = "/metrics") -> dict[str, Any]:
    """Latencies (as dicts) by scenario and encoding; with `path` "/own" (the floor's answer
    of the exporter's own gzip bytes), gzip only."""
    encodings = ("gzip",) if path == "/own" else ("plain", "gzip")
    return {
        scenario.name: {
            encoding: time_scenario(
                port, scenario, gzip=encoding == "gzip", n=n, budget=budget, path=path
            ).as_dict()
            for encoding in encodings
        }
        for scenario in SCENARIOS
    }


def renders(page: bytes) -> float | None:
    """`eightbyeight_exporter_exposition_renders_total`, None when the page has none."""
    match = _RENDERS.search(page)
    return float(match.group(1)) if match else None


def data_series(page: bytes) -> int | None:
    """`eightbyeight_exporter_exposition_series`: the series of the collectors' part of the
    page (the exporter's own metrics are not in it), None when the page has none."""
    match = _SERIES.search(page)
    return int(float(match.group(1))) if match else None


def collector_values(pattern: re.Pattern[bytes], page: bytes) -> dict[str, float]:
    return {m.group(1).decode(): float(m.group(2)) for m in pattern.finditer(page)}


@dataclass
class AgeWatch:
    """What the schedule phase saw: per collector, the snapshot ages scraped once it had run,
    and the longest run; how many scrapes and seconds it took."""

    ages: dict[str, list[float]]
    longest_run: dict[str, float]
    scrapes: int
    seconds: float


def watch_ages(
    port: int, seconds: float, runs_at_start: dict[str, int], *, longest: float, every: float
) -> AgeWatch:
    """Snapshot ages per collector, scraped every `every` seconds for `seconds`, and on (up to
    `longest` seconds) until every collector has run twice since the start, so its ages span a
    whole interval. A collector's ages count only once the schedule has run it: before, its
    snapshot is the measured cycle's, as old as the benchmark's other phases."""
    watch = AgeWatch({}, {}, 0, 0.0)
    scraper = Scraper(port)
    started = time.monotonic()
    try:
        while True:
            begun = time.monotonic()
            page, _ = scraper.get()
            watch.scrapes += 1
            runs = collector_values(_RUNS, page)
            for name, age in collector_values(_AGE, page).items():
                if runs.get(name, 0) > runs_at_start.get(name, 0):
                    watch.ages.setdefault(name, []).append(age)
            for name, run in collector_values(_DURATION, page).items():
                if runs.get(name, 0) > runs_at_start.get(name, 0):
                    watch.longest_run[name] = max(run, watch.longest_run.get(name, 0.0))
            elapsed = time.monotonic() - started
            twice = all(
                runs.get(name, 0) >= at_start + 2 for name, at_start in runs_at_start.items()
            )
            if elapsed >= longest or (elapsed >= seconds and twice):
                break
            time.sleep(max(0.0, begun + every - time.monotonic()))
    finally:
        scraper.close()
    watch.seconds = time.monotonic() - started
    return watch
