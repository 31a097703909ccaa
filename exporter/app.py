"""Assembles the exporter from a Config: clients, pollers, runners and the registry."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry

from exporter.api.budget import BudgetCollector, RequestBudget, stop_aware_sleep
from exporter.api.clock import ApiClock, ApiClockCollector
from exporter.api.contact_center import API as CONTACT_CENTER
from exporter.api.contact_center import ContactCenterClient
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.work_analytics import API as WORK_ANALYTICS
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config import (
    CallDetailConfig,
    Config,
    ContactCenterConfig,
    SummaryConfig,
    WorkAnalyticsConfig,
)
from exporter.core.parts import Parts
from exporter.core.sharding import Shard
from exporter.pollers.agent_assembly import add_agent_pollers
from exporter.pollers.assembly import Assembly, api_budget
from exporter.pollers.base import Poller, PollerRunner, Scheduler
from exporter.pollers.call_legs import CallLegPoller, GroupIndex
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.call_records import CallRecordPoller
from exporter.pollers.cc_realtime import CcRealtimePoller
from exporter.pollers.cc_reports import CcReportPoller, check_report
from exporter.pollers.discovery import DiscoveryPoller
from exporter.pollers.live import add_live_pollers
from exporter.pollers.ring_group_sources import NO_RING_GROUPS
from exporter.pollers.summaries import (
    CompanySummaryPoller,
    ExtensionPoller,
    RingGroupMemberPoller,
    RingGroupPoller,
    SummaryPoller,
)
from exporter.serving.exposition import Exposition, build_per_scrape_registry, build_registry


@dataclass
class Exporter:
    config: Config
    registry: CollectorRegistry  # the exporter's own metrics that change on events
    scheduler: Scheduler
    exposition: Exposition
    clients: list[HttpClient]
    contact_center: ContactCenterClient | None = None
    budgets: list[RequestBudget] = field(default_factory=list)
    # What it was built of, for the next reload to take over (build_exporter's `previous`).
    parts: Parts = field(default_factory=Parts)

    def take_over(self, previous: Exporter) -> None:
        """This exporter replaces `previous` (a reload that passed its check): the counters
        that live in replaced objects go on from the old values, and the budgets taken over
        get this config's rate. Not before: a failed check must leave `previous` as it was."""
        self.exposition.renders += previous.exposition.renders
        per_minute = {
            WORK_ANALYTICS: self.config.work_analytics.request_budget_per_minute,
            CONTACT_CENTER: self.config.contact_center.request_budget_per_minute,
        }
        for budget in self.budgets:
            budget.retune(per_minute[budget.api])

    def close(self, keep: Exporter | None = None) -> None:
        """Stop the runners and close the budgets and clients, except those `keep` (the
        exporter of a reload, or the running one when a reload's check failed) shares: its
        runners go on in their threads, mid-run or not."""
        kept_runners = keep.scheduler.runners if keep is not None else []
        kept_budgets = keep.budgets if keep is not None else []
        kept_clients = keep.clients if keep is not None else []
        # First, so the runs the budgets cut short say so.
        self.scheduler.request_stop(except_for=kept_runners)
        for budget in self.budgets:
            if not any(budget is kept for kept in kept_budgets):
                budget.close()  # a poller waiting for its budget gives up at once
        self.scheduler.stop(except_for=kept_runners)
        for client in self.clients:
            if not any(client is kept for kept in kept_clients):
                client.close()


def http_settings(section: WorkAnalyticsConfig | ContactCenterConfig) -> HttpSettings:
    return HttpSettings(
        connect_timeout=section.timeouts.connect,
        read_timeout=section.timeouts.read,
        max_attempts=section.retries.max_attempts,
        initial_backoff=section.retries.initial_backoff,
        max_backoff=section.retries.max_backoff,
        max_retry_after=section.retries.max_retry_after,
        total_timeout=section.timeouts.total,
        max_response_bytes=section.max_response_bytes,
    )


Summary = TypeVar("Summary", bound=SummaryPoller)


