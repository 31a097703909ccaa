"""Assembles the exporter from a Config: clients, collectors, runners and the registry."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from exporter.api.budget import BudgetCollector, RequestBudget, stop_aware_sleep
from exporter.api.contact_center import API as CONTACT_CENTER
from exporter.api.contact_center import ContactCenterClient
from exporter.api.http import HttpClient, HttpSettings, RequestStats
from exporter.api.work_analytics import API as WORK_ANALYTICS
from exporter.api.work_analytics import WorkAnalyticsClient
from exporter.config.model import Config, ContactCenterConfig, WorkAnalyticsConfig
from exporter.core.sharding import Shard
from exporter.pollers.base import CollectorRunner, Scheduler
from exporter.pollers.call_details import CallLegCollector, CallRecordCollector
from exporter.pollers.call_queues import CallQueueCollector
from exporter.pollers.cc_realtime import CcRealtimeCollector
from exporter.pollers.cc_reports import CcReportCollector, check_report
from exporter.pollers.discovery import Directory, DiscoveryCollector
from exporter.pollers.summaries import (
    CompanySummaryCollector,
    ExtensionCollector,
    RingGroup,
    RingGroupCollector,
    RingGroupMemberCollector,
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

    def close(self) -> None:
        self.scheduler.request_stop()  # first, so the runs the budgets cut short say so
        for budget in self.budgets:
            budget.close()  # a collector waiting for its budget gives up at once
        self.scheduler.stop()
        for client in self.clients:
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


class GroupIndex:
    """(PBX name, extension) -> (group type, name) for call legs: queues from discovery, ring
    groups from the ring group summary. Rebuilt only when either source changes."""

    def __init__(
        self,
        directory: Callable[[], Directory | None],
        ring_groups: Callable[[], Mapping[tuple[str, str], RingGroup]],
    ) -> None:
        self._directory = directory
        self._ring_groups = ring_groups
        self._sources: tuple[object, object] | None = None
        self._index: dict[tuple[str, str], tuple[str, str]] = {}

    def __call__(self, pbx: str, extension: str) -> tuple[str, str] | None:
        directory, ring_groups = self._directory(), self._ring_groups()
        if (
            self._sources is None
            or self._sources[0] is not directory
            or self._sources[1] is not ring_groups
        ):
            index: dict[tuple[str, str], tuple[str, str]] = {}
            for key, group in ring_groups.items():
                index[key] = ("ring_group", group.name)
            if directory is not None:
                names = {p.id: p.name for p in directory.pbxes}
                for queue in directory.queues.values():
                    if queue.extension and queue.pbx_id in names:
                        index[(names[queue.pbx_id], queue.extension)] = ("queue", queue.name)
            self._index, self._sources = index, (directory, ring_groups)
        return self._index.get((pbx, extension))


def add_historical(
    scheduler: Scheduler,
    client: WorkAnalyticsClient,
    wa: WorkAnalyticsConfig,
    discovery: DiscoveryCollector,
    discovery_runner: CollectorRunner,
    clock: Callable[[], float],
    *,
    all_pbxes: bool,
) -> None:
    """The rolling-window summaries and the incremental call counters. `all_pbxes`: ask for
    `allpbxes` rather than the discovered PBXes by name (never when sharded)."""
    common = {
        "time_zone": wa.time_zone,
        "all_pbxes": all_pbxes,
        "pbx_batch_size": wa.pbx_batch_size,
        "clock": clock,
    }

    def directory() -> Directory | None:
        return discovery.directory

    def summary_args(section: Any) -> dict[str, Any]:
        return {
            "interval": section.interval,
            "windows": section.windows,
            "select": section.select,
            "max_series": section.max_series,
            **common,
        }

    def add(collector: Any) -> CollectorRunner:
        return scheduler.add(collector, depends_on=discovery_runner)

    if wa.company_summary.enabled:
        add(CompanySummaryCollector(client, directory, **summary_args(wa.company_summary)))
    ring_groups = RingGroupCollector(client, directory, **summary_args(wa.ring_groups))
    ring_runner = add(ring_groups) if wa.ring_groups.enabled else None
    members = wa.ring_group_members
    if members.enabled:
        collector = RingGroupMemberCollector(
            client,
            directory,
            **summary_args(members),
            ring_groups=lambda: ring_groups.groups,
            refs=members.ring_groups,
        )
        scheduler.add(collector, depends_on=ring_runner or discovery_runner)
    if wa.extensions.enabled:
        add(ExtensionCollector(client, directory, **summary_args(wa.extensions)))
    for section, cls, extra in (
        (wa.call_records, CallRecordCollector, {}),
        (
            wa.call_legs,
            CallLegCollector,
            {"groups": GroupIndex(directory, lambda: ring_groups.groups)},
        ),
    ):
        if section.enabled:
            add(
                cls(
                    client,
                    directory,
                    interval=section.interval,
                    lookback=section.lookback,
                    page_size=section.page_size,
                    wait_buckets=section.wait_buckets,
                    talk_buckets=section.talk_buckets,
                    max_series=section.max_series,
                    dedup_max_entries=section.dedup_max_entries,
                    select=section.select,
                    **common,
                    **extra,
                )
            )


def build_exporter(
    config: Config,
    *,
    process_metrics: bool = True,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] | None = None,
    shard: Shard = Shard(),
) -> Exporter:
    """`clock` is where windows, watermarks and snapshot ages take "now" from, `sleep` how
    report collectors wait between status polls (tests pass the simulator's clock and its
    advance; by default a wait that close() cuts short)."""
    scheduler = Scheduler(wall_clock=clock)
    registry = build_registry()
    per_scrape = build_per_scrape_registry(process_metrics=process_metrics)
    exposition = Exposition(scheduler, registry, per_scrape, shard=shard)
    scheduler.on_snapshot = exposition.refresh
    budgets: list[RequestBudget] = []
    # Requests in the last minute and pauses follow the clock.
    exposition.per_scrape.register(BudgetCollector(budgets))
    stats = RequestStats(None)
    exposition.add_versioned(stats)
    clients: list[HttpClient] = []
    wa = config.work_analytics
    if wa.enabled:
        budgets.append(RequestBudget(WORK_ANALYTICS, wa.request_budget_per_minute))
        http = HttpClient(WORK_ANALYTICS, wa.base_url, http_settings(wa), stats, budget=budgets[-1])
        clients.append(http)
        assert wa.api_key and wa.username and wa.password  # guaranteed by config validation
        client = WorkAnalyticsClient(
            http, wa.api_key.get_secret_value(), wa.username, wa.password.get_secret_value()
        )
        discovery = DiscoveryCollector(
            client,
            interval=wa.discovery.interval,
            pbx_refs=wa.pbxes,
            page_size=wa.discovery.page_size,
            shard=shard,
        )
        discovery_runner = scheduler.add(discovery)
        cq = wa.call_queues
        if cq.enabled:
            collector = CallQueueCollector(
                client,
                lambda: discovery.directory,
                interval=cq.interval,
                api=cq.api,
                duration_unit=cq.duration_unit,
                sites=cq.sites,
                queues=cq.queues,
                metrics=cq.metrics,
                include_summary=cq.include_summary,
                select=cq.select,
                max_series=cq.max_series,
            )
            scheduler.add(collector, depends_on=discovery_runner)
        add_historical(
            scheduler,
            client,
            wa,
            discovery,
            discovery_runner,
            clock,
            all_pbxes=not wa.pbxes and not shard.sharded,
        )
    cc_client = None
    if config.contact_center.enabled:
        budgets.append(
            RequestBudget(CONTACT_CENTER, config.contact_center.request_budget_per_minute)
        )
        cc_client = add_contact_center(
            scheduler,
            config.contact_center,
            stats,
            clients,
            clock=clock,
            sleep=sleep,
            shard=shard,
            budget=budgets[-1],
        )
    return Exporter(
        config=config,
        registry=registry,
        scheduler=scheduler,
        exposition=exposition,
        clients=clients,
        budgets=budgets,
        contact_center=cc_client,
    )


def add_contact_center(
    scheduler: Scheduler,
    cc: ContactCenterConfig,
    stats: RequestStats,
    clients: list[HttpClient],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None] | None,
    shard: Shard = Shard(),
    budget: RequestBudget | None = None,
) -> ContactCenterClient:
    """Realtime collectors per endpoint and tenant, and report collectors per report and tenant:
    one tenant's failure (a wrong tenant id, a failed report) degrades only its collectors."""
    settings = http_settings(cc)
    token_url, realtime_url, historical_url = cc.urls()
    # One budget for the three hosts: the token, realtime and historical calls of one API.
    https = [
        HttpClient(CONTACT_CENTER, url, settings, stats, budget=budget)
        for url in (token_url, realtime_url, historical_url)
    ]
    clients.extend(https)
    assert cc.client_id and cc.client_secret  # guaranteed by config validation
    client = ContactCenterClient(*https, cc.client_id, cc.client_secret.get_secret_value())
    # Every tenant (a single-tenant account: None) belongs to exactly one shard.
    tenants: list[str | None] = [t for t in (list(cc.tenants) or [None]) if shard.owns_tenant(t)]
    for kind, section in (("queues", cc.queues), ("groups", cc.groups), ("agents", cc.agents)):
        if section.enabled:
            for tenant in tenants:
                scheduler.add(
                    CcRealtimeCollector(
                        client,
                        kind,
                        tenant,
                        interval=section.interval,
                        metrics=section.metrics,
                        page_size=cc.page_size,
                        time_zone=cc.time_zone,
                        duration_scale=cc.duration_scale,
                        select=section.select,
                        max_series=section.max_series,
                    )
                )
    if sleep is None:
        sleep = stop_aware_sleep(budget)
    for report in cc.reports:
        for tenant in [t for t in (list(report.tenants) or tenants) if shard.owns_tenant(t)]:
            scheduler.add(
                CcReportCollector(
                    client,
                    report,
                    tenant,
                    time_zone=cc.time_zone,
                    duration_scale=cc.duration_scale,
                    page_size=cc.report_page_size,
                    polling=cc.report_status,
                    clock=clock,
                    sleep=sleep,
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
        for tenant in list(report.tenants) or list(cc.tenants) or [None]:
            # The client keeps each tenant's answer (REPORT_TYPES_MAX_AGE): one request per
            # tenant however many reports name it.
            types = client.report_types(tenant)
            where = f"contact_center.reports[{index}] ({report.name}"
            where += f", tenant {tenant})" if tenant else ")"
            problems.extend(f"{where}: {problem}" for problem in check_report(report, types))
    return problems
