"""The web config file's typed model: one pydantic model per section, with the toolkit's rules.

The messages are the ones operators have seen since the first release (tests pin them), so
every field has its own validator with its own words instead of pydantic's, and the
toolkit's maps (users, headers) are checked entry by entry, one problem per entry.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from exporter.core.durations import GO_UNITS, parse_duration

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

# $2a$, $2b$ and $2y$ (htpasswd's), a two-digit cost, 22 characters of salt, 31 of hash.
_BCRYPT_RE = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
# Each step of cost doubles a check's time: cost 10 takes ~0.1 s on one core, 14 ~2 s, 18 about
# 14 s and 31 about 30 hours. bcrypt allows up to 31 and the toolkit (Go's MaxCost) takes it,
# but a check of a wrong password runs before the 401, one at a time: past 14 a few bad
# guesses hold every scrape back. 14 leaves room above the cost of 10 to 12 that OWASP and
# htpasswd's users pick (djangohashers stops at 16, htpasswd -C at 17).
MIN_BCRYPT_COST = 4
MAX_BCRYPT_COST = 14


# ---------------------------------------------------------------------------------------------
# Values


def _string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _file_path(value: str | None, info: ValidationInfo) -> Path | None:
    # Relative to the web config file's directory, as the toolkit joins them (SetDirectory);
    # the loader passes that directory in the validation context.
    if value is None:
        return None
    path = Path(value).expanduser()
    directory = (info.context or {}).get("directory")
    return path if path.is_absolute() or directory is None else Path(directory) / path


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(value)


def _flag(default: bool) -> BeforeValidator:
    def flag(value: Any) -> bool:
        if value is None:
            return default
        # Only YAML's own booleans: pydantic would also take "yes", 1 or "on".
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    return BeforeValidator(flag)


def _one_of(choices: Collection[str], default: str) -> BeforeValidator:
    def choose(value: Any) -> str:
        if value is None or value == "":
            return default
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return BeforeValidator(choose)


def go_duration(value: Any) -> float:
    """Seconds from a Go duration (`1s`, `100ms`, `1m30s`, `0`): the toolkit's own syntax.

    A bare number is refused, 0 aside: Go would read it as nanoseconds, surprising everyone.
    """
    if value == 0 or value == "0":
        return 0.0
    if not isinstance(value, str) or not value:
        raise ValueError("must be a duration such as 1s or 100ms (0 turns rate limiting off)")
    if value.strip() in ("", "0"):
        # parse_duration would call the first missing and read the second as 0: Go's parser
        # does not strip, so for the toolkit (and here, always) neither is a duration.
        raise ValueError(f"{value!r} is not a duration such as 1s or 100ms")
    return parse_duration(value, example="1s or 100ms", allow_zero=True, units=GO_UNITS)


def _entry_errors(problems: list[tuple[Any, str]]) -> ValidationError:
    """One error per bad entry of a map, at the entry's key (pydantic adds the map's path)."""
    return ValidationError.from_exception_data(
        "entries",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{message}", {"message": message}),
                loc=(str(key),),
                input=None,  # never the value: a hash or a pasted password is a secret
            )
            for key, message in problems
        ],
    )


def _mapping(value: Any) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be a mapping")
    return value


# RFC 9110's field-value characters, limited to ASCII: visible ones, spaces and tabs.
_FIELD_VALUE = re.compile(r"[\x20-\x7e\t]+")


def _headers(value: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    problems: list[tuple[Any, str]] = []
    for name, text in _mapping(value).items():
        if name not in HEADERS:
            problems.append((name, f"cannot be configured (one of {', '.join(HEADERS)})"))
        elif text is None or text == "":
            continue  # the toolkit: unset if blank
        elif not isinstance(text, str) or "\r" in text or "\n" in text:
            problems.append((name, "must be a one-line string"))
        elif not _FIELD_VALUE.fullmatch(text):
            # The server writes headers in latin-1: a curly quote pasted from a document would
            # fail every answer, so it is refused here (a reload keeps the config it had).
            problems.append((name, "must be printable ASCII (spaces and tabs allowed)"))
        elif HEADERS[name] and text not in HEADERS[name]:
            problems.append((name, f"{text!r} is not one of {', '.join(HEADERS[name])}"))
        else:
            headers[name] = text
    if problems:
        raise _entry_errors(problems)
    return headers


def _users(value: Any) -> dict[str, str]:
    users: dict[str, str] = {}
    problems: list[tuple[Any, str]] = []
    for name, hashed in _mapping(value).items():
        if not isinstance(name, str) or not name:
            problems.append((name, "a username must be a non-empty string"))
        elif ":" in name:
            problems.append(
                (name, "a username cannot contain ':' (basic auth splits at the first one)")
            )
        # Never echo the value: a hash (or a password pasted by mistake) is a secret.
        elif not isinstance(hashed, str) or not _BCRYPT_RE.match(hashed):
            problems.append((name, "not a bcrypt hash (one starting with $2a$, $2b$ or $2y$)"))
        elif (cost := int(hashed[4:6])) < MIN_BCRYPT_COST:
            problems.append((name, f"bcrypt cost must be at least {MIN_BCRYPT_COST}"))
        elif cost > MAX_BCRYPT_COST:
            problems.append(
                (
                    name,
                    f"bcrypt cost {cost} is above the maximum of {MAX_BCRYPT_COST} (each check "
                    f"would take {2 ** (cost - 10)} times as long as at cost 10); make the hash "
                    "again with a cost of 10 to 12",
                )
            )
        else:
            users[name] = hashed
    if problems:
        raise _entry_errors(problems)
    return users


Text = Annotated[str | None, BeforeValidator(_string)]
FilePath = Annotated[Path | None, BeforeValidator(_string), AfterValidator(_file_path)]
Strings = Annotated[tuple[str, ...], BeforeValidator(_strings)]
BasicAuthUsers = Annotated[dict[str, str], BeforeValidator(_users)]


# ---------------------------------------------------------------------------------------------
# Sections


class Section(BaseModel):
    """A section of the file: unknown keys are refused, a None value means the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSServerConfig(Section):
    """`tls_server_config`, with relative file names already joined to the file's directory.

    The fields are in the order their problems are reported.
    """

    cert_file: FilePath = None
    key_file: FilePath = None
    cert: Text = Field(None, repr=False)
    key: Text = Field(None, repr=False)
    client_ca_file: FilePath = None
    client_ca: Text = Field(None, repr=False)
    client_auth_type: Annotated[str, _one_of(CLIENT_AUTH_TYPES, "NoClientCert")] = "NoClientCert"
    client_allowed_sans: Strings = ()
    min_version: Annotated[str, _one_of(TLS_VERSIONS, "TLS12")] = "TLS12"
    max_version: Annotated[str, _one_of(TLS_VERSIONS, "TLS13")] = "TLS13"
    prefer_server_cipher_suites: Annotated[bool, _flag(True)] = True
    # Accepted for compatibility but without effect here (Python's ssl sets TLS 1.3 suites
    # and curves itself): listed for a warning at each load.
    cipher_suites: Strings = ()
    curve_preferences: Strings = ()

    def files(self) -> tuple[Path, ...]:
        """The files a certificate rotation replaces: a change to one rebuilds the context."""
        return tuple(p for p in (self.cert_file, self.key_file, self.client_ca_file) if p)

    def conflicts(self, reported: Collection[str]) -> list[tuple[str, str]]:
        """(key, problem) for the rules across keys. A key in `reported` already has a problem
        with its value, so it is not also said to be missing."""
        found: list[tuple[str, str]] = []
        for name in ("cert", "key", "client_ca"):
            if getattr(self, f"{name}_file") and getattr(self, name):
                found.append((f"{name}_file", f"set either {name}_file or {name}, not both"))
        if not self.cert_file and not self.cert and "cert_file" not in reported:
            found.append(("cert_file", "required (TLS needs cert_file and key_file)"))
        if not self.key_file and not self.key and "key_file" not in reported:
            found.append(("key_file", "required (TLS needs cert_file and key_file)"))
        verify_mode, needs_ca = CLIENT_AUTH_TYPES[self.client_auth_type]
        has_ca = bool(self.client_ca_file or self.client_ca)
        if needs_ca and not has_ca and "client_ca_file" not in reported:
            found.append(
                ("client_ca_file", f"required when client_auth_type is {self.client_auth_type}")
            )
        if has_ca and self.client_auth_type == "NoClientCert":
            found.append(
                (
                    "client_auth_type",
                    "NoClientCert, but client_ca_file is set (use "
                    "RequireAndVerifyClientCert to verify client certificates)",
                )
            )
        if self.client_allowed_sans and verify_mode != ssl.CERT_REQUIRED:
            found.append(
                (
                    "client_allowed_sans",
                    "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert",
                )
            )
        if TLS_VERSIONS[self.min_version] > TLS_VERSIONS[self.max_version]:
            found.append(
                ("min_version", f"{self.min_version} is above max_version {self.max_version}")
            )
        return found


