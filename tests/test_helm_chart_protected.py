"""The chart's protected mode: the exporter's web config (TLS, basic auth) from a Secret, a
ServiceMonitor that scrapes over HTTPS with the CA and credentials of Secrets, and probes that
pass. The probes are proven by running their rendered checks, as the kubelet would, against
an exporter serving such a web config on loopback."""

from __future__ import annotations

import shutil
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
import yaml

from exporter.serving.webconfig import WebConfigWatcher
from tests.support.helm_chart import CI_DIR, by_kind, container, helm_sdk, load_yaml, render
from tests.support.web_config import PASSWORD, Pki, basic, serving, write_config

PROTECTED = CI_DIR / "protected-values.yaml"
WEB_SECRET = {"webConfig": {"existingSecret": "eightbyeight-web-config", "key": "web.yml"}}


def probes(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    exporter = container(documents)
    return {name: exporter[name] for name in ("startupProbe", "livenessProbe", "readinessProbe")}


def web_config_secret(directory: Path, pki: Pki, hashes: dict[str, str], *, users: bool) -> Path:
    """The Secret's keys as the pod sees them (one directory): web.yml with paths relative to
    it, tls.crt, tls.key; bcrypt users when asked."""
    directory.mkdir()
    shutil.copy(pki.server.cert, directory / "tls.crt")
    shutil.copy(pki.server.key, directory / "tls.key")
    config: dict[str, Any] = {"tls_server_config": {"cert_file": "tls.crt", "key_file": "tls.key"}}
    if users:
        config["basic_auth_users"] = {"alice": hashes["alice"]}
    return write_config(directory / "web.yml", config)


def run_probe(probe: dict[str, Any], port: int) -> bool:
    """The kubelet's check: a TCP connect, or a GET whose status is 200..399 (HTTPS without
    verifying the certificate, which is what the kubelet does)."""
    if "tcpSocket" in probe:
        assert probe["tcpSocket"] == {"port": "http"}
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    check = probe["httpGet"]
    assert check["port"] == "http"
    url = f"{check['scheme'].lower()}://127.0.0.1:{port}{check['path']}"
    with requests.Session() as session, pytest.warns(urllib3.exceptions.InsecureRequestWarning):
        session.trust_env = False
        answer = session.get(url, verify=False, timeout=5)
    return 200 <= answer.status_code < 400


# --- rendered -----------------------------------------------------------------------------------


def test_the_defaults_scrape_and_probe_plain_http() -> None:
    documents = render({"serviceMonitor": {"enabled": True}})
    (monitor,) = by_kind(documents, "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["scheme"] == "http"
    assert "tlsConfig" not in endpoint and "basicAuth" not in endpoint
    for probe in probes(documents).values():
        assert probe["httpGet"]["scheme"] == "HTTP"
    exporter = container(documents)
    assert not [a for a in exporter["args"] if a.startswith("--web.config.file")]
    assert [m["name"] for m in exporter["volumeMounts"]] == ["config", "tmp"]


def test_the_protected_case_renders_https_tls_basic_auth_and_tcp_probes() -> None:
    overrides = load_yaml(PROTECTED)
    documents = render(overrides)
    (monitor,) = by_kind(documents, "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["scheme"] == "https"
    assert endpoint["tlsConfig"] == overrides["serviceMonitor"]["tlsConfig"]
    secret = {"name": "eightbyeight-scrape"}
    assert endpoint["basicAuth"] == {
        "username": secret | {"key": "username"},
        "password": secret | {"key": "password"},
    }
    exporter = container(documents)
    assert "--web.config.file=/etc/eightbyeight-exporter-web/web.yml" in exporter["args"]
    (mount,) = [m for m in exporter["volumeMounts"] if m["name"] == "web-config"]
    assert mount == {
        "name": "web-config",
        "mountPath": "/etc/eightbyeight-exporter-web",
        "readOnly": True,
    }
    (workload,) = by_kind(documents, "Deployment")
    volumes = workload["spec"]["template"]["spec"]["volumes"]
    (volume,) = [v for v in volumes if v["name"] == "web-config"]
    assert volume["secret"] == {"secretName": "eightbyeight-web-config", "defaultMode": 0o440}
    for probe in probes(documents).values():
        assert probe["tcpSocket"] == {"port": "http"} and "httpGet" not in probe


def test_tls_config_without_https_stops_the_render() -> None:
    with pytest.raises(helm_sdk().HelmRenderError, match="tlsConfig is only used with"):
        render({"serviceMonitor": {"enabled": True, "tlsConfig": {"serverName": "x"}}})


# --- run against a protected exporter ---------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,users",
    [
        (load_yaml(PROTECTED), True),
        (WEB_SECRET | {"probes": {"type": "httpGet", "scheme": "HTTPS"}}, False),
    ],
    ids=["tls and basic auth: tcpSocket", "tls only: https httpGet"],
)
def test_the_rendered_probes_pass_against_the_protected_exporter(
    overrides: dict[str, Any], users: bool, pki: Pki, hashes: dict[str, str], tmp_path: Path
) -> None:
    rendered = probes(render(overrides))
    web_yml = web_config_secret(tmp_path / "web", pki, hashes, users=users)
    with serving(None, watcher=WebConfigWatcher(web_yml)) as server:
        assert server.scheme == "https"
        for name, probe in rendered.items():
            assert run_probe(probe, server.port), name
        if users:
            # Why not httpGet here: basic auth covers the health paths too.
            for path in ("/-/healthy", "/-/ready"):
                https_get = {"httpGet": {"path": path, "port": "http", "scheme": "HTTPS"}}
                assert not run_probe(https_get, server.port), path


def test_the_protected_service_monitor_scrapes_the_protected_exporter(
    pki: Pki, hashes: dict[str, str], tmp_path: Path
) -> None:
    """What the operator makes of the endpoint: HTTPS, the CA of `tlsConfig.ca`, its
    `serverName` checked against the certificate, the Secret's username and password."""
    overrides = load_yaml(PROTECTED)
    # The test certificate names localhost: the ServiceMonitor's serverName must be a name of
    # the exporter's certificate, as in a cluster.
    overrides["serviceMonitor"]["tlsConfig"]["serverName"] = "localhost"
    (monitor,) = by_kind(render(overrides), "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    secrets = {
        ("eightbyeight-web-config", "ca.crt"): pki.ca.cert.read_text(),
        ("eightbyeight-scrape", "username"): "alice",
        ("eightbyeight-scrape", "password"): PASSWORD,
    }
    ca = endpoint["tlsConfig"]["ca"]["secret"]
    context = ssl.create_default_context(cadata=secrets[(ca["name"], ca["key"])])
    auth = endpoint["basicAuth"]
    user = secrets[(auth["username"]["name"], auth["username"]["key"])]
    password = secrets[(auth["password"]["name"], auth["password"]["key"])]
    web_yml = web_config_secret(tmp_path / "web", pki, hashes, users=True)
    with serving(None, watcher=WebConfigWatcher(web_yml)) as server:
        assert endpoint["scheme"] == server.scheme == "https"
        request = (
            f"GET {endpoint['path']} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Authorization: {basic(user, password)['Authorization']}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            server_name = endpoint["tlsConfig"]["serverName"]
            with context.wrap_socket(sock, server_hostname=server_name) as conn:
                conn.sendall(request.encode())
                answer = b""
                while chunk := conn.recv(65536):
                    answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_the_protected_ci_values_name_no_literal_secret() -> None:
    """Passwords, keys and certificates stay in Secrets: the values file only names them."""
    text = PROTECTED.read_text(encoding="utf-8")
    assert "BEGIN" not in text and "$2" not in text
    assert yaml.safe_load(text)["serviceMonitor"]["basicAuth"].keys() == {
        "secretName",
        "usernameKey",
        "passwordKey",
    }
