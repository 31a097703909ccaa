"""`--web.config.file`: TLS, basic auth and response headers in the exporter-toolkit format.

Prometheus' own exporters share one web configuration file format (the exporter-toolkit's,
docs/web-configuration.md there), so an operator who has protected a node_exporter can protect
this exporter with the same file, the same bcrypt hashes and the same scrape config. This module
reads and validates that file (every problem at once, with its key path, like the main config),
builds the server's `ssl.SSLContext`, checks `Authorization: Basic` headers against the bcrypt
hashes, and re-reads the file when it (or a certificate it names) changes, as the toolkit does,
so certificates can be rotated and users changed without a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt

from exporter.core.errors import ConfigError, YamlFileError
from exporter.core.logs import get_logger
from exporter.core.yaml_files import read_yaml

log = get_logger(__name__)

PREFIX = "web config"

TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}

# client_auth_type -> (what the server's OpenSSL does, whether client_ca_file is required).
# Python's ssl cannot ask for a certificate without verifying it, so the toolkit's two "no
# verification" policies map to the nearest safe behaviour (see docs/web-config.md):
# RequestClientCert never asks (the exporter never looks at an unverified certificate anyway,
# so who gets in is the same), RequireAnyClientCert requires *and verifies* one.
CLIENT_AUTH_TYPES: dict[str, tuple[ssl.VerifyMode, bool]] = {
    "NoClientCert": (ssl.CERT_NONE, False),
    "RequestClientCert": (ssl.CERT_NONE, False),
    "RequireAnyClientCert": (ssl.CERT_REQUIRED, True),
    "VerifyClientCertIfGiven": (ssl.CERT_OPTIONAL, True),
    "RequireAndVerifyClientCert": (ssl.CERT_REQUIRED, True),
}

# The toolkit allows exactly these headers, some only with these values (an empty list: any).
HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}

_TOP_KEYS = ("tls_server_config", "http_server_config", "basic_auth_users", "rate_limit")
_TLS_KEYS = (
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "cipher_suites",
    "prefer_server_cipher_suites",
    "curve_preferences",
)
_HTTP_KEYS = ("http2", "headers")
_RATE_KEYS = ("interval", "burst")

# $2a$, $2b$ and $2y$ (htpasswd's), a two-digit cost, 22 characters of salt, 31 of hash.
_BCRYPT_RE = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
# bcrypt only ever looks at the first 72 bytes; the bcrypt package refuses longer passwords.
_BCRYPT_MAX_PASSWORD = 72
_GO_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class TLSServerConfig:
    """`tls_server_config`, with relative file names already joined to the file's directory."""

    cert_file: Path | None = None
    key_file: Path | None = None
    cert: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)
    client_ca_file: Path | None = None
    client_ca: str | None = field(default=None, repr=False)
    client_auth_type: str = "NoClientCert"
    client_allowed_sans: tuple[str, ...] = ()
    min_version: str = "TLS12"
    max_version: str = "TLS13"
    prefer_server_cipher_suites: bool = True

    def files(self) -> tuple[Path, ...]:
        """The files a certificate rotation replaces: a change to one rebuilds the context."""
        return tuple(p for p in (self.cert_file, self.key_file, self.client_ca_file) if p)


@dataclass(frozen=True)
class HTTPServerConfig:
    """`http_server_config`: headers added to every response (http2 is accepted, unused)."""

    headers: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RateLimitConfig:
    """`rate_limit`: a token bucket over every request, refilled one token per interval."""

    interval: float
    burst: int


@dataclass(frozen=True)
class WebConfig:
    """A validated web config file. `tls` is None when the server speaks plain HTTP."""

    tls: TLSServerConfig | None = None
    http: HTTPServerConfig = field(default_factory=HTTPServerConfig)
    # Never in a repr: a hash is offline-crackable, so it is treated like the password.
    basic_auth_users: Mapping[str, str] = field(default_factory=dict, repr=False, hash=False)
    rate_limit: RateLimitConfig | None = None
    # Keys accepted for compatibility but without effect here, for a start-up warning.
    ignored: tuple[str, ...] = ()

    def files(self) -> tuple[Path, ...]:
        return self.tls.files() if self.tls else ()


