"""Contact Center OAuth (`POST /oauth/v2/token`, client credentials) and the bearer check of every
CC data call. A separate store from Work Analytics': a token of one API is unknown to the other."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from ..routing import Request, Response, Router

TOKEN_PATH = "/oauth/v2/token"


class CcTokenStore:
    """Opaque bearer tokens, deterministic (seed + issue counter + clock) and each unique."""

    def __init__(self, *, seed: int, ttl_seconds: int, max_tokens: int = 10_000) -> None:
        if ttl_seconds <= 1:
            raise ValueError("cc_token_ttl must be at least 2 seconds")
        self.ttl_seconds = int(ttl_seconds)
        self._seed = seed
        self._max_tokens = max_tokens
        self._lock = threading.Lock()
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._issued = 0

    def issue(self, client_id: str, now: float) -> str:
        with self._lock:
            self._issued += 1
            digest = hashlib.sha256(
                f"8x8-cc-token:{self._seed}:{client_id}:{self._issued}:{int(now)}".encode()
            ).digest()
            token = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            self._expiry[token] = now + self.ttl_seconds
            while len(self._expiry) > self._max_tokens:
                self._expiry.popitem(last=False)
            return token

    def check(self, token: str, now: float) -> str | None:
        """None when valid, else the error description."""
        with self._lock:
            expires_at = self._expiry.get(token)
        if expires_at is None:
            return "Access token invalid"
        return None if now < expires_at else "Access token expired"

    def expire_all(self) -> int:
        with self._lock:
            for token in self._expiry:
                self._expiry[token] = float("-inf")
            return len(self._expiry)


def _oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    return Response.json(status, {"error": error, "error_description": description}, headers)


class CcAuth:
    """The token endpoint and the bearer check of the CC routes."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        tokens: CcTokenStore,
        clock: Callable[[], float],
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens = tokens
        self.clock = clock

    def register(self, router: Router) -> None:
        router.add("POST", re.escape(TOKEN_PATH), self.issue_token)

    def issue_token(self, request: Request, match: re.Match[str]) -> Response:
        # Client authentication first (401), then the grant (400), as OAuth servers do.
        if not self._client_authenticated(request):
            return _oauth_error(
                401,
                "invalid_client",
                "Bad client credentials",
                {"WWW-Authenticate": 'Basic realm="oauth2/client"'},
            )
        grant = request.form().get("grant_type")
        if grant != "client_credentials":
            return _oauth_error(
                400,
                "unsupported_grant_type",
                "Missing grant_type" if not grant else f"Unsupported grant type: {grant}",
            )
        token = self.tokens.issue(self.client_id, self.clock())
        # expires_in is a string here (ttl - 1, as the vendor's "1799"), an integer in Work Analytics.
        return Response.json(
            200,
            {
                "access_token": token,
                "token_type": "BearerToken",
                "expires_in": str(self.tokens.ttl_seconds - 1),
            },
            {"Cache-Control": "no-store"},
        )

    def _client_authenticated(self, request: Request) -> bool:
        scheme, _, encoded = (request.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "basic" or not encoded.strip():
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, separator, secret = decoded.partition(":")
        return bool(separator) and client_id == self.client_id and secret == self.client_secret

    def authenticate(self, request: Request) -> Response | None:
        """The bearer check of every CC data call: 401 invalid_token, else None (let through)."""
        scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            description: str | None = "Access token invalid"
        else:
            description = self.tokens.check(token, self.clock())
        if description is None:
            return None
        return _oauth_error(
            401,
            "invalid_token",
            description,
            {
                "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
            },
        )
