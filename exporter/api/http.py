"""Plumbing every 8x8 API client shares: timeouts, retries with backoff, error mapping, counters."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import requests
import tenacity
import urllib3

from exporter import __version__
from exporter.api.budget import RequestBudget, stop_aware_sleep
from exporter.api.clock import ApiClock
from exporter.api.http_errors import error_for_status
from exporter.api.json_answers import json_text, parse_json
from exporter.api.request_stats import (
    MALFORMED_ANSWER,
    TRANSPORT_FAILURE,
    RequestStats,
    failure_code,
)
from exporter.api.sessions import LeanSender, api_session
from exporter.core.errors import (
    ApiError,
    MalformedResponseError,
    TransportError,
    UnauthorizedError,
)
from exporter.core.heartbeat import beat, run_stopped
from exporter.core.logs import get_logger

USER_AGENT = f"eightbyeight-exporter/{__version__}"

log = get_logger(__name__)
# A query as requests takes it: a mapping, or pairs where a key repeats (page and size twice).
QueryParams = Mapping[str, Any] | Sequence[tuple[str, str]]


class Answer(NamedTuple):
    """A decoded JSON body with the answer's headers (paging and links live there)."""

    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 4
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    # A slow trickle or a huge answer ends the request instead of holding the poller.
    total_timeout: float = 120.0
    max_response_bytes: int = 16 * 1024 * 1024