def add_historical(
    build: Assembly,
    client: WorkAnalyticsClient,
    wa: WorkAnalyticsConfig,
    discovery: DiscoveryPoller,
    discovery_runner: PollerRunner,
    clock: Callable[[], float],
    *,
    all_pbxes: bool,
) -> None:
    """The rolling-window summaries and the incremental call counters. `all_pbxes`: ask for
    `allpbxes` rather than the discovered PBXes by name (never when sharded)."""

    def summary(cls: type[Summary], section: SummaryConfig, **extra: Any) -> Summary:
        return build.parts.make(
            cls,
            client,
            discovery,
            interval=section.interval,
            windows=section.windows,
            select=section.select,
            max_series=section.max_series,
            time_zone=wa.time_zone,
            all_pbxes=all_pbxes,
            pbx_batch_size=wa.pbx_batch_size,
            **extra,
        )

    def after_discovery(poller: Poller) -> PollerRunner:
        return build.add(poller, depends_on=discovery_runner)

    if wa.company_summary.enabled:
        after_discovery(summary(CompanySummaryPoller, wa.company_summary))
    ring_groups = summary(RingGroupPoller, wa.ring_groups)
    ring_runner = after_discovery(ring_groups) if wa.ring_groups.enabled else None
    add_live_pollers(build, client, wa, discovery, discovery_runner, ring_groups)
    members = wa.ring_group_members
    if members.enabled:
        extra = {"refs": members.ring_groups, "concurrency": members.concurrency}
        poller = summary(RingGroupMemberPoller, members, ring_groups=ring_groups, **extra)
        build.add(poller, depends_on=ring_runner or discovery_runner)
    if wa.extensions.enabled:
        after_discovery(summary(ExtensionPoller, wa.extensions, personal_data=wa.personal_data))

    def call_details(section: CallDetailConfig) -> dict[str, Any]:
        return {
            "interval": section.interval,
            "lookback": section.lookback,
            "page_size": section.page_size,
            "wait_buckets": sorted({*section.wait_buckets, *wa.queue_service_levels.thresholds()}),
            "talk_buckets": section.talk_buckets,
            "max_series": section.max_series,
            "dedup_max_entries": section.dedup_max_entries,
            "select": section.select,
            "time_zone": wa.time_zone,
            "all_pbxes": all_pbxes,
            "pbx_batch_size": wa.pbx_batch_size,
        }

    if wa.call_records.enabled:
        records = build.parts.make(
            CallRecordPoller, client, discovery, **call_details(wa.call_records)
        )
        after_discovery(records)
    if wa.call_legs.enabled:
        # With the ring group summary off, no leg ever waits for it.
        listed = ring_groups if wa.ring_groups.enabled else NO_RING_GROUPS
        groups = build.parts.make(GroupIndex, discovery, listed)
        legs = build.parts.make(
            CallLegPoller, client, discovery, groups=groups, **call_details(wa.call_legs)
        )
        # After the ring group summary's first try: a ring group's legs wait until it lists
        # the group, so the first poll of the day counts them at once rather than later.
        build.add(legs, depends_on=ring_runner or discovery_runner)


def build_exporter(
    config: Config,
    *,
    process_metrics: bool = True,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] | None = None,
    shard: Shard = Shard(),
    previous: Exporter | None = None,
) -> Exporter:
    """`clock` is where windows, watermarks and snapshot ages take "now" from, `sleep` how
    report pollers wait between status polls (tests pass the simulator's clock and its
    advance; by default a wait that close() cuts short).

    `previous`, the running exporter on a reload: every part made from equal inputs (its
    config section, and the parts it is built on) is taken over from it rather than made
    again: the request counters, an API's budget, HTTP clients and token, and each poller with
    its runner (snapshot, counters, watermarks, thread). See `Parts`."""
    scheduler = Scheduler(wall_clock=clock)
    build = Assembly(scheduler, Parts(previous.parts if previous is not None else None))
    registry = build_registry()
    per_scrape = build_per_scrape_registry(process_metrics=process_metrics)
    exposition = Exposition(scheduler, registry, per_scrape, shard=shard)
    budgets: list[RequestBudget] = []
    # Requests in the last minute and pauses follow the clock.
    exposition.per_scrape.register(BudgetCollector(budgets))
    stats = build.parts.make(RequestStats)
    exposition.add_versioned(stats)
    # One per enabled API, measured from its answers' Date headers against `clock`.
    api_clocks: list[ApiClock] = []
    exposition.add_versioned(ApiClockCollector(api_clocks))
    clients: list[HttpClient] = []
    wa = config.work_analytics
    if wa.enabled:
        budgets.append(api_budget(build, WORK_ANALYTICS, wa.request_budget_per_minute))
        api_clocks.append(build.parts.make(ApiClock, WORK_ANALYTICS, clock))
        http = build.parts.make(
            HttpClient,
            WORK_ANALYTICS,
            wa.base_url,
            http_settings(wa),
            stats,
            budget=budgets[-1],
            api_clock=api_clocks[-1],
        )
        clients.append(http)
        assert wa.api_key and wa.username and wa.password  # guaranteed by config validation
        client = build.parts.make(
            WorkAnalyticsClient,
            http,
            wa.api_key.get_secret_value(),
            wa.username,
            wa.password.get_secret_value(),
        )
        discovery = build.parts.make(
            DiscoveryPoller,
            client,
            interval=wa.discovery.interval,
            pbx_refs=wa.pbxes,
            page_size=wa.discovery.page_size,
            shard=shard,
            teams=wa.queue_teams,
            service_levels=wa.queue_service_levels,
        )
        discovery_runner = build.add(discovery)
        cq = wa.call_queues
        if cq.enabled:
            poller = build.parts.make(
                CallQueuePoller,
                client,
                discovery,
                interval=cq.interval,
                api=cq.api,
                duration_unit=cq.duration_unit,
                unit_check_interval=cq.unit_check_interval if cq.unit_check else None,
                sites=cq.sites,
                queues=cq.queues,
                metrics=cq.metrics,
                include_summary=cq.include_summary,
                select=cq.select,
                max_series=cq.max_series,
                windows=cq.windows,
                time_zone=wa.time_zone,
            )
            build.add(poller, depends_on=discovery_runner)
        add_agent_pollers(build, client, wa, discovery, discovery_runner)
        add_historical(
            build,
            client,
            wa,
            discovery,
            discovery_runner,
            clock,
            all_pbxes=not wa.pbxes and not shard.sharded,
        )
    cc, cc_client = config.contact_center, None
    if cc.enabled:
        budgets.append(api_budget(build, CONTACT_CENTER, cc.request_budget_per_minute))
        api_clocks.append(build.parts.make(ApiClock, CONTACT_CENTER, clock))
        cc_client = add_contact_center(
            build,
            cc,
            stats,
            clients,
            sleep=sleep,
            shard=shard,
            budget=budgets[-1],
            api_clock=api_clocks[-1],
        )
    build.parts.finish()
    return Exporter(
        config=config,
        registry=registry,
        scheduler=scheduler,
        exposition=exposition,
        clients=clients,
        budgets=budgets,
        contact_center=cc_client,
        parts=build.parts,
    )


