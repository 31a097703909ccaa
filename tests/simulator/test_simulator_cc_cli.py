"""Simulator, Contact Center: the command line (tenants, report delay, the announced URLs)."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys

import pytest
import requests

from simulator.__main__ import build_parser, cc_tenants
from tests.support.simulator import HTTP_TIMEOUT, basic_auth


def test_cc_flags_parse() -> None:
    args = build_parser().parse_args(
        ["--cc-tenants", "acme-sales:us,acme-support:eu", "--cc-report-delay", "3s"]
    )
    assert args.cc_tenants == [("acme-sales", "us"), ("acme-support", "eu")]
    assert args.cc_report_delay == 3.0
    defaults = build_parser().parse_args([])
    assert (
        defaults.cc_tenants == [("acme-sales", "us"), ("acme-support", "us")]
        and defaults.cc_report_delay == 3.0
    )
    assert build_parser().parse_args(["--cc-report-delay", "2m"]).cc_report_delay == 120.0


def test_cc_tenant_lists() -> None:
    assert cc_tenants("solo") == [("solo", "us")]
    assert cc_tenants(" a:AU , b:ca ") == [("a", "au"), ("b", "ca")]
    for bad in ("a:mars", ":eu", ",", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            cc_tenants(bad)


def test_cli_announces_the_contact_center_and_serves_it() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            "42",
            "--cc-tenants",
            "acme-sales:us,acme-support:eu",
            "--cc-report-delay",
            "3s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None  # stdout=PIPE
        announcement = json.loads(process.stdout.readline())
        assert (
            announcement["cc_client_id"] == "sim-cc-client"
            and announcement["cc_client_secret"] == "sim-cc-secret"
        )
        root = announcement["base_url"].removesuffix("/analytics/work")
        assert announcement["cc_token_url"] == root + "/oauth/v2/token"
        assert announcement["cc_urls"] == {
            "us": {
                "realtime": root + "/analytics/cc/v5/realtime-metrics",
                "historical": root + "/analytics/cc/v8/historical-metrics",
            },
            "eu": {
                "realtime": root + "/eu/analytics/cc/v5/realtime-metrics",
                "historical": root + "/eu/analytics/cc/v8/historical-metrics",
            },
        }
        assert [t["id"] for t in announcement["cc_tenants"]] == ["acme-sales", "acme-support"]
        token = requests.post(
            announcement["cc_token_url"],
            headers={"Authorization": basic_auth()},
            data={"grant_type": "client_credentials"},
            timeout=HTTP_TIMEOUT,
        ).json()["access_token"]
        response = requests.get(
            announcement["cc_urls"]["eu"]["realtime"] + "/queues",
            params={"summary": "true"},
            headers={"Authorization": f"Bearer {token}", "X-Tenant-Info": "acme-support"},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200 and len(response.json()) == 4
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()
