"""One redaction of every secret the exporter holds, applied wherever text leaves it: log lines,
error messages (the vendor's own words included) and the errors a poller keeps.

The 8x8 APIs may echo a request back (a 400 of a token endpoint quoting the form with the
password, a 401 quoting the bearer token), so a secret can come back in any encoding the
request used: raw, percent- or form-encoded, JSON-escaped or base64 (the Basic header of the
Contact Center token request is `base64(client_id:client_secret)`).
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections import OrderedDict
from urllib.parse import quote, quote_plus

REDACTED = "<redacted>"
# Shorter values are not looked for: "p" or "abc" would blank out every log line while
# protecting nothing (no real API key, password or token is that short).
MIN_SECRET_LENGTH = 4
# Bearer tokens are renewed every half hour or so, for as long as the process runs: the most
# recent ones are kept (an older token has expired, and echoing it gives nobody access).
MAX_TOKENS = 64


def encoded_forms(value: str) -> set[str]:
    """The spellings of `value` that a request carrying it, echoed back, may contain."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {
        value,
        quote(value, safe=""),
        quote_plus(value, safe=""),
        quote(value),  # a path or URL keeps `/`
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
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
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._tokens:
                self._tokens.move_to_end(value)
                return
            self._tokens[value] = None
            while len(self._tokens) > self._max_tokens:
                self._tokens.popitem(last=False)
            self._compile()

    def clear(self) -> None:
        with self._lock:
            self._credentials.clear()
            self._tokens.clear()
            self._pattern = None

    def _compile(self) -> None:
        forms: set[str] = set()
        for value in (*self._credentials, *self._tokens):
            forms |= encoded_forms(value)
        # Longest first: a secret that contains another is replaced whole. Case-insensitive:
        # percent-encoding may come back in lower case (`%2f`); more is replaced, never less.
        alternatives = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)

    def redact(self, text: str) -> str:
        """`text` with every known secret, in any of its encoded forms, replaced."""
        pattern = self._pattern  # swapped whole under the lock: read without it
        if pattern is None or not text:
            return text
        return pattern.sub(REDACTED, text)


# The process's one redactor: the clients and the config register what they hold, and the
# log processor and the error classes redact through it.
SECRETS = SecretRedactor()


def redact(text: str) -> str:
    return SECRETS.redact(text)
