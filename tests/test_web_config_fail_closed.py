"""The web config fails closed: a file emptied, half-written or lowering the protection in force
never opens the door of a running exporter; a file that protects nothing never starts one; bcrypt
costs are bounded, certificates out of their validity are warned about, and a flood of bad
credentials is counted rather than logged line by line.

Every server is a real one on 127.0.0.1; every clock that decides an outcome is a FakeClock.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import requests
from cryptography import x509
from prometheus_client import CollectorRegistry

from exporter.core.errors import ConfigError
from exporter.serving.webconfig import Authenticator, WebConfigWatcher, read_web_config, watch
from exporter.serving.webconfig.auth import AuthResult, BcryptTurns
from exporter.serving.webconfig.loader import WebConfig
from tests.support.clock import FakeClock
from tests.support.files import REPO
from tests.support.waiting import wait_for
from tests.support.web_config import (
    PASSWORD,
    Pki,
    basic,
    events,
    serving,
    tls_config,
    write_config,
    write_text,
)

LAST_RELOAD_OK = "eightbyeight_web_config_last_reload_successful"
AUTH_FAILURES = "eightbyeight_http_auth_failures_total"
CERT_EXPIRY = "eightbyeight_web_tls_certificate_expiry_timestamp_seconds"
# The suffix of every refusal of a file that would lower the protection in force.
RESTART = "a running exporter never lowers its protection: restart it to apply this file"


def sample(watcher: WebConfigWatcher, name: str, labels: dict[str, str] | None = None) -> Any:
    registry = CollectorRegistry()
    registry.register(watcher.collector)
    return registry.get_sample_value(name, labels or {})


# ---------------------------------------------------------------------------------------------
# A running exporter keeps its protection


@pytest.mark.parametrize(
    "rewritten",
    [
        "",  # `: > web.yml`, the first step of many ways of writing a file
        "basic_auth_users:\n",  # `printf 'basic_auth_users:\n' > web.yml`
        "# being rewritten\n",
        "{}\n",
        "basic_auth_users: {}\n",
        "basic_auth_users:\n  alice: $2b$04$abc",  # cut in the middle of a hash
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",  # the users not yet
    ],
)
def test_an_emptied_or_half_written_file_keeps_basic_auth(
    tmp_path: Path,
    hashes: dict[str, str],
    http: requests.Session,
    logs: list[dict[str, Any]],
    rewritten: str,
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    watcher = WebConfigWatcher(config)
    with serving(None, watcher=watcher) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        assert http.get(url, timeout=5).status_code == 401
        write_text(config, rewritten)
        for _ in range(3):
            assert http.get(url, timeout=5).status_code == 401
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 200
    [failed] = events(logs, "web_config_reload_failed")
    assert failed["log_level"] == "error"
    assert events(logs, "web_config_reloaded") == []
    assert sample(watcher, LAST_RELOAD_OK) == 0.0


def test_a_reload_that_would_turn_basic_auth_off_says_so(
    tmp_path: Path, hashes: dict[str, str], logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    watcher = WebConfigWatcher(config)
    write_config(config, {"rate_limit": {"interval": "1s", "burst": 10}})
    assert watcher.current().authenticator is not None
    [failed] = events(logs, "web_config_reload_failed")
    assert failed["problems"] == [
        f"web config basic_auth_users: none, so basic auth would be off; {RESTART}"
    ]
    # Fixed: the file is taken again, and the metric says so.
    write_config(config, {"basic_auth_users": {"alice": hashes["alice"]}})
    assert watcher.current().config.basic_auth_users == {"alice": hashes["alice"]}
    assert sample(watcher, LAST_RELOAD_OK) == 1.0


def test_users_can_be_removed_and_rotated_by_a_reload(
    tmp_path: Path, hashes: dict[str, str], http: requests.Session
) -> None:
    # Removing a user (revoking a leaked password) raises the protection: it is applied.
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    with serving(config) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        assert http.get(url, auth=("bob", "bobs-password"), timeout=5).status_code == 200
        write_config(config, {"basic_auth_users": {"alice": hashes["alice"]}})
        assert http.get(url, auth=("bob", "bobs-password"), timeout=5).status_code == 401
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 200


def test_tls_without_the_users_yet_keeps_basic_auth(
    pki: Pki, tmp_path: Path, hashes: dict[str, str], http: requests.Session
) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki), "basic_auth_users": hashes}
    )
    with serving(config) as server:
        url = f"https://127.0.0.1:{server.port}/metrics"
        verify = str(pki.ca.cert)
        write_config(config, {"tls_server_config": tls_config(pki)})
        assert http.get(url, verify=verify, timeout=5).status_code == 401
        assert http.get(url, verify=verify, auth=("alice", PASSWORD), timeout=5).status_code == 200


def test_client_certificates_cannot_be_relaxed_by_a_reload(
    pki: Pki, tmp_path: Path, http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    strict = tls_config(
        pki, client_auth_type="RequireAndVerifyClientCert", client_ca_file=str(pki.ca.cert)
    )
    config = write_config(tmp_path / "web.yml", {"tls_server_config": strict})
    with serving(config) as server:
        write_config(config, {"tls_server_config": tls_config(pki)})
        url = f"https://127.0.0.1:{server.port}/-/healthy"
        with pytest.raises(requests.exceptions.ConnectionError):
            http.get(url, verify=str(pki.ca.cert), timeout=5)
        mine = (str(pki.client.cert), str(pki.client.key))
        assert http.get(url, verify=str(pki.ca.cert), cert=mine, timeout=5).status_code == 200
    [failed] = events(logs, "web_config_reload_failed")
    assert failed["problems"] == [
        "web config tls_server_config.client_auth_type: NoClientCert accepts clients that "
        f"RequireAndVerifyClientCert refuses; {RESTART}"
    ]


@pytest.mark.parametrize(
    ("before", "after", "problem"),
    [
        (
            {"client_allowed_sans": ["scraper.example"]},
            {},
            "web config tls_server_config.client_allowed_sans: none, so any client "
            f"certificate of the CA would do; {RESTART}",
        ),
        (
            {"min_version": "TLS13"},
            {"min_version": "TLS12"},
            f"web config tls_server_config.min_version: TLS12 is below TLS13; {RESTART}",
        ),
        (
            {"client_auth_type": "RequireAndVerifyClientCert"},
            {"client_auth_type": "VerifyClientCertIfGiven"},
            "web config tls_server_config.client_auth_type: VerifyClientCertIfGiven accepts "
            f"clients that RequireAndVerifyClientCert refuses; {RESTART}",
        ),
    ],
)
def test_lowering_tls_is_refused_and_raising_it_is_applied(
    pki: Pki,
    tmp_path: Path,
    logs: list[dict[str, Any]],
    before: dict[str, Any],
    after: dict[str, Any],
    problem: str,
) -> None:
    with_ca = {"client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": str(pki.ca.cert)}
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki, **{**with_ca, **before})}
    )
    watcher = WebConfigWatcher(config)
    in_force = watcher.current().config
    write_config(config, {"tls_server_config": tls_config(pki, **{**with_ca, **after})})
    assert watcher.current().config is in_force
    [failed] = events(logs, "web_config_reload_failed")
    assert failed["problems"] == [problem]
    # The other way round raises the protection: applied at once.
    write_config(config, {"tls_server_config": tls_config(pki, **{**with_ca, **before})})
    assert watcher.current().config is not in_force
    assert sample(watcher, LAST_RELOAD_OK) == 1.0


def test_a_file_that_changes_while_it_is_read_is_read_again(
    tmp_path: Path,
    hashes: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    logs: list[dict[str, Any]],
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": {"alice": hashes["alice"]}})
    watcher = WebConfigWatcher(config)
    # A writer half-way through: bob is written, alice not yet. The read takes the half, and
    # the writer finishes before the read is over.
    half = f"basic_auth_users:\n  bob: {hashes['bob']}\n"
    write_text(config, half)
    real_read = read_web_config
    reads: list[WebConfig] = []

    def read_while_written(path: Path) -> WebConfig:
        read = real_read(path)
        if not reads:
            write_text(config, half + f"  alice: {hashes['alice']}\n")
        reads.append(read)
        return read

    monkeypatch.setattr(watch, "read_web_config", read_while_written)
    # The half read is never in force: alice keeps her access all along.
    assert "alice" in watcher.current().config.basic_auth_users
    assert watcher.current().config.basic_auth_users == hashes
    assert len(reads) == 2 and reads[0].basic_auth_users == {"bob": hashes["bob"]}
    assert events(logs, "web_config_reload_failed") == []


# ---------------------------------------------------------------------------------------------
# A file that protects nothing never starts an exporter


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("# to do\n", "is empty"),
        ("basic_auth_users:\n", "turns nothing on"),
        ("{}\n", "turns nothing on"),
        ("tls_server_config: {}\nbasic_auth_users: {}\n", "turns nothing on"),
    ],
)
def test_a_file_that_protects_nothing_fails_the_start(
    tmp_path: Path, text: str, problem: str
) -> None:
    config = write_text(tmp_path / "web.yml", text)
    with pytest.raises(ConfigError) as caught:
        WebConfigWatcher(config)
    expected = {
        "is empty": f"web config: {config} is empty",
        "turns nothing on": f"web config: {config} turns nothing on (no tls_server_config, "
        "basic_auth_users, rate_limit or headers)",
    }[problem]
    assert caught.value.problems == [
        f"{expected}; leave --web.config.file out to serve plain HTTP without auth"
    ]


def test_the_daemon_refuses_an_empty_file_with_a_clear_error(tmp_path: Path) -> None:
    empty = write_text(tmp_path / "web.yml", "")
    refused = subprocess.run(
        [sys.executable, "-m", "exporter", "--demo", "--web.config.file", str(empty)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: web config: {empty} is empty;")
    assert "Traceback" not in refused.stderr


# ---------------------------------------------------------------------------------------------
# bcrypt costs


def with_cost(hashed: str, cost: int) -> str:
    """A well-formed hash of another cost, made without paying for that cost (it matches
    no password, which these tests do not need)."""
    return f"{hashed[:4]}{cost:02d}{hashed[6:]}"


def test_a_bcrypt_cost_above_the_maximum_is_a_config_error(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    config = write_config(
        tmp_path / "web.yml",
        {"basic_auth_users": {"alice": with_cost(hashes["alice"], 15), "bob": hashes["bob"]}},
    )
    with pytest.raises(ConfigError) as caught:
        read_web_config(config)
    assert caught.value.problems == [
        "web config basic_auth_users.alice: bcrypt cost 15 is above the maximum of 14 (each "
        "check would take 32 times as long as at cost 10); make the hash again with a cost of "
        "10 to 12"
    ]
    accepted = write_config(
        tmp_path / "ok.yml", {"basic_auth_users": {"alice": with_cost(hashes["alice"], 14)}}
    )
    assert read_web_config(accepted).basic_auth_users["alice"][4:6] == "14"


def test_the_dummy_hash_of_unknown_users_is_made_cheaply(
    hashes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    costs: list[int] = []
    checked: list[bytes] = []
    real_gensalt, real_checkpw = bcrypt.gensalt, bcrypt.checkpw

    def gensalt(rounds: int = 12, prefix: bytes = b"2b") -> bytes:
        costs.append(rounds)
        return real_gensalt(rounds, prefix)

    def checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "gensalt", gensalt)
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    # A cost-14 hash would take seconds to make: the dummy is never made at that cost.
    Authenticator({"alice": with_cost(hashes["alice"], 14)})
    assert costs and max(costs) == 4
    # Yet an unknown user is checked at the cost of the known ones (6 here, to keep it quick),
    # against a hash that matches nothing.
    six = bcrypt.hashpw(PASSWORD.encode(), real_gensalt(6)).decode()
    auth = Authenticator({"alice": six})
    for password in (PASSWORD, "", "x" * 80):
        assert not auth.verify("mallory", password)
    assert {hashed[:7] for hashed in checked} == {b"$2b$06$"}
    assert auth.verify("alice", PASSWORD)


# ---------------------------------------------------------------------------------------------
# Certificates out of their validity


def not_after(pki: Pki) -> float:
    return x509.load_pem_x509_certificate(
        pki.server.cert.read_bytes()
    ).not_valid_after_utc.timestamp()


def test_an_expired_certificate_is_warned_about_at_load(
    pki: Pki, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    later = FakeClock(not_after(pki) + timedelta(days=1).total_seconds())
    watcher = WebConfigWatcher(config, wall_clock=later)
    [warning] = events(logs, "web_tls_certificate_expired")
    assert warning["log_level"] == "warning"
    assert warning["not_after"] == datetime.fromtimestamp(not_after(pki), UTC).isoformat()
    assert warning["certificate"] == str(pki.server.cert)
    assert sample(watcher, CERT_EXPIRY) == not_after(pki)
    assert events(logs, "web_tls_certificate_not_yet_valid") == []


def test_a_certificate_not_valid_yet_is_warned_about_at_load(
    pki: Pki, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    earlier = FakeClock(not_after(pki) - timedelta(days=30).total_seconds())
    WebConfigWatcher(config, wall_clock=earlier)
    [warning] = events(logs, "web_tls_certificate_not_yet_valid")
    assert warning["log_level"] == "warning"
    assert datetime.fromisoformat(warning["not_before"]).timestamp() > earlier()
    assert events(logs, "web_tls_certificate_expired") == []


def test_a_valid_certificate_is_not_warned_about(
    pki: Pki, tmp_path: Path, hashes: dict[str, str], logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"tls_server_config": tls_config(pki)})
    watcher = WebConfigWatcher(config)
    assert not [e for e in logs if str(e["event"]).startswith("web_tls_certificate")]
    assert sample(watcher, CERT_EXPIRY) == not_after(pki)
    plain = WebConfigWatcher(write_config(tmp_path / "plain.yml", {"basic_auth_users": hashes}))
    assert sample(plain, CERT_EXPIRY) is None


# ---------------------------------------------------------------------------------------------
# Floods of bad credentials


def test_a_flood_of_bad_credentials_is_counted_and_logged_at_a_bounded_rate(
    tmp_path: Path, hashes: dict[str, str], http: requests.Session, logs: list[dict[str, Any]]
) -> None:
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    clock = FakeClock()
    watcher = WebConfigWatcher(config, clock=clock)
    with serving(None, watcher=watcher) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        for _ in range(200):
            assert http.get(url, headers=basic("alice", "guess"), timeout=5).status_code == 401
        for _ in range(20):
            bad = {"Authorization": "Basic !!"}
            assert http.get(url, headers=bad, timeout=5).status_code == 401
        warned = events(logs, "http_auth_failed")
        assert len(warned) == 10
        assert [e["suppressed"] for e in warned] == [0] * 10
        assert sample(watcher, AUTH_FAILURES, {"reason": "wrong_password"}) == 200.0
        assert sample(watcher, AUTH_FAILURES, {"reason": "malformed"}) == 20.0
        assert sample(watcher, AUTH_FAILURES, {"reason": "unknown_user"}) == 0.0
        # A minute later, one more line, which tells how many were left out meanwhile.
        clock.advance(60.0)
        http.get(url, headers=basic("mallory", "guess"), timeout=5)
        last = events(logs, "http_auth_failed")[-1]
        assert (last["username"], last["reason"], last["suppressed"]) == (
            "mallory",
            "unknown_user",
            210,
        )
        assert http.get(url, auth=("alice", PASSWORD), timeout=5).status_code == 200


# ---------------------------------------------------------------------------------------------
# A flood of wrong passwords: few checks wait for bcrypt, in turn


def test_a_flood_from_one_address_cannot_keep_another_addresses_first_check_out(
    hashes: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    checked: list[bytes] = []

    def checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(password)
        if password == b"guess":
            gate.wait(10)  # the flood's checks hold bcrypt until the scraper has queued
        return password == PASSWORD.encode()

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    auth = Authenticator(hashes)
    results: dict[str, list[AuthResult]] = {"flood": [], "scraper": []}

    def check(who: str, client: str, password: str) -> None:
        header = basic("alice", password)["Authorization"]
        results[who].append(auth.check(header, client=client))

    def start(who: str, client: str, password: str) -> threading.Thread:
        thread = threading.Thread(target=check, args=(who, client, password), daemon=True)
        thread.start()
        return thread

    threads = [start("flood", "10.0.0.66", "guess")]
    assert wait_for(lambda: len(checked) == 1, timeout=5)  # one check runs, holding bcrypt
    threads += [start("flood", "10.0.0.66", "guess") for _ in range(10)]
    # Two may wait from that address; the other eight are refused at once, unchecked.
    assert wait_for(lambda: len(results["flood"]) == 8, timeout=5)
    assert {r.reason for r in results["flood"]} == {"overloaded"}
    threads.append(start("scraper", "10.0.0.9", PASSWORD))
    assert wait_for(lambda: auth._turns._waiting.get("10.0.0.9") == 1, timeout=5)
    gate.set()
    for thread in threads:
        thread.join(10)
    assert [r.reason for r in results["scraper"]] == ["ok"]
    # Served in turn: the running check, the two waiting before it, then the scraper's.
    assert checked == [b"guess", b"guess", b"guess", PASSWORD.encode()]


def test_the_turns_are_bounded_in_all_and_per_address() -> None:
    turns = BcryptTurns(max_waiting=3, per_client=2)
    assert turns.acquire("a")  # runs at once
    waiting = [
        threading.Thread(target=turns.acquire, args=(client,), daemon=True)
        for client in ("a", "a", "b")
    ]
    for thread in waiting:
        thread.start()
    assert wait_for(lambda: sum(turns._waiting.values()) == 3, timeout=5)
    assert not turns.acquire("c")  # the queue is full
    for _ in range(4):
        turns.release()
    for thread in waiting:
        thread.join(5)
    assert turns._waiting == {} and turns.acquire("c")  # free again: runs at once
    turns.release()


def test_an_overloaded_check_is_answered_429_and_counted(
    tmp_path: Path, hashes: dict[str, str], http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BcryptTurns, "acquire", lambda self, client: False)
    config = write_config(tmp_path / "web.yml", {"basic_auth_users": hashes})
    watcher = WebConfigWatcher(config)
    with serving(None, watcher=watcher) as server:
        answer = http.get(
            f"http://127.0.0.1:{server.port}/metrics", auth=("alice", PASSWORD), timeout=5
        )
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "1")
    assert sample(watcher, AUTH_FAILURES, {"reason": "overloaded"}) == 1.0
