"""Basic auth against the file's bcrypt hashes (`basic_auth_users`), with a cache of successes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import bcrypt

# bcrypt only ever looks at the first 72 bytes; the bcrypt package refuses longer passwords.
_BCRYPT_MAX_PASSWORD = 72


_CHEAPEST_COST = 4


def _dummy_hash(cost: int) -> bytes:
    """A hash of `cost` that no password matches, made at the cost of the cheapest.

    Checking a password against it costs what checking a real hash of that cost does (bcrypt
    runs 2**cost rounds from the salt whatever the digest), but making one the honest way
    costs the same again: 14 s at cost 18, in the thread that loads the file. A salt and
    digest made at cost 4 with the cost field rewritten are well-formed, and the digest
    bcrypt computes at the real cost never equals one made at cost 4 with a random password.
    """
    cheap = bcrypt.hashpw(secrets.token_urlsafe(32).encode(), bcrypt.gensalt(_CHEAPEST_COST))
    return cheap[:4] + b"%02d" % cost + cheap[6:]


class BcryptTurns:
    """One bcrypt check at a time, in arrival order, with a bounded queue.

    A plain lock is neither fair nor bounded: under a flood of wrong passwords a scraper's
    first check (or the first after a password change) could wait behind hundreds of threads,
    in no order. Here at most `max_waiting` checks wait, at most `per_client` of them from one
    address, each served in turn; a check that finds no room is refused at once (429), so a
    flood from one address cannot keep another's check out, and no check waits longer than
    `max_waiting` bcrypts.
    """

    def __init__(self, max_waiting: int = 16, per_client: int = 2) -> None:
        self._lock = threading.Lock()
        self._max_waiting = max_waiting
        self._per_client = per_client
        self._running = False
        self._queue: deque[tuple[str, threading.Event]] = deque()
        self._waiting: dict[str, int] = {}

    def acquire(self, client: str) -> bool:
        """Waits for this check's turn; False at once when the queue has no room for it."""
        with self._lock:
            if not self._running:
                self._running = True
                return True
            if (
                len(self._queue) >= self._max_waiting
                or self._waiting.get(client, 0) >= self._per_client
            ):
                return False
            turn = threading.Event()
            self._queue.append((client, turn))
            self._waiting[client] = self._waiting.get(client, 0) + 1
        turn.wait()  # set by release(), which hands the running check over to this one
        return True

    def release(self) -> None:
        with self._lock:
            if not self._queue:
                self._running = False
                return
            client, turn = self._queue.popleft()
            left = self._waiting.pop(client) - 1
            if left:
                self._waiting[client] = left
            turn.set()


@dataclass(frozen=True)
class AuthResult:
    """The outcome of one Authorization header; `username` is safe to log, nothing else is."""

    ok: bool
    username: str | None
    # missing, malformed, unknown_user, wrong_password, overloaded (no room to check it now)
    # or ok: for the log, never the client.
    reason: str


