"""The Contact Center realtime metrics API (v5): `/queues`, `/groups`, `/agents` (pages of
`{id, name, metrics: [{key, value}]}`), one queue or group, and the agents of a queue or group."""

from __future__ import annotations

import re
from typing import Any, Protocol

from ..routing import AuthCheck, Request, Response, Router
from .http import (
    REGION_PATTERN,
    absolute_root,
    answers,
    bad_request,
    boolean_parameter,
    integer_parameter,
    not_found,
    page_headers,
    page_slice,
    query_list,
)
from .metric_keys import resolve_key
from .metrics import RealtimeView
from .model import TenantModel
from .tenants import CcTenant

REALTIME_PREFIX = "/analytics/cc/v5/realtime-metrics"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
QUEUE_AGENTS_PAGE_SIZE = 10  # the spec's default for /queues/{queueId}/agents


class RealtimeBackend(Protocol):
    """What the realtime handlers need of `ContactCenter`: the tenant a request is for, its
    time zone, the live model and its values now."""

    def resolve_tenant(self, request: Request, match: re.Match[str]) -> CcTenant: ...

    def request_zone(self, request: Request, tenant: CcTenant) -> str: ...

    def root_url_fallback(self) -> str: ...

    def model(self, tenant_id: str) -> TenantModel: ...

    def view(self, tenant_id: str, time_zone: str | None = None) -> RealtimeView: ...