# ---------------------------------------------------------------------------------------------
# Loading and validation


class _Checker:
    """Collects every problem with its key path instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{PREFIX} {where}: {message}" if where else f"{PREFIX}: {message}")

    def mapping(self, value: Any, where: str, keys: tuple[str, ...] | None) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(where, "must be a mapping")
            return {}
        for key in value:
            if keys is not None and key not in keys:
                self.add(f"{where}.{key}" if where else str(key), "unknown key")
        return value

    def string(self, data: dict[Any, Any], key: str, where: str) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.add(f"{where}.{key}", "must be a string")
            return None
        return value

    def boolean(self, data: dict[Any, Any], key: str, where: str, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(f"{where}.{key}", "must be true or false")
            return default
        return value

    def strings(self, data: dict[Any, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(f"{where}.{key}", "must be a list of strings")
            return ()
        return tuple(value)

    def choice(
        self, data: dict[Any, Any], key: str, where: str, choices: Mapping[str, Any], default: str
    ) -> str:
        value = data.get(key)
        if value is None or value == "":
            return default
        if not isinstance(value, str) or value not in choices:
            self.add(f"{where}.{key}", f"{value!r} is not one of {', '.join(choices)}")
            return default
        return str(value)


def _parse_go_duration(value: Any) -> float:
    """Seconds from a Go duration (`1s`, `100ms`, `1m30s`, `0`): the toolkit's own syntax."""
    if value == 0 or value == "0":
        return 0.0
    if not isinstance(value, str) or not value:
        raise ValueError("must be a duration such as 1s or 100ms (0 turns rate limiting off)")
    text, total, position = value.strip(), 0.0, 0
    for match in _GO_DURATION_RE.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or position == 0:
        raise ValueError(f"{value!r} is not a duration such as 1s or 100ms")
    return total


def _file_path(raw: str | None, directory: Path) -> Path | None:
    # Relative to the web config file's directory, as the toolkit joins them (SetDirectory).
    if raw is None:
        return None
    path = Path(raw).expanduser()
    return path if path.is_absolute() else directory / path


def _tls(check: _Checker, raw: Any, directory: Path, ignored: list[str]) -> TLSServerConfig | None:
    where = "tls_server_config"
    data = check.mapping(raw, where, _TLS_KEYS)
    if all(value in (None, "", []) for value in data.values()):
        return None  # no tls_server_config, or an empty one: plain HTTP
    tls = TLSServerConfig(
        cert_file=_file_path(check.string(data, "cert_file", where), directory),
        key_file=_file_path(check.string(data, "key_file", where), directory),
        cert=check.string(data, "cert", where),
        key=check.string(data, "key", where),
        client_ca_file=_file_path(check.string(data, "client_ca_file", where), directory),
        client_ca=check.string(data, "client_ca", where),
        client_auth_type=check.choice(
            data, "client_auth_type", where, CLIENT_AUTH_TYPES, "NoClientCert"
        ),
        client_allowed_sans=check.strings(data, "client_allowed_sans", where),
        min_version=check.choice(data, "min_version", where, TLS_VERSIONS, "TLS12"),
        max_version=check.choice(data, "max_version", where, TLS_VERSIONS, "TLS13"),
        prefer_server_cipher_suites=check.boolean(data, "prefer_server_cipher_suites", where, True),
    )
    # Accepted for compatibility but without effect here (Python's ssl sets TLS 1.3 suites
    # and curves itself): listed for a warning at each load.
    ignored += [
        f"{where}.{key}"
        for key in ("cipher_suites", "curve_preferences")
        if check.strings(data, key, where)
    ]
    for name in ("cert", "key", "client_ca"):
        if getattr(tls, f"{name}_file") and getattr(tls, name):
            check.add(f"{where}.{name}_file", f"set either {name}_file or {name}, not both")
    if not tls.cert_file and not tls.cert and f"{where}.cert_file" not in _wheres(check):
        check.add(f"{where}.cert_file", "required (TLS needs cert_file and key_file)")
    if not tls.key_file and not tls.key and f"{where}.key_file" not in _wheres(check):
        check.add(f"{where}.key_file", "required (TLS needs cert_file and key_file)")
    _, needs_ca = CLIENT_AUTH_TYPES[tls.client_auth_type]
    has_ca = bool(tls.client_ca_file or tls.client_ca)
    if needs_ca and not has_ca and f"{where}.client_ca_file" not in _wheres(check):
        check.add(
            f"{where}.client_ca_file", f"required when client_auth_type is {tls.client_auth_type}"
        )
    if has_ca and tls.client_auth_type == "NoClientCert":
        check.add(
            f"{where}.client_auth_type",
            "NoClientCert, but client_ca_file is set (use "
            "RequireAndVerifyClientCert to verify client certificates)",
        )
    if tls.client_allowed_sans and CLIENT_AUTH_TYPES[tls.client_auth_type][0] != ssl.CERT_REQUIRED:
        check.add(
            f"{where}.client_allowed_sans",
            "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert",
        )
    if TLS_VERSIONS[tls.min_version] > TLS_VERSIONS[tls.max_version]:
        check.add(
            f"{where}.min_version", f"{tls.min_version} is above max_version {tls.max_version}"
        )
    return tls


