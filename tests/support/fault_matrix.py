"""The fault matrix's world: a small simulator, an exporter with every collector on, served on
loopback; the endpoints (targets) and the faults the simulator injects into them. Shared by the
fault matrix and the soak test."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from exporter.app import Exporter, build_exporter
from exporter.config import load_config_data
from exporter.serving.server import ExporterServer
from simulator import Simulator
from tests.support.clock import FakeClock

START = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC: the simulated call centres are busy
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER = 1.0
READ_TIMEOUT = 1.0
TIMEOUT_DELAY = 1.5  # a fault delay longer than the read timeout
TOTAL_TIMEOUT = 1.5  # the whole request, body included: what ends a trickle
TRICKLE_SECONDS = 2.0  # a trickled answer takes this long: over the total timeout
RESPONSE_LIMIT = 16 * 1024 * 1024
OVERSIZE = 50 * 1024 * 1024  # valid JSON, over RESPONSE_LIMIT
LIVE_CALLS_PAGE = 50  # calls per page of /calls: a busy afternoon takes a few pages


def api_settings() -> dict[str, Any]:
    """Short timeouts and backoffs (real time), and a request budget the matrix never reaches:
    it checks faults, not throttling."""
    return {
        "timeouts": {"connect": "1s", "read": f"{READ_TIMEOUT:g}s", "total": f"{TOTAL_TIMEOUT:g}s"},
        "retries": {
            "max_attempts": MAX_ATTEMPTS,
            "initial_backoff": "10ms",
            "max_backoff": "50ms",
            "max_retry_after": f"{MAX_RETRY_AFTER:g}s",
        },
        "request_budget_per_minute": 1_000_000,
        "max_response_bytes": RESPONSE_LIMIT,
    }


def small_simulator(clock: FakeClock, seed: int = 11) -> Simulator:
    """A small account (one PBX, two tenants of two queues): every code path, with a third of
    the samples of the default account to render per page."""
    return Simulator(
        seed=seed,
        host="127.0.0.1",
        port=0,
        clock=clock,
        cc_report_delay_seconds=1.0,
        pbxes=1,
        sites_per_pbx=2,
        queues_per_site=2,
        agents_per_queue=3,
        cc_queues_per_tenant=2,
        cc_groups_per_tenant=1,
        cc_agents_per_tenant=4,
    )


def matrix_config(sim: Simulator) -> dict[str, Any]:
    """Every collector on: Work Analytics with ring group members, Contact Center with two
    tenants, agents and one report per tenant."""
    return {
        "work_analytics": {
            "base_url": sim.base_url,
            "api_key": sim.api_key,
            "username": sim.username,
            "password": sim.password,
            # One request (one PBX's read) at a time, so that a faulted run is one logical
            # request retried to the limit, as for every other collector; with more, each
            # request in flight when the first one fails is retried too
            # (tests/test_ring_group_member_concurrency.py).
            "ring_group_members": {"enabled": True, "concurrency": 1},
            # Per-agent series on, so the agent directory (`/agents`) runs too.
            "queue_agents": {"per_agent": True},
            # Every read back max_call_age (no shortcut to the previous read's oldest call
            # in progress: tests/test_live_call_marks.py), so a faulted page past the first is
            # always asked for.
            "live_calls": {"page_size": LIVE_CALLS_PAGE, "concurrency": 1, "rescan_interval": 0},
            **api_settings(),
        },
        "contact_center": {
            "enabled": True,
            "base_url": sim.root_url,
            "client_id": sim.cc_client_id,
            "client_secret": sim.cc_client_secret,
            "tenants": list(sim.cc.tenants),
            "time_zone": "America/New_York",
            "agents": {"enabled": True},
            # The report's status polls sleep on the simulated clock (build_exporter's sleep).
            "report_status": {"initial_backoff": "1s", "max_backoff": "2s", "timeout": "1m"},
            "reports": [
                {
                    "name": "queues_today",
                    "type": "queue-interactions-summary",
                    "group_by": "queue",
                    "window": "today",
                    "metrics": ["entered", "accepted", "abandoned"],
                }
            ],
            **api_settings(),
        },
    }


@dataclass(frozen=True)
class Target:
    """An endpoint (path regex) and the collectors it feeds. Token endpoints feed every
    collector of their API, and only matter when a token must be fetched."""

    name: str
    regex: str
    collector: str | None = None  # a runner name without `@tenant` and `:report`; None: `name`
    token_of: str | None = None  # "wa" or "cc"

    def feeds(self, runner: str) -> bool:
        if self.token_of is not None:
            return api_of(runner) == self.token_of
        return runner.split("@")[0].split(":")[0] == (self.collector or self.name)


def api_of(runner: str) -> str:
    return "cc" if runner.startswith("cc_") else "wa"


TARGETS = {
    t.name: t
    for t in (
        Target("discovery", r"/analytics/work/v2/pbxes/(?:[^/]+/(?:sites|queues))?$"),
        Target("call_queues", r"/call-queue-metrics$"),
        Target("company_summary", r"/v1/compsum$"),
        Target("ring_groups", r"/v2/rgsum-groups$"),
        Target("ring_group_members", r"/v2/rgsum-members$"),
        Target("extensions", r"/v2/extsum$"),
        Target("call_records", r"/v2/call-records$"),
        Target("call_legs", r"/v2/call-legs$"),
        Target("queue_agents", r"/queue-agent-activity$"),
        Target("agent_activity", r"/agent-activity$"),
        Target("live_calls", r"/v2/pbxes/[^/]+/calls$"),
        Target("agent_directory", r"/analytics/work/v2/pbxes/[^/]+/agents$"),
        Target("cc_queues", r"/realtime-metrics/queues$"),
        Target("cc_groups", r"/realtime-metrics/groups$"),
        Target("cc_agents", r"/realtime-metrics/agents$"),
        Target("cc_reports", r"/historical-metrics(?:/.*)?$", "cc_report"),
        Target("wa_token", r"/v1/oauth/token$", token_of="wa"),
        Target("cc_token", r"/oauth/v2/token$", token_of="cc"),
    )
}


@dataclass(frozen=True)
class Fault:
    """A fault kind. `retried`: True for what the README says is retried (429, 5xx, connection
    errors: exactly max_attempts requests), False for what is not (exactly one)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    retried: bool = False
    streamed: bool = False  # oversize, trickle: the client must hang up before the last byte


