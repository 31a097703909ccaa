"""Issue #16 against Debian's Prometheus: the call counters are a function of the vendor's
records, so a SIGKILL and a restart, a reload that rebuilds a poller, and a second replica all
show the same values, and `increase()` is right across all of them.

The simulator runs on the real clock, in a zone where it is 02:xx now (whatever hour the test
runs), with 3.5 hours of calls before its start: the day so far exists and no midnight falls
inside the run. Prometheus scrapes replica A and replica B (down at first) every second. With
the simulator's CDR delay 0, a counter scraped with a watermark W must equal the simulator's
calls that ended in [day start, floor(W)): every API window ends on a whole second.
"""

from __future__ import annotations

import math
import signal
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from exporter.core.windows import counting_day
from simulator import Simulator
from simulator.calls import CallLeg, GroupRef
from tests.support import processes
from tests.support.end_to_end import config_for
from tests.support.waiting import free_ports

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JOB = "eightbyeight"
LOOKBACK = 20.0
DIRECTIONS = {"Incoming": "inbound", "Outgoing": "outbound"}
CALLS = "eightbyeight_calls_total"
GROUP_CALLS = "eightbyeight_group_calls_total"
WATERMARK = "eightbyeight_collector_watermark_timestamp_seconds"
RUNS = "eightbyeight_collector_runs_total"
RELOAD_OK = "eightbyeight_exporter_config_last_reload_successful"
RELOAD_AT = "eightbyeight_exporter_config_last_reload_success_timestamp_seconds"
# Every counter and histogram series of the call pollers, one query a name (resets() drops
# the names, and a _count and its _bucket{le="+Inf"} would then clash).
HISTOGRAMS = [
    f"{h}_seconds_{part}" for h in ("wait", "talk") for part in ("bucket", "count", "sum")
]
CALL_SERIES = [f"eightbyeight_{p}calls_total" for p in ("", "group_")] + [
    f"eightbyeight_{p}call_{h}" for p in ("", "group_") for h in HISTOGRAMS
]
SERVICE_LEVEL_SECONDS = 20.0
COLLECTORS = ("call_records", "call_legs")
# Labels of a series without the target's and the name: what the simulator's truth is keyed by.
Key = frozenset[tuple[str, str]]
TARGET_LABELS = ("__name__", "instance", "job")


def zone_where_it_is_two_am(now: float) -> str:
    """A fixed-offset zone whose local hour is 2 at `now`; the POSIX names invert the sign."""
    offset = (2 - time.gmtime(now).tm_hour) % 24
    if offset > 14:
        offset -= 24
    if offset == 0:
        return "Etc/UTC"
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


def exporter_config(sim: Simulator, zone: str, interval: str) -> dict[str, Any]:
    """The call counters and the ring groups they need; `interval` of the ring groups and of
    the call records (changed by the reload, which so keeps some pollers and rebuilds others)."""
    data = config_for(sim, enabled=False)
    data["work_analytics"].update(
        {
            "time_zone": zone,
            "company_summary": {"enabled": False},
            "extensions": {"enabled": False},
            "ring_group_members": {"enabled": False},
            "ring_groups": {"interval": interval, "windows": ["15m"]},
            "call_records": {"interval": interval, "lookback": f"{LOOKBACK:g}s"},
            "call_legs": {"interval": "2s", "lookback": f"{LOOKBACK:g}s"},
        }
    )
    data["contact_center"] = {"enabled": False}
    return data


def key(**labels: str) -> Key:
    return frozenset(labels.items())


def series_key(labels: Mapping[str, str]) -> Key:
    return key(**{k: v for k, v in labels.items() if k not in TARGET_LABELS})


def nonzero(values: Mapping[Key, float]) -> dict[Key, float]:
    return {k: v for k, v in values.items() if v}


def difference(a: Mapping[Key, float], b: Mapping[Key, float]) -> dict[Key, float]:
    return nonzero({k: a.get(k, 0.0) - b.get(k, 0.0) for k in {*a, *b}})