class RealtimeApi:
    def __init__(self, cc: RealtimeBackend) -> None:
        self.cc = cc

    def register(self, router: Router, auth: AuthCheck) -> None:
        base = REGION_PATTERN + re.escape(REALTIME_PREFIX)
        entity = r"(?P<id>[^/]+)"
        router.add("GET", base + r"/queues/?", self.list_queues, auth=auth)
        router.add("GET", base + r"/queues/" + entity + r"/?", self.one_queue, auth=auth)
        router.add("GET", base + r"/queues/" + entity + r"/agents/?", self.queue_agents, auth=auth)
        router.add("GET", base + r"/groups/?", self.list_groups, auth=auth)
        router.add("GET", base + r"/groups/" + entity + r"/?", self.one_group, auth=auth)
        router.add("GET", base + r"/groups/" + entity + r"/agents/?", self.group_agents, auth=auth)
        router.add("GET", base + r"/agents/?", self.list_agents, auth=auth)

    # ----------------------------------------------------------------- handlers
    @answers
    def list_queues(self, request: Request, match: re.Match[str]) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        ids = self._filtered([q.id for q in tenant.queues], request, "queue-ids")
        return self._page(request, tenant, "queues", ids, DEFAULT_PAGE_SIZE)

    @answers
    def list_groups(self, request: Request, match: re.Match[str]) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        ids = self._filtered([g.id for g in tenant.groups], request, "group-ids")
        return self._page(request, tenant, "groups", ids, DEFAULT_PAGE_SIZE)

    @answers
    def list_agents(self, request: Request, match: re.Match[str]) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        ids = [a.id for a in tenant.agents]
        if not boolean_parameter(request, "summary"):
            groups = query_list(request, "group-ids")
            if groups is not None:
                ids = [i for i in ids if tenant.agent_by_id[i].group_id in groups]
            ids = self._filtered(ids, request, "agent-ids")
        return self._page(request, tenant, "agents", ids, DEFAULT_PAGE_SIZE)

    @answers
    def queue_agents(self, request: Request, match: re.Match[str]) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        queue = tenant.queue_by_id.get(match["id"])
        if queue is None:
            raise not_found(f"Not found: queue [{match['id']}].")
        ids = self._filtered(list(queue.agent_ids), request, "agent-ids")
        return self._page(request, tenant, "agents", ids, QUEUE_AGENTS_PAGE_SIZE)

    @answers
    def group_agents(self, request: Request, match: re.Match[str]) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        group = tenant.group_by_id.get(match["id"])
        if group is None:
            raise not_found(f"Not found: group [{match['id']}].")
        ids = self._filtered(list(group.agent_ids), request, "agent-ids")
        return self._page(request, tenant, "agents", ids, DEFAULT_PAGE_SIZE)

    @answers
    def one_queue(self, request: Request, match: re.Match[str]) -> Response:
        return self._one(request, match, "queues")

    @answers
    def one_group(self, request: Request, match: re.Match[str]) -> Response:
        return self._one(request, match, "groups")

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _filtered(ids: list[str], request: Request, parameter: str) -> list[str]:
        if boolean_parameter(request, "summary"):
            return ids  # "If this parameter is set to TRUE, ... ids and metrics parameters are ignored."
        wanted = query_list(request, parameter)
        return ids if wanted is None else [i for i in ids if i in wanted]

    def _one(self, request: Request, match: re.Match[str], kind: str) -> Response:
        tenant = self.cc.resolve_tenant(request, match)
        entity_id = match["id"]
        known = tenant.queue_by_id if kind == "queues" else tenant.group_by_id
        if entity_id not in known:
            raise not_found(f"Not found: {kind[:-1]} [{entity_id}].")
        zone = self.cc.request_zone(request, tenant)
        keys = requested_keys(request, kind)
        return Response.json(
            200, self._items(tenant, kind, [entity_id], keys, zone, summary=False)[0]
        )

    def _page(
        self, request: Request, tenant: CcTenant, kind: str, ids: list[str], default_size: int
    ) -> Response:
        page = integer_parameter(request, "page", 0, 0)
        size = integer_parameter(request, "size", default_size, 1, MAX_PAGE_SIZE)
        summary = boolean_parameter(request, "summary")
        zone = self.cc.request_zone(request, tenant)
        keys = None if summary else requested_keys(request, kind)
        chosen = ids[page_slice(ids, page, size)]
        items = self._items(tenant, kind, chosen, keys, zone, summary=summary)
        headers = page_headers(
            request, absolute_root(request, self.cc.root_url_fallback()), page, size, len(ids)
        )
        return Response.json(200, items, headers)

    def _items(
        self,
        tenant: CcTenant,
        kind: str,
        ids: list[str],
        keys: list[tuple[str, str]] | None,
        zone: str,
        *,
        summary: bool,
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        view: RealtimeView | None = None
        model = self.cc.model(tenant.id) if not summary and ids else None
        with model.lock if model is not None else _nothing():
            if model is not None:
                view = self.cc.view(tenant.id, zone)
            for entity_id in ids:
                item = _entity_json(tenant, kind, entity_id)
                if view is not None:
                    served = tuple(key for _, key in keys) if keys is not None else None
                    values = view.values(kind, entity_id, served)
                    if keys is None:
                        item["metrics"] = [
                            {"key": key, "value": value} for key, value in values.items()
                        ]
                    else:
                        item["metrics"] = [
                            {"key": asked, "value": values[key]} for asked, key in keys
                        ]
                items.append(item)
        return items


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def requested_keys(request: Request, kind: str) -> list[tuple[str, str]] | None:
    """(asked, served) keys of the `metrics` parameter in order, or None for every metric.
    Raises 400 for a key the simulator does not know for this entity."""
    asked = query_list(request, "metrics")
    if not asked:  # absent (or empty): every metric
        return None
    keys: list[tuple[str, str]] = []
    for key in asked:
        served = resolve_key(kind, key)
        if served is None:
            raise bad_request(f"Unknown metric: {key}")
        keys.append((key, served))
    return keys


def _entity_json(tenant: CcTenant, kind: str, entity_id: str) -> dict[str, Any]:
    if kind == "queues":
        return {"id": entity_id, "name": tenant.queue_by_id[entity_id].name}
    if kind == "groups":
        return {"id": entity_id, "name": tenant.group_by_id[entity_id].name}
    agent = tenant.agent_by_id[entity_id]
    group = tenant.group_by_id[agent.group_id]
    return {"id": agent.id, "name": agent.name, "groupId": group.id, "groupName": group.name}