FAULTS = {
    f.name: f
    for f in (
        *(Fault(f"http_{s}", {"status": s}, retried=True) for s in (500, 502, 503, 504)),
        # On a token endpoint 400 and 401 are bad credentials; on a data endpoint 401 is a token
        # the vendor no longer takes: renewed once, the call sent again, then the run fails.
        Fault("http_400", {"status": 400}),
        Fault("http_401", {"status": 401}),
        Fault("http_403", {"status": 403}),
        Fault("http_429", {"status": 429}, retried=True),
        Fault(
            "http_429_retry_after", {"status": 429, "headers": {"Retry-After": "1"}}, retried=True
        ),
        Fault("timeout", {"delay": TIMEOUT_DELAY}, retried=True),
        Fault("refuse", {"refuse": True}, retried=True),
        Fault("reset", {"reset": True}, retried=True),
        Fault("malformed", {"malformed": True}),
        # Valid JSON, none of the documented keys: a vendor error object sent with a 200.
        Fault("wrong_shape", {"status": 200, "body": {"unexpected": "shape"}}),
        Fault("empty", {"empty": True}),
        Fault("truncate", {"truncate": True}, retried=True),
        # An answer over max_response_bytes is refused as malformed: sending it again would not
        # make it smaller.
        Fault("oversize", {"oversize_bytes": OVERSIZE}, streamed=True),
        # The rate makes the target's answer last TRICKLE_SECONDS. Cut at the total timeout, it
        # fails as a transport error, as a read timeout does: retried.
        Fault("trickle", {}, retried=True, streamed=True),
    )
}


@contextmanager
def serving_matrix(
    clock: FakeClock, seed: int = 11
) -> Iterator[tuple[Simulator, Exporter, ExporterServer]]:
    """The small simulator, the exporter of `matrix_config` on the same clock, and its server
    on a free loopback port. Each piece is stopped (in reverse order) even when building a
    later one fails."""
    with ExitStack() as stack:
        sim = stack.enter_context(small_simulator(clock, seed=seed))
        exporter = build_exporter(
            load_config_data(matrix_config(sim)),
            process_metrics=False,
            clock=clock,
            sleep=clock.advance,
        )
        stack.callback(exporter.close)
        server = ExporterServer(exporter, "127.0.0.1:0")
        server.start()
        stack.callback(server.stop)
        yield sim, exporter, server
