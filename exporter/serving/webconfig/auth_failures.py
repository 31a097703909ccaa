"""Failed basic-auth checks: counted by reason, and logged at a bounded rate.

One client retrying a wrong password, or a scanner sending junk `Authorization` headers, used
to write one warning per request (2,000 lines in 0.6 s). The count goes to
`eightbyeight_http_auth_failures_total{reason}`, which is what an alert should watch; the
log keeps a sample for the who (client, username), and each line says how many it left out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from exporter.core.logs import get_logger
from exporter.core.token_bucket import TokenBucket
from exporter.serving.webconfig.auth import AuthResult

log = get_logger(__name__)

# Every reason `Authenticator.check` gives for a refusal, so each series exists from the start.
FAILURE_REASONS = ("missing", "malformed", "unknown_user", "wrong_password", "overloaded")
# Warnings allowed at once, then one more per interval: an operator mistyping a password sees
# the first ones at once, a flood costs at most one line a minute.
WARNING_BURST = 10
WARNING_INTERVAL_SECONDS = 60.0
# The username is whatever the client sent: cut short before it reaches a log line.
_MAX_LOGGED_USERNAME = 128


class AuthFailureLog:
    """Counts refused credentials by reason; logs `http_auth_failed` at a bounded rate.

    A request without credentials (`missing`: a browser's first try, a probe) is logged at
    debug only, as before; the others are warnings, `WARNING_BURST` at once and then one per
    `WARNING_INTERVAL_SECONDS`, each with `suppressed`: the warnings left out since the last.
    """

    def __init__(
        self,
        *,
        burst: int = WARNING_BURST,
        interval: float = WARNING_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._bucket = TokenBucket(rate=1.0 / interval, capacity=burst, now=clock())
        self._counts = dict.fromkeys(FAILURE_REASONS, 0)
        self._suppressed = 0

    def counts(self) -> Mapping[str, int]:
        """Failures by reason since the process started."""
        with self._lock:
            return dict(self._counts)

    def record(self, result: AuthResult, client: str) -> None:
        """Count one refusal, and log it unless the rate of warnings is spent."""
        username = None if result.username is None else result.username[:_MAX_LOGGED_USERNAME]
        with self._lock:
            self._counts[result.reason] = self._counts.get(result.reason, 0) + 1
            if result.reason == "missing":
                suppressed = None
            elif self._bucket.take(self._clock()) > 0.0:
                self._suppressed += 1
                return
            else:
                suppressed, self._suppressed = self._suppressed, 0
        if suppressed is None:
            log.debug("http_auth_failed", client=client, username=username, reason=result.reason)
            return
        # The username is the only part of the credentials ever logged.
        log.warning(
            "http_auth_failed",
            client=client,
            username=username,
            reason=result.reason,
            suppressed=suppressed,
        )
