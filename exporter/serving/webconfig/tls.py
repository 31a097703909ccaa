"""The server's `ssl.SSLContext` from `tls_server_config`, and the client SAN check.

The TLS files are read here, at every load (start-up or a change), never per connection:
new connections get a rotated certificate, and a file that does not load is a problem of
the load (a reload then keeps the old context) instead of a failed handshake per scrape.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exporter.core.errors import ConfigError
from exporter.serving.webconfig.certificates import CertificateValidity, certificate_validity
from exporter.serving.webconfig.loader import WebConfig
from exporter.serving.webconfig.model import (
    CLIENT_AUTH_TYPES,
    PREFIX,
    TLS_VERSIONS,
    TLSServerConfig,
)

_WHERE = "tls_server_config"


def ssl_reason(exc: BaseException) -> str:
    """An OpenSSL error without the `(_ssl.c:1234)` suffix that means nothing to an operator."""
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", str(exc)) or type(exc).__name__


class _EncryptedKey(Exception):
    """Raised by the password callback: the exporter has no passphrase to give OpenSSL."""


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal and hang the start.
    raise _EncryptedKey


class _ContextBuilder:
    """Builds one context, collecting every problem (`web config <key>: ...`) on the way."""

    def __init__(self, tls: TLSServerConfig) -> None:
        self.tls = tls
        self.problems: list[str] = []
        self.validity: CertificateValidity | None = None

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{PREFIX} {where}: {message}")

    def build(self) -> ssl.SSLContext | None:
        tls = self.tls
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = TLS_VERSIONS[tls.min_version]
        context.maximum_version = TLS_VERSIONS[tls.max_version]
        if tls.prefer_server_cipher_suites:
            context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        else:
            context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        cert_where = f"{_WHERE}.{'cert_file' if tls.cert_file else 'cert'}"
        key_where = f"{_WHERE}.{'key_file' if tls.key_file else 'key'}"
        cert = self._read_pem(tls.cert_file, tls.cert, cert_where, "CERTIFICATE")
        key = self._read_pem(tls.key_file, tls.key, key_where, "PRIVATE KEY")
        if cert is not None and key is not None:
            self._load_chain(context, cert, key, key_where)
            source = str(tls.cert_file) if tls.cert_file else f"{_WHERE}.cert"
            self.validity = certificate_validity(cert, source)
        verify_mode, _ = CLIENT_AUTH_TYPES[tls.client_auth_type]
        ca_where = f"{_WHERE}.{'client_ca_file' if tls.client_ca_file else 'client_ca'}"
        ca = self._read_pem(tls.client_ca_file, tls.client_ca, ca_where, "CERTIFICATE")
        if ca is not None:
            try:
                context.load_verify_locations(cadata=ca)
            except (ssl.SSLError, ValueError) as exc:
                self.add(ca_where, f"cannot load the CA certificates: {ssl_reason(exc)}")
        context.verify_mode = verify_mode
        return None if self.problems else context

    def _read_pem(
        self, path: Path | None, inline: str | None, where: str, marker: str
    ) -> str | None:
        if path is None:
            text = inline
        else:
            try:
                text = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not PEM"
                self.add(where, f"cannot read {path}: {reason}")
                return None
        if text is None:
            return None
        if not text.isascii():  # PEM is ASCII; anything else would fail writing the temp file
            self.add(
                where, f"{path or 'the inline value'} is not PEM (it holds non-ASCII characters)"
            )
            return None
        if marker not in text:
            self.add(where, f"{path or 'the inline value'} holds no PEM {marker.lower()}")
            return None
        return text

    def _load_chain(self, context: ssl.SSLContext, cert: str, key: str, key_where: str) -> None:
        cert_path, key_path = self.tls.cert_file, self.tls.key_file
        if cert_path is not None and key_path is not None:
            # Files: nothing is written, so a read-only root filesystem (`docker run
            # --read-only`, no writable /tmp) serves TLS too.
            self._load_files(context, cert_path, key_path, key_where)
            return
        # load_cert_chain only takes file names: inline PEM goes through a private temporary
        # directory (mode 0700) that is removed straight after.
        try:
            with tempfile.TemporaryDirectory(prefix="web-config-") as tmp:
                if cert_path is None:
                    cert_path = Path(tmp) / "cert.pem"
                    cert_path.write_text(cert, encoding="ascii")
                if key_path is None:
                    key_path = Path(tmp) / "key.pem"
                    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w", encoding="ascii") as out:
                        out.write(key)
                self._load_files(context, cert_path, key_path, key_where)
        except OSError as exc:  # no writable temporary directory: a problem, not a crash
            self.add(
                _WHERE,
                f"inline cert or key need a writable temporary directory ({exc.strerror or exc}): "
                "give cert_file and key_file instead, or a writable TMPDIR",
            )

    def _load_files(
        self, context: ssl.SSLContext, cert_path: Path, key_path: Path, key_where: str
    ) -> None:
        try:
            context.load_cert_chain(cert_path, key_path, password=_no_passphrase)
        except _EncryptedKey:
            self.add(key_where, "the key is encrypted; the exporter needs an unencrypted key")
        except (ssl.SSLError, OSError, ValueError) as exc:
            self.add(_WHERE, f"cannot load the certificate and key: {ssl_reason(exc)}")


def ssl_context(config: WebConfig) -> ssl.SSLContext | None:
    """A server-side context from the config, reading the TLS files now; None without TLS.

    Called at every load, so new connections get a rotated certificate; raises ConfigError
    when the files do not load (a reload then keeps the old context).
    """
    loaded = server_tls(config)
    return None if loaded is None else loaded[0]


def server_tls(
    config: WebConfig,
) -> tuple[ssl.SSLContext, CertificateValidity | None] | None:
    """`ssl_context`, with the validity of the certificate it serves (read from the same text)."""
    if config.tls is None:
        return None
    builder = _ContextBuilder(config.tls)
    context = builder.build()
    if context is None:
        raise ConfigError(builder.problems)
    return context, builder.validity


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