def _wheres(check: _Checker) -> set[str]:
    """Key paths that already have a problem, so a bad value is not also reported missing."""
    return {p[len(PREFIX) + 1 :].split(":", 1)[0] for p in check.problems}


def _http(check: _Checker, raw: Any, ignored: list[str]) -> HTTPServerConfig:
    where = "http_server_config"
    data = check.mapping(raw, where, _HTTP_KEYS)
    if check.boolean(data, "http2", where, False):
        ignored.append(f"{where}.http2")  # the server speaks HTTP/1.1 only
    headers: dict[str, str] = {}
    for name, value in check.mapping(data.get("headers"), f"{where}.headers", None).items():
        at = f"{where}.headers.{name}"
        if name not in HEADERS:
            check.add(at, f"cannot be configured (one of {', '.join(HEADERS)})")
        elif value is None or value == "":
            continue  # the toolkit: unset if blank
        elif not isinstance(value, str) or "\r" in value or "\n" in value:
            check.add(at, "must be a one-line string")
        elif HEADERS[name] and value not in HEADERS[name]:
            check.add(at, f"{value!r} is not one of {', '.join(HEADERS[name])}")
        else:
            headers[name] = value
    return HTTPServerConfig(headers=headers)


def _users(check: _Checker, raw: Any) -> dict[str, str]:
    where = "basic_auth_users"
    users: dict[str, str] = {}
    for name, hashed in check.mapping(raw, where, None).items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not name:
            check.add(at, "a username must be a non-empty string")
        elif ":" in name:
            check.add(at, "a username cannot contain ':' (basic auth splits at the first one)")
        # Never echo the value: a hash (or a password pasted by mistake) is a secret.
        elif not isinstance(hashed, str) or not _BCRYPT_RE.match(hashed):
            check.add(at, "not a bcrypt hash (one starting with $2a$, $2b$ or $2y$)")
        elif not 4 <= int(hashed[4:6]) <= 31:
            check.add(at, "bcrypt cost must be between 4 and 31")
        else:
            users[name] = hashed
    return users


def _rate_limit(check: _Checker, raw: Any) -> RateLimitConfig | None:
    where = "rate_limit"
    data = check.mapping(raw, where, _RATE_KEYS)
    if not data:
        return None
    try:
        interval = _parse_go_duration(data.get("interval", 0))
    except ValueError as exc:
        check.add(f"{where}.interval", str(exc))
        return None
    burst = data.get("burst", 0)
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 0:
        check.add(f"{where}.burst", "must be a whole number, 0 or more")
        return None
    if interval == 0:
        return None  # the toolkit: an interval of 0 turns the limiter off
    if burst < 1:
        check.add(f"{where}.burst", "must be at least 1 when interval is set (0 refuses all)")
        return None
    return RateLimitConfig(interval=interval, burst=burst)


