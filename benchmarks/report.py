"""The Markdown tables of a run (docs/performance.md says how to read them)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

SERVERS = ("exporter", "floor", "naive")  # keys of a size's latencies, in the table's order


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def mb(size: float) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}×" if a is not None and b else "–"


CYCLE_COLUMNS = (
    "size|data series|cycles|cycle CPU|cycle wall|json.loads CPU|cycle ÷ json.loads|API answers|"
    "payload"
).split("|")


def cycle_row(size: dict[str, Any]) -> list[Any]:
    cpu = size["cycle_cpu"]
    spread = f"{min(cpu['ratios']):.1f}-{max(cpu['ratios']):.1f}"
    head = [size["size"], f"{size['data_series']:,}", cpu["pairs"]]
    times = [ms(cpu["median_cycle_seconds"]) + " ms", f"{cpu['median_wall_seconds']:.2f} s"]
    decoding = [ms(cpu["median_json_seconds"]) + " ms", f"{cpu['median_ratio']:.1f}× ({spread})"]
    return [*head, *times, *decoding, cpu["answers"], mb(cpu["answer_bytes"])]


def commit() -> str:
    """The commit measured, marked when the worktree has changes on top of it."""
    # Read only: `git status` would otherwise refresh the index, taking its lock, and could
    # get in the way of whoever is committing in the same worktree meanwhile.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=env,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "exporter"],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" with uncommitted changes to exporter/" if dirty else "")


def latency_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for s in sizes:
        for encoding in ("plain", "gzip"):
            off = s["data_series"] / s["target"] - 1  # the account aims within ±15%
            cells = [
                f"{s['size']}" if encoding == "plain" else "",
                f"{s['data_series']:,} ({off:+.0%})" if encoding == "plain" else "",
                encoding,
                mb(s["exporter"][encoding]["bytes"]),
            ]
            for key in SERVERS:
                lat = s[key][encoding]
                cells.append(f"{ms(lat['median'])} / {ms(lat['p99'])} ({lat['n']})")
            exporter, floor, naive = (s[k][encoding]["median"] for k in SERVERS)
            cells += [ratio(exporter, floor), ratio(naive, exporter)]
            rows.append(cells)
    return rows


def concurrency_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    """Per size, scenario and encoding: the exporter, the floor (the whole page, gzip at the
    exporter's level), and for gzip the floor sending the exporter's own bytes."""
    rows = []
    for s in sizes:
        scenarios = s.get("concurrency", {}).get("exporter", {})
        for index, (scenario, encodings) in enumerate(scenarios.items()):
            for encoding, ours in encodings.items():
                floor = s["concurrency"]["floor"][scenario][encoding]
                own = s["concurrency"]["floor_own"][scenario].get(encoding)
                rows.append(
                    [
                        s["size"] if index == 0 and encoding == "plain" else "",
                        scenario if encoding == "plain" else "",
                        encoding,
                        f"{ms(ours['median'])} / {ms(ours['p99'])} ({ours['n']})",
                        f"{ms(floor['median'])} / {ms(floor['p99'])} ({floor['n']})",
                        f"{ms(own['median'])} / {ms(own['p99'])} ({own['n']})" if own else "–",
                        f"**{ratio(ours['median'], floor['median'])}**",
                        ratio(ours["median"], own["median"]) if own else "–",
                    ]
                )
    return rows


def gzip_size_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            s["size"],
            mb(s["gzip_bytes"]["exporter"]),
            mb(s["gzip_bytes"]["whole_page"]),
            f"{s['gzip_bytes']['exporter'] / s['gzip_bytes']['whole_page']:.3f}×",
        ]
        for s in sizes
        if "gzip_bytes" in s
    ]


def group(name: str) -> str:
    """Collectors of one kind for several tenants as one row."""
    return re.sub(r"@.*$", "", name)


def age_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    names: dict[str, None] = {}
    for s in sizes:
        for name in s["data_age"]["intervals"]:
            names[group(name)] = None
    rows = []
    for name in names:
        row: list[Any] = [name]
        intervals = {
            v for s in sizes for k, v in s["data_age"]["intervals"].items() if group(k) == name
        }
        row.append("/".join(f"{v:g}" for v in sorted(intervals)))
        for s in sizes:
            found = [v for k, v in s["data_age"]["ages"].items() if group(k) == name]
            if not found:
                row.append("not run")
                continue
            median = max(v["median"] for v in found)
            run = max(
                (v for k, v in s["data_age"]["longest_run"].items() if group(k) == name),
                default=0.0,
            )
            row.append(f"{median:.1f} / {max(v['max'] for v in found):.1f} ({run:.1f})")
        rows.append(row)
    return rows


def request_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    endpoints: dict[str, None] = {}
    for s in sizes:
        for key in (*s["requests"]["formula"], *s["requests"]["measured"]):
            endpoints[key] = None
    rows = []
    for endpoint in endpoints:
        row: list[Any] = [f"`{endpoint}`"]
        for s in sizes:
            measured = s["requests"]["measured"].get(endpoint, 0)
            formula = s["requests"]["formula"].get(endpoint)
            cell = f"{measured} / {formula if formula is not None else '?'}"
            row.append(cell if measured == formula else f"**{cell}**")
        rows.append(row)
    row = ["**total**"]
    for s in sizes:
        row.append(
            f"{sum(s['requests']['measured'].values())} / {sum(s['requests']['formula'].values())}"
        )
    rows.append(row)
    return rows


def repeated(items: list[dict[str, Any]]) -> str:
    if not items:
        return "none"
    return "; ".join(
        f"{i['method']} {i['path']}"
        + (f" ({i['tenant']})" if i["tenant"] else "")
        + f" ×{i['times']}"
        for i in items[:6]
    ) + (" …" if len(items) > 6 else "")


def markdown(run: dict[str, Any]) -> str:
    sizes = run["sizes"]
    per_size = ", ".join(f"{s['size']} {s['wall_seconds']:.0f} s" for s in sizes)
    heading = [
        "## Benchmark run",
        "",
        f"`{run['command']}`: {run['wall_seconds']:.0f} s in all "
        f"({per_size}); commit "
        f"{commit()}; Python {platform.python_version()}, {os.cpu_count()} CPUs.",
        "",
        "Accounts: "
        + "; ".join(
            f"{s['size']}: {a['pbxes']} PBX × {a['sites_per_pbx']} sites × "
            f"{a['queues_per_site']} queues × {a['agents_per_queue']} agents, "
            f"{a['cc_tenants']} CC tenants × {a['cc_queues_per_tenant']} queues × "
            f"{a['cc_agents_per_tenant']} agents"
            for s in sizes
            for a in [s["account"]]
        )
        + ".",
    ]
    if run.get("failed"):
        heading += ["", f"**Incomplete: stopped at {run['failed']}**"]
    parts = ["\n".join(heading)]
    parts.append(
        "### Scrape latency of /metrics\n\nms, median / p99 (timed scrapes); "
        "request to last byte on a keep-alive connection.\n\n"
        + table(
            [
                "size",
                "data series",
                "encoding",
                "page",
                "exporter",
                "floor",
                "per-scrape rendering",
                "exporter ÷ floor",
                "rendering ÷ exporter",
            ],
            latency_rows(sizes),
        )
    )
    parts.append(
        "### Scrapes at once\n\nms, median / p99 (timed scrapes of all scrapers together), "
        "request to last byte; a new connection is timed from the connect. The floor answers "
        "the same page from memory (gzip: the whole page compressed once at the exporter's "
        "level); `own bytes`: the floor answering the exporter's own gzip answer.\n\n"
        + table(
            [
                "size",
                "scrapers",
                "encoding",
                "exporter",
                "floor",
                "floor, own bytes",
                "exporter ÷ floor",
                "exporter ÷ own bytes",
            ],
            concurrency_rows(sizes),
        )
        + "\n\nThe gzip answer's size next to the whole page gzipped once at the same level:"
        "\n\n"
        + table(["size", "exporter", "whole page", "exporter ÷ whole page"], gzip_size_rows(sizes))
    )
    passes = "/".join(sorted({str(s["cycle_cpu"]["json_passes"]) for s in sizes}))
    parts.append(
        "### One collection cycle (after the first, and after a gzip scrape)\n\n"
        "Medians of the measured cycles, each paired with `json.loads` of its answers (the mean "
        f"of {passes} passes); the ratio: the median of the pairs' (their range in brackets).\n\n"
        + table(
            CYCLE_COLUMNS,
            [cycle_row(s) for s in sizes],
        )
    )
    parts.append(
        "### Resident memory of the exporter\n\nVmRSS after `gc.collect()`; bytes per "
        "series: after the cycles less idle, per data series. For scale, the peaks "
        "(VmHWM) of the simulator and of per-scrape rendering.\n\n"
        + table(
            [
                "size",
                "data series",
                "idle",
                "after the cycles",
                "after the scrapes",
                "bytes per series",
                "simulator (peak)",
                "per-scrape rendering (peak)",
            ],
            [
                [
                    s["size"],
                    f"{s['data_series']:,}",
                    mb(s["rss_idle"]),
                    mb(s["rss_after_cycles"]),
                    mb(s["rss_after_scrapes"]),
                    f"{(s['rss_after_cycles'] - s['rss_idle']) / max(1, s['data_series']):,.0f}",
                    mb(s["simulator_peak_rss"]),
                    mb(s["naive_peak_rss"]),
                ]
                for s in sizes
            ],
        )
    )
    parts.append(
        "### Rendering of the data part\n\n"
        "`eightbyeight_exporter_exposition_renders_total` before and after "
        "scraping again with no collection in between.\n\n"
        + table(
            ["size", "renders before", "renders after", "scrapes"],
            [
                [s["size"], s["renders"]["before"], s["renders"]["after"], s["renders"]["scrapes"]]
                for s in sizes
            ],
        )
    )
    parts.append(
        "### API requests per cycle (measured / formula)\n\nThe measured cycle's "
        "`eightbyeight_api_requests_total` increase; token requests are counted "
        "per hour below. Bold: measured differs from the formula.\n\n"
        + table(["endpoint", *(s["size"] for s in sizes)], request_rows(sizes))
        + "\n\n"
        + table(
            [
                "size",
                "repeated in the measured cycle",
                "repeated at start-up and in the first cycle",
            ],
            [
                [
                    s["size"],
                    repeated(s["requests"]["repeated_in_cycle"]),
                    repeated(s["requests"]["repeated_at_startup_and_first_cycle"]),
                ]
                for s in sizes
            ],
        )
    )
    token_rows = []
    for s in sizes:
        t = s["tokens"]
        for api, v in t["apis"].items():
            token_rows.append(
                [
                    s["size"],
                    api,
                    f"{v['lifetime']:g} s" if v["lifetime"] else "–",
                    v["requests"],
                    f"{v['mean_gap']:.2f} s" if v["mean_gap"] else "–",
                    f"{v['formula_gap']:.2f} s" if v["formula_gap"] else "–",
                    f"{v['per_hour']:.0f} / {v['formula_per_hour']:.0f}" if v["per_hour"] else "–",
                    f"{v['scaled_per_hour_real']:.2f} / {v['formula_per_hour_real']:.2f}"
                    if v["scaled_per_hour_real"]
                    else "–",
                    len([e for e in t["early"] if e["api"] == api]),
                ]
            )
    # formulas.REAL_LIFETIME: the same for every size, unlike how long the schedule ran.
    real = sizes[0]["tokens"]["apis"]["work_analytics"]["real_lifetime"]
    ran = ", ".join(f"{s['size']} {s['tokens']['seconds']:.0f} s" for s in sizes)
    parts.append(
        f"### Token requests\n\nCounted while the schedule ran ({ran}) with the simulator's "
        "short lifetimes. The gap between two requests is the renewal point (the formula) plus the "
        "wait for the next request that needs a token; at a real lifetime of "
        f"{real:g} s that wait is carried over as measured. `early`: a token requested "
        "before the previous one reached its renewal point.\n\n"
        + table(
            [
                "size",
                "API",
                "lifetime",
                "requests",
                "mean gap",
                "formula gap",
                "per hour (measured / formula)",
                f"per hour at {real:g} s (measured / formula)",
                "early",
            ],
            token_rows,
        )
    )
    schedule = ", ".join(
        f"{s['size']} {s['data_age']['seconds']:.0f} s (CPU: exporter "
        f"{s['data_age']['cpu_seconds']['exporter']:.1f} s, simulator "
        f"{s['data_age']['cpu_seconds']['simulator']:.1f} s)"
        for s in sizes
    )
    every = " or ".join(sorted({f"{s['data_age']['every']:g} s" for s in sizes}))
    parts.append(
        "### Data age at scrape time (s, median / max (longest run))\n\n"
        f"`eightbyeight_collector_snapshot_age_seconds` scraped every {every} while the "
        f"schedule ran ({schedule}), counted from each collector's first scheduled run; in "
        "brackets the longest `eightbyeight_collector_duration_seconds` seen. Tenants of one "
        "collector kind together; `not run`: no scheduled run finished in time.\n\n"
        + table(["collector", "interval (s)", *(s["size"] for s in sizes)], age_rows(sizes))
    )
    return "\n\n".join(parts) + "\n"
