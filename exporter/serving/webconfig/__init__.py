"""`--web.config.file`: TLS, basic auth and response headers in the exporter-toolkit format.

Prometheus' own exporters share one web configuration file format (the exporter-toolkit's,
docs/web-configuration.md there), so an operator who has protected a node_exporter can protect
this exporter with the same file, the same bcrypt hashes and the same scrape config.

- model.py: the file's sections as pydantic models, with the toolkit's rules;
- loader.py: reading the file, every problem at once with its key path (`read_web_config`);
- tls.py: the server's `ssl.SSLContext`, and the client_allowed_sans check;
- auth.py: `Authorization: Basic` against the bcrypt hashes, with a cache of successes;
- rate_limit.py: the toolkit's rate_limit, a token bucket over every request;
- watch.py: re-reading the file (or a certificate it names) when it changes, as the toolkit
  does, so certificates can be rotated and users changed without a restart.
"""

from exporter.serving.webconfig.auth import Authenticator, AuthResult, parse_basic_authorization
from exporter.serving.webconfig.loader import WebConfig, read_web_config
from exporter.serving.webconfig.model import (
    HTTPServerConfig,
    RateLimitConfig,
    TLSServerConfig,
    go_duration,
)
from exporter.serving.webconfig.rate_limit import RateLimiter
from exporter.serving.webconfig.tls import client_san_allowed, ssl_context, ssl_reason
from exporter.serving.webconfig.watch import WebConfigWatcher, WebState

__all__ = [
    "AuthResult",
    "Authenticator",
    "HTTPServerConfig",
    "RateLimitConfig",
    "RateLimiter",
    "TLSServerConfig",
    "WebConfig",
    "WebConfigWatcher",
    "WebState",
    "client_san_allowed",
    "go_duration",
    "parse_basic_authorization",
    "read_web_config",
    "ssl_context",
    "ssl_reason",
]
