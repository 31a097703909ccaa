"""The exporter, Debian's Prometheus and Debian's Alertmanager on loopback, as a team runs them:
Prometheus scrapes the exporter and evaluates the given rules every second, Alertmanager routes
and inhibits as mixin/alertmanager.example.yml says, and each of its receivers is a recorded
loopback webhook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.support.alert_receivers import (
    WebhookRecorder,
    alertmanager_config,
    start_alertmanager,
)
from tests.support.processes import (
    Process,
    Prometheus,
    get_json,
    start_exporter,
    start_prometheus,
    wait_until,
)
from tests.support.waiting import free_ports

T = TypeVar("T")


@dataclass
class AlertingStack:
    prometheus: Prometheus
    alertmanager: str
    webhooks: WebhookRecorder
    processes: list[Process]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail()}" for p in self.processes)

    def wait(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        """`wait_until` polling every 0.2 s, failing with the notifications and the logs."""
        try:
            return wait_until(what, probe, timeout=timeout, every=0.2)
        except AssertionError as exc:
            received = "\n".join(map(str, self.webhooks.received()))
            raise AssertionError(f"{exc}\nnotifications:\n{received}\n{self.logs()}") from None

    def active_alerts(self, name: str) -> list[dict[str, Any]]:
        """The alerts named `name` Alertmanager holds (firing: notified, or held back by an
        inhibit rule, which `status.inhibitedBy` lists)."""
        found = get_json(f'{self.alertmanager}/api/v2/alerts?filter=alertname%3D"{name}"')
        return list(found or [])


def scraping_and_alerting(job: str, exporter_port: int, alertmanager_port: int) -> dict[str, Any]:
    """Prometheus's config: the exporter scraped and rules.yml evaluated every second, alerts
    sent to the Alertmanager on `alertmanager_port`."""
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["rules.yml"],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]
        },
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}
        ],
    }


@contextmanager
def alerting_stack(
    directory: Path, exporter_config: dict[str, Any], rules: str, job: str
) -> Iterator[AlertingStack]:
    """The three daemons started (not waited for) in `directory`, stopped on exit."""
    exporter_port, prometheus_port, alertmanager_port = free_ports(3)
    (directory / "exporter.yaml").write_text(yaml.safe_dump(exporter_config))
    (directory / "rules.yml").write_text(rules)
    prometheus_config = scraping_and_alerting(job, exporter_port, alertmanager_port)
    processes: list[Process] = []
    with WebhookRecorder() as webhooks:
        try:
            processes.append(
                start_exporter("exporter", directory / "exporter.yaml", exporter_port, directory)
            )
            config = alertmanager_config(webhooks)
            processes.append(start_alertmanager(directory, alertmanager_port, config))
            # Prometheus resends firing alerts every second (default: a minute), so that an
            # Alertmanager started after it hears of them at once.
            process, prometheus = start_prometheus(
                directory, prometheus_port, prometheus_config, "--rules.alert.resend-delay=1s"
            )
            processes.append(process)
            yield AlertingStack(
                prometheus, f"http://127.0.0.1:{alertmanager_port}", webhooks, processes
            )
        finally:
            for process in reversed(processes):
                process.stop()
