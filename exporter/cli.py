"""Command line: `eightbyeight-exporter` / `python -m exporter`, flags in the Prometheus style."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exporter import __version__
from exporter.app import Exporter, build_exporter, check_reports
from exporter.config import Config, load_config_data, read_config_file
from exporter.core.errors import ConfigError, ExporterError
from exporter.core.logs import LOG_FORMATS, LOG_LEVELS, configure_logging, get_logger
from exporter.core.memory import limit_malloc_arenas
from exporter.core.sharding import Shard, parse_shard
from exporter.demo import DEMO_HISTORY_SECONDS, demo_config_data
from exporter.pollers.one_round import run_concurrently
from exporter.reload import LiveExporter
from exporter.serving.server import ExporterServer, parse_listen_address
from exporter.serving.webconfig import WebConfigWatcher

if TYPE_CHECKING:  # the simulator is imported at run time only by --demo
    from simulator import Simulator

# In the Prometheus exporters' range 9100-9999; not taken by a well-known exporter we know of.
DEFAULT_PORT = 9878
DEFAULT_LISTEN_ADDRESS = f":{DEFAULT_PORT}"

log = get_logger("exporter.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eightbyeight-exporter",
        description="Prometheus exporter for 8x8 Work Analytics and Contact Center analytics.",
    )
    parser.add_argument(
        "--config.file",
        dest="config_file",
        metavar="PATH",
        help="YAML configuration file (without it: defaults, credentials from "
        "EIGHTBYEIGHT_API_KEY, EIGHTBYEIGHT_USERNAME, EIGHTBYEIGHT_PASSWORD)",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen_address",
        default=DEFAULT_LISTEN_ADDRESS,
        metavar="[HOST]:PORT",
        help=f"address to serve /metrics on (default {DEFAULT_LISTEN_ADDRESS})",
    )
    parser.add_argument("--log.level", dest="log_level", choices=LOG_LEVELS, default="info")
    parser.add_argument("--log.format", dest="log_format", choices=LOG_FORMATS, default="json")
    parser.add_argument(
        "--version", action="version", version=f"eightbyeight-exporter {__version__}"
    )
    parser.add_argument(
        "--check-config",
        action="store_true",
        help="validate the configuration and exit (0 valid, 2 invalid)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="collect every enabled collector once, print the exposition to "
        "stdout and exit (1 if any collector failed)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the embedded 8x8 API simulator on loopback and export from it; "
        "no credentials needed",
    )
    parser.add_argument(
        "--demo.seed",
        dest="demo_seed",
        type=int,
        default=42,
        help="random seed of the demo's simulator (default 42)",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="PATH",
        type=Path,
        default=None,
        help="TLS and basic authentication of the endpoints, in "
        "the exporter-toolkit format (docs/web-config.md)",
    )
    parser.add_argument(
        "--web.enable-lifecycle",
        dest="enable_lifecycle",
        action="store_true",
        help="answer POST /-/reload (off by default, as in Prometheus: anyone who reaches the "
        "port could reload); SIGHUP reloads either way",
    )
    parser.add_argument(
        "--shard",
        default="0",
        metavar="N|auto",
        help="this replica's shard, from 0; `auto` takes it from the hostname's "
        "trailing ordinal (a StatefulSet pod's name) (default 0)",
    )
    parser.add_argument(
        "--total-shards",
        dest="total_shards",
        type=int,
        default=1,
        metavar="M",
        help="how many replicas share the PBXes and tenants (default 1: no sharding)",
    )
    return parser


def check_reports_or_fail(exporter: Exporter, *, strict: bool) -> list[str]:
    """Problems of the configured reports per the report types API. When the API cannot be
    asked: a problem with `strict` (--check-config), else a warning (the report pollers
    check again before their first report)."""
    try:
        return check_reports(exporter)
    except ExporterError as exc:
        if strict:
            return [
                f"contact_center.reports: cannot check them against the report types API: {exc}"
            ]
        log.warning("cc_report_types_unavailable", error=str(exc))
        return []


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    limit_malloc_arenas()  # before any thread starts
    try:
        parse_listen_address(args.listen_address)
    except ValueError as exc:
        print(f"error: --web.listen-address: {exc}", file=sys.stderr)
        return 2
    try:
        shard = parse_shard(args.shard, args.total_shards, socket.gethostname())
        # Loaded first: a bad file fails before anything starts.
        web_config = WebConfigWatcher(args.web_config_file) if args.web_config_file else None
    except ConfigError as exc:
        return config_failed(exc.problems, prefix="error: ")

    simulator: Simulator | None = None

    def read_config() -> Config:
        """The configuration file (the demo's simulator filled in), read again on reload."""
        data = read_config_file(args.config_file) if args.config_file else {}
        if simulator is not None:
            data = demo_config_data(data, simulator)
        return load_config_data(data)

    try:
        if args.demo:
            # Imported here only: the simulator is not on the exporter's runtime path.
            from simulator import Simulator

            simulator = Simulator(
                seed=args.demo_seed,
                host="127.0.0.1",
                port=0,
                history_seconds=DEMO_HISTORY_SECONDS,
            ).start()
            log.info("demo_simulator_started", base_url=simulator.base_url)
        config = read_config()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: config: {problem}", file=sys.stderr)
        if simulator is not None:
            simulator.stop()
        return 2
    try:
        if args.check_config:
            exporter = build_exporter(config, process_metrics=False, shard=shard)
            try:
                problems = check_reports_or_fail(exporter, strict=True)
            finally:
                exporter.close()
            if problems:
                return config_failed(problems)
            print("config OK", file=sys.stderr)
            return 0
        return _run(config, args, shard, read_config, web_config)
    finally:
        if simulator is not None:
            simulator.stop()


# How soon the main loop notices a signal the handlers recorded.
SIGNAL_POLL_SECONDS = 0.2


class SignalFlags:
    """What SIGTERM, SIGINT and SIGHUP asked for, read by the main loop.

    A Python signal handler runs in the main thread between two bytecodes, possibly in the middle
    of a log call that holds the log stream's lock, or inside `Event.wait` holding its condition's
    lock; neither lock is reentrant, so logging or `Event.set()` from the handler can deadlock the
    process on the spot. The handlers therefore only assign attributes; the main loop logs and acts.
    """

    def __init__(self) -> None:
        self.stop: str | None = None  # the name of the signal that asked to stop
        self.reloads = 0
        self._reloads_taken = 0

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self.on_stop)
        signal.signal(signal.SIGINT, self.on_stop)
        signal.signal(signal.SIGHUP, self.on_hangup)

    def on_stop(self, signum: int, _frame: Any) -> None:
        self.stop = signal.Signals(signum).name

    def on_hangup(self, _signum: int, _frame: Any) -> None:
        self.reloads += 1

    def take_reload(self) -> bool:
        """True once for any number of SIGHUPs since the last call."""
        seen = self.reloads  # read once: a SIGHUP arriving meanwhile is taken next time
        pending = seen != self._reloads_taken
        self._reloads_taken = seen
        return pending


