"""Work Analytics bearer tokens: issue JWT-looking opaque tokens, check them, expire them."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from enum import Enum


class TokenCheck(str, Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenStore:
    """Tokens issued by `POST /v1/oauth/token`. Thread-safe.

    Tokens are deterministic (seed + issue counter + clock), so two simulators with the same
    seed and clock hand out the same tokens; each issue is still unique.
    """

    def __init__(self, *, seed: int, ttl_seconds: int, max_tokens: int = 10_000) -> None:
        self.ttl_seconds = int(ttl_seconds)
        self._seed = seed
        self._max_tokens = max_tokens
        self._lock = threading.Lock()
        self._expiry: OrderedDict[str, float] = OrderedDict()  # token -> epoch seconds
        self._issued = 0

    def issue(self, subject: str, now: float) -> str:
        with self._lock:
            self._issued += 1
            serial = self._issued
            issued_at = int(now)
            header = {"alg": "RS256"}  # the vendor's tokens start with eyJhbGciOiJSUzI1NiJ9
            payload = {
                "sub": hashlib.sha256(subject.encode()).hexdigest()[:22],
                "iss": "https://platform.8x8.com",
                "typ": "access",
                "aud": "dashboard",
                "exp": issued_at + self.ttl_seconds,
                "iat": issued_at,
                "jti": f"sim-{self._seed}-{serial}",
            }
            signature = b"".join(
                hashlib.sha256(f"{self._seed}:{serial}:{issued_at}:{block}".encode()).digest()
                for block in range(8)
            )
            token = ".".join(
                (
                    _b64url(json.dumps(header, separators=(",", ":")).encode()),
                    _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                    _b64url(signature),
                )
            )
            self._expiry[token] = now + self.ttl_seconds
            while len(self._expiry) > self._max_tokens:
                self._expiry.popitem(last=False)  # oldest first: bounded memory in long benchmarks
            return token

    def check(self, token: str, now: float) -> TokenCheck:
        with self._lock:
            expires_at = self._expiry.get(token)
        if expires_at is None:
            return TokenCheck.UNKNOWN
        return TokenCheck.VALID if now < expires_at else TokenCheck.EXPIRED

    def expire_all(self) -> int:
        """Make every issued token expired; returns how many tokens were issued and kept."""
        with self._lock:
            for token in self._expiry:
                self._expiry[token] = float("-inf")
            return len(self._expiry)

    @property
    def issued_count(self) -> int:
        with self._lock:
            return self._issued
