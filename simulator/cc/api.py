"""`ContactCenter` (`Simulator.cc`): the Contact Center tenants and their models, the OAuth client,
the realtime and historical endpoints, and the ground truth and controls tests use."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ..routing import Request, Router
from .auth import TOKEN_PATH, CcAuth, CcTokenStore
from .historical import HISTORICAL_PREFIX, HistoricalApi
from .http import CcError, bad_request
from .metric_keys import KINDS
from .metrics import RealtimeView
from .model import TenantModel
from .realtime import REALTIME_PREFIX, RealtimeApi
from .report_definition import Report, parse_definition
from .report_rows import compute_rows
from .tenants import (
    DEFAULT_TIME_ZONES,
    REGION_PREFIXES,
    CcRef,
    CcTenant,
    build_tenant,
    parse_tenants,
)

TENANT_HEADER = "X-Tenant-Info"
TENANT_MISSING = "Bad request: X-Tenant-Info header is missing."
TENANT_INVALID = "Bad request: Invalid value for X-Tenant-Info header."
FIRST_REPORT_ID = 2_710_192  # the guide's example id
_KIND_ALIASES = {"queue": "queues", "group": "groups", "agent": "agents"}


class ContactCenter:
    """Every Contact Center tenant of one API client (`client_id`/`client_secret`).

    A tenant's model is built on first use (most simulators never serve Contact Center), from
    the start time given here, so when it is built does not change what it contains.
    """

    def __init__(
        self,
        *,
        seed: int,
        tenants: Sequence[tuple[str, str]],
        clock: Callable[[], float],
        start_time: float,
        history_seconds: float,
        client_id: str,
        client_secret: str,
        token_ttl: int,
        report_delay_seconds: float,
        queues_per_tenant: int,
        groups_per_tenant: int,
        agents_per_tenant: int,
        root_url: Callable[[], str],
    ) -> None:
        if report_delay_seconds < 0:
            raise ValueError("cc_report_delay_seconds must be >= 0")
        if queues_per_tenant > 900 or groups_per_tenant > 900:
            raise ValueError("at most 900 queues and 900 groups per tenant")
        self.seed = seed
        self.clock = clock
        self.start_time = float(start_time)
        self.history_seconds = float(history_seconds)
        self.client_id = client_id
        self.client_secret = client_secret
        self.report_delay_seconds = float(report_delay_seconds)
        self._root_url = root_url
        self._tenants: dict[str, CcTenant] = {}
        for index, (tenant_id, region) in enumerate(parse_tenants(tenants)):
            self._tenants[tenant_id] = build_tenant(
                seed,
                tenant_id,
                region,
                DEFAULT_TIME_ZONES[index % len(DEFAULT_TIME_ZONES)],
                queues=queues_per_tenant,
                groups=groups_per_tenant,
                agents=agents_per_tenant,
            )
        self._models: dict[str, TenantModel] = {}
        self._models_lock = threading.Lock()
        self.tokens = CcTokenStore(seed=seed, ttl_seconds=token_ttl)
        self.auth = CcAuth(
            client_id=client_id, client_secret=client_secret, tokens=self.tokens, clock=clock
        )
        self._reports_lock = threading.Lock()
        self._reports: dict[int, Report] = {}
        self._report_ids = itertools.count(FIRST_REPORT_ID)
        self._fail_next = 0
        self._failing_tenants: set[str] = set()

    def register(self, router: Router) -> None:
        self.auth.register(router)
        RealtimeApi(self).register(router, self.auth.authenticate)
        HistoricalApi(self).register(router, self.auth.authenticate)

    # ----------------------------------------------------------------- ground truth
    @property
    def tenants(self) -> list[str]:
        """Tenant ids, in the order given."""
        return list(self._tenants)

    def tenant(self, tenant_id: str) -> CcTenant:
        """The configuration of a tenant (queues with their SLA settings, groups, agents)."""
        try:
            return self._tenants[tenant_id]
        except KeyError:
            raise KeyError(f"unknown Contact Center tenant {tenant_id!r}") from None

    def region_of(self, tenant_id: str) -> str:
        return self.tenant(tenant_id).region

    def time_zone_of(self, tenant_id: str) -> str:
        return self.tenant(tenant_id).time_zone

    def queues(self, tenant_id: str) -> list[CcRef]:
        return [CcRef(q.id, q.name) for q in self.tenant(tenant_id).queues]

    def groups(self, tenant_id: str) -> list[CcRef]:
        return [CcRef(g.id, g.name) for g in self.tenant(tenant_id).groups]

    def agents(self, tenant_id: str) -> list[CcRef]:
        return [CcRef(a.id, a.name) for a in self.tenant(tenant_id).agents]

    def realtime_urls(self, root: str) -> dict[str, dict[str, str]]:
        """Per region of the tenants: its realtime and historical base URLs under `root`."""
        regions = sorted(
            {t.region for t in self._tenants.values()}, key=list(REGION_PREFIXES).index
        )
        return {
            region: {
                "realtime": root + REGION_PREFIXES[region] + REALTIME_PREFIX,
                "historical": root + REGION_PREFIXES[region] + HISTORICAL_PREFIX,
            }
            for region in regions
        }

    def token_url(self, root: str) -> str:
        return root + TOKEN_PATH

    def model(self, tenant_id: str) -> TenantModel:
        """The tenant's live model (built on first use), advanced to the clock."""
        tenant = self.tenant(tenant_id)
        with self._models_lock:
            model = self._models.get(tenant_id)
            if model is None:
                model = self._models[tenant_id] = TenantModel(
                    tenant,
                    seed=self.seed,
                    start_time=self.start_time,
                    history_seconds=self.history_seconds,
                )
        model.advance(self.clock())
        return model

    def view(self, tenant_id: str, time_zone: str | None = None) -> RealtimeView:
        """Every realtime value now; `.today` from the local midnight of `time_zone` (default:
        the tenant's). Hold the model's lock while reading it for a consistent answer."""
        model = self.model(tenant_id)
        return RealtimeView(model, ZoneInfo(time_zone or self.tenant(tenant_id).time_zone))

    def realtime_values(
        self, tenant_id: str, kind: str, entity_id: str, timezone: str | None = None
    ) -> dict[str, Any]:
        """Exactly the metric key -> value a realtime call without `metrics` serves now for one
        queue, group or agent (kind: "queues", "groups", "agents", or singular)."""
        kind = _KIND_ALIASES.get(kind, kind)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        tenant = self.tenant(tenant_id)
        known = {
            "queues": set(tenant.queue_by_id),
            "groups": set(tenant.group_by_id),
            "agents": set(tenant.agent_by_id),
        }
        if entity_id not in known[kind]:
            raise KeyError(f"unknown {kind[:-1]} {entity_id!r} of tenant {tenant_id!r}")
        model = self.model(tenant_id)
        with model.lock:
            return self.view(tenant_id, timezone).values(kind, entity_id)

    def reports(self, tenant_id: str) -> dict[int, str]:
        """The tenant's reports so far: id -> status now, in creation order."""
        self.tenant(tenant_id)
        now = self.clock()
        with self._reports_lock:
            return {r.id: r.status(now) for r in self._reports.values() if r.tenant_id == tenant_id}

    def report(self, report_id: int) -> Report | None:
        with self._reports_lock:
            return self._reports.get(report_id)

    # ----------------------------------------------------------------- controls
    def fail_next_reports(self, count: int = 1) -> None:
        """The next `count` reports created (any tenant) end FAILED instead of DONE."""
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._reports_lock:
            self._fail_next = int(count)

    def fail_reports(self, tenant_id: str, on: bool = True) -> None:
        """While on, every report created for the tenant ends FAILED."""
        self.tenant(tenant_id)
        with self._reports_lock:
            if on:
                self._failing_tenants.add(tenant_id)
            else:
                self._failing_tenants.discard(tenant_id)

    def set_staffing(self, tenant_id: str, queue_id: str, available_agents: int | None) -> None:
        """From now on only the queue's first `available_agents` agents take its interactions
        (and count in its `.rt` agent metrics); 0 makes it breach its service level. None
        restores every assigned agent."""
        if queue_id not in self.tenant(tenant_id).queue_by_id:
            raise KeyError(f"unknown queue {queue_id!r} of tenant {tenant_id!r}")
        self.model(tenant_id).set_staffing(queue_id, available_agents)

    def set_arrival_rate(self, tenant_id: str, queue_id: str, per_hour: float | None) -> None:
        """Interactions arrive at the queue at a constant `per_hour` from now on (with
        `set_staffing(..., 0)`: callers keep arriving and nobody answers); None restores the
        queue's daily rhythm."""
        if queue_id not in self.tenant(tenant_id).queue_by_id:
            raise KeyError(f"unknown queue {queue_id!r} of tenant {tenant_id!r}")
        self.model(tenant_id).set_arrival_rate(queue_id, per_hour)

    def expire_tokens(self) -> int:
        return self.tokens.expire_all()

    # ----------------------------------------------------------------- for the handlers
    def root_url_fallback(self) -> str:
        return self._root_url()

    def resolve_tenant(self, request: Request, match: re.Match[str]) -> CcTenant:
        """The tenant a request is for, by its region path and X-Tenant-Info header, as the
        guide's "Multitenancy support" describes; raises the 400 otherwise."""
        region = (match["region"] or "/us")[1:]
        header = (request.headers.get(TENANT_HEADER) or "").strip()
        if not header:
            if len(self._tenants) > 1:
                raise bad_request(TENANT_MISSING)
            (tenant,) = self._tenants.values()
            if tenant.region != region:
                raise CcError(
                    403, f"Forbidden: the client has no Contact Center tenant in region [{region}]."
                )
            return tenant
        named = self._tenants.get(header)
        if named is None or named.region != region:
            raise bad_request(TENANT_INVALID)
        return named

    def request_zone(self, request: Request, tenant: CcTenant) -> str:
        name = (request.query.get("timezone") or "").strip()
        if not name:
            return tenant.time_zone
        try:
            ZoneInfo(name)
        except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys
            raise bad_request(f"Bad request: invalid timezone [{name}].") from None
        return name

    def create_report(self, tenant: CcTenant, body: Any) -> Report:
        definition = parse_definition(body, tenant)
        now = self.clock()
        with self._reports_lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                reason: str | None = "Report generation failed (simulated by fail_next_reports)."
            elif tenant.id in self._failing_tenants:
                reason = "Report generation failed (simulated by fail_reports)."
            else:
                reason = None
            report_id = next(self._report_ids)
        rows = None
        if reason is None:
            model = self.model(tenant.id)
            with model.lock:
                rows = compute_rows(definition, model)
        report = Report(
            report_id, tenant.id, definition, now, now + self.report_delay_seconds, reason, rows
        )
        with self._reports_lock:
            self._reports[report_id] = report
        return report

    def state(self) -> dict[str, Any]:
        """The admin view (`GET /_sim/state`): tenants, their entities and live statuses."""
        tenants: list[dict[str, Any]] = []
        for tenant in self._tenants.values():
            model = self.model(tenant.id)
            with model.lock:
                snapshots = model.agent_snapshots()
                waiting = {q.id: len(model.waiting(q.id)) for q in tenant.queues}
                enabled = {q.id: model.enabled_agent_ids(q.id) for q in tenant.queues}
            tenants.append(
                {
                    "id": tenant.id,
                    "region": tenant.region,
                    "time_zone": tenant.time_zone,
                    "queues": [
                        {
                            "id": q.id,
                            "name": q.name,
                            "media": list(q.media),
                            "agent_ids": list(q.agent_ids),
                            "enabled_agent_ids": enabled[q.id],
                            "waiting": waiting[q.id],
                            "sla_target_percent": q.sla_target_percent,
                            "sla_threshold_seconds": q.sla_threshold_seconds,
                        }
                        for q in tenant.queues
                    ],
                    "groups": [
                        {"id": g.id, "name": g.name, "agent_ids": list(g.agent_ids)}
                        for g in tenant.groups
                    ],
                    "agents": [
                        {
                            "id": a.id,
                            "name": a.name,
                            "group_id": a.group_id,
                            "queue_ids": list(a.queue_ids),
                            "status": snapshots[a.id].status.value,
                            "status_code": snapshots[a.id].status_code,
                        }
                        for a in tenant.agents
                    ],
                    "reports": {str(k): v for k, v in self.reports(tenant.id).items()},
                }
            )
        return {
            "client_id": self.client_id,
            "report_delay_seconds": self.report_delay_seconds,
            "tenants": tenants,
        }
