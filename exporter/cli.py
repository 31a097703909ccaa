"""Command line: `eightbyeight-exporter` / `python -m exporter`, flags in the Prometheus style."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from exporter import __version__
from exporter.app import Exporter, build_exporter, check_reports
from exporter.config import Config, load_config_data, read_config_file
from exporter.config.collector_flags import apply_collector_flags
from exporter.config.command_line import build_parser, collector_flags
from exporter.core.errors import ConfigError, ExporterError
from exporter.core.garbage import tune_garbage_collection
from exporter.core.logs import configure_logging, get_logger
from exporter.core.memory import limit_malloc_arenas
from exporter.core.sharding import Shard, parse_shard
from exporter.demo import DEMO_HISTORY_SECONDS, demo_config_data
from exporter.pollers.base import STOP_TIMEOUT_SECONDS, Scheduler
from exporter.pollers.one_round import run_concurrently
from exporter.reload import LiveExporter
from exporter.serving.exposition import Exposition
from exporter.serving.handler import FIXED_PATHS, Reload
from exporter.serving.server import ExporterServer, parse_listen_address
from exporter.serving.status import ExporterFacts, ReloadOutcome
from exporter.serving.webconfig import WebConfigWatcher

if TYPE_CHECKING:  # the simulator is imported at run time only by --demo
    from simulator import Simulator

log = get_logger("exporter.cli")


def check_telemetry_path(path: str) -> str | None:
    """What is wrong with a --web.telemetry-path, or None."""
    if not path.startswith("/") or "?" in path or "#" in path:
        return f"{path!r} is not an absolute path"
    if path in ("/", *FIXED_PATHS):
        return f"{path} is taken by the exporter's own page"
    return None


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


class PendingServed:
    """What the server serves, set once the exporter is built. The socket is bound before
    anything else starts, so a taken port fails before the demo's simulator, any token request
    or any collector; the server answers from `start()` on, once `live` is set (a scrape
    meanwhile waits in the listen backlog)."""

    def __init__(self, config_file: str | None = None) -> None:
        self.live: LiveExporter | None = None
        self.config_file = config_file

    def _target(self) -> LiveExporter:
        if self.live is None:
            raise RuntimeError("the server was started before the exporter was built")
        return self.live

    @property
    def exposition(self) -> Exposition:
        return self._target().exposition

    @property
    def scheduler(self) -> Scheduler:
        return self._target().scheduler

    def reload(self) -> tuple[bool, str]:
        return self._target().reload()

    def status_facts(self) -> ExporterFacts:
        """What the status page shows beyond the runners: the live exporter's, at each look."""
        live = self._target()
        state = live.state
        return ExporterFacts(
            budgets=tuple(live.exporter.budgets),
            config_file=self.config_file,
            reload=ReloadOutcome(state.successful, state.success_timestamp, state.attempted_at),
        )


def bind_server(
    args: argparse.Namespace,
    served: PendingServed,
    on_reload: Reload,
    web_config: WebConfigWatcher | None,
) -> ExporterServer | int:
    """The server bound to --web.listen-address, or the exit code after saying why not."""
    try:
        return ExporterServer(
            served,
            args.listen_address,
            on_reload=on_reload,
            web_config=web_config,
            enable_lifecycle=args.enable_lifecycle,
            telemetry_path=args.telemetry_path,
            status_facts=served.status_facts,
        )
    except ConfigError as exc:
        return config_failed(exc.problems, prefix="error: ")
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"error: cannot listen on {args.listen_address}: {reason}", file=sys.stderr)
        return 1


def start_simulator(args: argparse.Namespace) -> Simulator | int:
    """The demo's simulator, started on --demo.listen-address, or the exit code."""
    # Imported here only: the simulator is not on the exporter's runtime path.
    from simulator import Simulator

    host, port = parse_listen_address(args.demo_listen_address)
    try:
        simulator = Simulator(
            seed=args.demo_seed,
            host=host or "127.0.0.1",
            port=port,
            history_seconds=DEMO_HISTORY_SECONDS,
        ).start()
    except OSError as exc:
        address = args.demo_listen_address
        print(f"error: cannot listen on {address} (--demo.listen-address): {exc}", file=sys.stderr)
        return 1
    log.info("demo_simulator_started", base_url=simulator.base_url)
    return simulator


