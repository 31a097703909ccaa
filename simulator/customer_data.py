"""The Customer Data endpoints of Work Analytics: PBXes, sites, call queues and agents as
Spring-HATEOAS pages (`_embedded`, `_links`, `page`), sortable as the spec allows."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from .directory import Account, Agent, CallQueue, Pbx, Site
from .routing import AuthCheck, Request, Response, Router
from .work_analytics_requests import (
    MAX_PAGE_SIZE,
    WORK_ANALYTICS_PREFIX,
    BadRequest,
    WorkAnalyticsEndpoints,
    WorkAnalyticsSettings,
)


class CustomerDataApi(WorkAnalyticsEndpoints):
    """Handlers of `/v2/pbxes`, `/sites`, `/queues` and `/agents`."""

    def __init__(
        self,
        *,
        account: Account,
        clock: Callable[[], float],
        settings: WorkAnalyticsSettings,
        root_url: Callable[[Request], str],
    ) -> None:
        super().__init__(account=account, clock=clock, settings=settings)
        self._root_url = root_url

    def register(self, router: Router, auth: AuthCheck) -> None:
        base = re.escape(WORK_ANALYTICS_PREFIX)
        pbx = r"/v2/pbxes/(?P<pbx_id>[^/]+)"
        router.add("GET", base + r"/v2/pbxes/?", self.list_pbxes, auth=auth)
        router.add("GET", base + pbx + r"/sites/?", self.list_sites, auth=auth)
        router.add(
            "GET",
            base + pbx + r"/sites/(?P<site_id>[^/]+)/queues/?",
            self.list_site_queues,
            auth=auth,
        )
        router.add("GET", base + pbx + r"/queues/?", self.list_pbx_queues, auth=auth)
        router.add("GET", base + pbx + r"/agents/?", self.list_agents, auth=auth)

    def list_pbxes(self, request: Request, match: re.Match[str]) -> Response:
        return self._paged(
            request,
            self.account.pbxes,
            "pbxList",
            self._pbx_json,
            {"name": lambda p: p.name.lower()},
        )

    def list_sites(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self.pbx(match)
        if pbx is None:
            return self.error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        return self._paged(
            request, pbx.sites, "siteList", self._site_json, {"name": lambda s: s.name.lower()}
        )

    def list_site_queues(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self.pbx(match)
        if pbx is None:
            return self.error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        site_id = unquote(match["site_id"])
        site = next((s for s in pbx.sites if s.id == site_id), None)
        if site is None:
            return self.error(request, 404, f"Site [{site_id}] not found for pbx [{pbx.id}].")
        return self._paged(
            request, site.queues, "queueList", self._queue_json, self._queue_sort_keys()
        )

    def list_pbx_queues(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self.pbx(match)
        if pbx is None:
            return self.error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        queues = [queue for site in pbx.sites for queue in site.queues]
        return self._paged(request, queues, "queueList", self._queue_json, self._queue_sort_keys())

    def list_agents(self, request: Request, match: re.Match[str]) -> Response:
        pbx = self.pbx(match)
        if pbx is None:
            return self.error(request, 404, f"Pbx [{unquote(match['pbx_id'])}] not found.")
        sort_keys: dict[str, Callable[[Any], Any]] = {
            "name": lambda a: (a.first_name.lower(), a.last_name.lower()),
            "firstName": lambda a: a.first_name.lower(),
            "lastName": lambda a: a.last_name.lower(),
            "extension": lambda a: int(a.extension),
        }
        return self._paged(
            request, pbx.agents, self.settings.agents_list_key, self._agent_json, sort_keys
        )

    def _queue_sort_keys(self) -> dict[str, Callable[[Any], Any]]:
        # "Queues can be sorted also by extension."
        return {
            "name": lambda q: q.name.lower(),
            "extension": lambda q: int(q.extension),
            "extensionNumber": lambda q: int(q.extension),
        }

    @staticmethod
    def _pbx_json(pbx: Pbx) -> dict[str, Any]:
        return {"id": pbx.id, "name": pbx.name, "deleted": pbx.deleted}

    @staticmethod
    def _site_json(site: Site) -> dict[str, Any]:
        return {"id": site.id, "pbxId": site.pbx_id, "name": site.name, "deleted": site.deleted}

    def _queue_json(self, queue: CallQueue) -> dict[str, Any]:
        return {
            "id": queue.id,
            "pbxId": queue.pbx_id,
            "siteId": queue.site_id,
            self.settings.queue_extension_key: queue.extension,
            "name": queue.name,
            "deleted": queue.deleted,
        }

    @staticmethod
    def _agent_json(agent: Agent) -> dict[str, Any]:
        return {
            "id": agent.id,
            "pbxId": agent.pbx_id,
            "siteId": agent.site_id,
            "firstName": agent.first_name,
            "lastName": agent.last_name,
            "extension": agent.extension,
            "deleted": agent.deleted,
        }

    def _paged(
        self,
        request: Request,
        items: list[Any],
        list_key: str,
        to_json: Callable[[Any], dict[str, Any]],
        sort_keys: dict[str, Callable[[Any], Any]],
    ) -> Response:
        """A Spring-HATEOAS style page: _embedded list, _links, page metadata."""
        try:
            page = self._int_param(request, "page", 0, minimum=0)
            size = self._int_param(
                request, "size", self.settings.page_size_default, minimum=1, maximum=MAX_PAGE_SIZE
            )
            sort = request.query.get("sort") or None
            ordered = self._sorted(items, sort, sort_keys)
        except BadRequest as error:
            return self.error(request, 400, *error.messages)
        total = len(ordered)
        total_pages = math.ceil(total / size)
        chunk = ordered[page * size : (page + 1) * size]
        base = self._root_url(request) + request.path

        def href(number: int) -> dict[str, str]:
            query = f"page={number}&size={size}" + (
                f"&sort={quote(sort, safe=',')}" if sort else ""
            )
            return {"href": f"{base}?{query}"}

        links: dict[str, dict[str, str]] = {"first": href(0)}
        if page > 0:
            links["prev"] = href(min(page - 1, max(total_pages - 1, 0)))
        links["self"] = href(page)
        if page + 1 < total_pages:
            links["next"] = href(page + 1)
        links["last"] = href(max(total_pages - 1, 0))
        return Response.json(
            200,
            {
                "_embedded": {list_key: [to_json(item) for item in chunk]},
                "_links": links,
                "page": {
                    "size": size,
                    "totalElements": total,
                    "totalPages": total_pages,
                    "number": page,
                },
            },
        )

    @staticmethod
    def _int_param(
        request: Request, name: str, default: int, *, minimum: int, maximum: int | None = None
    ) -> int:
        raw = request.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(
                f"Invalid value [{raw}] for parameter [{name}]: expected an integer."
            ) from None
        if value < minimum:
            raise BadRequest(f"Parameter [{name}] must be greater than or equal to {minimum}.")
        if maximum is not None and value > maximum:
            raise BadRequest(f"Parameter [{name}] must be less than or equal to {maximum}.")
        return value

    @staticmethod
    def _sorted(
        items: list[Any], sort: str | None, sort_keys: dict[str, Callable[[Any], Any]]
    ) -> list[Any]:
        if not sort:
            return list(items)
        field, _, direction = sort.partition(",")
        field = field.strip()
        direction = direction.strip().upper() or "ASC"
        if field not in sort_keys:
            raise BadRequest(
                f"Invalid sort property [{field}]; supported: {', '.join(sorted(sort_keys))}."
            )
        if direction not in ("ASC", "DESC"):
            raise BadRequest(f"Invalid sort direction [{direction}]; supported: ASC, DESC.")
        return sorted(items, key=sort_keys[field], reverse=direction == "DESC")