@dataclass
class Truth:
    """The simulator's calls of the counting day up to a watermark, as the counters key them."""

    sim: Simulator
    day_start: float
    _cache: dict[tuple[str, int], dict[Key, float]] = field(default_factory=dict)

    def counted(self, collector: str, watermark: float) -> dict[Key, float]:
        """What `collector`'s counter must show at `watermark`: the API's windows end on the
        whole second."""
        end = math.floor(watermark)
        if (collector, end) not in self._cache:
            self._cache[collector, end] = dict(Counter(self._keys(collector, end)))
        return self._cache[collector, end]

    def _keys(self, collector: str, end: int) -> Iterator[Key]:
        if collector == "call_records":
            for c in self.sim.model.finished_calls(self.day_start, end):
                yield key(pbx=c.pbx, direction=DIRECTIONS[c.direction], outcome=c.outcome)
            return
        for leg, group in self._group_legs(end):
            yield key(
                pbx=leg.pbx,
                group_type=group.kind.value,
                group=group.name,
                extension=group.extension,
                outcome=leg.outcome,
            )

    def _group_legs(self, end: int) -> Iterator[tuple[CallLeg, GroupRef]]:
        """The callers' legs into a group (not the rings to its members)."""
        for leg in self.sim.model.call_legs(self.day_start, end):
            if leg.parent_call_id is None and leg.group is not None:
                yield leg, leg.group

    def service_levels(self, watermark: float) -> dict[Key, float]:
        """Per queue (pbx, group, extension): answered within 20 s over answered or abandoned."""
        answered_in_time: Counter[Key] = Counter()
        offered: Counter[Key] = Counter()
        for leg, group in self._group_legs(math.floor(watermark)):
            if group.kind.value == "queue" and leg.outcome in ("answered", "abandoned"):
                queue = key(pbx=leg.pbx, group=group.name, extension=group.extension)
                offered[queue] += 1
                if leg.outcome == "answered" and leg.wait_ms <= SERVICE_LEVEL_SECONDS * 1000:
                    answered_in_time[queue] += 1
        return {queue: answered_in_time[queue] / offered[queue] for queue in offered}


@dataclass
class Scrape:
    """The call counters and watermarks one scrape of one replica showed."""

    calls: dict[Key, float] = field(default_factory=dict)
    group_calls: dict[Key, float] = field(default_factory=dict)
    watermarks: dict[str, float] = field(default_factory=dict)

    def counters(self, collector: str) -> dict[Key, float]:
        return self.calls if collector == "call_records" else self.group_calls

    def add(self, labels: Mapping[str, str], value: float) -> None:
        name, series = labels["__name__"], series_key(labels)
        if name == CALLS:
            self.calls[series] = value
        elif name == GROUP_CALLS:
            self.group_calls[series] = value
        elif name == WATERMARK:
            self.watermarks[labels["collector"]] = value


def parse(result: list[dict[str, Any]]) -> dict[float, Scrape]:
    """Scrapes by time from samples of a replica: raw samples share their scrape's time."""
    found: dict[float, Scrape] = {}
    for series in result:
        for when, value in series.get("values") or [series["value"]]:
            found.setdefault(float(when), Scrape()).add(series["metric"], float(value))
    return dict(sorted(found.items()))


def scrapes(
    prometheus: processes.Prometheus, instance: str, at: float, seconds: int = 0
) -> dict[float, Scrape]:
    """The scrapes of `instance` in the `seconds` before `at` (a range selector's raw samples),
    or with 0 what an instant query at `at` sees, as one scrape."""
    selector = f'{{__name__=~"{CALLS}|{GROUP_CALLS}|{WATERMARK}", instance="{instance}"}}'
    return parse(prometheus.result(f"{selector}[{seconds}s]" if seconds else selector, at))


def series_values(result: list[dict[str, Any]]) -> dict[Key, float]:
    return {series_key(s["metric"]): float(s["value"][1]) for s in result}


def assert_matches_truth(scrape: Scrape, truth: Truth, where: str) -> None:
    """Both counters equal the truth at their own poller's watermark, including the zeros:
    a series of a group without calls is there at 0, and no call's series is missing."""
    for collector in COLLECTORS:
        counters = scrape.counters(collector)
        if not counters:
            continue  # before the poller's first run
        assert collector in scrape.watermarks, f"{where}: counters without a watermark"
        watermark = scrape.watermarks[collector]
        wanted = truth.counted(collector, watermark)
        assert nonzero(counters) == wanted, f"{where}: {collector} at watermark {watermark}"
        assert set(wanted) <= set(counters)


@dataclass
class Replicas:
    """What the scenario leaves for the assertions: the targets and when things happened."""

    a: str
    b: str
    began: float  # before A first started
    a_first: float  # A's first scrape with both counters
    b_first: float  # B's first scrape with both counters
    end: float  # an evaluation time after both replicas' last polls


