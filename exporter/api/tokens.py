"""Bearer tokens: fetched once, reused, renewed shortly before they expire (both 8x8 APIs)."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from exporter.core.errors import MalformedResponseError
from exporter.core.logs import get_logger
from exporter.core.redaction import SECRETS

log = get_logger(__name__)


MIN_TOKEN_CHARS = 1
MAX_TOKEN_CHARS = 8192
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def parse_token_answer(endpoint: str, body: Any) -> tuple[str, float]:
    """(token, lifetime in seconds) from a token answer of either API, else
    MalformedResponseError. `expires_in` is an integer from Work Analytics and a string
    ("1799") from Contact Center; it must be finite and positive: a NaN or infinite lifetime
    would mean a token that is never renewed before it is refused."""
    if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
        raise MalformedResponseError(endpoint, "token answer has no access_token")
    token = body["access_token"]
    # A bearer token is a short token68 string (RFC 6750). A huge one or one of other
    # characters would go into every Authorization header and into the secret redactor (a
    # 4 MB token there cost 8 s and 900 MB).
    if not MIN_TOKEN_CHARS <= len(token) <= MAX_TOKEN_CHARS or not _TOKEN68.fullmatch(token):
        raise MalformedResponseError(
            endpoint,
            f"token answer's access_token is not a bearer token of {MIN_TOKEN_CHARS} to "
            f"{MAX_TOKEN_CHARS} token68 characters",
        )
    value: Any = body.get("expires_in")
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):  # float() of a huge integer overflows
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise MalformedResponseError(endpoint, "token answer has no valid expires_in")
    return token, seconds


class TokenCache:
    """Holds one bearer token and renews it shortly before it expires.

    The vendor asks clients to reuse tokens. Renewal happens at 90% of the lifetime, or one
    minute before expiry for long-lived tokens, whichever is earlier.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        clock: Callable[[], float] = time.monotonic,
        api: str = "",
    ) -> None:
        self._fetch = fetch
        self._api = api
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                token, lifetime = self._fetch()
                # Before it is sent anywhere: a 401 that quotes it is scrubbed.
                SECRETS.add_token(token)
                margin = min(60.0, lifetime * 0.1)
                self._token, self._renew_at = token, self._clock() + lifetime - margin
                log.info("auth_token_acquired", api=self._api, expires_in_seconds=lifetime)
            return self._token

    def bearer(
        self, endpoint: str, extra: Mapping[str, str]
    ) -> tuple[Callable[[], dict[str, str]], Callable[[], bool]]:
        """The `headers` and `on_unauthorized` callbacks of one logical request: headers with
        the current token, and on a 401 the token that request used dropped (so it is fetched
        again once, however many pollers saw the 401)."""
        used: list[str] = []

        def headers() -> dict[str, str]:
            token = self.get()
            used.append(token)
            return {**extra, "Authorization": f"Bearer {token}"}

        def renew() -> bool:
            log.info("auth_token_rejected", api=self._api, endpoint=endpoint)
            self.invalidate(used[-1] if used else None)
            return True

        return headers, renew

    def invalidate(self, token: str | None = None) -> None:
        """Drop the token (only if it is still `token`, so two threads renew once)."""
        with self._lock:
            if token is None or token == self._token:
                self._token = None
