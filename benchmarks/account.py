"""Size -> simulator account, and the exporter's configuration for it.

A size is a target number of exported data series (the samples of the collectors' snapshots,
not the exporter's own metrics). The account is the simulator's default shape, grown: Work
Analytics takes about nine tenths of the target in whole PBXes, and Contact Center agents fill
the rest, so the total lands within a few per cent of the target (the table shows how far off).
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Any

from exporter.demo import demo_config_data

# Series per unit of the simulator's account, measured (`python3 -m benchmarks` reports the
# real count next to the target; these only aim). The Work Analytics ones are per active site
# of 3 queues x 6 agents (call queues, extensions, ring groups and their members, call legs)
# and per PBX (company summary, call records); a small PBX is 1 site of 1 queue x 3 agents.
SERIES_PER_SITE = 1487
SERIES_PER_SMALL_SITE = 553
SERIES_PER_PBX = 357
SERIES_PER_SMALL_PBX = 281
# Contact Center: per agent (realtime agents plus the agents_today report), per CC queue
# (realtime queues plus the queues_today report) and per tenant (groups, report metadata).
SERIES_PER_CC_AGENT = 131
SERIES_PER_CC_QUEUE = 90
SERIES_PER_CC_TENANT = 26
# The share the Work Analytics PBXes aim at; Contact Center agents fill up to the target.
WORK_ANALYTICS_SHARE = 0.9
# Below this the default shape (2 sites of 3 queues of 6 agents, 2 CC tenants of 4 queues)
# overshoots: one small PBX and one small tenant instead.
SMALL = 8_000
# Sites per PBX from this size on: a large account has fewer, bigger PBXes than 2-site ones.
LARGE = 50_000
TENANTS = ("acme-sales", "acme-support")

# Seconds. Short, so the schedule phase (`scheduler.start()`) sees every collector run
# several times within a minute; a measured cycle (`run_once`) ignores intervals. The demo's
# are 2 to 6 times longer (exporter/cli.py DEMO_OVERRIDES).
INTERVALS: dict[str, float] = {
    "discovery": 30,
    "call_queues": 5,
    "company_summary": 10,
    "ring_groups": 10,
    "ring_group_members": 15,
    "extensions": 15,
    "call_records": 5,
    "call_legs": 5,
    "queue_agents": 5,
    "agent_activity": 5,
    "live_calls": 5,
    "cc_queues": 5,
    "cc_groups": 5,
    "cc_agents": 5,
    "cc_reports": 15,
}
# Contact Center reports: ready this long after they are created (simulator), first status
# poll after this long (exporter), so a cycle does not sleep seconds per report and tenant.
CC_REPORT_DELAY = 0.05
CC_REPORT_FIRST_POLL = 0.1
CC_REPORT_MAX_BACKOFF = 1.0
# Token lifetimes (seconds) the simulator hands out: short, so renewals happen within the
# schedule phase and their rate can be measured, then scaled to a real lifetime.
TOKEN_TTL = 10
CC_TOKEN_TTL = 12
# Enough call history for every window of the demo config but `this_week` (which then covers
# one day): 8 days, as the demo has, costs the simulator minutes and gigabytes at 500k.
HISTORY = "1d"
NO_CEILING = 1_000_000_000
NO_BUDGET = 1_000_000.0


@dataclass(frozen=True)
class Account:
    pbxes: int
    sites_per_pbx: int
    queues_per_site: int
    agents_per_queue: int
    cc_tenants: int
    cc_queues_per_tenant: int
    cc_groups_per_tenant: int
    cc_agents_per_tenant: int

    def simulator_args(self) -> list[str]:
        tenants = ",".join(f"{t}:us" for t in TENANTS[: self.cc_tenants])
        return [
            "--pbxes",
            str(self.pbxes),
            "--sites-per-pbx",
            str(self.sites_per_pbx),
            "--queues-per-site",
            str(self.queues_per_site),
            "--agents-per-queue",
            str(self.agents_per_queue),
            "--cc-tenants",
            tenants,
            "--cc-queues-per-tenant",
            str(self.cc_queues_per_tenant),
            "--cc-groups-per-tenant",
            str(self.cc_groups_per_tenant),
            "--cc-agents-per-tenant",
            str(self.cc_agents_per_tenant),
            "--history",
            HISTORY,
            "--cc-report-delay",
            f"{CC_REPORT_DELAY}s",
            "--token-ttl",
            str(TOKEN_TTL),
            "--cc-token-ttl",
            str(CC_TOKEN_TTL),
        ]

    def describe(self) -> str:
        return (
            f"{self.pbxes} PBX x {self.sites_per_pbx} sites x {self.queues_per_site} queues "
            f"x {self.agents_per_queue} agents; {self.cc_tenants} CC tenants x "
            f"{self.cc_queues_per_tenant} queues x {self.cc_agents_per_tenant} agents"
        )


def parse_size(text: str) -> int:
    """`1k` -> 1000, `500k` -> 500000, `2m` -> 2000000, `1500` -> 1500."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = float(text[:-1] if factor != 1 else text)
    if number <= 0:
        raise ValueError(f"a size must be positive: {text!r}")
    return int(number * factor)