class HTTPServerConfig(Section):
    """`http_server_config`: headers added to every response (http2 is accepted, unused)."""

    http2: Annotated[bool, _flag(False)] = False
    headers: Annotated[Mapping[str, str], BeforeValidator(_headers)] = Field(default_factory=dict)


class RateLimitConfig(Section):
    """`rate_limit`: a token bucket over every request, refilled one token per interval."""

    interval: Annotated[float, BeforeValidator(go_duration)] = 0.0
    burst: int = 0

    @field_validator("burst", mode="before")
    @classmethod
    def _whole_number(cls, value: Any, info: ValidationInfo) -> Any:
        if "interval" not in info.data:
            return 0  # a bad interval is the one problem of the section, as it always was
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("must be a whole number, 0 or more")
        return value

    def conflicts(self, reported: Collection[str]) -> list[tuple[str, str]]:
        """(key, problem) for the rules across keys; see TLSServerConfig.conflicts."""
        if self.interval > 0 and self.burst < 1 and "burst" not in reported:
            return [("burst", "must be at least 1 when interval is set (0 refuses all)")]
        return []


class WebConfigFile(Section):
    """The file's top level. Each section is validated on its own, by the loader, so that
    every problem of a section is reported together and in the order of the keys."""

    tls_server_config: Any = None
    http_server_config: Any = None
    basic_auth_users: Any = None
    rate_limit: Any = None