def check_flags(args: argparse.Namespace) -> str | None:
    """The first problem of the flags argparse cannot check, as a message."""
    for flag, address in (
        ("--web.listen-address", args.listen_address),
        ("--demo.listen-address", args.demo_listen_address),
    ):
        try:
            parse_listen_address(address)
        except ValueError as exc:
            return f"{flag}: {exc}"
    problem = check_telemetry_path(args.telemetry_path)
    return f"--web.telemetry-path: {problem}" if problem else None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signals = SignalFlags()
    # Until the main loop runs, a stop ends the start at once, cleaning up: as PID 1 in a
    # container SIGTERM's default action is to be ignored, so a start asking a slow API would
    # hold `docker stop` or a pod's grace period; and SIGINT would end with a traceback.
    signal.signal(signal.SIGTERM, _end_the_start)
    signal.signal(signal.SIGINT, _end_the_start)
    if not (args.check_config or args.once):
        # A `systemctl reload` right after a start (config management does it) must not end a
        # start still asking the APIs: SIGHUP's default is to end the process, and systemd
        # counts that a clean exit, never restarted. It is taken once the main loop runs.
        signals.hold_reloads()
    configure_logging(args.log_level, args.log_format)
    limit_malloc_arenas()  # before any thread starts
    problem = check_flags(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        shard = parse_shard(args.shard, args.total_shards, socket.gethostname())
        # Loaded first: a bad file fails before anything starts.
        web_config = WebConfigWatcher(args.web_config_file) if args.web_config_file else None
    except ConfigError as exc:
        return config_failed(exc.problems, prefix="error: ")
    served = PendingServed(args.config_file)
    server: ExporterServer | None = None
    if not (args.check_config or args.once):
        bound = bind_server(args, served, served.reload, web_config)
        if isinstance(bound, int):
            return bound
        server = bound

    simulator: Simulator | None = None
    wanted = collector_flags(args)

    def read_config() -> Config:
        """The configuration file (the demo's simulator filled in), read again on reload."""
        data = read_config_file(args.config_file) if args.config_file else {}
        data, overridden = apply_collector_flags(data, wanted)
        if overridden:
            log.warning("collector_flags_overridden_by_config", collectors=overridden)
        if simulator is not None:
            data = demo_config_data(data, simulator)
        return load_config_data(data)

    try:
        if args.demo:
            started = start_simulator(args)
            if isinstance(started, int):
                return started
            simulator = started
        try:
            config = read_config()
        except ConfigError as exc:
            for problem in exc.problems:
                print(f"error: config: {problem}", file=sys.stderr)
            return 2
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
        return _run(config, args, shard, read_config, web_config, server, served, signals)
    finally:
        if server is not None:
            server.stop()  # at once when _run stopped it already, or never started it
        if simulator is not None:
            simulator.stop()


# How soon the main loop notices a signal the handlers recorded.
SIGNAL_POLL_SECONDS = 0.2


def _end_the_start(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # the shell's convention for a process a signal ended


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

    def hold_reloads(self) -> None:
        """Record SIGHUPs from now on (a stop still ends the start at once)."""
        signal.signal(signal.SIGHUP, self.on_hangup)

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
    server: ExporterServer | None,
    served: PendingServed,
    signals: SignalFlags,
) -> int:
    def built(exporter: Exporter) -> Exporter:
        # The web config outlives every reload of the main config: each exporter's registry
        # shows its metrics (last reload, certificate expiry, auth failures).
        if web_config is not None:
            exporter.registry.register(web_config.collector)
        return exporter

    # --web.disable-exporter-metrics leaves out prometheus-client's process and platform
    # collectors (process_*, python_*): what node_exporter's flag leaves out (process_*, go_*).
    process_metrics = not (args.once or args.disable_exporter_metrics)

    def build(new: Config, previous: Exporter | None = None) -> Exporter:
        made = build_exporter(new, process_metrics=process_metrics, shard=shard, previous=previous)
        return built(made)

    exporter = build(config)
    problems = check_reports_or_fail(exporter, strict=False)
    if problems:
        exporter.close()
        return config_failed(problems)
    tune_garbage_collection()  # what start-up made stays: out of every later collection
    if args.once or server is None:
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
        build=build,
        check=lambda candidate: check_reports_or_fail(candidate, strict=False),
    )
    served.live = live
    signals.install()  # a SIGHUP held during the start is taken by the loop's first turn
    server.start()
    exporter.scheduler.start()
    log.info(
        "exporter_started",
        version=__version__,
        listen_address=args.listen_address,
        telemetry_path=args.telemetry_path,
        shard=shard.index,
        total_shards=shard.total,
        scheme=server.scheme,
        port=server.port,
        collectors=[r.name for r in exporter.scheduler.runners],
    )
    # A reload runs in a thread of its own: its check may ask the APIs for minutes, and a stop
    # meanwhile must not wait for it (live.close() cuts it short).
    reloading: threading.Thread | None = None
    while signals.stop is None:
        if (reloading is None or not reloading.is_alive()) and signals.take_reload():
            reloading = threading.Thread(target=live.reload, name="reload", daemon=True)
            reloading.start()
        time.sleep(SIGNAL_POLL_SECONDS)
    log.info("exporter_stopping", signal=signals.stop)
    # Waits for the budget, a retry or a report end at once; the poller threads get 5 s.
    server.stop()
    live.close()
    if reloading is not None:
        reloading.join(STOP_TIMEOUT_SECONDS)
    log.info("exporter_stopped")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