def counted(instance: str, collector: str = "call_legs", runs: int = 1) -> str:
    """PromQL: scraped with both counters, after `runs` runs of `collector` in its process."""
    return (
        f'{RUNS}{{instance="{instance}", collector="{collector}"}} >= {runs} '
        f'and on() count({CALLS}{{instance="{instance}"}}) '
        f'and on() count({GROUP_CALLS}{{instance="{instance}"}})'
    )


@dataclass
class Deployment:
    """The simulator, Prometheus, and where the replicas listen and find their config."""

    sim: Simulator
    zone: str
    prometheus: processes.Prometheus
    config_file: Path
    ports: tuple[int, int]  # A's and B's
    daemons: list[processes.Process] = field(default_factory=list)

    def seen(self, expr: str) -> bool:
        return bool(self.prometheus.query(expr).get("data", {}).get("result"))

    def start(self, name: str, port: int) -> processes.Process:
        process = processes.start_exporter(name, self.config_file, port, self.config_file.parent)
        self.daemons.append(process)
        return process

    def first_scrape(self, instance: str, since: float) -> float:
        """When Prometheus first scraped both counters of `instance` after `since`."""
        now = time.time()
        found = scrapes(self.prometheus, instance, now, math.ceil(now - since) + 2)
        return min(t for t, s in found.items() if t >= since and s.calls and s.group_calls)

    def logs(self) -> str:
        unique = {p.log: p for p in self.daemons}.values()  # A twice, in one log
        return "\n".join(f"--- {p.name}\n{p.tail()}" for p in unique)


def run_scenario(setup: Deployment) -> Replicas:
    """A starts, polls, is killed, starts again, reloads a changed config; then B starts."""
    (a_port, b_port), seen = setup.ports, setup.seen
    a, b = (f"127.0.0.1:{port}" for port in setup.ports)
    began = time.time()
    replica_a = setup.start("replica-a", a_port)
    processes.wait_until("A's counters after several polls", lambda: seen(counted(a, runs=3)), 45)
    a_first = setup.first_scrape(a, began)
    replica_a.kill()  # SIGKILL: nothing of A survives but what the API holds
    killed = time.time()
    time.sleep(4)  # calls end meanwhile
    replica_a = setup.start("replica-a", a_port)
    restarted = f'{counted(a)} and on() process_start_time_seconds{{instance="{a}"}} > {killed}'
    processes.wait_until("A's counters after the restart", lambda: seen(restarted), 45)

    # Ring groups 2s -> 3s and call records 2s -> 3s: discovery is kept, the ring groups,
    # call records and call legs (which need the ring groups) are rebuilt.
    loaded_at = setup.prometheus.result(f'{RELOAD_AT}{{instance="{a}"}}')[0]["value"][1]
    setup.config_file.write_text(yaml.safe_dump(exporter_config(setup.sim, setup.zone, "3s")))
    replica_a.process.send_signal(signal.SIGHUP)
    interval = (
        f'eightbyeight_collector_interval_seconds{{instance="{a}", collector="call_records"}}'
    )
    reloaded = (
        f'{RELOAD_AT}{{instance="{a}"}} > {loaded_at} and on() {RELOAD_OK}{{instance="{a}"}} == 1 '
        f"and on() {interval} == 3 and on() {counted(a, collector='call_records', runs=2)}"
    )
    processes.wait_until(
        "A's reload and two runs of its new call_records poller", lambda: seen(reloaded), 45
    )

    # B's first ring group summary answers late, as a slow API may: its first poll of the call
    # legs, which reads the day so far, must still count the ring groups' calls.
    setup.sim.faults.add("/v2/rgsum-groups$", delay=1.5, times=1)
    b_started = time.time()
    setup.start("replica-b", b_port)
    processes.wait_until("B's counters after a poll", lambda: seen(counted(b)), 45)
    b_first = setup.first_scrape(b, b_started)
    processes.wait_until("a few more polls of both", lambda: seen(counted(b, runs=6)), 45)
    end = round(time.time(), 3)  # Prometheus's resolution: offsets from here are exact
    time.sleep(2)  # the scrapes under way at `end` are stored
    return Replicas(a, b, began, a_first, b_first, end)


