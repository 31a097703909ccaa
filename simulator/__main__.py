"""Command line: print the simulator's URL and credentials as JSON, serve until SIGTERM/SIGINT.
Usage: python -m simulator --host 127.0.0.1 --port 0 --seed 42"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from exporter.core.durations import duration_seconds

from .cc import REGION_PREFIXES
from .metrics import DurationUnit
from .simulator import Simulator


def duration(text: str) -> float:
    """Seconds from "90", "90s", "15m", "2h" or "8d": a number of seconds, or the exporter's
    duration syntax (`1h30m`, `1.5h`); upper case and a sign are read too."""
    value = text.strip().lower()
    sign = -1.0 if value.startswith("-") else 1.0
    magnitude = value[1:] if value.startswith(("-", "+")) else value
    try:
        seconds: float | None = float(magnitude)
    except ValueError:
        seconds = duration_seconds(magnitude)
    # One sign at most, right before the number ("--5", "- 5m" are no durations).
    signed_twice = magnitude != magnitude.lstrip("+- \t")
    if seconds is None or signed_twice or not math.isfinite(seconds):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 3600, 90m, 8d)")
    if sign * seconds < 0:
        raise argparse.ArgumentTypeError(f"a duration cannot be negative: {text!r}")
    return sign * seconds


def signed_duration(text: str) -> float:
    """Seconds from a duration that may be negative ("-20m", "+90s", "-3600")."""
    value = text.strip()
    negative = value.startswith("-")
    try:
        seconds = duration(value[1:] if negative else value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (e.g. -20m, 90s, 3600)"
        ) from None
    return -seconds if negative else seconds


def cc_tenants(text: str) -> list[tuple[str, str]]:
    """[(tenant, region)] from "acme-sales:us,acme-support:eu" (a tenant without ":region" is us)."""
    tenants: list[tuple[str, str]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        tenant, _, region = part.partition(":")
        region = (region or "us").strip().lower()
        if not tenant.strip() or region not in REGION_PREFIXES:
            raise argparse.ArgumentTypeError(
                f"not a tenant list: {text!r} (e.g. acme-sales:us,acme-support:eu; regions {', '.join(REGION_PREFIXES)})"
            )
        tenants.append((tenant.strip(), region))
    if not tenants:
        raise argparse.ArgumentTypeError("at least one Contact Center tenant is needed")
    return tenants


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eightbyeight-simulator",
        description="Simulator of the 8x8 Work Analytics and Contact Center APIs. Prints one JSON line "
        '({"base_url", "api_key", "username", "password", "cc_client_id", "cc_client_secret", "cc_token_url", '
        '"cc_urls", ...}) then serves until SIGTERM/SIGINT.',
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="port to bind, 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed of the account and the model (default: %(default)s)",
    )
    parser.add_argument("--api-key", default="sim-api-key", help="the accepted 8x8-apikey header")
    parser.add_argument(
        "--username", default="supervisor@example.com", help="the accepted username"
    )
    parser.add_argument("--password", default="sim-password", help="the accepted password")
    parser.add_argument("--token-ttl", type=int, default=1800, help="expires_in of tokens, seconds")
    parser.add_argument("--pbxes", type=int, default=2)
    parser.add_argument("--sites-per-pbx", type=int, default=2)
    parser.add_argument("--queues-per-site", type=int, default=3)
    parser.add_argument("--agents-per-queue", type=int, default=6)
    parser.add_argument(
        "--page-size-default", type=int, default=50, help="Customer Data page size without ?size="
    )
    parser.add_argument(
        "--cq-duration-unit",
        choices=[unit.value for unit in DurationUnit],
        default=DurationUnit.SECONDS.value,
        help="unit of call-queue-metrics durations: the guide says seconds, the spec example looks like ms",
    )
    parser.add_argument(
        "--history",
        type=duration,
        default=3600.0,
        metavar="DURATION",
        help="call history before the start: seconds, or a number with s, m, h or d (e.g. 8d; default 1h)",
    )
    parser.add_argument(
        "--cdr-delay",
        dest="cdr_delay",
        type=duration,
        default=0.0,
        metavar="DURATION",
        help="a call leg or record shows in call-legs/call-records only this long after it ended (default 0)",
    )
    parser.add_argument(
        "--agents-list-key",
        default="queueList",
        help="_embedded key of the agents page (schema: queueList; example: agentList)",
    )
    parser.add_argument(
        "--queue-extension-key",
        default="extensionNumber",
        help="extension key of Customer Data queues (schema: extensionNumber; examples: extension)",
    )
    parser.add_argument(
        "--diverted-metric-name",
        choices=["diverted", "divertedCalls"],
        default="diverted",
        help="name of the diverted-calls metric of call-queue-metrics (spec: diverted; guide: divertedCalls)",
    )
    parser.add_argument(
        "--cq-extension-type",
        choices=["string", "integer"],
        default="string",
        help="JSON type of call-queue-metrics queue extensions (schema: string; spec example: integer)",
    )
    parser.add_argument(
        "--agent-activity-shape",
        choices=["schema", "example"],
        default="schema",
        help="body of /agent-activity: the schema's agentActivity list or the spec example's queuesAgentActivity",
    )
    parser.add_argument(
        "--cc-tenants",
        type=cc_tenants,
        default=[("acme-sales", "us"), ("acme-support", "us")],
        metavar="TENANT:REGION,...",
        help="Contact Center tenants and their regions (us, eu, au, ca); default acme-sales:us,acme-support:us",
    )
    parser.add_argument(
        "--cc-client-id", default="sim-cc-client", help="the accepted Contact Center client id"
    )
    parser.add_argument(
        "--cc-client-secret",
        default="sim-cc-secret",
        help="the accepted Contact Center client secret",
    )
    parser.add_argument(
        "--cc-token-ttl", type=int, default=1800, help="lifetime of Contact Center tokens, seconds"
    )
    parser.add_argument(
        "--cc-report-delay",
        dest="cc_report_delay",
        type=duration,
        default=3.0,
        metavar="DURATION",
        help="how long a Contact Center report takes, QUEUED then IN_PROGRESS (default 3s)",
    )
    parser.add_argument(
        "--clock-offset",
        dest="clock_offset",
        type=signed_duration,
        default=0.0,
        metavar="DURATION",
        help="the simulated API's clock runs this far ahead of this machine's, negative behind "
        "(--clock-offset=-20m): its Date headers and its data follow it (default 0)",
    )
    parser.add_argument("--cc-queues-per-tenant", type=int, default=4)
    parser.add_argument("--cc-groups-per-tenant", type=int, default=2)
    parser.add_argument("--cc-agents-per-tenant", type=int, default=12)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The handler only assigns: it runs in the main thread between two bytecodes, possibly
    # while that thread holds a non-reentrant lock (Event.wait's), so Event.set() could hang.
    stop_requested: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.append(signum)

    offset: float = args.clock_offset
    simulator = Simulator(
        args.seed,
        clock=(lambda: time.time() + offset) if offset else None,
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        username=args.username,
        password=args.password,
        token_ttl=args.token_ttl,
        pbxes=args.pbxes,
        sites_per_pbx=args.sites_per_pbx,
        queues_per_site=args.queues_per_site,
        agents_per_queue=args.agents_per_queue,
        page_size_default=args.page_size_default,
        cq_duration_unit=args.cq_duration_unit,
        agents_list_key=args.agents_list_key,
        queue_extension_key=args.queue_extension_key,
        diverted_metric_name=args.diverted_metric_name,
        cq_extension_type=args.cq_extension_type,
        agent_activity_shape=args.agent_activity_shape,
        history_seconds=args.history,
        cdr_delay_seconds=args.cdr_delay,
        cc_tenants=args.cc_tenants,
        cc_client_id=args.cc_client_id,
        cc_client_secret=args.cc_client_secret,
        cc_token_ttl=args.cc_token_ttl,
        cc_report_delay_seconds=args.cc_report_delay,
        cc_queues_per_tenant=args.cc_queues_per_tenant,
        cc_groups_per_tenant=args.cc_groups_per_tenant,
        cc_agents_per_tenant=args.cc_agents_per_tenant,
    )
    previous_handlers: dict[signal.Signals, Any] = {}
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        previous_handlers[stop_signal] = signal.signal(stop_signal, request_stop)
    simulator.start()
    try:
        announcement = {
            "base_url": simulator.base_url,
            "api_key": simulator.api_key,
            "username": simulator.username,
            "password": simulator.password,
            "cc_client_id": simulator.cc_client_id,
            "cc_client_secret": simulator.cc_client_secret,
            "cc_token_url": simulator.cc.token_url(simulator.root_url),
            "cc_tenants": [
                {
                    "id": tenant,
                    "region": simulator.cc.region_of(tenant),
                    "time_zone": simulator.cc.time_zone_of(tenant),
                }
                for tenant in simulator.cc.tenants
            ],
            "cc_urls": simulator.cc.realtime_urls(simulator.root_url),
        }
        sys.stdout.write(json.dumps(announcement) + "\n")
        sys.stdout.flush()
        while not stop_requested:
            time.sleep(0.2)
    finally:
        simulator.stop()
        for stop_signal, handler in previous_handlers.items():
            signal.signal(stop_signal, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
