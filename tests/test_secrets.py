"""No credential and no token in any output: the daemon runs through faults on every endpoint
with known secrets at debug level, and its logs, its pages, its reload and check-config
errors, and the config's repr are searched for them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TypedDict

import pytest

from exporter.cli import demo_config_data
from exporter.config import load_config_data
from exporter.core.errors import ConfigError
from simulator import Simulator
from tests.support.waiting import free_port

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
API_KEY, PASSWORD = "AK-5f1e0c9b7d-known", "PW-9c2d4e11aa-known"
CC_ID, CC_SECRET = "cc-client-3b8f", "CS-7a3b55c1e0-known"
ENDPOINTS = [
    r"/oauth/token",
    r"/oauth/v2/token",
    r"/v2/pbxes",
    r"/call-queue-metrics",
    r"/compsum",
    r"/rgsum-",
    r"/extsum",
    r"/call-records",
    r"/call-legs",
    r"/realtime-metrics/",
    r"/historical-metrics",
]


class Fault(TypedDict, total=False):
    """What the simulator's fault rules take, as keyword arguments."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    malformed: bool


FAULTS: list[Fault] = [
    {"status": 401, "body": {"error": "invalid_token"}},
    {"status": 400},
    {"status": 403},
    {"status": 429, "headers": {"Retry-After": "1"}},
    {"status": 500},
    {"status": 200, "malformed": True},
]


def fetch(url: str, method: str = "GET") -> str:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.read().decode(errors="replace")


def secrets_in(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


@pytest.mark.slow
def test_no_secret_or_token_in_any_output(tmp_path: Path) -> None:
    with Simulator(
        seed=4,
        host="127.0.0.1",
        port=0,
        api_key=API_KEY,
        password=PASSWORD,
        cc_client_id=CC_ID,
        cc_client_secret=CC_SECRET,
        cc_report_delay_seconds=0.2,
    ) as sim:
        data = demo_config_data({}, sim)
        wa, cc = data["work_analytics"], data["contact_center"]
        # Credentials from the environment, as in production, not in the file.
        for key in ("api_key", "password"):
            wa.pop(key)
        cc.pop("client_secret")
        for section in (wa, cc):
            section["retries"] = {
                "max_attempts": 2,
                "initial_backoff": "10ms",
                "max_backoff": "20ms",
                "max_retry_after": "2s",
            }
        for key in (
            "call_queues",
            "company_summary",
            "ring_groups",
            "extensions",
            "call_records",
            "call_legs",
        ):
            wa[key] = {**wa.get(key, {}), "interval": "1s"}
        for key in ("queues", "groups", "agents"):
            cc[key] = {**cc.get(key, {}), "interval": "1s"}
        cc["reports"] = [dict(r, interval="2s") for r in cc["reports"]]
        cc["report_status"] = {"initial_backoff": "100ms", "max_backoff": "200ms"}
        config = tmp_path / "config.json"
        config.write_text(json.dumps(data))
        env = {
            "PATH": "/usr/bin:/bin",
            "EIGHTBYEIGHT_API_KEY": API_KEY,
            "EIGHTBYEIGHT_PASSWORD": PASSWORD,
            "EIGHTBYEIGHT_CC_CLIENT_SECRET": CC_SECRET,
        }
        port, log = free_port(), tmp_path / "exporter.log"
        base = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "exporter",
                    "--config.file",
                    str(config),
                    "--web.listen-address",
                    f"127.0.0.1:{port}",
                    "--log.level",
                    "debug",
                    "--web.enable-lifecycle",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                env=env,
            )
        pages: list[str] = []
        try:
            deadline = time.monotonic() + 60
            for _ in range(600):
                if time.monotonic() > deadline or process.poll() is not None:
                    break
                try:
                    if "ready" in fetch(f"{base}/-/ready") and "not ready" not in fetch(
                        f"{base}/-/ready"
                    ):
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            # Every fault on every endpoint, a few times each, with tokens expiring between.
            for fault in FAULTS:
                for endpoint in ENDPOINTS:
                    sim.faults.add(endpoint, times=3, **fault)
                sim.expire_tokens()
                time.sleep(2.5)
                pages += [
                    fetch(f"{base}{path}") for path in ("/metrics", "/", "/-/healthy", "/-/ready")
                ]
            sim.faults.clear()
            # A failed reload reports its problems: none of them may carry a secret.
            config.write_text(json.dumps({**data, "work_analytics": {**wa, "colour": 1}}))
            pages.append(fetch(f"{base}/-/reload", "POST"))
        finally:
            process.terminate()
            process.wait(timeout=60)
        tokens = {
            r.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            for r in sim.requests
            if r.headers.get("Authorization", "").startswith("Bearer")
        }
        # --check-config with refused credentials: its error message is output too.
        bad = subprocess.run(
            [sys.executable, "-m", "exporter", "--check-config", "--config.file", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env={**env, "EIGHTBYEIGHT_CC_CLIENT_SECRET": CC_SECRET + "-wrong"},
        )
    assert len(tokens) >= 2, "the run used tokens of both APIs"
    basic = base64.b64encode(f"{CC_ID}:{CC_SECRET}".encode()).decode()
    secrets = {API_KEY, PASSWORD, CC_SECRET, CC_SECRET + "-wrong", basic, *tokens}
    output = log.read_text(errors="replace")
    assert "api_request_retry" in output and "collector_run_failed" in output  # faults were hit
    assert secrets_in(output, secrets) == []
    assert secrets_in("\n".join(pages), secrets) == []
    assert secrets_in(bad.stdout + bad.stderr, secrets) == []
    # The config's repr and str, and a config error about a secret's file.
    loaded = load_config_data(data, env=env)
    assert secrets_in(repr(loaded) + str(loaded) + repr(loaded.model_dump()), secrets) == []
    with pytest.raises(ConfigError) as caught:
        load_config_data(
            {"work_analytics": {**wa, "password": PASSWORD, "password_file": "/nonexistent"}},
            env=env,
        )
    assert secrets_in(str(caught.value), secrets) == []
