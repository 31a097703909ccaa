"""The token bucket behind both rate limits: the request budget per 8x8 API (waits when
empty) and the web config's `rate_limit` on /metrics (answers 429 when empty)."""

from __future__ import annotations


class TokenBucket:
    """`capacity` tokens at most, refilled at `rate` tokens a second, starting full.

    Not thread-safe: each user holds its own lock around `take`, with its other state. Times
    are passed in, from whatever monotonic clock the user reads (tests pass a simulated one).
    """

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._updated = now

    def available(self, now: float) -> float:
        """The tokens there would be at `now`, nothing taken (what the status page shows)."""
        return min(self.capacity, self._tokens + max(0.0, now - self._updated) * self.rate)

    def take(self, now: float) -> float:
        """Take a token: 0.0 when one was there, else the seconds until one will be (nothing
        is taken then)."""
        # A clock that steps back (it should not) refills nothing rather than draining.
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