def test_counters_are_the_days_calls_across_kill_restart_reload_and_replicas(
    tmp_path: Path,
) -> None:
    zone = zone_where_it_is_two_am(time.time())
    sim = Simulator(seed=16, host="127.0.0.1", port=0, history_seconds=3.5 * 3600).start()
    day = counting_day(time.time(), ZoneInfo(zone), LOOKBACK)
    config_file = tmp_path / "exporter.yaml"
    config_file.write_text(yaml.safe_dump(exporter_config(sim, zone, "2s")))
    first, second, prometheus_port = free_ports(3)
    ports = (first, second)
    targets = [f"127.0.0.1:{port}" for port in ports]
    scrape_config = {"job_name": JOB, "static_configs": [{"targets": targets}]}
    setup: Deployment | None = None
    try:
        process, prometheus = processes.start_prometheus(
            tmp_path,
            prometheus_port,
            {"global": {"scrape_interval": "1s"}, "scrape_configs": [scrape_config]},
        )
        setup = Deployment(sim, zone, prometheus, config_file, ports, [process])
        processes.wait_until("Prometheus to be ready", prometheus.ready, 30)
        replicas = run_scenario(setup)
        assert counting_day(time.time(), ZoneInfo(zone), LOOKBACK) == day  # no midnight
        check(prometheus, replicas, Truth(sim, day.start))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{setup.logs() if setup else ''}") from None
    finally:
        for started in reversed(setup.daemons if setup else []):
            started.stop()
        sim.stop()


def check(prometheus: processes.Prometheus, replicas: Replicas, truth: Truth) -> None:
    a, b, end = replicas.a, replicas.b, replicas.end
    span = math.ceil(end - replicas.began) + 5
    # 1. No counter or histogram series went down: not over A's kill, restart and reload.
    for instance in (a, b):
        for name in CALL_SERIES:
            resets = prometheus.result(f'resets({name}{{instance="{instance}"}}[{span}s])', end)
            assert len(resets) > 5, name
            assert [r["metric"] for r in resets if float(r["value"][1])] == [], name

    # 2. Every scrape of either replica, and both at the end, equal the truth at their own
    # watermarks, per outcome and group.
    history = {instance: scrapes(prometheus, instance, end, span) for instance in (a, b)}
    for instance, scraped in history.items():
        assert len(scraped) > 10
        for when, scrape in scraped.items():
            assert_matches_truth(scrape, truth, f"{instance} at {when}")
    last: dict[str, Scrape] = {}
    for instance in (a, b):
        (last[instance],) = scrapes(prometheus, instance, end).values()
        assert last[instance].calls and last[instance].group_calls
        assert_matches_truth(last[instance], truth, f"{instance} at the end")

    # 3. A's increase from its first scrape to the end, without extrapolation, is the truth
    # between the two watermarks, for every outcome and group.
    first = history[a][replicas.a_first]
    offset = round((end - replicas.a_first) * 1000)
    for collector, name in zip(COLLECTORS, (CALLS, GROUP_CALLS)):
        now, then = f'{name}{{instance="{a}"}}', f'{name}{{instance="{a}"}} offset {offset}ms'
        increase = series_values(prometheus.result(f"{now} - {then}", end))
        assert set(increase) == set(first.counters(collector))  # every series was there at T0
        since = (first.watermarks[collector], last[a].watermarks[collector])
        # Not vacuous: the day holds calls (the run itself may hold none at night, when the
        # simulated sites' traffic is a sixth of their peak and the run lasts a minute).
        assert truth.counted(collector, since[1])
        assert nonzero(increase) == difference(
            truth.counted(collector, since[1]), truth.counted(collector, since[0])
        ), f"A's {name} from {since[0]} to {since[1]}"

    # 4. A and B differ by the calls between their watermarks: none when they are equal.
    for collector in COLLECTORS:
        wa, wb = last[a].watermarks[collector], last[b].watermarks[collector]
        assert difference(last[a].counters(collector), last[b].counters(collector)) == difference(
            truth.counted(collector, wa), truth.counted(collector, wb)
        ), f"{collector}: A at {wa}, B at {wb}"

    # 5. Today's service level per queue is right from B's first scrape on.
    by_queue = "sum by (pbx, group, extension)"
    where = f'instance="{b}", group_type="queue"'
    ratio = series_values(
        prometheus.result(
            f'{by_queue} (eightbyeight_group_call_wait_seconds_bucket{{{where}, outcome="answered", le="20.0"}})'
            f' / {by_queue} ({GROUP_CALLS}{{{where}, outcome=~"answered|abandoned"}})',
            replicas.b_first,
        )
    )
    b_first = history[b][replicas.b_first]
    expected = truth.service_levels(b_first.watermarks["call_legs"])
    assert len(expected) > 3
    assert {q: v for q, v in ratio.items() if not math.isnan(v)} == pytest.approx(expected)