def config_failed(problems: Sequence[str], prefix: str = "error: config: ") -> int:
    for problem in problems:
        print(f"{prefix}{problem}", file=sys.stderr)
    return 2


def _run(
    config: Config,
    args: argparse.Namespace,
    shard: Shard,
    read_config: Callable[[], Config],
    web_config: WebConfigWatcher | None,
) -> int:
    def built(exporter: Exporter) -> Exporter:
        # The web config outlives every reload of the main config: each exporter's registry
        # shows its metrics (last reload, certificate expiry, auth failures).
        if web_config is not None:
            exporter.registry.register(web_config.collector)
        return exporter

    exporter = built(build_exporter(config, process_metrics=not args.once, shard=shard))
    problems = check_reports_or_fail(exporter, strict=False)
    if problems:
        exporter.close()
        return config_failed(problems)
    if args.once:
        try:
            ok = run_concurrently(exporter.scheduler.runners)
            sys.stdout.write(exporter.exposition.render().decode())
            sys.stdout.flush()
        finally:
            exporter.close()
        return 0 if ok else 1

    live = LiveExporter(
        exporter,
        load=read_config,
        build=lambda new, running: built(build_exporter(new, shard=shard, previous=running)),
        check=lambda candidate: check_reports_or_fail(candidate, strict=False),
    )
    try:
        server = ExporterServer(
            live,
            args.listen_address,
            on_reload=live.reload,
            web_config=web_config,
            enable_lifecycle=args.enable_lifecycle,
        )
    except ConfigError as exc:
        live.close()
        return config_failed(exc.problems, prefix="error: ")
    except OSError as exc:
        print(
            f"error: cannot listen on {args.listen_address}: {exc.strerror or exc}", file=sys.stderr
        )
        live.close()
        return 1
    signals = SignalFlags()
    signals.install()
    server.start()
    exporter.scheduler.start()
    log.info(
        "exporter_started",
        version=__version__,
        listen_address=args.listen_address,
        shard=shard.index,
        total_shards=shard.total,
        scheme=server.scheme,
        port=server.port,
        collectors=[r.name for r in exporter.scheduler.runners],
    )
    while signals.stop is None:
        if signals.take_reload():
            live.reload()
        time.sleep(SIGNAL_POLL_SECONDS)
    log.info("exporter_stopping", signal=signals.stop)
    # Waits for the budget, a retry or a report end at once; the poller threads get 5 s.
    server.stop()
    live.close()
    log.info("exporter_stopped")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
