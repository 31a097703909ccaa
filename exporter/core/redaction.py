"""One redaction of every secret the exporter holds, applied wherever text leaves it: log lines,
error messages (the vendor's own words included) and the errors a poller keeps.

The 8x8 APIs may echo a request back (a 400 of a token endpoint quoting the form with the
password, a 401 quoting the bearer token), so a secret can come back in any encoding the
request used: raw, percent- or form-encoded, JSON-escaped or base64 (the Basic header of the
Contact Center token request is `base64(client_id:client_secret)`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import threading
from collections import OrderedDict
from urllib.parse import quote, quote_plus

REDACTED = "<redacted>"
# Shorter values are not looked for: "p" or "abc" would blank out every log line while
# protecting nothing (no real API key, password or token is that short).
MIN_SECRET_LENGTH = 4
# A bearer token is chosen by the upstream, not by the operator: one shorter than this (the
# 8x8 tokens are hundreds of characters) is not looked for, or a hostile or broken upstream
# answering `"access_token": "error"` would blank that word out of every log line.
MIN_TOKEN_LENGTH = 16
# Bearer tokens are renewed every half hour or so, for as long as the process runs: the most
# recent ones are kept (an older token has expired, and echoing it gives nobody access). Both
# APIs share the redactor, so 8 are the last two hours or more of each. Not more: every token
# adds about twenty forms of hundreds of characters to one pattern, which every log line is
# searched with. With 64 kept (reached after a day and a half) a pattern took 580 ms to compile
# at every renewal and 317 us to search a log line; with 8, 49 ms and 42 us.
MAX_TOKENS = 8


def _base64_runs(raw: bytes) -> set[str]:
    """The base64 characters that encode `raw` alone wherever it sits in a longer encoded text:
    after 0, 1 or 2 bytes modulo 3 (`client_id:client_secret` puts the secret at any offset),
    in both alphabets. The characters that mix in a neighbouring byte are left out."""
    runs: set[str] = set()
    for shift in range(3):
        padded = b"\0" * shift + raw
        first = -(-8 * shift // 6)  # the first character made of the secret's bits alone
        last = 8 * len(padded) // 6  # past the last one
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            runs.add(encode(padded).decode()[first:last])
    return runs


def _json_forms(value: str) -> set[str]:
    r"""The escapings JSON encoders use: Python's (ASCII or not), `\/` (PHP, some Java), Go's
    `\u003c` for `<`, `>` and `&`, and every character as `\uXXXX`."""
    plain = json.dumps(value)[1:-1]
    go = plain.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    every = "".join(f"\\u{unit:04x}" for unit in _utf16_units(value))
    return {
        plain,
        json.dumps(value, ensure_ascii=False)[1:-1],
        plain.replace("/", "\\/"),
        go,
        every,
    }


def _utf16_units(value: str) -> list[int]:
    data = value.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def encoded_forms(value: str) -> set[str]:
    """The spellings of `value` that a request carrying it, echoed back, may contain."""
    raw = value.encode("utf-8", "surrogatepass")
    once = quote(value, safe="")
    forms = {
        value,
        once,
        quote(once, safe=""),  # encoded twice (a proxy or a redirect quoting the query)
        quote_plus(value, safe=""),
        quote(value),  # a path or URL keeps `/`
        html.escape(value),
        *_json_forms(value),
        *_base64_runs(raw),
    }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class SecretRedactor:
    """The secrets the process holds and one compiled pattern that finds any of them.

    Credentials stay for the life of the process (a reload that changes them leaves the old
    ones in: text about the old client may still be logged); tokens are bounded.
    """

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        self._lock = threading.Lock()
        self._credentials: set[str] = set()
        self._tokens: OrderedDict[str, None] = OrderedDict()
        self._max_tokens = max_tokens
        self._pattern: re.Pattern[str] | None = None
        self._short_pattern: re.Pattern[str] | None = None
        self._shortest = 0
        # Label values already looked at under the current pattern: a page repeats the same
        # queue and PBX names on thousands of lines. Replaced whole with the pattern.
        self._labels: dict[str, str] = {}
        self._label_key = secrets.token_bytes(16)
        self.labels_redacted = 0

    def add_credential(self, value: str | None) -> None:
        """An API key, password or client secret (or `client_id:client_secret`)."""
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._credentials:
                return
            self._credentials.add(value)
            self._compile()

    def add_token(self, value: str | None) -> None:
        """A bearer token the exporter was given; the oldest beyond `max_tokens` is dropped."""
        if not value or len(value) < MIN_TOKEN_LENGTH:
            return
        with self._lock:
            if value in self._tokens:
                self._tokens.move_to_end(value)
                return
            self._tokens[value] = None
            while len(self._tokens) > self._max_tokens:
                self._tokens.popitem(last=False)
            labels = self._labels
            self._compile()
            # A new token (every half hour or so) can only be in label values at least as long
            # as its shortest form: the others stay known clean, and a page of 100k series is
            # not searched again.
            shortest = min(map(len, encoded_forms(value)), default=0)
            self._labels = {k: v for k, v in labels.items() if len(k) < shortest}

    def clear(self) -> None:
        with self._lock:
            self._credentials.clear()
            self._tokens.clear()
            self._pattern = None
            self._labels = {}

    def _compile(self) -> None:
        forms: set[str] = set()
        for value in (*self._credentials, *self._tokens):
            forms |= encoded_forms(value)
        # Longest first: a secret that contains another is replaced whole. Case-insensitive:
        # percent-encoding may come back in lower case (`%2f`); more is replaced, never less.
        alternatives = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
        # Label values are short: a value can only hold a form no longer than itself, and the
        # forms of bearer tokens are hundreds of characters. The pattern of the short forms
        # alone costs a fraction of the whole (21 us a value with 64 tokens, 1 us without).
        short = [form for form in alternatives if len(form) <= _SHORT_LABEL]
        self._short_pattern = (
            re.compile("|".join(map(re.escape, short)), re.IGNORECASE) if short else None
        )
        self._shortest = min(map(len, alternatives), default=0)
        self._labels = {}

    def redact(self, text: str) -> str:
        """`text` with every known secret, in any of its encoded forms, replaced."""
        pattern = self._pattern  # swapped whole under the lock: read without it
        if pattern is None or not text:
            return text
        return pattern.sub(REDACTED, text)

    def redact_label(self, value: str) -> str:
        """A label value with any secret replaced, and then a keyed hash of the whole value, so
        two values that differ only in their secrets stay two series (a page with two equal
        series fails the whole scrape). The key is the process's own: nobody can test a
        guessed secret against the hash."""
        clean = self._labels.get(value)  # the hot path: a page repeats its values
        return clean if clean is not None else self._redact_new_label(value)

    def _redact_new_label(self, value: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return value
        if len(value) < self._shortest:
            clean = value
        elif len(value) <= _SHORT_LABEL:
            short = self._short_pattern
            clean = value if short is None else short.sub(REDACTED, value)
        else:
            clean = pattern.sub(REDACTED, value)
        if clean != value:
            digest = hmac.new(self._label_key, value.encode("utf-8", "replace"), hashlib.sha256)
            clean = f"{clean}[{digest.hexdigest()[:8]}]"
            self.labels_redacted += 1
        labels = self._labels
        if len(labels) < _MAX_REMEMBERED_LABELS:
            labels[value] = clean
        return clean


# Label values up to this many characters are searched with the pattern of the forms no
# longer than it (see SecretRedactor._compile).
_SHORT_LABEL = 64
# Label values remembered per pattern: the distinct values of a large account's page.
_MAX_REMEMBERED_LABELS = 200_000

# The process's one redactor: the clients and the config register what they hold, and the
# log processor and the error classes redact through it.
SECRETS = SecretRedactor()


def redact(text: str) -> str:
    return SECRETS.redact(text)


# Bound once: rendering calls it for every label value of a snapshot.
redact_label = SECRETS.redact_label