def read_web_config(path: Path) -> WebConfig:
    """Read and validate a web config file; ConfigError lists every problem.

    The TLS files it names are not read here but by `ssl_context`, when the file is loaded
    (start-up or a change), so a typo fails the start or is refused by a reload instead of
    failing every scrape's handshake.
    """
    path = Path(path)
    check = _Checker()
    try:
        raw = read_yaml(path)
    except YamlFileError as exc:
        problem = (
            f"cannot read {path}: {exc.reason}"
            if exc.unreadable
            else f"{path} is not valid YAML{exc.reason}"
        )
        raise ConfigError([f"{PREFIX}: {problem}"]) from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError([f"{PREFIX}: must be a mapping ({', '.join(_TOP_KEYS)})"])
    data = check.mapping(raw, "", _TOP_KEYS)
    directory = path.resolve().parent
    ignored: list[str] = []
    tls = _tls(check, data.get("tls_server_config"), directory, ignored)
    http = _http(check, data.get("http_server_config"), ignored)
    users = _users(check, data.get("basic_auth_users"))
    rate = _rate_limit(check, data.get("rate_limit"))
    if check.problems:
        raise ConfigError(check.problems)
    return WebConfig(
        tls=tls, http=http, basic_auth_users=users, rate_limit=rate, ignored=tuple(ignored)
    )


# ---------------------------------------------------------------------------------------------
# TLS


def ssl_reason(exc: BaseException) -> str:
    """An OpenSSL error without the `(_ssl.c:1234)` suffix that means nothing to an operator."""
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", str(exc)) or type(exc).__name__


class _EncryptedKey(Exception):
    """Raised by the password callback: the exporter has no passphrase to give OpenSSL."""


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal and hang the start.
    raise _EncryptedKey


def _read_pem(
    path: Path | None, inline: str | None, where: str, marker: str, check: _Checker
) -> str | None:
    if path is None:
        text = inline
    else:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not PEM"
            check.add(where, f"cannot read {path}: {reason}")
            return None
    if text is None:
        return None
    if not text.isascii():  # PEM is ASCII; anything else would fail writing the temporary file
        check.add(where, f"{path or 'the inline value'} is not PEM (it holds non-ASCII characters)")
        return None
    if marker not in text:
        check.add(where, f"{path or 'the inline value'} holds no PEM {marker.lower()}")
        return None
    return text


def _build_context(tls: TLSServerConfig, check: _Checker) -> ssl.SSLContext | None:
    where = "tls_server_config"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = TLS_VERSIONS[tls.min_version]
    context.maximum_version = TLS_VERSIONS[tls.max_version]
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    before = len(check.problems)
    cert_where = f"{where}.{'cert_file' if tls.cert_file else 'cert'}"
    key_where = f"{where}.{'key_file' if tls.key_file else 'key'}"
    cert = _read_pem(tls.cert_file, tls.cert, cert_where, "CERTIFICATE", check)
    key = _read_pem(tls.key_file, tls.key, key_where, "PRIVATE KEY", check)
    if cert is not None and key is not None:
        _load_chain(context, tls, cert, key, key_where, check)
    verify_mode, _ = CLIENT_AUTH_TYPES[tls.client_auth_type]
    ca_where = f"{where}.{'client_ca_file' if tls.client_ca_file else 'client_ca'}"
    ca = _read_pem(tls.client_ca_file, tls.client_ca, ca_where, "CERTIFICATE", check)
    if ca is not None:
        try:
            context.load_verify_locations(cadata=ca)
        except (ssl.SSLError, ValueError) as exc:
            check.add(ca_where, f"cannot load the CA certificates: {ssl_reason(exc)}")
    context.verify_mode = verify_mode
    return context if len(check.problems) == before else None


