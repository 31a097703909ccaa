"""Shared helpers of the web config tests: a throw-away PKI made with the openssl CLI, bcrypt
hashes, config files written so that every rewrite is seen, and a server on loopback."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import socket
import ssl
import subprocess
import time
import types
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import requests
import structlog
import yaml
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from exporter.pollers.base import Scheduler
from exporter.serving.exposition import Exposition
from exporter.serving.server import ExporterServer
from exporter.serving.webconfig import WebConfigWatcher

REALM = 'Basic realm="eightbyeight-exporter"'
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "new-Pa55word-after-rotation"

needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="the openssl CLI makes the test certificates"
)


# ---------------------------------------------------------------------------------------------
# A throw-away PKI


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    ca: Pair
    other_ca: Pair
    server: Pair
    server2: Pair
    client: Pair
    client_intruder: Pair
    client_other_ca: Pair


_MINIMAL_OPENSSL_CNF = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"


def _openssl(directory: Path, *args: str) -> None:
    subprocess.run(
        ["openssl", *args],
        cwd=directory,
        check=True,
        capture_output=True,
        timeout=60,
        env={**os.environ, "OPENSSL_CONF": str(directory / "min.cnf")},
    )


def _make_ca(directory: Path, name: str) -> Pair:
    _openssl(
        directory,
        "req",
        "-x509",
        "-config",
        "min.cnf",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectKeyIdentifier=hash",
    )
    return Pair(directory / f"{name}.crt", directory / f"{name}.key")


def _make_leaf(directory: Path, name: str, ca: Pair, *, sans: str, usage: str) -> Pair:
    (directory / f"{name}.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage={usage}\n"
        f"subjectAltName={sans}\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        directory,
        "req",
        "-new",
        "-config",
        "min.cnf",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
    )
    _openssl(
        directory,
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        str(ca.cert),
        "-CAkey",
        str(ca.key),
        "-set_serial",
        str(int.from_bytes(os.urandom(8), "big")),
        "-days",
        "2",
        "-extfile",
        f"{name}.ext",
        "-out",
        f"{name}.crt",
    )
    return Pair(directory / f"{name}.crt", directory / f"{name}.key")


def make_pki(directory: Path) -> Pki:
    """Two CAs and the server and client certificates the tests use, valid for two days."""
    (directory / "min.cnf").write_text(_MINIMAL_OPENSSL_CNF)
    ca = _make_ca(directory, "ca")
    other_ca = _make_ca(directory, "other-ca")
    server_sans = "IP:127.0.0.1,DNS:localhost"
    return Pki(
        ca=ca,
        other_ca=other_ca,
        server=_make_leaf(directory, "server", ca, sans=server_sans, usage="serverAuth"),
        server2=_make_leaf(directory, "server2", other_ca, sans=server_sans, usage="serverAuth"),
        client=_make_leaf(directory, "client", ca, sans="DNS:scraper.example", usage="clientAuth"),
        client_intruder=_make_leaf(
            directory, "intruder", ca, sans="DNS:intruder.example", usage="clientAuth"
        ),
        client_other_ca=_make_leaf(
            directory, "stranger", other_ca, sans="DNS:scraper.example", usage="clientAuth"
        ),
    )


def make_hashes() -> dict[str, str]:
    # Cost 4 (the minimum) keeps the suite fast; the exporter treats every cost alike.
    return {
        "alice": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
        "bob": bcrypt.hashpw(b"bobs-password", bcrypt.gensalt(4)).decode(),
    }


# ---------------------------------------------------------------------------------------------
# Helpers


@contextmanager
def captured_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Every event, debug included, whatever an earlier test configured."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as captured:
            yield captured
    finally:
        structlog.configure(**saved)


def events(captured: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in list(captured) if e["event"] == name]


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Write the file and move its mtime on, so even a same-size rewrite is seen as a change."""
    return write_text(path, yaml.safe_dump(data))


def write_text(path: Path, text: str) -> Path:
    """`write_config` for a text as it is (an empty file, a half-written one)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    bumped = max(time.time_ns(), before + 1_000_000_000)
    os.utime(path, ns=(bumped, bumped))
    return path


def served() -> types.SimpleNamespace:
    scheduler = Scheduler()
    return types.SimpleNamespace(
        exposition=Exposition(scheduler, CollectorRegistry()), scheduler=scheduler
    )


@contextmanager
def serving(
    config_file: Path | None, *, watcher: WebConfigWatcher | None = None, **kwargs: Any
) -> Iterator[ExporterServer]:
    """A server on a free loopback port with the file's config (or the watcher given)."""
    web_config = watcher
    if web_config is None and config_file is not None:
        web_config = WebConfigWatcher(config_file)
    server = ExporterServer(served(), "127.0.0.1:0", web_config=web_config, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def http_session() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
    try:
        yield session
    finally:
        session.close()


def tls_config(pki: Pki, **extra: Any) -> dict[str, Any]:
    return {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key), **extra}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def tls_client(
    ca: Path, *, cert: Pair | None = None, maximum: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if maximum is not None:
        context.maximum_version = maximum
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    return context


def raw_tls_get(port: int, context: ssl.SSLContext, path: str = "/-/healthy") -> bytes:
    """A one-request HTTPS exchange on a bare socket; raises on any TLS failure."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname="127.0.0.1") as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)
