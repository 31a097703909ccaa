"""The 8x8 Work Analytics API under /analytics/work: its OAuth token endpoint and the check of
every call's credentials, with the Customer Data (customer_data.py) and call-queue metrics
(call_queue_metrics.py) endpoints behind it. The historical endpoints are historical.py."""

from __future__ import annotations

import re
from collections.abc import Callable

from . import vendor_errors
from .agent_activity import AgentActivityApi
from .aggregated_calls import AggregatedCallsApi
from .auth import TokenCheck, TokenStore
from .call_queue_metrics import CallQueueMetricsApi
from .customer_data import CustomerDataApi
from .directory import Account
from .model import QueueingModel
from .routing import Request, Response, Router
from .work_analytics_requests import WORK_ANALYTICS_PREFIX, WorkAnalyticsSettings


class WorkAnalyticsApi:
    """Handlers of the Work Analytics API (base URL https://api.8x8.com/analytics/work)."""

    def __init__(
        self,
        *,
        account: Account,
        model: QueueingModel,
        tokens: TokenStore,
        clock: Callable[[], float],
        settings: WorkAnalyticsSettings,
        root_url: Callable[[Request], str],
    ) -> None:
        self.account = account
        self.model = model
        self.tokens = tokens
        self.clock = clock
        self.settings = settings
        self.customer_data = CustomerDataApi(
            account=account, clock=clock, settings=settings, root_url=root_url
        )
        self.call_queue_metrics = CallQueueMetricsApi(
            account=account, model=model, clock=clock, settings=settings
        )
        self.aggregated_calls = AggregatedCallsApi(
            account=account, model=model, clock=clock, settings=settings
        )
        self.agent_activity = AgentActivityApi(
            account=account,
            model=model,
            clock=clock,
            settings=settings,
            report_window=self.call_queue_metrics.report_window,
        )

    def register(self, router: Router) -> None:
        router.add("POST", re.escape(WORK_ANALYTICS_PREFIX) + r"/v1/oauth/token", self.issue_token)
        self.customer_data.register(router, self.authenticate)
        self.call_queue_metrics.register(router, self.authenticate)
        self.aggregated_calls.register(router, self.authenticate)
        self.agent_activity.register(router, self.authenticate)

    def issue_token(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("8x8-apikey") != self.settings.api_key:
            return vendor_errors.invalid_api_key()
        form = request.form()
        if (
            form.get("username") != self.settings.username
            or form.get("password") != self.settings.password
        ):
            return vendor_errors.invalid_grant()
        token = self.tokens.issue(self.settings.username, self.clock())
        # expires_in is an integer here; the Contact Center token API sends a string instead.
        return Response.json(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": self.tokens.ttl_seconds},
        )

    def authenticate(self, request: Request) -> Response | None:
        """Both headers are required: the API key first (400), then the bearer token (401)."""
        if request.headers.get("8x8-apikey") != self.settings.api_key:
            return vendor_errors.invalid_api_key()
        scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return vendor_errors.token_unreadable()
        check = self.tokens.check(token, self.clock())
        if check is TokenCheck.UNKNOWN:
            return vendor_errors.token_unreadable()
        if check is TokenCheck.EXPIRED:
            return vendor_errors.token_expired(token)
        return None
