"""--web.config.file: TLS, client certificates, basic auth, headers and re-reading, for real.

Every certificate is made here with the openssl CLI in a temporary directory (no private key
lives in the repository); every connection is a real one to 127.0.0.1.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import requests

from exporter.core.errors import ConfigError
from exporter.serving.connections import ServerLimits
from exporter.serving.server import ExporterServer
from exporter.serving.webconfig import (
    Authenticator,
    RateLimiter,
    WebConfigWatcher,
    go_duration,
    parse_basic_authorization,
    read_web_config,
    ssl_context,
)
from tests.support.clock import FakeClock
from tests.support.waiting import free_port, wait_for
from tests.support.web_config import (
    NEW_PASSWORD,
    PASSWORD,
    REALM,
    Pki,
    basic,
    events,
    needs_openssl,
    raw_tls_get,
    served,
    serving,
    tls_client,
    tls_config,
    write_config,
)

# ---------------------------------------------------------------------------------------------
# TLS


@needs_openssl
def test_tls_with_the_right_ca_serves(pki: Pki, tmp_path: Path, http: requests.Session) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    with serving(config) as server:
        assert server.scheme == "https"
        for host in ("127.0.0.1", "localhost"):
            answer = http.get(
                f"https://{host}:{server.port}/metrics", verify=str(pki.ca.cert), timeout=5
            )
            assert answer.status_code == 200
        answer = http.get(
            f"https://127.0.0.1:{server.port}/-/healthy", verify=str(pki.ca.cert), timeout=5
        )
        assert answer.json()["status"] == "healthy"


@needs_openssl
def test_a_client_that_does_not_trust_the_server_ca_fails(
    pki: Pki, tmp_path: Path, http: requests.Session
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    with serving(config) as server:
        with pytest.raises(requests.exceptions.SSLError):
            http.get(
                f"https://127.0.0.1:{server.port}/metrics", verify=str(pki.other_ca.cert), timeout=5
            )


@needs_openssl
def test_min_version_tls13_refuses_a_tls12_only_client(pki: Pki, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki, min_version="TLS13")}
    )
    with serving(config) as server:
        with pytest.raises(ssl.SSLError):
            raw_tls_get(server.port, tls_client(pki.ca.cert, maximum=ssl.TLSVersion.TLSv1_2))
        answer = raw_tls_get(server.port, tls_client(pki.ca.cert))
        assert answer.startswith(b"HTTP/1.1 200 ")


@needs_openssl
def test_max_version_tls12_is_what_is_negotiated(pki: Pki, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki, max_version="TLS12")}
    )
    with serving(config) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            with tls_client(pki.ca.cert).wrap_socket(sock, server_hostname="127.0.0.1") as conn:
                assert conn.version() == "TLSv1.2"


@needs_openssl
def test_require_and_verify_client_cert(pki: Pki, tmp_path: Path, http: requests.Session) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": tls_config(
                pki, client_auth_type="RequireAndVerifyClientCert", client_ca_file=str(pki.ca.cert)
            )
        },
    )
    with serving(config) as server:
        url = f"https://127.0.0.1:{server.port}/metrics"
        with pytest.raises(requests.exceptions.ConnectionError):  # SSLError is one too
            http.get(url, verify=str(pki.ca.cert), timeout=5)
        with pytest.raises(requests.exceptions.ConnectionError):
            http.get(
                url,
                verify=str(pki.ca.cert),
                timeout=5,
                cert=(str(pki.client_other_ca.cert), str(pki.client_other_ca.key)),
            )
        answer = http.get(
            url,
            verify=str(pki.ca.cert),
            timeout=5,
            cert=(str(pki.client.cert), str(pki.client.key)),
        )
        assert answer.status_code == 200


@needs_openssl
def test_verify_client_cert_if_given(pki: Pki, tmp_path: Path, http: requests.Session) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": tls_config(
                pki, client_auth_type="VerifyClientCertIfGiven", client_ca_file=str(pki.ca.cert)
            )
        },
    )
    with serving(config) as server:
        url = f"https://127.0.0.1:{server.port}/metrics"
        assert http.get(url, verify=str(pki.ca.cert), timeout=5).status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            http.get(
                url,
                verify=str(pki.ca.cert),
                timeout=5,
                cert=(str(pki.client_other_ca.cert), str(pki.client_other_ca.key)),
            )


@needs_openssl
def test_client_allowed_sans(pki: Pki, tmp_path: Path, http: requests.Session) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": tls_config(
                pki,
                client_auth_type="RequireAndVerifyClientCert",
                client_ca_file=str(pki.ca.cert),
                client_allowed_sans=["scraper.example"],
            )
        },
    )
    with serving(config) as server:
        url = f"https://127.0.0.1:{server.port}/metrics"
        ok = http.get(
            url,
            verify=str(pki.ca.cert),
            timeout=5,
            cert=(str(pki.client.cert), str(pki.client.key)),
        )
        assert ok.status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            http.get(
                url,
                verify=str(pki.ca.cert),
                timeout=5,
                cert=(str(pki.client_intruder.cert), str(pki.client_intruder.key)),
            )


@needs_openssl
def test_the_server_survives_failed_handshakes(
    pki: Pki, tmp_path: Path, http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    with serving(config) as server:
        # Plain HTTP to the TLS port gets a plain answer saying so, then the connection closes.
        plain = http.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
        assert plain.status_code == 400
        assert "HTTPS server" in plain.text
        # A client that connects and hangs up, and one that sends a broken handshake.
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"\x16\x03\x01\x00\x05hello")
            sock.settimeout(5)
            try:
                sock.recv(1024)  # an alert, EOF or a reset: anything but a hang (a timeout)
            except ConnectionResetError:
                pass
        with pytest.raises(requests.exceptions.SSLError):
            http.get(f"https://127.0.0.1:{server.port}/", verify=str(pki.other_ca.cert), timeout=5)
        answer = http.get(
            f"https://127.0.0.1:{server.port}/metrics", verify=str(pki.ca.cert), timeout=5
        )
        assert answer.status_code == 200
        assert wait_for(lambda: len(events(logs, "tls_handshake_failed")) >= 4)
    failures = events(logs, "tls_handshake_failed")
    assert {e["log_level"] for e in failures} == {"debug"}
    assert all(e["client"] == "127.0.0.1" for e in failures)


@needs_openssl
def test_a_handshake_trickled_a_byte_at_a_time_is_cut_at_the_handshake_timeout(
    pki: Pki, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    with serving(config, limits=ServerLimits(handshake_timeout=1.0)) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            # A handshake record announcing 512 bytes, then one byte every 0.2 s: each read
            # comes well within a second, the handshake never does. CPython's do_handshake
            # bounds the whole handshake by the socket's timeout (a deadline, not per read).
            sock.sendall(b"\x16\x03\x01\x02\x00\x01")
            started = time.monotonic()
            closed = False
            for _ in range(40):  # 8 s at most
                time.sleep(0.2)
                try:
                    sock.sendall(b"\x00")
                except OSError:
                    closed = True
                    break
                if closed_by_peer(sock):
                    closed = True
                    break
            assert closed, "the server kept a trickled handshake open"
            assert time.monotonic() - started < 6.0


def closed_by_peer(sock: socket.socket) -> bool:
    sock.settimeout(0.0)
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset
    finally:
        sock.settimeout(5)


@needs_openssl
def test_a_rotated_certificate_is_used_by_new_connections(
    pki: Pki, tmp_path: Path, http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    shutil.copy(pki.server.cert, cert)
    shutil.copy(pki.server.key, key)
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": {"cert_file": "tls.crt", "key_file": "tls.key"}}
    )
    with serving(config) as server:
        url = f"https://127.0.0.1:{server.port}/metrics"
        assert http.get(url, verify=str(pki.ca.cert), timeout=5).status_code == 200
        http.close()  # a new connection for the next request
        # The new pair is signed by the other CA: only a client trusting it can tell.
        for source, target in ((pki.server2.key, key), (pki.server2.cert, cert)):
            shutil.copy(source, tmp_path / "staged")
            os.replace(tmp_path / "staged", target)
        with requests.Session() as fresh:
            fresh.trust_env = False
            assert fresh.get(url, verify=str(pki.other_ca.cert), timeout=5).status_code == 200
            with pytest.raises(requests.exceptions.SSLError):
                with requests.Session() as old_trust:
                    old_trust.trust_env = False
                    old_trust.get(url, verify=str(pki.ca.cert), timeout=5)
    assert events(logs, "web_config_reloaded")
    assert not events(logs, "web_config_reload_failed")


@needs_openssl
def test_a_reload_refused_for_missing_files_is_retried_when_they_appear(
    pki: Pki, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    # The edit names a new pair before the pair is copied in: refused, and the running config
    # stays; once the files appear the same file loads, with no need to touch web.yml again.
    shutil.copy(pki.server.cert, tmp_path / "a.crt")
    shutil.copy(pki.server.key, tmp_path / "a.key")
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": {"cert_file": "a.crt", "key_file": "a.key"}}
    )
    watcher = WebConfigWatcher(config)
    first = watcher.current()
    write_config(config, {"tls_server_config": {"cert_file": "b.crt", "key_file": "b.key"}})
    assert watcher.current() is first
    assert watcher.current() is first  # the failure is logged once, not per request
    assert len(events(logs, "web_config_reload_failed")) == 1
    shutil.copy(pki.server2.key, tmp_path / "b.key")
    shutil.copy(pki.server2.cert, tmp_path / "b.crt")
    second = watcher.current()
    assert second is not first
    assert second.config.tls is not None and second.config.tls.cert_file == (
        tmp_path.resolve() / "b.crt"
    )
    assert len(events(logs, "web_config_reloaded")) == 1


# ---------------------------------------------------------------------------------------------
# Basic auth


@pytest.fixture
def auth_config(tmp_path: Path, hashes: dict[str, str]) -> Path:
    return write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})


def test_basic_auth_refuses_without_the_right_credentials(
    auth_config: Path, http: requests.Session
) -> None:
    with serving(auth_config) as server:
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/", "/metrics", "/-/healthy", "/-/ready", "/nope"):
            answer = http.get(base + path, timeout=5)
            assert answer.status_code == 401, path
            assert answer.headers["WWW-Authenticate"] == REALM
        for headers in (
            basic("alice", "wrong"),
            basic("mallory", PASSWORD),
            {"Authorization": "Basic !!notbase64"},
            {"Authorization": "Bearer abc"},
            basic("alice", ""),
        ):
            answer = http.get(base + "/metrics", headers=headers, timeout=5)
            assert answer.status_code == 401, headers
            assert answer.headers["WWW-Authenticate"] == REALM
        head = http.head(base + "/metrics", timeout=5)
        assert head.status_code == 401 and head.content == b""


def test_basic_auth_lets_the_right_user_in_everywhere(
    auth_config: Path, http: requests.Session
) -> None:
    reloads: list[bool] = []

    def on_reload() -> tuple[bool, str]:
        reloads.append(True)
        return True, "reloaded"

    with serving(auth_config, on_reload=on_reload, enable_lifecycle=True) as server:
        base = f"http://127.0.0.1:{server.port}"
        good = basic("alice", PASSWORD)
        assert http.get(base + "/metrics", headers=good, timeout=5).status_code == 200
        assert http.get(base + "/-/healthy", headers=good, timeout=5).status_code == 200
        assert http.get(base + "/", headers=good, timeout=5).status_code == 200
        refused = http.post(base + "/-/reload", timeout=5)
        assert refused.status_code == 401 and reloads == []
        refused = http.post(
            base + "/-/reload", headers=basic("alice", "nope"), data=b"x" * 10, timeout=5
        )
        assert refused.status_code == 401 and reloads == []
        answer = http.post(base + "/-/reload", headers=good, timeout=5)
        assert answer.status_code == 200 and answer.text == "reloaded\n"
        assert reloads == [True]
        bob = basic("bob", "bobs-password")
        assert http.get(base + "/metrics", headers=bob, timeout=5).status_code == 200


@needs_openssl
def test_tls_and_basic_auth_together(
    pki: Pki, tmp_path: Path, hashes: dict[str, str], http: requests.Session
) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki), "basic_auth_users": hashes}
    )
    with serving(config) as server:
        url = f"https://127.0.0.1:{server.port}/metrics"
        verify = str(pki.ca.cert)
        assert http.get(url, verify=verify, timeout=5).status_code == 401
        answer = http.get(url, verify=verify, auth=("alice", PASSWORD), timeout=5)
        assert answer.status_code == 200


def test_auth_failures_are_logged_with_username_and_client_only(
    auth_config: Path, hashes: dict[str, str], http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    with serving(auth_config) as server:
        base = f"http://127.0.0.1:{server.port}"
        http.get(base + "/metrics", headers=basic("alice", "wrong-" + PASSWORD), timeout=5)
        http.get(base + "/metrics", headers=basic("mallory", PASSWORD), timeout=5)
        http.get(base + "/metrics", timeout=5)
        http.get(base + "/metrics", headers=basic("alice", PASSWORD), timeout=5)
        assert wait_for(lambda: len(events(logs, "http_auth_failed")) == 3)
    failed = events(logs, "http_auth_failed")
    assert [(e["username"], e["reason"]) for e in failed] == [
        ("alice", "wrong_password"),
        ("mallory", "unknown_user"),
        (None, "missing"),
    ]
    keys = {"event", "log_level", "logger_name", "client", "username", "reason"}
    assert [set(e) for e in failed] == [keys | {"suppressed"}] * 2 + [keys]
    assert all(e["client"] == "127.0.0.1" for e in failed)
    text = repr(logs)
    for secret in (
        PASSWORD,
        hashes["alice"],
        hashes["bob"],
        basic("alice", PASSWORD)["Authorization"].split()[1],
    ):
        assert secret not in text


def test_the_password_file_is_reread_when_it_changes(
    tmp_path: Path, hashes: dict[str, str], http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": {"alice": hashes["alice"]}})
    with serving(config) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 200
        new_hash = bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
        write_config(config, {"basic_auth_users": {"alice": new_hash}})
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 401
        assert http.get(url, auth=("alice", NEW_PASSWORD), timeout=5).status_code == 200
        assert len(events(logs, "web_config_reloaded")) == 1

        # An invalid file: the running config stays, the problem is logged once.
        config.write_text(
            f"basic_auth_users:\n  alice: {new_hash}\n  eve: plain-text\ntls_server_confg: {{}}\n"
        )
        os.utime(config, ns=(time.time_ns() + 2 * 10**9,) * 2)
        for _ in range(3):
            assert http.get(url, auth=("alice", NEW_PASSWORD), timeout=5).status_code == 200
        assert http.get(url, auth=("eve", "plain-text"), timeout=5).status_code == 401
        failed = events(logs, "web_config_reload_failed")
        assert len(failed) == 1
        assert failed[0]["log_level"] == "error"
        assert failed[0]["problems"] == [
            "web config tls_server_confg: unknown key",
            "web config basic_auth_users.eve: not a bcrypt hash (one starting with $2a$, $2b$ "
            "or $2y$)",
        ]

        # Fixed again: picked up again.
        write_config(config, {"basic_auth_users": {"alice": hashes["alice"]}})
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 200
        assert "plain-text" not in repr(logs) and new_hash not in repr(logs)


def test_a_deleted_file_keeps_the_running_config(
    tmp_path: Path, hashes: dict[str, str], http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    with serving(config) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        config.unlink()
        assert http.get(url, timeout=5).status_code == 401
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 200
    [failed] = events(logs, "web_config_reload_failed")
    assert failed["problems"] == [f"web config: cannot read {config}: No such file or directory"]


@needs_openssl
def test_tls_cannot_be_switched_off_by_a_reload(
    pki: Pki,
    tmp_path: Path,
    hashes: dict[str, str],
    http: requests.Session,
    logs: list[dict[str, Any]],
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    with serving(config) as server:
        write_config(config, {"basic_auth_users": hashes})
        url = f"https://127.0.0.1:{server.port}/metrics"
        assert http.get(url, verify=str(pki.ca.cert), timeout=5).status_code == 200
    [failed] = events(logs, "web_config_reload_failed")
    assert failed["problems"] == [
        "web config tls_server_config: TLS was on when the exporter "
        "started; switching it needs a restart"
    ]


# ---------------------------------------------------------------------------------------------
# Headers and rate limit


def test_configured_headers_are_on_every_answer(
    tmp_path: Path, hashes: dict[str, str], http: requests.Session
) -> None:
    headers = {
        "Strict-Transport-Security": "max-age=31536000",
        "X-Frame-Options": "deny",
        "X-Content-Type-Options": "nosniff",
    }
    config = write_config(
        tmp_path / "web.yml",
        {"http_server_config": {"headers": headers}, "basic_auth_users": hashes},
    )
    with serving(config) as server:
        base = f"http://127.0.0.1:{server.port}"
        for answer in (
            http.get(base + "/metrics", timeout=5),
            http.get(base + "/metrics", auth=("alice", PASSWORD), timeout=5),
            http.get(base + "/nope", auth=("alice", PASSWORD), timeout=5),
        ):
            for key, value in headers.items():
                assert answer.headers[key] == value, (answer.status_code, key)


def test_no_web_config_changes_nothing(http: requests.Session) -> None:
    with serving(None) as server:
        assert server.scheme == "http" and server.web_config is None
        answer = http.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
        assert answer.status_code == 200
        assert "WWW-Authenticate" not in answer.headers


def test_rate_limit_answers_429_past_the_burst(tmp_path: Path, http: requests.Session) -> None:
    config = write_config(tmp_path / "web.yml", {"rate_limit": {"interval": "1h", "burst": 2}})
    with serving(config) as server:
        url = f"http://127.0.0.1:{server.port}/-/healthy"
        assert [http.get(url, timeout=5).status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limiter_refills_one_token_per_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(interval=10.0, burst=2, clock=clock)
    assert [limiter.allow() for _ in range(3)] == [True, True, False]
    clock.advance(10.0)
    assert [limiter.allow() for _ in range(2)] == [True, False]


# ---------------------------------------------------------------------------------------------
# Invalid files: every problem, with its key path


def problems_of(path: Path) -> list[str]:
    """What a load says: the file's problems, else those of the TLS files it names."""
    with pytest.raises(ConfigError) as caught:
        ssl_context(read_web_config(path))
    return caught.value.problems


