"""`python3 -m benchmarks [--sizes 1k,10k,100k,500k] [--scrapes N] [--out benchmarks/results.md]`

For each size: a simulator account of about that many data series (its own process), the
exporter under test (its own process), a first collection cycle, a gzip scrape, then
`--cycles` measured cycles each paired with `json.loads` of its answers, then /metrics scraped next to
the floor and per-scrape rendering (their own processes, serving the same page), then the
schedule run for a while to count token requests and watch the data's age. Writes a Markdown
table (and the raw numbers as JSON next to it) and prints the table. docs/performance.md
says what each number is.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import formulas
from benchmarks.account import (
    CC_REPORT_DELAY,
    Account,
    account_for,
    exporter_config,
    parse_size,
    size_label,
)
from benchmarks.children import (
    ChildFailed,
    baseline,
    cpu_seconds,
    exporter_under_test,
    peak_rss,
    simulator,
)
from benchmarks.cycles import (
    COMMAND_TIMEOUT,
    measured_cycles,
    run_cycle,
    simulator_log,
)
from benchmarks.report import markdown
from benchmarks.scrape import (
    SCENARIOS,
    data_series,
    fetch,
    renders,
    scenarios,
    time_scrapes,
    watch_ages,
)
from exporter.config import Config, load_config_data
from exporter.metrics.rendering import GZIP_LEVEL

DEFAULT_SIZES = "1k,10k,100k,500k"
# Scrapes after the cycles that must not render the data part again.
IDLE_SCRAPES = 20
# The schedule runs --schedule-seconds, and on until every collector has run twice, but
# never longer than this many times --schedule-seconds.
SCHEDULE_STRETCH = 4
# Seconds between the schedule phase's scrapes: several per interval of the fastest
# collectors (5 s), so the ages seen reach near both ends of each interval.
AGE_SCRAPE_SECONDS = 2.0


@dataclass(frozen=True)
class Options:
    scrapes: int = 50
    budget: float = 30.0  # seconds of timed scrapes per server and encoding, at most
    schedule_seconds: float = 40.0
    # Measured cycles, each paired with `json.loads` over its own answers: the ratio is the
    # median of the pairs' ratios (one cycle against the best of 3 passes swung by a third
    # between runs on a shared machine).
    cycles: int = 5


def latencies(port: int, options: Options) -> dict[str, Any]:
    return {
        encoding: time_scrapes(
            port, gzip=encoding == "gzip", n=options.scrapes, budget=options.budget
        ).as_dict()
        for encoding in ("plain", "gzip")
    }


def measure(
    target: int, options: Options, work_dir: Path, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Everything for one size; see the module's docstring for the order."""
    account = account_for(target)
    result: dict[str, Any] = {
        "target": target,
        "size": size_label(target),
        "account": asdict(account),
        "phase_seconds": {},
    }
    clock = time.monotonic()

    def phase(name: str) -> None:
        nonlocal clock
        elapsed, clock = time.monotonic() - clock, time.monotonic()
        result["phase_seconds"][name] = round(elapsed, 2)
        progress(f"{size_label(target)}: {name}: {elapsed:.1f}s")

    progress(f"{size_label(target)}: {account.describe()}")
    with simulator(account, work_dir) as sim:
        config = exporter_config(sim)
        phase("simulator start")
        with exporter_under_test(config, work_dir) as (exp, port):
            result["rss_idle"] = exp.ask("rss", COMMAND_TIMEOUT)["rss_bytes"]
            phase("exporter start")
            result["first_cycle"] = run_cycle(exp, "cycle")
            startup_log = simulator_log(sim, clear=True)
            phase("first cycle")
            # As Prometheus scrapes (it always asks for gzip): from now on every snapshot's
            # gzip segments are deflated in the cycle that makes it, a cost users pay.
            fetch(port, gzip=True)
            pairs = measured_cycles(exp, sim, options.cycles)
            cycle, cycle_log = pairs.cycles[0], pairs.first_log
            result["cycle"] = cycle
            result["cycle_cpu"] = pairs.as_dict()
            result["rss_after_cycles"] = pairs.rss_after_two
            phase("measured cycles and json.loads")
            page = fetch(port)
            series = data_series(page)
            if series is None:
                raise ChildFailed(
                    "exporter: /metrics lacks eightbyeight_exporter_exposition_series"
                )
            result["data_series"] = series
            result["page_bytes"] = len(page)
            page_file = work_dir / "page.txt"
            page_file.write_bytes(page)
            # The exporter's gzip answer of the same page, for the floor's /own and the size
            # next to the whole page gzipped once (the floor's answer).
            # Its own page, not `page`: the figures of the clock may have moved in between.
            own_gzip = fetch(port, gzip=True)
            own_page = gzip.decompress(own_gzip)
            page_file.with_suffix(".gz").write_bytes(own_gzip)
            result["gzip_bytes"] = {
                "exporter": len(own_gzip),
                "whole_page": len(gzip.compress(own_page, compresslevel=GZIP_LEVEL, mtime=0)),
            }
            # Scraping must not render the data part again: the counter before and after
            # IDLE_SCRAPES more scrapes, the last of which is read.
            before = renders(page)
            for _ in range(IDLE_SCRAPES - 1):
                fetch(port)
            after = renders(fetch(port))
            result["renders"] = {"before": before, "after": after, "scrapes": IDLE_SCRAPES}
            n, budget = options.scrapes, options.budget
            concurrency: dict[str, Any] = {"exporter": scenarios(port, n, budget)}
            result["rss_after_scrapes"] = exp.ask("rss", COMMAND_TIMEOUT)["rss_bytes"]
            phase("exporter scrapes")
            with baseline("benchmarks.floor", page_file, work_dir) as (floor_port, _):
                concurrency["floor"] = scenarios(floor_port, n, budget)
                concurrency["floor_own"] = scenarios(floor_port, n, budget, "/own")
            phase("floor scrapes")
            result["concurrency"] = concurrency
            # One keep-alive scraper: the table next to per-scrape rendering.
            result["exporter"] = concurrency["exporter"][SCENARIOS[0].name]
            result["floor"] = concurrency["floor"][SCENARIOS[0].name]
            with baseline("benchmarks.naive", page_file, work_dir) as (naive_port, ready):
                result["naive"] = latencies(naive_port, options)
                result["naive_peak_rss"] = peak_rss(ready["pid"])
            phase("per-scrape rendering scrapes")
            # Both processes' CPU over the schedule run: which of the two was the busy one.
            cpu = {"exporter": cpu_seconds(exp.pid), "simulator": cpu_seconds(sim["pid"])}
            started = exp.ask("start", COMMAND_TIMEOUT)
            watch = watch_ages(
                port,
                options.schedule_seconds,
                started["runs"],
                longest=SCHEDULE_STRETCH * options.schedule_seconds,
                every=AGE_SCRAPE_SECONDS,
            )
            stopped = exp.ask("stop", COMMAND_TIMEOUT)
            all_tokens = exp.ask("tokens", COMMAND_TIMEOUT)["tokens"]
            cpu = {
                "exporter": cpu_seconds(exp.pid) - cpu["exporter"],
                "simulator": cpu_seconds(sim["pid"]) - cpu["simulator"],
            }
            result["simulator_peak_rss"] = peak_rss(sim["pid"])
            phase("schedule")
    result["requests"] = requests_summary(
        load_config_data(config), account, cycle, startup_log, cycle_log
    )
    result["tokens"] = tokens_summary(stopped, all_tokens)
    result["data_age"] = {
        "intervals": started["intervals"],
        "scrapes": watch.scrapes,
        "every": AGE_SCRAPE_SECONDS,
        "seconds": watch.seconds,
        "cpu_seconds": cpu,
        "runs_at_start": started["runs"],
        "runs": stopped["runs"],
        "longest_run": watch.longest_run,
        "ages": {name: summary(values) for name, values in watch.ages.items()},
    }
    result["wall_seconds"] = round(sum(result["phase_seconds"].values()), 1)
    return result


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "median": statistics.median(values), "max": max(values)}


