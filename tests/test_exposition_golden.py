"""A known input gives a known page: any change of name, label, HELP or TYPE shows up here.

Regenerate after an intended change with `UPDATE_GOLDEN=1 python -m pytest tests/test_exposition_golden.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from exporter.pollers.base import CollectorRunner, Scheduler
from exporter.pollers.call_queues import CallQueueCollector
from exporter.pollers.discovery import DiscoveryCollector
from tests.conftest import FIXTURES, FakeClock, exposition_of, fixture_json
from tests.test_collectors import CannedClient

GOLDEN = FIXTURES / "golden"
PBX_ID = "rXp_ceLVQs6RYjUp1Iqqwe"


def page(api: str) -> str:
    answer_name = "call_queue_metrics" if api == "call_queue_metrics" else "realtime"
    answer = fixture_json(
        "call_queue_metrics.json" if api == "call_queue_metrics" else "realtime_call_queues.json"
    )
    queues = (
        fixture_json("queues_page0.json")["_embedded"]["queueList"]
        + fixture_json("queues_page1.json")["_embedded"]["queueList"]
    )
    client = CannedClient(
        {
            "pbxes": [{"id": PBX_ID, "name": "voaromaniaqe14051", "deleted": False}],
            "sites": fixture_json("sites.json")["_embedded"]["siteList"],
            "queues": queues,
            answer_name: answer,
        }
    )
    discovery = DiscoveryCollector(client, interval=600, pbx_refs=[])  # type: ignore[arg-type]
    call_queues = CallQueueCollector(client, lambda: discovery.directory, interval=30, api=api)  # type: ignore[arg-type]
    wall, mono = FakeClock(), FakeClock(0)
    runners = [
        CollectorRunner(discovery, wall_clock=wall, monotonic=mono),
        CollectorRunner(call_queues, wall_clock=wall, monotonic=mono),
    ]
    scheduler = Scheduler(runners)
    exposition = exposition_of(scheduler)
    assert scheduler.run_once()
    text = exposition.render().decode()
    # The build line carries the Python version of the machine running the test.
    return (
        "\n".join(
            line
            for line in text.splitlines()
            if not line.startswith("eightbyeight_exporter_build_info{")
        )
        + "\n"
    )


@pytest.mark.parametrize("api", ["call_queue_metrics", "realtime"])
def test_golden_exposition(api: str) -> None:
    path = GOLDEN / f"{api}.prom"
    text = page(api)
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("api", ["call_queue_metrics", "realtime"])
def test_golden_exposition_passes_promtool(api: str) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/test.sh installs Debian's prometheus package"
    result = subprocess.run(
        [promtool, "check", "metrics"], input=page(api), text=True, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""
