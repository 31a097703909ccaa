"""Assembles the exporter from a Config: clients, collectors, runners and the registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from exporter.clients.http import HttpClient, HttpSettings, RequestStats
from exporter.clients.work_analytics import API as WORK_ANALYTICS, WorkAnalyticsClient
from exporter.collectors.base import CollectorRunner, Scheduler
from exporter.collectors.call_queues import CallQueueCollector
from exporter.collectors.discovery import DiscoveryCollector
from exporter.config import Config, WorkAnalyticsConfig
from exporter.exposition import build_registry


@dataclass
class Exporter:
    config: Config
    registry: CollectorRegistry
    scheduler: Scheduler
    clients: list[HttpClient]

    def close(self) -> None:
        self.scheduler.stop()
        for client in self.clients:
            client.close()


def http_settings(section: WorkAnalyticsConfig) -> HttpSettings:
    return HttpSettings(connect_timeout=section.timeouts.connect, read_timeout=section.timeouts.read,
                        max_attempts=section.retries.max_attempts,
                        initial_backoff=section.retries.initial_backoff,
                        max_backoff=section.retries.max_backoff,
                        max_retry_after=section.retries.max_retry_after)


def build_exporter(config: Config, *, process_metrics: bool = True) -> Exporter:
    scheduler = Scheduler()
    registry = build_registry(scheduler, process_metrics=process_metrics)
    stats = RequestStats(registry)
    clients: list[HttpClient] = []
    wa = config.work_analytics
    if wa.enabled:
        http = HttpClient(WORK_ANALYTICS, wa.base_url, http_settings(wa), stats)
        clients.append(http)
        assert wa.api_key and wa.username and wa.password  # guaranteed by config validation
        client = WorkAnalyticsClient(http, wa.api_key.get_secret_value(), wa.username,
                                     wa.password.get_secret_value())
        discovery = DiscoveryCollector(client, interval=wa.discovery.interval, pbx_refs=wa.pbxes,
                                       page_size=wa.discovery.page_size)
        discovery_runner = CollectorRunner(discovery)
        scheduler.runners.append(discovery_runner)
        cq = wa.call_queues
        if cq.enabled:
            collector = CallQueueCollector(
                client, lambda: discovery.directory, interval=cq.interval, api=cq.api,
                duration_unit=cq.duration_unit, sites=cq.sites, queues=cq.queues,
                metrics=cq.metrics, include_summary=cq.include_summary)
            scheduler.runners.append(CollectorRunner(collector, depends_on=discovery_runner))
    return Exporter(config=config, registry=registry, scheduler=scheduler, clients=clients)