def requests_summary(
    config: Config,
    account: Account,
    cycle: dict[str, Any],
    startup_log: list[dict[str, Any]],
    cycle_log: list[dict[str, Any]],
) -> dict[str, Any]:
    """The measured cycle's requests by endpoint next to the formula, and repeated requests."""
    measured = {
        k: v for k, v in cycle["requests"].items() if not k.endswith(formulas.TOKEN_ENDPOINTS)
    }
    expected = formulas.requests_per_cycle(
        config,
        account,
        cycle["ring_groups"],
        cycle["records_read"],
        CC_REPORT_DELAY,
        cycle.get("recent_calls", []),
    )
    return {
        "measured": measured,
        "formula": expected,
        "token_requests_in_cycle": sum(
            v for k, v in cycle["requests"].items() if k.endswith(formulas.TOKEN_ENDPOINTS)
        ),
        "repeated_in_cycle": formulas.repeated_requests(cycle_log),
        "repeated_at_startup_and_first_cycle": formulas.repeated_requests(startup_log),
    }


def tokens_summary(stopped: dict[str, Any], all_tokens: list[list[Any]]) -> dict[str, Any]:
    """Token requests during the schedule run, per API: their mean spacing and rate at the
    simulator's short lifetime, and the rate at a real lifetime. The spacing is the renewal
    point plus the wait for the next request that needs a token; that wait does not grow with
    the lifetime, so it is carried over as measured."""
    out: dict[str, Any] = {
        "seconds": stopped["seconds"],
        "early": formulas.early_renewals(all_tokens),
        "apis": {},
    }
    for api in ("work_analytics", "contact_center"):
        events = [(at, life) for name, at, life in stopped["tokens"] if name == api]
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(events)]
        gap = statistics.mean(gaps) if gaps else None
        lifetime = events[0][1] if events else None  # as the token answer said
        renewal = formulas.renewal_seconds(lifetime) if lifetime else None
        wait = max(0.0, gap - renewal) if gap and renewal else None
        real = formulas.REAL_LIFETIME
        out["apis"][api] = {
            "lifetime": lifetime,
            "requests": len(events),
            "mean_gap": gap,
            "formula_gap": renewal,
            "per_hour": 3600 / gap if gap else None,
            "formula_per_hour": formulas.token_requests_per_hour(lifetime) if lifetime else None,
            "real_lifetime": real,
            "formula_per_hour_real": formulas.token_requests_per_hour(real),
            "scaled_per_hour_real": (
                formulas.token_requests_per_hour(real, wait) if wait is not None else None
            ),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"target data series, comma separated (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--scrapes",
        type=int,
        default=Options.scrapes,
        help="timed scrapes per server and encoding (default %(default)s)",
    )
    parser.add_argument(
        "--scrape-budget",
        type=float,
        default=Options.budget,
        help="seconds of timed scrapes per server and encoding, at most (at "
        "least 5 scrapes, or --scrapes when fewer, are timed) "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--schedule-seconds",
        type=float,
        default=Options.schedule_seconds,
        help="how long the schedule runs per size (default %(default)s)",
    )
    parser.add_argument(
        "--cycles",
        type=int,
        default=Options.cycles,
        help="measured collection cycles per size, each paired with json.loads of its answers "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results.md"),
        help="Markdown table; the JSON goes next to it (default %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError as exc:
        parser.error(f"--sizes: {exc}")
    if min(args.scrapes, args.cycles) < 1 or args.scrape_budget <= 0 or args.schedule_seconds <= 0:
        parser.error("--scrapes, --cycles, --scrape-budget and --schedule-seconds must be positive")
    options = Options(
        scrapes=args.scrapes,
        budget=args.scrape_budget,
        schedule_seconds=args.schedule_seconds,
        cycles=args.cycles,
    )

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    run: dict[str, Any] = {
        "command": " ".join(["python3", "-m", "benchmarks", *(argv or sys.argv[1:])]),
        "options": asdict(options),
        "sizes": [],
    }
    # SIGTERM and SIGHUP end the run as Ctrl-C does: SystemExit unwinds the `with` blocks, so
    # the children are terminated and the work directory removed (the default action would
    # kill this process alone and leave both behind). The exit code is the shell's 128 + N.
    previous = {
        number: signal.signal(number, lambda signum, _: sys.exit(128 + signum))
        for number in (signal.SIGTERM, signal.SIGHUP)
    }
    started = time.monotonic()
    try:
        for target in sizes:
            # A fresh directory per size for its processes' logs, config and page.
            with tempfile.TemporaryDirectory(prefix="benchmarks-") as work:
                try:
                    run["sizes"].append(measure(target, options, Path(work), progress))
                except Exception as exc:
                    reason = (str(exc).splitlines() or [""])[0]
                    run["failed"] = f"{size_label(target)}: {type(exc).__name__}: {reason}"
                    progress(f"{size_label(target)} failed; the logs of its processes:")
                    for log in sorted(Path(work).glob("*.log")):
                        progress(
                            f"--- {log.name}\n"
                            + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                        )
                    raise
    except (KeyboardInterrupt, SystemExit):
        run["failed"] = "interrupted"
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        # The sizes measured so far are written even when a later one fails.
        if run["sizes"]:
            run["wall_seconds"] = round(time.monotonic() - started, 1)
            text = markdown(run)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
            args.out.with_suffix(".json").write_text(json.dumps(run, indent=1) + "\n")
            print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
