"""The web config's own metrics: its last reload, the server certificate's end of validity and
the requests basic auth refused. They live as long as the process (the watcher outlives every
reload of the main config), so the server's registry of each exporter registers the collector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from exporter.metrics.spec import MetricSpec, counter, gauge
from exporter.serving.webconfig.auth_failures import AuthFailureLog
from exporter.serving.webconfig.certificates import CertificateValidity

LAST_RELOAD_SUCCESSFUL = gauge(
    "eightbyeight_web_config_last_reload_successful",
    "1 if the last change of the web config file (--web.config.file) was applied, 0 if it was "
    "refused (invalid, empty, half-written or lowering the protection): the previous web "
    "config is still in force.",
)
LAST_RELOAD_SUCCESS = gauge(
    "eightbyeight_web_config_last_reload_success_timestamp_seconds",
    "When the web config file was last loaded successfully (start-up or a change).",
)
CERTIFICATE_EXPIRY = gauge(
    "eightbyeight_web_tls_certificate_expiry_timestamp_seconds",
    "When the server certificate in force expires (its notAfter), in seconds since the epoch.",
)
AUTH_FAILURES = counter(
    "eightbyeight_http_auth_failures_total",
    "Requests refused by basic auth, by reason: missing (no credentials), malformed, "
    "unknown_user, wrong_password, overloaded (refused unchecked with a 429: too many checks "
    "were waiting for bcrypt).",
    ("reason",),
)
WEB_CONFIG_METRICS: tuple[MetricSpec, ...] = (
    LAST_RELOAD_SUCCESSFUL,
    LAST_RELOAD_SUCCESS,
    CERTIFICATE_EXPIRY,
    AUTH_FAILURES,
)


@dataclass(frozen=True)
class LoadStatus:
    """The outcome of the web config's last load, swapped whole by each load."""

    successful: bool
    success_timestamp: float
    certificate: CertificateValidity | None


class WebConfigCollector(Collector):
    """Renders the status of the watcher's last load and its count of auth failures."""

    def __init__(self, status: Callable[[], LoadStatus], failures: AuthFailureLog) -> None:
        self._status = status
        self._failures = failures

    def collect(self) -> Iterable[Metric]:
        status = self._status()
        for spec, value in (
            (LAST_RELOAD_SUCCESSFUL, 1.0 if status.successful else 0.0),
            (LAST_RELOAD_SUCCESS, status.success_timestamp),
        ):
            yield GaugeMetricFamily(spec.name, spec.help, value=value)
        if status.certificate is not None:
            yield GaugeMetricFamily(
                CERTIFICATE_EXPIRY.name, CERTIFICATE_EXPIRY.help, value=status.certificate.not_after
            )
        failures = CounterMetricFamily(
            AUTH_FAILURES.family_name, AUTH_FAILURES.help, labels=list(AUTH_FAILURES.labels)
        )
        for reason, count in self._failures.counts().items():
            failures.add_metric([reason], float(count))
        yield failures