class HttpClient:
    """Sends requests with timeouts, bounded retries (backoff, jitter, Retry-After) and counters.

    Retries cover 429, 5xx and transport errors; every attempt is counted. `sleep` and `rng` are
    injectable so tests run without waiting. `api_clock`, when given, reads the Date header of
    every answer, an error's too.
    """

    def __init__(
        self,
        api: str,
        base_url: str,
        settings: HttpSettings,
        stats: RequestStats,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        budget: RequestBudget | None = None,
        api_clock: ApiClock | None = None,
    ) -> None:
        self.api = api
        self.budget = budget
        self.api_clock = api_clock
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.stats = stats
        self.session = session or api_session(self.base_url)
        self.session.headers["User-Agent"] = USER_AGENT
        self._sender = LeanSender(self.session, self.base_url)
        self._sleep = sleep if sleep is not None else stop_aware_sleep(budget)
        self._rng = rng or random.Random()

    def close(self) -> None:
        self.session.close()

    def _backoff(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            return exc.retry_after
        # Full jitter (AWS architecture blog): spreads the retries of many pollers apart.
        ceiling = min(
            self.settings.max_backoff,
            self.settings.initial_backoff * 2 ** (retry_state.attempt_number - 1),
        )
        return self._rng.uniform(0, ceiling)

    def _should_retry(self, exc: BaseException) -> bool:
        if not isinstance(exc, ApiError) or not exc.retryable:
            return False
        # A server asking for a longer pause than we accept fails this collection instead of
        # stalling it; the next scheduled run tries again.
        return exc.retry_after is None or exc.retry_after <= self.settings.max_retry_after

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else None
        log.warning(
            "api_request_retry",
            api=self.api,
            endpoint=getattr(exc, "endpoint", None),
            attempt=retry_state.attempt_number,
            wait_seconds=round(wait or 0, 3),
            error=str(exc),
        )

    def request(
        self,
        method: str,
        endpoint: str,
        path: str,
        *,
        params: QueryParams | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Callable[[], Mapping[str, str]] | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
    ) -> Any:
        """Send one logical request and return its decoded JSON body (see `exchange`)."""
        return self.exchange(
            method,
            endpoint,
            path,
            params=params,
            data=data,
            json_body=json_body,
            headers=headers,
            on_unauthorized=on_unauthorized,
        ).body

    def exchange(
        self,
        method: str,
        endpoint: str,
        path: str,
        *,
        params: QueryParams | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Callable[[], Mapping[str, str]] | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
    ) -> Answer:
        """Send one logical request and return its decoded JSON body with the headers.

        `headers` is called before every attempt (a token may have been renewed meanwhile).
        `on_unauthorized`, when given, is called once on a 401; if it returns True the request is
        sent once more with fresh headers (the token was renewed).
        """
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.settings.max_attempts),
            wait=self._backoff,
            retry=tenacity.retry_if_exception(self._should_retry),
            before_sleep=self._log_retry,
            sleep=self._sleep,
            reraise=True,
        )
        send = (method, endpoint, path, params, data, json_body, headers)
        for attempt in retrying:
            with attempt:
                try:
                    return self._send(*send)
                except UnauthorizedError:
                    if on_unauthorized is None or not on_unauthorized():
                        raise
                    return self._send(*send)
                finally:
                    beat()  # an attempt ended, answered or not: the run is not stuck
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _send(
        self,
        method: str,
        endpoint: str,
        path: str,
        params: QueryParams | None,
        data: Mapping[str, str] | None,
        json_body: Any,
        headers: Callable[[], Mapping[str, str]] | None,
    ) -> Answer:
        if run_stopped():
            # A run whose runner was stopped (a reload rebuilt its collector) sends no more.
            raise ApiError(endpoint, "the exporter is stopping")  # not retried
        if self.budget is not None:
            # A 429 pause longer than we would wait fails this request at once.
            self.budget.acquire(endpoint, max_pause=self.settings.max_retry_after)
        request_headers = dict(headers()) if headers else {}
        self.stats.attempted(self.api, endpoint)
        started = time.monotonic()
        sent = self.api_clock.clock() if self.api_clock is not None else 0.0
        try:
            response = self._sender.send(
                method,
                path,
                params=params,
                data=data,
                json_body=json_body,
                headers=request_headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            )
            if self.api_clock is not None:
                # The headers are in (stream=True): the body's transfer time is no part of it.
                self.api_clock.observe(response.headers.get("Date"), sent, self.api_clock.clock())
            try:
                content = self._read_body(endpoint, response, started)
            finally:
                response.close()
        except requests.RequestException as exc:
            self.stats.failed(self.api, endpoint, TRANSPORT_FAILURE)
            # The exception text can carry the URL; ours never holds a secret (no credentials in
            # query strings), but keep only the exception's class and short reason.
            raise TransportError(
                endpoint, f"no answer ({type(exc).__name__})", detail=_short_reason(exc)
            ) from None
        except ApiError as exc:
            # The body was cut short (too big, too slow): a slow one is the transport's fault.
            slow = isinstance(exc, TransportError)
            code = TRANSPORT_FAILURE if slow else failure_code(exc.status, answered=True)
            self.stats.failed(self.api, endpoint, code)
            raise
        finally:
            self.stats.took(self.api, endpoint, time.monotonic() - started)
        if not 200 <= response.status_code < 300:
            response._content = bytes(content)  # what .json() and .text read for the mapping
            self.stats.failed(self.api, endpoint, failure_code(response.status_code, answered=True))
            error = error_for_status(endpoint, response)
            if response.status_code == 429 and self.budget is not None:
                # Capped: the pause stops every poller of the API, and a server asking for
                # days (or a broken header) must not stop collection until a restart. A longer
                # wish still fails this request at once (see _should_retry).
                wish = (
                    self.settings.initial_backoff
                    if error.retry_after is None
                    else error.retry_after
                )
                self.budget.pause(min(wish, self.settings.max_retry_after))
            raise error
        try:
            text = json_text(endpoint, content, self.settings.max_response_bytes)
            # The bytes go before the objects are made: the peak is the text and the objects,
            # not the bytes too (see "Memory" in the README).
            del content
            return Answer(parse_json(endpoint, text, response.status_code), response.headers)
        except MalformedResponseError:
            self.stats.failed(self.api, endpoint, MALFORMED_ANSWER)
            raise

    def _read_body(self, endpoint: str, response: requests.Response, started: float) -> bytearray:
        """The whole body, within `max_response_bytes` and `total_timeout` (the read timeout
        bounds each read, not a trickle of small ones)."""
        limit, deadline = self.settings.max_response_bytes, started + self.settings.total_timeout
        declared = response.headers.get("Content-Length", "")
        # Too big is a shape problem, not a passing one: not retried. ASCII digits only, and
        # not absurdly long: int() of "²" or of 5000 digits raises.
        if (
            declared.isascii()
            and declared.isdigit()
            and (len(declared) > 18 or int(declared) > limit)
        ):
            raise MalformedResponseError(
                endpoint,
                f"answer of {declared} bytes is over the limit of {limit}",
                status=response.status_code,
            )
        # One growing buffer, not a list of pieces joined at the end: the join would hold the
        # body twice.
        content = bytearray()
        for chunk in _pieces(endpoint, response):
            if len(content) + len(chunk) > limit:
                raise MalformedResponseError(
                    endpoint,
                    f"answer is over the limit of {limit} bytes",
                    status=response.status_code,
                )
            if time.monotonic() > deadline:
                raise TransportError(
                    endpoint,
                    f"answer took longer than {self.settings.total_timeout:g}s",
                    status=response.status_code,
                )
            content += chunk
        return content


def _pieces(endpoint: str, response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: whatever the socket has (urllib3's read1), so a trickle of a
    few bytes at a time is seen piece by piece and the total deadline can end it."""
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:  # urllib3 1.x: fixed-size reads
        yield from response.iter_content(chunk_size=8192)
        return
    while True:
        try:
            piece = read1(65536, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransportError(
                endpoint,
                f"no answer ({type(exc).__name__})",
                detail="connection failed while reading",
            ) from None
        if not piece:
            return
        yield piece


def _short_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__