def add_contact_center(
    build: Assembly,
    cc: ContactCenterConfig,
    stats: RequestStats,
    clients: list[HttpClient],
    *,
    sleep: Callable[[float], None] | None,
    shard: Shard = Shard(),
    budget: RequestBudget | None = None,
    api_clock: ApiClock | None = None,
) -> ContactCenterClient:
    """Realtime pollers per endpoint and tenant, and report pollers per report and tenant:
    one tenant's failure (a wrong tenant id, a failed report) degrades only its pollers."""
    settings = http_settings(cc)
    token_url, realtime_url, historical_url = cc.urls()
    # One budget and one clock for the three hosts (token, realtime, historical) of one API.
    https = [
        build.parts.make(
            HttpClient, CONTACT_CENTER, url, settings, stats, budget=budget, api_clock=api_clock
        )
        for url in (token_url, realtime_url, historical_url)
    ]
    clients.extend(https)
    assert cc.client_id and cc.client_secret  # guaranteed by config validation
    token_http, realtime_http, historical_http = https
    client = build.parts.make(
        ContactCenterClient,
        token_http,
        realtime_http,
        historical_http,
        cc.client_id,
        cc.client_secret.get_secret_value(),
    )
    # Every tenant (a single-tenant account: None) belongs to one shard.
    every: list[str | None] = [*cc.tenants] or [None]
    tenants = [t for t in every if shard.owns_tenant(t)]
    for kind, section in (("queues", cc.queues), ("groups", cc.groups), ("agents", cc.agents)):
        if section.enabled:
            for tenant in tenants:
                build.add(
                    build.parts.make(
                        CcRealtimePoller,
                        client,
                        kind,
                        tenant,
                        interval=section.interval,
                        metrics=section.metrics,
                        page_size=cc.page_size,
                        time_zone=cc.time_zone,
                        duration_unit=cc.duration_unit,
                        select=section.select,
                        max_series=section.max_series,
                        personal_data=cc.personal_data,
                        teams=cc.queue_teams if kind == "queues" else None,
                        service_levels=cc.queue_service_levels if kind == "queues" else None,
                    )
                )
    if sleep is None:
        sleep = stop_aware_sleep(budget)
    for report in cc.reports:
        for tenant in [t for t in (list(report.tenants) or tenants) if shard.owns_tenant(t)]:
            build.add(
                build.parts.make(
                    CcReportPoller,
                    client,
                    report,
                    tenant,
                    time_zone=cc.time_zone,
                    duration_unit=cc.duration_unit,
                    page_size=cc.report_page_size,
                    polling=cc.report_status,
                    sleep=sleep,
                    personal_data=cc.personal_data,
                )
            )
    return client


def check_reports(exporter: Exporter) -> list[str]:
    """The configured reports checked against each tenant's report types API: every unknown
    type, grouping, filter or metric, with the report's config path. API errors propagate."""
    cc, client = exporter.config.contact_center, exporter.contact_center
    if client is None:
        return []
    problems: list[str] = []
    for index, report in enumerate(cc.reports):
        named: list[str | None] = [*report.tenants] or [*cc.tenants]
        for tenant in named or [None]:
            # The client keeps each tenant's answer (REPORT_TYPES_MAX_AGE): one request per
            # tenant however many reports name it.
            types = client.report_types(tenant)
            where = f"contact_center.reports[{index}] ({report.name}"
            where += f", tenant {tenant})" if tenant else ")"
            problems.extend(f"{where}: {problem}" for problem in check_report(report, types))
    return problems