def _load_chain(
    context: ssl.SSLContext,
    tls: TLSServerConfig,
    cert: str,
    key: str,
    key_where: str,
    check: _Checker,
) -> None:
    # load_cert_chain only takes file names: inline PEM goes through a private temporary
    # directory (mode 0700) that is removed straight after.
    with tempfile.TemporaryDirectory(prefix="web-config-") as tmp:
        cert_path, key_path = tls.cert_file, tls.key_file
        if cert_path is None:
            cert_path = Path(tmp) / "cert.pem"
            cert_path.write_text(cert, encoding="ascii")
        if key_path is None:
            key_path = Path(tmp) / "key.pem"
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(key)
        try:
            context.load_cert_chain(cert_path, key_path, password=_no_passphrase)
        except _EncryptedKey:
            check.add(key_where, "the key is encrypted; the exporter needs an unencrypted key")
        except (ssl.SSLError, OSError, ValueError) as exc:
            check.add(
                "tls_server_config", f"cannot load the certificate and key: {ssl_reason(exc)}"
            )


def ssl_context(config: WebConfig) -> ssl.SSLContext | None:
    """A server-side context from the config, reading the TLS files now; None without TLS.

    Called at every load, so new connections get a rotated certificate; raises ConfigError
    when the files do not load (a reload then keeps the old context).
    """
    if config.tls is None:
        return None
    check = _Checker()
    context = _build_context(config.tls, check)
    if context is None:
        raise ConfigError(check.problems)
    return context


def client_san_allowed(peer_cert: Mapping[str, Any] | None, allowed: tuple[str, ...]) -> bool:
    """The toolkit's client_allowed_sans: one of the certificate's SANs is in the list."""
    if not allowed:
        return True
    if not peer_cert:
        return False
    wanted = {_canonical_san(v) for v in allowed}
    for _kind, value in peer_cert.get("subjectAltName", ()):
        if _canonical_san(str(value)) in wanted:
            return True
    return False


def _canonical_san(value: str) -> str:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


# ---------------------------------------------------------------------------------------------
# Basic auth


@dataclass(frozen=True)
class AuthResult:
    """The outcome of one Authorization header; `username` is safe to log, nothing else is."""

    ok: bool
    username: str | None
    # missing, malformed, unknown_user, wrong_password or ok: for the log, never the client.
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
    unknown user is checked against a dummy hash of the same cost, so the answer's timing does
    not tell which usernames exist. As in the toolkit, one bcrypt runs at a time, so a flood of
    wrong passwords costs one core, not all of them.
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
        self._bcrypt_lock = threading.Lock()
        self._hmac_key = secrets.token_bytes(32)
        cost = max((int(h[4:6]) for h in self._users.values()), default=4)
        self._dummy = bcrypt.hashpw(secrets.token_urlsafe(16).encode(), bcrypt.gensalt(cost))

    def check(self, authorization: str | None) -> AuthResult:
        """Whether an `Authorization` header value lets the request in."""
        if not authorization:
            return AuthResult(False, None, "missing")
        credentials = parse_basic_authorization(authorization)
        if credentials is None:
            return AuthResult(False, None, "malformed")
        username, password = credentials
        if self.verify(username, password):
            return AuthResult(True, username, "ok")
        reason = "wrong_password" if username in self._users else "unknown_user"
        return AuthResult(False, username, reason)

    def verify(self, username: str, password: str) -> bool:
        known = username in self._users
        hashed = self._users.get(username, self._dummy)
        secret = password.encode("utf-8")
        key = self._cache_key(username, hashed, secret)
        if known and self._cached(key):
            return True
        if len(secret) > _BCRYPT_MAX_PASSWORD:
            # Never a match (no such hash can be made), but pay the same time as one.
            secret, known = secret[:_BCRYPT_MAX_PASSWORD], False
        with self._bcrypt_lock:
            try:
                matched = bcrypt.checkpw(secret, hashed)
            except ValueError:  # a hash bcrypt refuses: validated at load, so never expected
                matched = False
        ok = known and matched
        if ok:
            self._remember(key)
        return ok

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
            if expiry <= self._clock():
                del self._cache[key]
                return False
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


class RateLimiter:
    """The toolkit's rate_limit: a token bucket shared by every request (429 when empty)."""

    def __init__(
        self, interval: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval
        self._burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._last) / self._interval)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


# ---------------------------------------------------------------------------------------------
# Re-reading


