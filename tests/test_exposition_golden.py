"""A known input gives a known page: any change of name, label, HELP or TYPE shows up here.

Regenerate after an intended change with `UPDATE_GOLDEN=1 python -m pytest tests/test_exposition_golden.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from exporter.metrics.call_queues import ApiChoice
from exporter.pollers.base import PollerRunner, Scheduler
from exporter.pollers.call_queues import CallQueuePoller
from exporter.pollers.discovery import DiscoveryPoller
from tests.support.call_queues import CannedClient
from tests.support.clock import FakeClock
from tests.support.files import FIXTURES, fixture_json
from tests.support.page import exposition_of

GOLDEN = FIXTURES / "golden"
PBX_ID = "rXp_ceLVQs6RYjUp1Iqqwe"


def page(api: ApiChoice) -> str:
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
    discovery = DiscoveryPoller(client, interval=600, pbx_refs=[])
    call_queues = CallQueuePoller(client, discovery, interval=30, api=api)
    wall, mono = FakeClock(), FakeClock(0)
    runners = [
        PollerRunner(discovery, wall_clock=wall, monotonic=mono),
        PollerRunner(call_queues, wall_clock=wall, monotonic=mono),
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
def test_golden_exposition(api: ApiChoice) -> None:
    path = GOLDEN / f"{api}.prom"
    text = page(api)
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("api", ["call_queue_metrics", "realtime"])
def test_golden_exposition_passes_promtool(api: ApiChoice) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/test.sh installs Debian's prometheus package"
    result = subprocess.run(
        [promtool, "check", "metrics"], input=page(api), text=True, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""
