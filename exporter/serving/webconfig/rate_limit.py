"""The toolkit's `rate_limit`: one token bucket shared by every request (429 when empty)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from exporter.core.token_bucket import TokenBucket


class RateLimiter:
    """A bucket of `burst` tokens, refilled one token per `interval` seconds."""

    def __init__(
        self, interval: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._bucket = TokenBucket(rate=1.0 / interval, capacity=burst, now=clock())
        # Every request thread takes from the one bucket, which is not thread-safe itself.
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            return self._bucket.take(self._clock()) == 0.0
