"""The API requests the exporter should make, derived from its code (docs/performance.md explains
each term), to be set next to what a run counts.

Terms: P PBXes, s sites per PBX, q queues per site (the simulator lists one deleted queue per
PBX, and the first PBX one deleted site with one deleted queue, as the real API lists deleted
ones), G ring groups, B PBX batches of the historical endpoints (1: `allpbxes`), W windows of a
summary, T Contact Center tenants, R reports, k status polls per report.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.account import Account
from exporter.config import Config
from exporter.core.windows import resolve

TOKEN_ENDPOINTS = ("/v1/oauth/token", "/oauth/v2/token")
# Repeating these within a cycle is by design: a report's status is polled until it is DONE.
POLLING_PATHS = ("/status",)
# Token lifetime the table scales to: the simulator's default, and 8x8's `expires_in`.
REAL_LIFETIME = 1800.0


def pages(items: int, size: int) -> int:
    """Requests for a paged list: one even when it is empty."""
    return max(1, math.ceil(items / size))


def scroll_pages(records: int, size: int) -> int:
    """`/v2/call-records` and `/v2/call-legs`: every page with data carries a scrollId, and the
    end is a page without data ("No Data"), so n records take ceil(n/size) + 1 requests."""
    return math.ceil(records / size) + 1 if records else 1


def status_polls(ready_after: float, first: float, longest: float) -> int:
    """Status requests until a report that is ready `ready_after` seconds after its creation is
    seen DONE: the collector sleeps `first` seconds, then doubles the pause up to `longest`."""
    polls, waited, pause = 0, 0.0, first
    while True:
        waited += pause
        polls += 1
        if waited >= ready_after:
            return polls
        pause = min(pause * 2, longest)


def requests_per_cycle(
    config: Config,
    account: Account,
    ring_groups: int,
    records_read: Mapping[str, int],
    report_delay: float,
    recent_calls: Sequence[int] = (),
) -> dict[str, int]:
    """Data requests of one `run_once()` in steady state, by "api endpoint" (the labels of
    `eightbyeight_api_requests_total`); token requests are counted per hour instead.

    `config` is the exporter's configuration as it loaded it (page sizes, batches, windows
    and report polling are read there, defaults included); `ring_groups` (G) and
    `records_read` (n) and `recent_calls` (c, per PBX: the calls that started at or after
    its read's bound, the oldest call in progress at the previous read or max_call_age) are
    what the measured cycle itself saw. Which windows are one span is decided now (the
    simulator runs on the wall clock)."""
    wa, cc = config.work_analytics, config.contact_center
    p, s, q = account.pbxes, account.sites_per_pbx, account.queues_per_site
    # `allpbxes` in one request unless PBXes are listed (or the exporter is sharded).
    b = 1 if not wa.pbxes else math.ceil(p / wa.pbx_batch_size)
    sites = [s + (1 if i == 0 else 0) for i in range(p)]
    queues = [s * q + 1 + (1 if i == 0 else 0) for i in range(p)]
    # Windows that resolve to one span in a run ask once (today and this_week on a Monday);
    # the ring group members ask per window whatever (their rows carry the group asked).
    zone, now = ZoneInfo(wa.time_zone), time.time()
    windows = {
        key: len(
            {
                (r.start_time, r.end_time)
                for r in (resolve(w, now, zone) for w in getattr(wa, key).windows)
            }
        )
        for key in ("company_summary", "ring_groups", "extensions")
    }
    windows["ring_group_members"] = len(wa.ring_group_members.windows)
    listing = wa.discovery.page_size  # the customer-data API's HAL pages
    expected = {
        "/v2/pbxes/": pages(p, listing),
        "/v2/pbxes/{pbxId}/sites": sum(pages(n, listing) for n in sites),
        "/v2/pbxes/{pbxId}/queues": sum(pages(n, listing) for n in queues),
        # The live request (carrying the 24h window), plus one per other window.
        "/v2/pbxes/{pbxId}/call-queue-metrics": p * wa.call_queues.requests_per_pbx(),
        "/v1/compsum": windows["company_summary"] * b,
        "/v2/rgsum-groups": windows["ring_groups"] * b,
        "/v2/rgsum-members": windows["ring_group_members"] * ring_groups,
        "/v2/extsum": windows["extensions"] * b,
        "/v2/call-records": b
        * scroll_pages(records_read.get("call_records", 0), wa.call_records.page_size),
        "/v2/call-legs": b * scroll_pages(records_read.get("call_legs", 0), wa.call_legs.page_size),
    }
    # The agents: one request per PBX each (the agent directory runs only with per-agent
    # series, off by default). `/calls`, newest first, stops at the first page holding a call
    # older than max_call_age, or a short one: floor(c / page_size) + 1 pages a PBX.
    for section, endpoint in (
        (wa.queue_agents, "/v2/pbxes/{pbxId}/queue-agent-activity"),
        (wa.agent_activity, "/v2/pbxes/{pbxId}/agent-activity"),
    ):
        if section.enabled:
            expected[endpoint] = p
    if wa.live_calls.enabled:
        calls = [*recent_calls, *[0] * (p - len(recent_calls))]
        size, most = wa.live_calls.page_size, wa.live_calls.max_pages
        expected["/v2/pbxes/{pbxId}/calls"] = sum(min(most, c // size + 1) for c in calls)
    out = {f"work_analytics {k}": v for k, v in expected.items()}
    t = account.cc_tenants
    agents = account.cc_agents_per_tenant
    rows = {"queue": account.cc_queues_per_tenant, "agent": agents}
    reports = cc.reports
    k = status_polls(report_delay, cc.report_status.initial_backoff, cc.report_status.max_backoff)
    out.update(
        {
            "contact_center /realtime-metrics/queues": t
            * pages(account.cc_queues_per_tenant, cc.page_size),
            "contact_center /realtime-metrics/groups": t
            * pages(account.cc_groups_per_tenant, cc.page_size),
            "contact_center /realtime-metrics/agents": t * pages(agents, cc.page_size),
            "contact_center /historical-metrics": len(reports) * t,
            "contact_center /historical-metrics/{id}/status": len(reports) * t * k,
            "contact_center /historical-metrics/{id}/data": t
            * sum(pages(rows.get(r.group_by, 1), cc.report_page_size) for r in reports),
        }
    )
    return out


def renewal_seconds(lifetime: float) -> float:
    """exporter/api/tokens.py TokenCache: a token is renewed at the first request after
    its lifetime minus min(60 s, 10% of the lifetime)."""
    return lifetime - min(60.0, 0.1 * lifetime)


def token_requests_per_hour(lifetime: float, wait: float = 0.0) -> float:
    """Per API (one token cache per API and client), while its collectors keep running;
    `wait`: from the renewal point to the next request that needs the token (at most the
    shortest interval of the API's collectors)."""
    return 3600.0 / (renewal_seconds(lifetime) + wait)


def repeated_requests(log: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """GET requests asked more than once with the same path, query and tenant, from the
    simulator's request log. Report status polls (repeated by design) are left out, and so
    are POSTs: the log has no bodies to tell two report creations or token requests apart
    (tokens are checked against their lifetime instead)."""
    seen: Counter[tuple[str, str, str, str]] = Counter()
    for request in log:
        path = request["path"]
        if request["method"] != "GET" or path.endswith(POLLING_PATHS):
            continue
        headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
        query = "&".join(f"{k}={v}" for k, v in sorted(request.get("query", {}).items()))
        seen[(request["method"], path, query, headers.get("x-tenant-info", ""))] += 1
    return [
        {"method": m, "path": p, "query": q, "tenant": t, "times": n}
        for (m, p, q, t), n in sorted(seen.items())
        if n > 1
    ]


def early_renewals(events: list[list[Any]]) -> list[dict[str, Any]]:
    """Token requests of one API that came sooner after the previous one than the renewal
    point of its lifetime (a second token within one lifetime)."""
    last: dict[str, float] = {}
    early = []
    for api, at, lifetime in events:
        if api in last and at - last[api] < 0.95 * renewal_seconds(lifetime):
            early.append(
                {
                    "api": api,
                    "after_seconds": round(at - last[api], 3),
                    "renewal_seconds": renewal_seconds(lifetime),
                }
            )
        last[api] = at
    return early
