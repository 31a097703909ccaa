"""Out-of-process control of the simulator under /_sim (no auth): faults, tokens, state (Work
Analytics and Contact Center), log."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import unquote

from .cc import ContactCenter
from .directory import Pbx
from .faults import FaultInjector
from .metrics import DurationUnit
from .model import QueueingModel
from .model_state import IDLE_STATUSES, AgentStatus
from .requestlog import RequestLog
from .routing import Request, Response, Router

ADMIN_PREFIX = "/_sim"
_FAULT_FIELDS = {
    "path_regex",
    "status",
    "times",
    "delay",
    "body",
    "headers",
    "malformed",
    "with_param",
    "refuse",
    "reset",
    "empty",
    "truncate",
    "oversize_bytes",
    "trickle_bytes_per_second",
}


def _bad_request(message: str) -> Response:
    return Response.json(400, {"error": message})


class AdminTarget(Protocol):
    """What the admin endpoints control and show of `Simulator`."""

    @property
    def faults(self) -> FaultInjector: ...

    @property
    def requests(self) -> RequestLog: ...

    @property
    def model(self) -> QueueingModel: ...

    @property
    def cc(self) -> ContactCenter: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def base_url(self) -> str: ...

    @property
    def cq_duration_unit(self) -> DurationUnit: ...

    @property
    def directory(self) -> list[Pbx]: ...

    def expire_tokens(self) -> int: ...

    def requests_clear(self) -> None: ...


class AdminApi:
    """JSON admin endpoints mirroring the Python API of `Simulator`."""

    def __init__(self, simulator: AdminTarget) -> None:
        self.simulator = simulator

    def register(self, router: Router) -> None:
        base = re.escape(ADMIN_PREFIX)
        router.add("POST", base + r"/faults", self.add_fault)
        router.add("GET", base + r"/faults", self.list_faults)
        router.add("DELETE", base + r"/faults", self.clear_faults)
        router.add("POST", base + r"/expire-tokens", self.expire_tokens)
        router.add("GET", base + r"/state", self.state)
        router.add("POST", base + r"/agents/(?P<agent_id>[^/]+)/presence", self.set_presence)
        router.add("POST", base + r"/queues/(?P<queue_id>[^/]+)/members", self.set_members)
        router.add("POST", base + r"/queues/(?P<queue_id>[^/]+)/arrivals", self.set_arrivals)
        router.add("GET", base + r"/requests", self.list_requests)
        router.add("DELETE", base + r"/requests", self.clear_requests)

    def add_fault(self, request: Request, match: re.Match[str]) -> Response:
        try:
            spec = request.json()
        except (ValueError, UnicodeDecodeError):
            return _bad_request("the body must be a JSON object")
        if not isinstance(spec, dict):
            return _bad_request("the body must be a JSON object")
        unknown = set(spec) - _FAULT_FIELDS
        if unknown:
            return _bad_request(f"unknown fields: {', '.join(sorted(unknown))}")
        if not isinstance(spec.get("path_regex"), str):
            return _bad_request("path_regex (a string) is required")
        arguments: dict[str, Any] = dict(spec)
        try:
            rule = self.simulator.faults.add(**arguments)
        except (ValueError, TypeError, re.error) as error:
            return _bad_request(str(error))
        return Response.json(201, rule.to_json())

    def list_faults(self, request: Request, match: re.Match[str]) -> Response:
        return Response.json(200, [rule.to_json() for rule in self.simulator.faults.rules()])

    def clear_faults(self, request: Request, match: re.Match[str]) -> Response:
        return Response.json(200, {"cleared": self.simulator.faults.clear()})

    def expire_tokens(self, request: Request, match: re.Match[str]) -> Response:
        return Response.json(200, {"expired": self.simulator.expire_tokens()})

    def state(self, request: Request, match: re.Match[str]) -> Response:
        simulator = self.simulator
        model = simulator.model
        with model.lock:
            model.advance(simulator.clock())
            queues = {queue_id: model.queue_state(queue_id) for queue_id in model.queue_ids()}
            agents = {agent_id: status.value for agent_id, status in model.agent_statuses().items()}
            now = model.now
        body = {
            "now": now,
            "base_url": simulator.base_url,
            "cq_duration_unit": simulator.cq_duration_unit.value,
            "directory": [dataclasses.asdict(pbx) for pbx in simulator.directory],
            "queues": queues,
            "agents": agents,
            "cc": simulator.cc.state(),
        }
        # json.dumps writes the str-based enums of the directory as their values.
        return Response(
            200,
            json.dumps(body, separators=(",", ":")).encode("utf-8"),
            {"Content-Type": "application/json"},
        )

    def set_presence(self, request: Request, match: re.Match[str]) -> Response:
        """`{"status": "Logged out"}` (or Available, Away, Dnd, Appear offline): the agent
        sets its presence, as from its phone; 409 while it is rung or on a call."""
        try:
            status = AgentStatus((request.json() or {})["status"])
            if status not in IDLE_STATUSES:
                raise ValueError(status)
        except (ValueError, KeyError, TypeError):
            names = ", ".join(s.value for s in AgentStatus if s in IDLE_STATUSES)
            return _bad_request(f'expected {{"status": ...}}, one of: {names}')
        agent_id = unquote(match.group("agent_id"))
        try:
            self.simulator.model.set_presence(agent_id, status, self.simulator.clock())
        except KeyError:
            return Response.json(404, {"error": f"no agent {agent_id}"})
        except ValueError as exc:
            return Response.json(409, {"error": str(exc)})
        return Response.json(200, {"agent_id": agent_id, "status": status.value})

    def set_members(self, request: Request, match: re.Match[str]) -> Response:
        """`{"enabled": false}`: every agent taken out of a Work Analytics queue (true: all
        in; null: the directory's membership again); 404 for an unknown queue."""
        try:
            enabled = (request.json() or {})["enabled"]
            if enabled is not None and not isinstance(enabled, bool):
                raise TypeError(enabled)
        except (ValueError, KeyError, TypeError, AttributeError):
            return _bad_request('expected {"enabled": true, false or null}')
        queue_id = unquote(match.group("queue_id"))
        try:
            self.simulator.model.set_members_enabled(queue_id, enabled, self.simulator.clock())
        except KeyError:
            return Response.json(404, {"error": f"no queue {queue_id}"})
        return Response.json(200, {"queue_id": queue_id, "enabled": enabled})

    def set_arrivals(self, request: Request, match: re.Match[str]) -> Response:
        """`{"per_hour": 3600}`: callers arrive at a Work Analytics queue at that constant rate
        (0: none; null: the daily rhythm again); 404 for an unknown queue."""
        try:
            per_hour = (request.json() or {})["per_hour"]
            if per_hour is not None and (
                isinstance(per_hour, bool) or not isinstance(per_hour, int | float)
            ):
                raise TypeError(per_hour)
            queue_id = unquote(match.group("queue_id"))
            self.simulator.model.set_arrival_rate(queue_id, per_hour, self.simulator.clock())
        except KeyError:
            return Response.json(404, {"error": f"no queue {unquote(match.group('queue_id'))}"})
        except (ValueError, TypeError, AttributeError):
            return _bad_request('expected {"per_hour": a number >= 0 or null}')
        return Response.json(200, {"queue_id": queue_id, "per_hour": per_hour})

    def list_requests(self, request: Request, match: re.Match[str]) -> Response:
        return Response.json(200, self.simulator.requests.to_json())

    def clear_requests(self, request: Request, match: re.Match[str]) -> Response:
        cleared = len(self.simulator.requests)
        self.simulator.requests_clear()
        return Response.json(200, {"cleared": cleared})