def test_invalid_unknown_keys(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": {
                "cert_fle": str(pki.server.cert),
                "key_file": str(pki.server.key),
            },
            "basic_auth": {"alice": "x"},
        },
    )
    assert problems_of(config) == [
        "web config basic_auth: unknown key",
        "web config tls_server_config.cert_fle: unknown key",
        "web config tls_server_config.cert_file: required (TLS needs cert_file and key_file)",
    ]


def test_invalid_missing_cert_file(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"tls_server_config": {"cert_file": "missing.crt", "key_file": str(pki.server.key)}},
    )
    missing = tmp_path.resolve() / "missing.crt"
    assert problems_of(config) == [
        f"web config tls_server_config.cert_file: cannot read {missing}: No such file or directory"
    ]


def test_invalid_key_without_cert(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": {"key_file": str(pki.server.key)}}
    )
    assert problems_of(config) == [
        "web config tls_server_config.cert_file: required (TLS needs cert_file and key_file)"
    ]


def test_invalid_cert_and_key_that_do_not_belong_together(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"tls_server_config": {"cert_file": str(pki.server.cert), "key_file": str(pki.client.key)}},
    )
    [problem] = problems_of(config)
    assert problem.startswith(
        "web config tls_server_config: cannot load the certificate and "
        "key: [X509: KEY_VALUES_MISMATCH]"
    ), problem