def size_label(series: int) -> str:
    if series % 1_000_000 == 0:
        return f"{series // 1_000_000}m"
    return f"{series // 1000}k" if series % 1000 == 0 else str(series)


def account_for(target: int) -> Account:
    """An account whose exported data series come within about 15% of `target`."""
    small = target < SMALL
    sites = 1 if small else 4 if target >= LARGE else 2
    per_pbx = (
        SERIES_PER_SMALL_PBX + SERIES_PER_SMALL_SITE
        if small
        else SERIES_PER_PBX + sites * SERIES_PER_SITE
    )
    pbxes = max(1, math.floor(WORK_ANALYTICS_SHARE * target / per_pbx))
    tenants, cc_queues, groups = (1, 1, 1) if small else (2, 4, 2)
    tenant_fixed = cc_queues * SERIES_PER_CC_QUEUE + SERIES_PER_CC_TENANT
    rest = target - pbxes * per_pbx - tenants * tenant_fixed
    agents = max(1, round(rest / (tenants * SERIES_PER_CC_AGENT)))
    return Account(
        pbxes=pbxes,
        sites_per_pbx=sites,
        queues_per_site=1 if small else 3,
        agents_per_queue=3 if small else 6,
        cc_tenants=tenants,
        cc_queues_per_tenant=cc_queues,
        cc_groups_per_tenant=groups,
        cc_agents_per_tenant=agents,
    )


def exporter_config(simulator: dict[str, Any]) -> dict[str, Any]:
    """The demo's configuration (exporter/cli.py `demo_config_data`: Work Analytics and Contact
    Center, every collector of the demo) for the simulator's announcement line, with no series
    ceiling, no request budget to speak of, fast report polls and the short INTERVALS."""
    regions = {t["id"]: t["region"] for t in simulator["cc_tenants"]}
    # demo_config_data reads these attributes of an embedded Simulator (`root_url`: added to
    # the announcement by benchmarks.children.simulator).
    sim = types.SimpleNamespace(
        **simulator, cc=types.SimpleNamespace(tenants=list(regions), region_of=regions.get)
    )
    data = demo_config_data({}, sim)
    wa, cc = data["work_analytics"], data["contact_center"]
    wa["request_budget_per_minute"] = cc["request_budget_per_minute"] = NO_BUDGET
    wa["discovery"] = {**wa.get("discovery", {}), "interval": INTERVALS["discovery"]}
    for key in (
        "call_queues",
        "company_summary",
        "ring_groups",
        "ring_group_members",
        "extensions",
        "call_records",
        "call_legs",
        "queue_agents",
        "agent_activity",
    ):
        wa[key] = {**wa.get(key, {}), "max_series": NO_CEILING, "interval": INTERVALS[key]}
    # Calls in progress: as many series as queues and ring groups, no ceiling to lift.
    wa["live_calls"] = {**wa.get("live_calls", {}), "interval": INTERVALS["live_calls"]}
    # Per-agent series as a deployment has them by default (off): the demo turns them on.
    for key in ("queue_agents", "agent_activity"):
        wa[key]["per_agent"] = False
    # Personal data off, as by default (the demo turns it on).
    wa.pop("personal_data", None)
    cc.pop("personal_data", None)
    for key in ("queues", "groups", "agents"):
        cc[key] = {**cc[key], "max_series": NO_CEILING, "interval": INTERVALS[f"cc_{key}"]}
    cc["reports"] = [
        {**r, "max_series": NO_CEILING, "interval": INTERVALS["cc_reports"]} for r in cc["reports"]
    ]
    cc["report_status"] = {
        "initial_backoff": CC_REPORT_FIRST_POLL,
        "max_backoff": CC_REPORT_MAX_BACKOFF,
    }
    return data


def without_key(config: Any, key: str) -> Any:
    """The configuration without `key` anywhere (`interval`, `windows`): the defaults."""
    if isinstance(config, dict):
        return {k: without_key(v, key) for k, v in config.items() if k != key}
    if isinstance(config, list):
        return [without_key(v, key) for v in config]
    return config
