"""`Simulator`: the account, the live model, the HTTP server and the test controls in one object."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from . import vendor_errors
from .admin import ADMIN_PREFIX, AdminApi
from .auth import TokenStore
from .cc import ContactCenter, MultiValueQueryHandler
from .directory import Account, Pbx
from .directory_generator import build_account
from .faults import FaultInjector, FaultRule
from .historical import HistoricalApi
from .historical_params import VENDOR_RETENTION_SECONDS, HistoricalSettings
from .metrics import DurationUnit
from .model import QueueingModel
from .requestlog import RecordedRequest, RequestLog
from .routing import Request, Response, Router
from .server import Delivery, FaultedResponse, SimulatorHTTPServer
from .work_analytics import WorkAnalyticsApi
from .work_analytics_requests import MAX_PAGE_SIZE, WORK_ANALYTICS_PREFIX, WorkAnalyticsSettings

Clock = Callable[[], float]


class Simulator:
    """An embedded, deterministic stand-in for the api.8x8.com analytics host.

    Same seed + same clock readings => same answers. Serves Work Analytics under
    /analytics/work: Customer Data, call-queue metrics and the historical endpoints (summaries,
    call legs and records), all from one live `model` with `history_seconds` of calls before
    the start. Serves Contact Center (`cc`: OAuth `/oauth/v2/token`, realtime v5, historical
    reports v8, per region and tenant) from one model per `cc_tenants` entry, with the same
    history length (at least since the tenant's local midnight).
    """

    def __init__(
        self,
        seed: int = 42,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "sim-api-key",
        username: str = "supervisor@example.com",
        password: str = "sim-password",
        token_ttl: int = 1800,
        clock: Clock | None = None,
        pbxes: int = 2,
        sites_per_pbx: int = 2,
        queues_per_site: int = 3,
        agents_per_queue: int = 6,
        page_size_default: int = 50,
        cq_duration_unit: DurationUnit | str = DurationUnit.SECONDS,
        agents_list_key: str = "queueList",
        queue_extension_key: str = "extensionNumber",
        diverted_metric_name: str = "diverted",
        cq_extension_type: str = "string",
        agent_activity_shape: str = "schema",
        history_seconds: float = 3600.0,
        history_retention_seconds: float | None = None,
        cdr_delay_seconds: float = 0.0,
        vendor_retention_seconds: float = VENDOR_RETENTION_SECONDS,
        request_log_limit: int = 10_000,
        cc_tenants: Sequence[tuple[str, str]] = (("acme-sales", "us"), ("acme-support", "us")),
        cc_client_id: str = "sim-cc-client",
        cc_client_secret: str = "sim-cc-secret",
        cc_token_ttl: int = 1800,
        cc_report_delay_seconds: float = 3.0,
        cc_queues_per_tenant: int = 4,
        cc_groups_per_tenant: int = 2,
        cc_agents_per_tenant: int = 12,
    ) -> None:
        if not 1 <= page_size_default <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size_default must be within 1..{MAX_PAGE_SIZE}")
        if token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if diverted_metric_name not in ("diverted", "divertedCalls"):
            raise ValueError(
                'diverted_metric_name must be "diverted" (spec) or "divertedCalls" (guide)'
            )
        if cq_extension_type not in ("string", "integer"):
            raise ValueError(
                'cq_extension_type must be "string" (schema) or "integer" (spec example)'
            )
        if agent_activity_shape not in ("schema", "example"):
            raise ValueError('agent_activity_shape must be "schema" or "example"')
        self.seed = seed
        self.host = host
        self.port = port
        self.api_key = api_key
        self.username = username
        self.password = password
        self.token_ttl = int(token_ttl)
        self.clock: Clock = clock if clock is not None else time.time
        self.cq_duration_unit = DurationUnit(cq_duration_unit)
        self.account: Account = build_account(
            seed,
            pbxes=pbxes,
            sites_per_pbx=sites_per_pbx,
            queues_per_site=queues_per_site,
            agents_per_queue=agents_per_queue,
        )
        self.model = QueueingModel(
            self.account,
            seed=seed,
            start_time=self.clock(),
            history_seconds=history_seconds,
            history_retention_seconds=history_retention_seconds,
        )
        self.tokens = TokenStore(seed=seed, ttl_seconds=self.token_ttl)
        self.faults = FaultInjector()
        self.requests = RequestLog(request_log_limit)
        self.router = Router(not_found=self._not_found, method_not_allowed=self._method_not_allowed)
        self.work_analytics = WorkAnalyticsApi(
            account=self.account,
            model=self.model,
            tokens=self.tokens,
            clock=self.clock,
            settings=WorkAnalyticsSettings(
                api_key=api_key,
                username=username,
                password=password,
                page_size_default=page_size_default,
                cq_duration_unit=self.cq_duration_unit,
                agents_list_key=agents_list_key,
                queue_extension_key=queue_extension_key,
                diverted_metric_name=diverted_metric_name,
                cq_extension_type=cq_extension_type,
                agent_activity_shape=agent_activity_shape,
            ),
            root_url=self._link_root,
        )
        self.work_analytics.register(self.router)
        self.historical = HistoricalApi(
            account=self.account,
            model=self.model,
            clock=self.clock,
            authenticate=self.work_analytics.authenticate,
            seed=seed,
            settings=HistoricalSettings(
                cdr_delay_seconds=cdr_delay_seconds, retention_seconds=vendor_retention_seconds
            ),
        )
        self.historical.register(self.router)
        self.cc_client_id = cc_client_id
        self.cc_client_secret = cc_client_secret
        self.cc = ContactCenter(
            seed=seed,
            tenants=cc_tenants,
            clock=self.clock,
            start_time=self.model.now,  # the same start as the Work Analytics model
            history_seconds=history_seconds,
            client_id=cc_client_id,
            client_secret=cc_client_secret,
            token_ttl=cc_token_ttl,
            report_delay_seconds=cc_report_delay_seconds,
            queues_per_tenant=cc_queues_per_tenant,
            groups_per_tenant=cc_groups_per_tenant,
            agents_per_tenant=cc_agents_per_tenant,
            root_url=lambda: self.root_url,
        )
        self.cc.register(self.router)
        AdminApi(self).register(self.router)
        self._lifecycle_lock = threading.Lock()
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._bound: tuple[str, int] | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Simulator:
        """Serve HTTP in a daemon thread; returns self. Starting twice is a no-op."""
        with self._lifecycle_lock:
            if self._server is not None:
                return self
            server = SimulatorHTTPServer((self.host, self.port), self.handle, self.clock)
            # Keeps the raw query for the handlers that take repeated parameters (CC `metrics`).
            server.RequestHandlerClass = MultiValueQueryHandler
            host, port = server.server_address[:2]
            self._bound = (str(host), int(port))
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.01},  # stop() waits up to one interval
                name=f"8x8-simulator-{port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
            return self

    def stop(self) -> None:
        """Shut the server down and join its thread; idempotent."""
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def root_url(self) -> str:
        """http://host:port of the emulated api.8x8.com host."""
        if self._bound is None:
            raise RuntimeError("the simulator is not started: call start() first")
        host, port = self._bound
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The Work Analytics base URL (https://api.8x8.com/analytics/work on the real host)."""
        return self.root_url + WORK_ANALYTICS_PREFIX

    # ----------------------------------------------------------------- controls for tests
    @property
    def directory(self) -> list[Pbx]:
        """Ground truth: every PBX with its sites, queues (and members) and agents."""
        return self.account.pbxes

    def expire_tokens(self) -> int:
        """Every token issued so far (Work Analytics and Contact Center) becomes expired (the next
        call with it gets a 401); returns how many."""
        return self.tokens.expire_all() + self.cc.expire_tokens()

    def requests_clear(self) -> None:
        self.requests.clear()

    # ----------------------------------------------------------------- the application
    def handle(self, request: Request) -> Response:
        """Answer one request: log it, apply a matching fault, route it."""
        is_admin = request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")
        rule: FaultRule | None = None
        if not is_admin:  # the admin interface is never logged nor faulted
            self.requests.append(
                RecordedRequest(request.method, request.path, dict(request.query), request.headers)
            )
            rule = self.faults.take(request.path, request.query)
        if rule is None:
            return self.router.dispatch(request)
        if rule.delay > 0:
            time.sleep(rule.delay)  # real time on purpose: this is network latency for clients
        if rule.drop is not None:  # no answer at all: the server only closes the connection
            return FaultedResponse(0, delivery=Delivery(drop=rule.drop))
        if rule.empty:
            response = Response(rule.status or 200, b"", {"Content-Type": "application/json"})
        elif rule.status is not None and not rule.malformed:
            response = self._fault_response(request, rule)
        else:
            response = self.router.dispatch(request)
        if rule.malformed:
            # Any proper prefix of a JSON object is invalid JSON: cut the real answer in half.
            truncated = (
                response.body[: max(1, len(response.body) // 2)]
                if response.body
                else b'{"callQueues":['
            )
            response = Response(rule.status or 200, truncated, {"Content-Type": "application/json"})
        if rule.headers:
            response.headers.update(rule.headers)
        streamed = rule.oversize_bytes is not None or rule.trickle_bytes_per_second is not None
        if rule.truncate or streamed:
            padding = max(0, (rule.oversize_bytes or 0) - len(response.body))
            delivery = Delivery(
                truncate=rule.truncate,
                padding=padding,
                trickle_bytes_per_second=rule.trickle_bytes_per_second,
                on_hang_up=functools.partial(self.faults.record_hang_up, rule),
            )
            response = FaultedResponse(response.status, response.body, response.headers, delivery)
        return response

    def _fault_response(self, request: Request, rule: FaultRule) -> Response:
        assert rule.status is not None
        if rule.body is None:
            response = vendor_errors.error_response(
                rule.status, [vendor_errors.reason(rule.status)], request.path, self.clock()
            )
        elif isinstance(rule.body, str):
            response = Response.text(rule.status, rule.body)
        else:
            response = Response.json(rule.status, rule.body)
        response.headers.update(rule.headers)
        return response

    def _link_root(self, request: Request) -> str:
        # Absolute HAL links point where the client connected (Host header), like the real API.
        return f"http://{request.host}" if request.host else self.root_url

    def _not_found(self, request: Request) -> Response:
        return vendor_errors.error_response(
            404, [f"No endpoint {request.method} {request.path}."], request.path, self.clock()
        )

    def _method_not_allowed(self, request: Request, allowed: list[str]) -> Response:
        return vendor_errors.error_response(
            405,
            [f"Request method '{request.method}' is not supported."],
            request.path,
            self.clock(),
            {"Allow": ", ".join(sorted(set(allowed)))},
        )