def test_invalid_cert_file_that_is_not_a_certificate(tmp_path: Path, pki: Pki) -> None:
    (tmp_path / "junk.crt").write_text("not a certificate\n")
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": {
                "cert_file": str(tmp_path / "junk.crt"),
                "key_file": str(pki.server.key),
            }
        },
    )
    assert problems_of(config) == [
        f"web config tls_server_config.cert_file: {tmp_path / 'junk.crt'} holds no PEM certificate"
    ]


def test_invalid_inline_pem_with_non_ascii_characters(tmp_path: Path, pki: Pki) -> None:
    # A pasted bundle with a `friendlyName: café` line: a problem, not a traceback at start-up.
    cert = "Bag Attributes\n    friendlyName: café\n" + pki.server.cert.read_text()
    config = write_config(
        tmp_path / "web.yml",
        {"tls_server_config": {"cert": cert, "key": pki.server.key.read_text()}},
    )
    assert problems_of(config) == [
        "web config tls_server_config.cert: the inline value is not PEM (it holds non-ASCII "
        "characters)"
    ]


def no_temporary_directory(*args: Any, **kwargs: Any) -> Any:
    raise FileNotFoundError(2, "No usable temporary directory found")


def test_tls_files_load_without_a_writable_temporary_directory(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`docker run --read-only` has no writable /tmp: TLS from files crashed the start with a
    traceback, though nothing needs writing for them."""
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_temporary_directory)
    assert ssl_context(read_web_config(config)) is not None


def test_inline_pem_without_a_writable_temporary_directory_is_a_problem(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": {
                "cert": pki.server.cert.read_text(),
                "key": pki.server.key.read_text(),
            }
        },
    )
    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_temporary_directory)
    assert problems_of(config) == [
        "web config tls_server_config: inline cert or key need a writable temporary directory "
        "(No usable temporary directory found): give cert_file and key_file instead, or a "
        "writable TMPDIR"
    ]


def test_invalid_min_version(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki, min_version="TLS9")}
    )
    assert problems_of(config) == [
        "web config tls_server_config.min_version: 'TLS9' is not one of TLS10, TLS11, TLS12, TLS13"
    ]


def test_invalid_min_version_above_max_version(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"tls_server_config": tls_config(pki, min_version="TLS13", max_version="TLS12")},
    )
    assert problems_of(config) == [
        "web config tls_server_config.min_version: TLS13 is above max_version TLS12"
    ]


def test_invalid_bcrypt_hash(tmp_path: Path, hashes: dict[str, str]) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "basic_auth_users": {
                "alice": "hunter2",
                "bob": hashes["bob"],
                "carol": "$1$md5crypt$abc",
                "dave": hashes["bob"][:-1],
            }
        },
    )
    message = "not a bcrypt hash (one starting with $2a$, $2b$ or $2y$)"
    assert problems_of(config) == [
        f"web config basic_auth_users.{user}: {message}" for user in ("alice", "carol", "dave")
    ]


def test_htpasswd_2y_hashes_are_accepted_and_work(tmp_path: Path) -> None:
    hashed = "$2y$" + bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()[4:]
    config = read_web_config(
        write_config(tmp_path / "web.yml", {"basic_auth_users": {"alice": hashed}})
    )
    assert Authenticator(config.basic_auth_users).verify("alice", "pw")


def test_invalid_client_auth_type_needs_client_ca_file(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"tls_server_config": tls_config(pki, client_auth_type="RequireAndVerifyClientCert")},
    )
    assert problems_of(config) == [
        "web config tls_server_config.client_ca_file: required when client_auth_type is "
        "RequireAndVerifyClientCert"
    ]


def test_invalid_client_auth_type_name(tmp_path: Path, pki: Pki) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"tls_server_config": tls_config(pki, client_auth_type="RequireClientCertPlease")},
    )
    assert problems_of(config) == [
        "web config tls_server_config.client_auth_type: 'RequireClientCertPlease' is not one "
        "of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, "
        "RequireAndVerifyClientCert"
    ]


def test_invalid_headers(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"http_server_config": {"headers": {"X-Frame-Options": "allow-all", "X-Powered-By": "me"}}},
    )
    assert problems_of(config) == [
        "web config http_server_config.headers.X-Frame-Options: 'allow-all' is not one of "
        "deny, sameorigin",
        "web config http_server_config.headers.X-Powered-By: cannot be configured (one of "
        "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
        "Content-Security-Policy)",
    ]


@pytest.mark.parametrize("value", ["default-src \u2018self\u2019", "nosniff\x00", "caf\u00e9"])
def test_a_header_value_past_printable_ascii_is_refused(tmp_path: Path, value: str) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"http_server_config": {"headers": {"Content-Security-Policy": value}}},
    )
    assert problems_of(config) == [
        "web config http_server_config.headers.Content-Security-Policy: must be printable "
        "ASCII (spaces and tabs allowed)"
    ]


def test_a_reload_to_a_header_the_server_cannot_write_keeps_serving(
    tmp_path: Path, http: requests.Session
) -> None:
    """A curly quote pasted into a header took every answer down (the server writes headers
    in latin-1); the reload is refused and the running config stays."""
    config = write_config(
        tmp_path / "web.yml",
        {"http_server_config": {"headers": {"Content-Security-Policy": "default-src 'self'"}}},
    )
    with serving(config) as server:
        url = f"http://127.0.0.1:{server.port}/-/healthy"
        assert http.get(url, timeout=5).status_code == 200
        csp = {"Content-Security-Policy": "default-src \u2018self\u2019"}
        write_config(config, {"http_server_config": {"headers": csp}})
        later = config.stat().st_mtime_ns + 10**9
        os.utime(config, ns=(later, later))
        answer = http.get(url, timeout=5)
        assert answer.status_code == 200
        assert answer.headers["Content-Security-Policy"] == "default-src 'self'"


def test_invalid_yaml_does_not_quote_the_file(tmp_path: Path, hashes: dict[str, str]) -> None:
    config = tmp_path / "web.yml"
    config.write_text(f"basic_auth_users:\n  alice: {hashes['alice']}\n bob: [\n")
    [problem] = problems_of(config)
    assert problem.startswith(f"web config: {config} is not valid YAML at line 3")
    assert hashes["alice"] not in problem


def test_many_problems_are_reported_at_once(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": {
                "cert_file": 5,
                "key_file": "k",
                "min_version": "TLS9",
                "prefer_server_cipher_suites": "yes",
            },
            "http_server_config": {"http2": "no"},
            "rate_limit": {"interval": "soon", "burst": 1},
        },
    )
    assert problems_of(config) == [
        "web config tls_server_config.cert_file: must be a string",
        "web config tls_server_config.min_version: 'TLS9' is not one of TLS10, TLS11, TLS12, TLS13",
        "web config tls_server_config.prefer_server_cipher_suites: must be true or false",
        "web config http_server_config.http2: must be true or false",
        "web config rate_limit.interval: 'soon' is not a duration such as 1s or 100ms",
    ]


def test_an_invalid_file_fails_the_server_start(tmp_path: Path) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": {"alice": "plain"}})
    port = free_port()
    with pytest.raises(ConfigError) as caught:
        ExporterServer(served(), f"127.0.0.1:{port}", web_config=WebConfigWatcher(config))
    assert caught.value.problems == [
        "web config basic_auth_users.alice: not a bcrypt hash (one starting with $2a$, $2b$ or "
        "$2y$)"
    ]
    with socket.socket() as sock:  # nothing was left listening
        sock.bind(("127.0.0.1", port))


@needs_openssl
def test_cipher_suites_are_accepted_and_ignored_with_a_warning(
    pki: Pki, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {
            "tls_server_config": tls_config(
                pki, cipher_suites=["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
            )
        },
    )
    assert read_web_config(config).ignored == ("tls_server_config.cipher_suites",)
    WebConfigWatcher(config)
    [warning] = events(logs, "web_config_option_ignored")
    assert warning["key"] == "tls_server_config.cipher_suites"
    assert warning["log_level"] == "warning"


@needs_openssl
def test_ssl_context_follows_the_config(pki: Pki, tmp_path: Path) -> None:
    config = read_web_config(
        write_config(
            tmp_path / "web.yml",
            {
                "tls_server_config": tls_config(
                    pki,
                    min_version="TLS13",
                    client_auth_type="VerifyClientCertIfGiven",
                    client_ca_file=str(pki.ca.cert),
                )
            },
        )
    )
    context = ssl_context(config)
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert context.verify_mode == ssl.CERT_OPTIONAL
    plain = write_config(tmp_path / "plain.yml", {"rate_limit": {"interval": "1s", "burst": 1}})
    assert ssl_context(read_web_config(plain)) is None


def test_relative_paths_are_relative_to_the_file(tmp_path: Path, pki: Pki) -> None:
    (tmp_path / "certs").mkdir()
    shutil.copy(pki.server.cert, tmp_path / "certs" / "s.crt")
    shutil.copy(pki.server.key, tmp_path / "certs" / "s.key")
    config = read_web_config(
        write_config(
            tmp_path / "web.yml",
            {"tls_server_config": {"cert_file": "certs/s.crt", "key_file": "certs/s.key"}},
        )
    )
    assert config.tls is not None
    assert config.tls.cert_file == tmp_path.resolve() / "certs" / "s.crt"


# ---------------------------------------------------------------------------------------------
# The authenticator on its own


@pytest.fixture
def counted_checkpw(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The hashes bcrypt.checkpw was asked to compare against, in order."""
    seen: list[bytes] = []
    real = bcrypt.checkpw

    def checkpw(password: bytes, hashed: bytes) -> bool:
        seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    return seen


def test_unknown_users_cost_a_bcrypt_like_known_ones(
    hashes: dict[str, str], counted_checkpw: list[bytes]
) -> None:
    auth = Authenticator(hashes)
    assert not auth.verify("mallory", PASSWORD)
    assert not auth.verify("mallory", PASSWORD)
    assert len(counted_checkpw) == 2
    assert all(h not in {v.encode() for v in hashes.values()} for h in counted_checkpw)
    # Same cost as the real hashes, so the time taken tells nothing.
    assert {h[:7] for h in counted_checkpw} == {hashes["alice"][:7].encode()}


def test_with_mixed_costs_unknown_names_take_the_times_known_ones_take(
    counted_checkpw: list[bytes],
) -> None:
    """One dummy at the highest cost told a cheaper user's name from unknown ones by time
    alone (1 ms against 119 ms at costs 4 and 11): each unknown name is checked at one of the
    users' costs, the same each time."""
    cheap = bcrypt.hashpw(b"a", bcrypt.gensalt(4)).decode()
    dear = bcrypt.hashpw(b"b", bcrypt.gensalt(6)).decode()
    auth = Authenticator({"cheap": cheap, "dear": dear})
    costs = []
    for n in range(40):
        for _ in range(2):
            assert not auth.verify(f"user{n}", "wrong")
        first, second = counted_checkpw[-2:]
        assert first == second  # the same name, the same dummy
        assert first not in (cheap.encode(), dear.encode())
        costs.append(first[:7])
    assert set(costs) == {b"$2b$04$", b"$2b$06$"}


def test_successes_are_cached_failures_are_not(
    hashes: dict[str, str], counted_checkpw: list[bytes]
) -> None:
    clock = FakeClock()
    auth = Authenticator(hashes, cache_ttl=30.0, clock=clock)
    assert auth.verify("alice", PASSWORD)
    assert auth.verify("alice", PASSWORD)
    assert len(counted_checkpw) == 1
    assert not auth.verify("alice", "wrong")
    assert not auth.verify("alice", "wrong")
    assert len(counted_checkpw) == 3
    clock.advance(31.0)
    assert auth.verify("alice", PASSWORD)
    assert len(counted_checkpw) == 4
    # What is cached is a keyed digest, never the password.
    assert all(PASSWORD.encode() not in key for key in auth._cache)


def test_a_success_in_use_stays_cached_so_a_bcrypt_queue_cannot_hold_the_scraper(
    hashes: dict[str, str], counted_checkpw: list[bytes]
) -> None:
    clock = FakeClock()
    auth = Authenticator(hashes, cache_ttl=30.0, clock=clock)
    for _ in range(20):  # a scrape every 20 s for 400 s
        assert auth.verify("alice", PASSWORD)
        clock.advance(20.0)
    assert len(counted_checkpw) == 1


def test_overlong_passwords_never_match_but_cost_the_same(
    hashes: dict[str, str], counted_checkpw: list[bytes]
) -> None:
    long_password = "p" * 100
    hashed = bcrypt.hashpw(long_password[:72].encode(), bcrypt.gensalt(4)).decode()
    auth = Authenticator({"alice": hashed})
    assert not auth.verify("alice", long_password)
    assert len(counted_checkpw) == 1


def test_authorization_header_parsing() -> None:
    token = base64.b64encode(b"alice:pa:ss").decode()
    assert parse_basic_authorization(f"Basic {token}") == ("alice", "pa:ss")
    assert parse_basic_authorization(f"basic {token}") == ("alice", "pa:ss")
    assert parse_basic_authorization("Basic " + base64.b64encode(b"nocolon").decode()) is None
    assert parse_basic_authorization("Basic %%%") is None
    assert parse_basic_authorization("Digest abc") is None
    assert parse_basic_authorization(None) is None


def test_go_durations() -> None:
    parse = go_duration
    assert parse("1s") == 1.0
    assert parse("1m30s") == 90.0
    assert parse("100ms") == pytest.approx(0.1)
    assert parse(0) == 0.0
    for bad in ("1", "s", "1d", "1s ms", 5):
        with pytest.raises(ValueError):
            parse(bad)


def test_the_daemon_takes_the_flag_and_refuses_a_bad_file(tmp_path: Path) -> None:
    import sys

    repo = Path(__file__).resolve().parents[1]
    bad = write_config(tmp_path / "bad.yml", {"basic_auth_users": {"ops": "plain"}})
    refused = subprocess.run(
        [sys.executable, "-m", "exporter", "--demo", "--web.config.file", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=repo,
    )
    assert refused.returncode == 2 and refused.stderr.startswith("error: web config ")
    good = write_config(
        tmp_path / "web.yml",
        {"basic_auth_users": {"ops": bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()}},
    )
    port = free_port()
    with (tmp_path / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exporter",
                "--demo",
                "--web.listen-address",
                f"127.0.0.1:{port}",
                "--web.config.file",
                str(good),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=repo,
        )
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert wait_for(lambda: _status(url) in (200, 401), timeout=60)
        assert _status(url) == 401
        page = requests.get(url, auth=("ops", "s3cret"), timeout=30)
        assert page.status_code == 200
        # The web config's own metrics are on the page of the exporter it protects.
        assert "eightbyeight_web_config_last_reload_successful 1.0\n" in page.text
        assert 'eightbyeight_http_auth_failures_total{reason="missing"} ' in page.text
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def _status(url: str) -> int:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return 0
