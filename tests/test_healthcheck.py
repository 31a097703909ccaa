"""The container's HEALTHCHECK (`python -m exporter.healthcheck`): it finds the exporter's
flags, and asks what the exporter serves by them (HTTP, HTTPS, basic auth, or a TCP connect)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exporter.healthcheck import (
    ExporterCommand,
    Probe,
    exporter_arguments,
    find_exporter,
    main,
    plan,
    run_probe,
)
from tests.support.waiting import free_port
from tests.support.web_config import Pki, serving, tls_config, write_config


def test_the_exporter_arguments_are_found_in_each_form_of_its_command_line() -> None:
    venv = "/opt/eightbyeight/bin"
    assert exporter_arguments([f"{venv}/python", f"{venv}/eightbyeight-exporter", "--a=1"]) == (
        "--a=1",
    )
    assert exporter_arguments(["eightbyeight-exporter"]) == ()
    assert exporter_arguments(["python3", "-m", "exporter", "--b", "2"]) == ("--b", "2")
    assert exporter_arguments(["python3", "-m", "exporter.healthcheck"]) is None
    assert exporter_arguments(["/sbin/docker-init", "--", "sh"]) is None


def fake_process(proc: Path, pid: int, argv: list[str], cwd: Path) -> None:
    directory = proc / str(pid)
    directory.mkdir(parents=True)
    (directory / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (directory / "cwd").symlink_to(cwd)


def test_the_exporter_is_found_in_proc_pid_1_first(tmp_path: Path) -> None:
    proc, work = tmp_path / "proc", tmp_path / "work"
    work.mkdir()
    fake_process(proc, 1, ["/sbin/docker-init", "--", "eightbyeight-exporter-ish"], work)
    fake_process(proc, 12, ["python", "-m", "exporter", "--web.listen-address=:9100"], work)
    fake_process(proc, 7, ["/bin/sh"], work)
    (proc / "self").mkdir()  # not a process id
    uid = os.getuid()
    assert find_exporter(proc, uid) == ExporterCommand(("--web.listen-address=:9100",), work)
    fake_process(proc, 3, ["/usr/bin/eightbyeight-exporter", "--demo"], tmp_path)
    assert find_exporter(proc, uid) == ExporterCommand(("--demo",), tmp_path)
    # Another user's exporter is not this container's.
    assert find_exporter(proc, uid + 1) is None


def test_the_listen_address_gives_the_loopback_address_to_ask(tmp_path: Path) -> None:
    assert plan([], tmp_path) == (Probe("127.0.0.1", 9878, "http"), None)
    assert plan(["--web.listen-address=0.0.0.0:9100"], tmp_path)[0].port == 9100
    assert plan(["--web.listen-address", "[::]:9100"], tmp_path)[0].host == "::1"
    assert plan(["--web.listen-address=10.1.2.3:80", "--demo"], tmp_path)[0].host == "10.1.2.3"


def test_the_web_config_chooses_the_scheme(
    pki: Pki, hashes: dict[str, str], tmp_path: Path
) -> None:
    def probe_of(data: dict[str, object]) -> tuple[Probe, str | None]:
        # Relative to the exporter's directory, as the exporter itself reads it.
        write_config(tmp_path / "web.yml", data)
        return plan(["--web.listen-address=:9100", "--web.config.file=web.yml"], tmp_path)

    tls = tls_config(pki)
    assert probe_of({"tls_server_config": tls}) == (Probe("127.0.0.1", 9100, "https"), None)
    assert probe_of({"basic_auth_users": hashes}) == (
        Probe("127.0.0.1", 9100, "http", frozenset({401})),
        None,
    )
    assert probe_of({"tls_server_config": tls, "rate_limit": {"interval": "1s", "burst": 5}})[
        0
    ] == Probe("127.0.0.1", 9100, "https", frozenset({429}))
    required = {
        **tls,
        "client_auth_type": "RequireAndVerifyClientCert",
        "client_ca_file": str(pki.ca.cert),
    }
    assert probe_of({"tls_server_config": required}) == (
        Probe("127.0.0.1", 9100, "tcp"),
        "TLS requires a client certificate",
    )
    missing = plan(["--web.config.file=absent.yml"], tmp_path)
    assert missing[0] == Probe("127.0.0.1", 9878, "tcp")
    assert missing[1] is not None and "unreadable" in missing[1]


def test_a_protected_exporter_is_healthy_and_a_gone_one_is_not(
    pki: Pki, hashes: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "web.yml", {"tls_server_config": tls_config(pki), "basic_auth_users": hashes}
    )
    with serving(config) as server:
        flags = [f"--web.listen-address=127.0.0.1:{server.port}", f"--web.config.file={config}"]
        assert main(flags) == 0
        assert f"healthy: https://127.0.0.1:{server.port}/-/healthy: 401" in capsys.readouterr().out
        # A 401 is healthy only where the file has users: elsewhere it would mean a fault.
        assert run_probe(Probe("127.0.0.1", server.port, "https")) == (
            False,
            f"https://127.0.0.1:{server.port}/-/healthy: 401",
        )
    assert main(flags) == 1
    assert "unhealthy: https://" in capsys.readouterr().out


def test_plain_http_needs_a_200(tmp_path: Path) -> None:
    with serving(None) as server:
        assert run_probe(Probe("127.0.0.1", server.port, "http")) == (
            True,
            f"http://127.0.0.1:{server.port}/-/healthy: 200",
        )
        assert run_probe(Probe("127.0.0.1", server.port, "tcp"))[0]
    port = free_port()
    assert not run_probe(Probe("127.0.0.1", port, "tcp"))[0]
    assert not run_probe(Probe("127.0.0.1", port, "http"))[0]


def test_the_probe_exits_1_never_2_on_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    # Docker reserves exit code 2; argparse's own exit would be 2.
    assert main(["--log.level=nonsense"]) == 1
    assert main(["--web.listen-address=nonsense"]) == 1
    assert "cannot probe" in capsys.readouterr().out