@dataclass(frozen=True)
class WebState:
    """One consistent snapshot for a connection or request: config, TLS context, auth."""

    config: WebConfig
    ssl_context: ssl.SSLContext | None
    authenticator: Authenticator | None
    rate_limiter: RateLimiter | None


_Signature = tuple[tuple[str, tuple[int, ...] | None], ...]


def _stat(path: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


def _signature(paths: tuple[Path, ...]) -> _Signature:
    return tuple((str(p), _stat(p)) for p in paths)


class WebConfigWatcher:
    """The web config in force, re-read when the file or a TLS file it names changes.

    The toolkit re-reads the file on every request; here every request and every new TLS
    connection costs a few stat() calls instead, and only a change (mtime, size or inode: an
    editor's rename or a Kubernetes secret's symlink swap) reads and validates again. An invalid
    new file is logged once (`web_config_reload_failed`) and the previous config stays in force,
    so a half-written file never opens or closes the door. TLS cannot be switched on or off
    without a restart: the listening socket speaks one or the other.
    """

    def __init__(self, path: Path) -> None:
        """Loads the file now: ConfigError lists every problem, so a bad file fails the start."""
        self.path = Path(path)
        self._lock = threading.Lock()
        # (files to stat on each request, their stats when last loaded). Set at every load,
        # failed ones too, from the files the loaded config names: a reload that failed on a
        # certificate not there yet is tried again when it appears.
        self._watch: tuple[tuple[Path, ...], _Signature] = ((), ())
        state = self._load(previous=None)
        self._state = state
        tls = state.config.tls
        log.info(
            "web_config_loaded",
            path=str(self.path),
            tls=tls is not None,
            client_auth_type=tls.client_auth_type if tls else None,
            basic_auth_users=len(state.config.basic_auth_users),
            headers=sorted(state.config.http.headers),
        )

    @property
    def tls(self) -> bool:
        """Whether the server speaks TLS: fixed for the life of the process."""
        return self._state.ssl_context is not None

    def current(self) -> WebState:
        """The state to use now, after re-reading the file if it changed; never raises."""
        paths, seen = self._watch
        if _signature(paths) == seen:
            return self._state
        with self._lock:
            paths, seen = self._watch
            if _signature(paths) == seen:
                return self._state
            state = self._state
            try:
                new_state = self._load(previous=state)
            except ConfigError as exc:
                log.error("web_config_reload_failed", path=str(self.path), problems=exc.problems)
                return state
            except Exception:  # a request thread must survive whatever the file holds
                log.exception("web_config_reload_failed", path=str(self.path))
                return state
            self._state = new_state
            log.info(
                "web_config_reloaded",
                path=str(self.path),
                basic_auth_users=len(new_state.config.basic_auth_users),
            )
            return new_state

    def _load(self, previous: WebState | None) -> WebState:
        # Each stat is taken before its file is read: a change after that point is seen as a
        # change on the next request.
        file_stat = _stat(self.path)
        self._watch = ((self.path,), ((str(self.path), file_stat),))
        config = read_web_config(self.path)
        files = config.files()
        self._watch = ((self.path, *files), ((str(self.path), file_stat), *_signature(files)))
        context = ssl_context(config)
        if previous is not None and (context is None) != (previous.ssl_context is None):
            was = "on" if previous.ssl_context is not None else "off"
            raise ConfigError(
                [
                    f"{PREFIX} tls_server_config: TLS was {was} when the exporter "
                    "started; switching it needs a restart"
                ]
            )
        for key in config.ignored:
            log.warning("web_config_option_ignored", path=str(self.path), key=key)
        users = config.basic_auth_users
        if previous is not None and previous.config.basic_auth_users == users:
            authenticator = previous.authenticator  # same users: keep the warm cache
        else:
            authenticator = Authenticator(users) if users else None
        if previous is not None and previous.config.rate_limit == config.rate_limit:
            limiter = previous.rate_limiter
        elif config.rate_limit is not None:
            limiter = RateLimiter(config.rate_limit.interval, config.rate_limit.burst)
        else:
            limiter = None
        return WebState(config, context, authenticator, limiter)
