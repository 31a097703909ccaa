"""`python -m exporter.healthcheck`: the container's HEALTHCHECK, which follows the running
exporter's `--web.listen-address` and `--web.config.file` instead of assuming :9878 over HTTP.

Without arguments it reads the exporter's command line from /proc (PID 1 in the image, else
the first process running the exporter), so `docker run IMAGE --web.listen-address=:9100
--web.config.file=/etc/web.yml` needs no HEALTHCHECK of its own; given the exporter's flags,
it uses those. What it asks, by the web config in force:

- plain HTTP: `GET /-/healthy`, healthy on 200 (503 while a collector is stuck);
- TLS: the same over HTTPS, the certificate unchecked (it names the service, not loopback);
- basic auth: a 401 counts as healthy too: the probe has only the file's bcrypt hashes, no
  password, and a 401 still shows the server accepting and answering requests; likewise a
  429 when the file has a rate limit (the probe took the last token, the server answered);
- TLS that requires a client certificate, or a web config the probe cannot read: a TCP
  connection to the port, the most it can check without credentials.

It exits 0 when healthy and 1 otherwise, never 2 (Docker reserves it), and prints one line
that `docker inspect` shows in the health log.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from exporter.config.command_line import build_parser
from exporter.core.errors import ConfigError
from exporter.serving.server import parse_listen_address
from exporter.serving.webconfig import WebConfig, read_web_config

HEALTH_PATH = "/-/healthy"
# Below the HEALTHCHECK's --timeout, so that the probe reports why rather than being killed.
TIMEOUT_SECONDS = 4.0
PROGRAM = "eightbyeight-exporter"
# Client certificate modes in which a handshake without a certificate fails.
CLIENT_CERT_REQUIRED = frozenset({"RequireAnyClientCert", "RequireAndVerifyClientCert"})
# The address to reach a server bound to every interface at.
LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}

Scheme = Literal["http", "https", "tcp"]


@dataclass(frozen=True)
class Probe:
    host: str
    port: int
    scheme: Scheme
    # Statuses that show a serving exporter besides 200 (see the module's docstring).
    also_healthy: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ExporterCommand:
    """The exporter's arguments (after the program) and the directory it runs in, which
    relative paths such as `--web.config.file=web.yml` are resolved from."""

    args: tuple[str, ...]
    cwd: Path


def exporter_arguments(argv: Sequence[str]) -> tuple[str, ...] | None:
    """The arguments after the exporter's program in a command line (`eightbyeight-exporter
    ARGS`, `python .../bin/eightbyeight-exporter ARGS` or `python -m exporter ARGS`)."""
    for index, word in enumerate(argv):
        if Path(word).name == PROGRAM:
            return tuple(argv[index + 1 :])
        if word == "-m" and argv[index + 1 : index + 2] == ["exporter"]:
            return tuple(argv[index + 2 :])
    return None


def _processes(proc: Path) -> Iterator[Path]:
    """PID 1 first (the image's ENTRYPOINT), then the others in the order of their ids."""
    yield proc / "1"
    pids = sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit() and p.name != "1")
    yield from (proc / str(pid) for pid in pids)


def find_exporter(proc: Path = Path("/proc"), uid: int | None = None) -> ExporterCommand | None:
    """The running exporter's command line, read from /proc: among the processes of this
    user (`uid`, by default the probe's own), as Docker runs the HEALTHCHECK as the image's
    user, so that another user's exporter on the same host is never the one probed."""
    owner = os.getuid() if uid is None else uid
    for process in _processes(proc):
        try:
            if process.stat().st_uid != owner:
                continue
            argv = (process / "cmdline").read_bytes().decode(errors="replace").split("\0")
            args = exporter_arguments(argv[:-1] if argv and argv[-1] == "" else argv)
            if args is None:
                continue
            return ExporterCommand(args, (process / "cwd").resolve())
        except OSError:  # gone meanwhile, or another user's
            continue
    return None


def plan(args: Sequence[str], cwd: Path) -> tuple[Probe, str | None]:
    """What to ask for the exporter run with these flags; the second value says why the
    probe falls back to a TCP connection when it does."""
    # The exporter's own parser: the probe reads the flags exactly as the exporter did.
    options, _ = build_parser().parse_known_args(list(args))
    host, port = parse_listen_address(options.listen_address)
    host = LOOPBACK.get(host, host)
    if options.web_config_file is None:
        return Probe(host, port, "http"), None
    path = Path(options.web_config_file)
    try:
        web_config = read_web_config(path if path.is_absolute() else cwd / path)
    except (ConfigError, OSError) as exc:
        return Probe(host, port, "tcp"), f"web config unreadable here ({exc})"
    return probe_for(host, port, web_config)


def probe_for(host: str, port: int, web_config: WebConfig) -> tuple[Probe, str | None]:
    also_healthy = frozenset(
        ({401} if web_config.basic_auth_users else set())
        | ({429} if web_config.rate_limit is not None else set())
    )
    if web_config.tls is None:
        return Probe(host, port, "http", also_healthy), None
    if web_config.tls.client_auth_type in CLIENT_CERT_REQUIRED:
        return Probe(host, port, "tcp"), "TLS requires a client certificate"
    return Probe(host, port, "https", also_healthy), None


def _unverified_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The exporter's certificate names the service, not the loopback address asked here;
    # the probe checks that it serves, not who it is.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def run_probe(probe: Probe, timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    target = (
        f"{probe.host}:{probe.port}" if ":" not in probe.host else f"[{probe.host}]:{probe.port}"
    )
    if probe.scheme == "tcp":
        try:
            socket.create_connection((probe.host, probe.port), timeout=timeout).close()
        except OSError as exc:
            return False, f"tcp {target}: {exc}"
        return True, f"tcp {target}: connected"
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(
            probe.host, probe.port, timeout=timeout, context=_unverified_tls()
        )
        if probe.scheme == "https"
        else http.client.HTTPConnection(probe.host, probe.port, timeout=timeout)
    )
    try:
        connection.request("GET", HEALTH_PATH, headers={"Connection": "close"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{probe.scheme}://{target}{HEALTH_PATH}: {exc}"
    finally:
        connection.close()
    healthy = status == 200 or status in probe.also_healthy
    return healthy, f"{probe.scheme}://{target}{HEALTH_PATH}: {status}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args:
            command: ExporterCommand | None = ExporterCommand(tuple(args), Path.cwd())
        else:
            command = find_exporter()
        if command is None:
            print(f"unhealthy: no {PROGRAM} process found")
            return 1
        probe, fallback = plan(command.args, command.cwd)
        healthy, outcome = run_probe(probe)
    except (SystemExit, Exception) as exc:  # Docker must see 0 or 1, never 2 (argparse exits 2)
        print(f"unhealthy: cannot probe: {exc!r}")
        return 1
    print(
        ("healthy: " if healthy else "unhealthy: ")
        + outcome
        + (f" ({fallback})" if fallback else "")
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
