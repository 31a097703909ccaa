"""The server certificate's validity: read at each load, warned about when it is out of it.

OpenSSL serves an expired certificate without a word, and every scraper then fails its
handshake; the exporter says so when it loads the file, and exports the end of the validity
(`eightbyeight_web_tls_certificate_expiry_timestamp_seconds`) for an alert ahead of time.
The dates are read with pyca/cryptography: Python's ssl module parses a certificate only
once a peer has sent it, and an ASN.1 reader of our own is not worth the risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from exporter.core.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class CertificateValidity:
    """When the server certificate (the first of cert_file or cert) is valid, in epoch seconds."""

    source: str  # the file it was read from, or `tls_server_config.cert` when inline
    not_before: float
    not_after: float

    def warn_if_outside(self, now: float) -> None:
        """Log `web_tls_certificate_expired` or `_not_yet_valid` when `now` is outside it."""
        if now >= self.not_after:
            log.warning(
                "web_tls_certificate_expired",
                certificate=self.source,
                not_after=_iso(self.not_after),
            )
        elif now < self.not_before:
            log.warning(
                "web_tls_certificate_not_yet_valid",
                certificate=self.source,
                not_before=_iso(self.not_before),
            )


def certificate_validity(pem: str, source: str) -> CertificateValidity | None:
    """The validity of the first certificate of a PEM text; None when it cannot be read (OpenSSL
    has loaded it already, so that is not a problem of the load)."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return None
    return CertificateValidity(
        source,
        certificate.not_valid_before_utc.timestamp(),
        certificate.not_valid_after_utc.timestamp(),
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
