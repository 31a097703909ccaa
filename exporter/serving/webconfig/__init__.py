"""`--web.config.file`: TLS, basic auth and response headers in the exporter-toolkit format.

Prometheus' own exporters share one web configuration file format (the exporter-toolkit's,
docs/web-configuration.md there), so an operator who has protected a node_exporter can protect
this exporter with the same file, the same bcrypt hashes and the same scrape config.

- model.py: the file's sections as pydantic models, with the toolkit's rules;
- loader.py: reading the file, every problem at once with its key path (`read_web_config`);
- tls.py: the server's `ssl.SSLContext`, and the client_allowed_sans check;
- certificates.py: the server certificate's validity, warned about when it is out of it;
- auth.py: `Authorization: Basic` against the bcrypt hashes, with a cache of successes;
- auth_failures.py: refused credentials counted by reason, and logged at a bounded rate;
- rate_limit.py: the toolkit's rate_limit, a token bucket over every request;
- protection.py: what a reload may not do (lower the protection in force);
- watch.py: re-reading the file (or a certificate it names) when it changes, as the toolkit
  does, so certificates can be rotated and users changed without a restart; it fails closed;
- metrics.py: the web config's own metrics (last reload, certificate expiry, auth failures).
"""

from exporter.serving.webconfig.auth import Authenticator, AuthResult, parse_basic_authorization
from exporter.serving.webconfig.auth_failures import AuthFailureLog
from exporter.serving.webconfig.certificates import CertificateValidity, certificate_validity
from exporter.serving.webconfig.loader import WebConfig, read_web_config
from exporter.serving.webconfig.metrics import WEB_CONFIG_METRICS, WebConfigCollector
from exporter.serving.webconfig.model import (
    HTTPServerConfig,
    RateLimitConfig,
    TLSServerConfig,
    go_duration,
)
from exporter.serving.webconfig.protection import lowered_protection
from exporter.serving.webconfig.rate_limit import RateLimiter
from exporter.serving.webconfig.tls import client_san_allowed, server_tls, ssl_context, ssl_reason
from exporter.serving.webconfig.watch import WebConfigWatcher, WebState

__all__ = [
    "WEB_CONFIG_METRICS",
    "AuthFailureLog",
    "AuthResult",
    "Authenticator",
    "CertificateValidity",
    "HTTPServerConfig",
    "RateLimitConfig",
    "RateLimiter",
    "TLSServerConfig",
    "WebConfig",
    "WebConfigCollector",
    "WebConfigWatcher",
    "WebState",
    "certificate_validity",
    "client_san_allowed",
    "go_duration",
    "lowered_protection",
    "parse_basic_authorization",
    "read_web_config",
    "server_tls",
    "ssl_context",
    "ssl_reason",
]