def parse_basic_authorization(header: str | None) -> tuple[str, str] | None:
    """(username, password) from `Basic base64(user:password)`; None when it is not that."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return username, password


class Authenticator:
    """Checks basic-auth credentials against bcrypt hashes.

    bcrypt is slow on purpose (tens of milliseconds at cost 10), which a 1 s scrape interval
    would pay on every scrape: a successful check is remembered for `cache_ttl` seconds, keyed
    by an HMAC (with a per-process random key) of user, hash and password, so neither the
    password nor a fast, crackable digest of it is kept. Failures are never cached, and an
    unknown user is checked against a dummy hash of one of the users' costs, picked by a keyed
    hash of the name (made cheaply, see `_dummy_hash`): unknown names take the times known
    ones take, so the answer's timing does not tell which usernames exist.
    As in the toolkit, one bcrypt runs at a time, so a flood of wrong passwords costs one core,
    not all of them; the checks waiting for it are few and served in turn (`BcryptTurns`).
    """

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        cache_ttl: float = 60.0,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = {name: hashed.encode("ascii") for name, hashed in users.items()}
        self._cache_ttl = cache_ttl
        self._cache_size = cache_size
        self._clock = clock
        self._cache: dict[bytes, float] = {}
        self._cache_lock = threading.Lock()
        self._turns = BcryptTurns()
        self._hmac_key = secrets.token_bytes(32)
        # The users' costs, one entry per user: an unknown username is checked at one of
        # them, picked by a keyed hash of the name, so unknown names take the times known ones
        # take (one dummy at the highest cost told a cheaper user's name from unknown ones).
        self._costs = sorted(int(h[4:6]) for h in self._users.values()) or [_CHEAPEST_COST]
        self._dummies = {cost: _dummy_hash(cost) for cost in set(self._costs)}

    def check(self, authorization: str | None, client: str = "") -> AuthResult:
        """Whether an `Authorization` header value, sent from `client`, lets the request in."""
        if not authorization:
            return AuthResult(False, None, "missing")
        credentials = parse_basic_authorization(authorization)
        if credentials is None:
            return AuthResult(False, None, "malformed")
        username, password = credentials
        matched = self._verify(username, password, client)
        if matched is None:
            return AuthResult(False, username, "overloaded")
        if matched:
            return AuthResult(True, username, "ok")
        reason = "wrong_password" if username in self._users else "unknown_user"
        return AuthResult(False, username, reason)

    def verify(self, username: str, password: str, client: str = "") -> bool:
        return bool(self._verify(username, password, client))

    def _verify(self, username: str, password: str, client: str) -> bool | None:
        """Whether the password is the user's; None when no bcrypt could be queued for it."""
        known = username in self._users
        hashed = self._users.get(username) or self._dummy_for(username)
        secret = password.encode("utf-8")
        key = self._cache_key(username, hashed, secret)
        if known and self._cached(key):
            return True
        if len(secret) > _BCRYPT_MAX_PASSWORD:
            # Never a match (no such hash can be made), but pay the same time as one.
            secret, known = secret[:_BCRYPT_MAX_PASSWORD], False
        if not self._turns.acquire(client):
            return None
        try:
            matched = bcrypt.checkpw(secret, hashed)
        except ValueError:  # a hash bcrypt refuses: validated at load, so never expected
            matched = False
        finally:
            self._turns.release()
        ok = known and matched
        if ok:
            self._remember(key)
        return ok

    def _dummy_for(self, username: str) -> bytes:
        """The dummy hash an unknown username is checked against: the same one each time."""
        digest = hmac.new(self._hmac_key, username.encode("utf-8"), hashlib.sha256).digest()
        return self._dummies[self._costs[int.from_bytes(digest[:8], "big") % len(self._costs)]]

    def _cache_key(self, username: str, hashed: bytes, secret: bytes) -> bytes:
        # Length-prefixed, so no (user, password) split can collide with another.
        parts = (username.encode("utf-8"), hashed, secret)
        message = b"".join(len(p).to_bytes(4, "big") + p for p in parts)
        return hmac.new(self._hmac_key, message, hashlib.sha256).digest()

    def _cached(self, key: bytes) -> bool:
        with self._cache_lock:
            expiry = self._cache.get(key)
            if expiry is None:
                return False
            now = self._clock()
            if expiry <= now:
                del self._cache[key]
                return False
            # Renewed on use: a scraper that keeps coming never pays a bcrypt again, so a flood
            # of wrong passwords queued on the bcrypt lock cannot hold its scrape (10.9 s once
            # a minute under 200 attackers, before). A changed hash is another key.
            self._cache[key] = now + self._cache_ttl
            return True

    def _remember(self, key: bytes) -> None:
        now = self._clock()
        with self._cache_lock:
            if len(self._cache) >= self._cache_size:
                for stale in [k for k, t in self._cache.items() if t <= now]:
                    del self._cache[stale]
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()
            self._cache[key] = now + self._cache_ttl
