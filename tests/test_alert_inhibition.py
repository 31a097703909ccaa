"""mixin/alertmanager.example.yml's inhibit rules in Debian's Alertmanager: an exporter that
cannot be scraped silences its own data and collector alerts, never the pages of another
target (a shard, an HA replica, another release share the job)."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.alert_receivers import WebhookRecorder, alertmanager_config, start_alertmanager
from tests.support.processes import get_json, wait_until
from tests.support.waiting import free_ports

pytestmark = [pytest.mark.e2e]

DOWN = {"alertname": "EightByEightExporterDown", "job": "eightbyeight", "severity": "critical"}
PAGE = {
    "alertname": "EightByEightQueueNoAgentLoggedIn",
    "job": "eightbyeight",
    "pbx": "acme",
    "queue_id": "q1",
    "team": "sales",
    "severity": "critical",
}
STALE = {"alertname": "EightByEightDataStale", "job": "eightbyeight", "severity": "warning"}


@pytest.fixture
def alertmanager() -> Iterator[str]:
    if shutil.which("prometheus-alertmanager") is None and shutil.which("alertmanager") is None:
        pytest.fail("Alertmanager is missing: scripts/test.sh installs prometheus-alertmanager")
    (port,) = free_ports(1)
    with tempfile.TemporaryDirectory() as work, WebhookRecorder() as webhooks:
        process = start_alertmanager(Path(work), port, alertmanager_config(webhooks))
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until("Alertmanager", lambda: get_json(f"{url}/api/v2/status"), timeout=60)
            yield url
        finally:
            process.stop()


def post(url: str, alerts: list[dict[str, str]]) -> None:
    body = json.dumps([{"labels": labels} for labels in alerts]).encode()
    request = urllib.request.Request(
        f"{url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def states(url: str) -> dict[tuple[str, str], str] | None:
    """(alertname, instance) -> active or suppressed, once all four alerts are in."""
    alerts: list[dict[str, Any]] | None = get_json(f"{url}/api/v2/alerts")
    if not alerts or len(alerts) < 4:
        return None
    return {
        (a["labels"]["alertname"], a["labels"]["instance"]): a["status"]["state"] for a in alerts
    }


def test_an_exporter_down_silences_its_own_alerts_not_another_targets_pages(
    alertmanager: str,
) -> None:
    down, healthy = "10.0.0.2:9878", "10.0.0.1:9878"
    post(
        alertmanager,
        [
            {**DOWN, "instance": down},
            {**STALE, "instance": down},
            {**PAGE, "instance": healthy},
            {**PAGE, "instance": down},
        ],
    )
    seen = wait_until("the four alerts", lambda: states(alertmanager), timeout=30)
    assert seen == {
        ("EightByEightExporterDown", down): "active",
        ("EightByEightDataStale", down): "suppressed",
        ("EightByEightQueueNoAgentLoggedIn", down): "suppressed",
        ("EightByEightQueueNoAgentLoggedIn", healthy): "active",  # was suppressed: job only
    }
