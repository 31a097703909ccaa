"""The command line's flags, in the Prometheus style (`--config.file`, `--web.listen-address`,
`--log.format`, `--collector.<name>`): what argparse can check; main() in exporter/cli.py
checks the rest and acts on them."""

from __future__ import annotations

import argparse
from pathlib import Path

from exporter import __version__
from exporter.config.collector_flags import COLLECTORS
from exporter.core.logs import LOG_FORMATS, LOG_LEVELS

# In the Prometheus exporters' range 9100-9999; not taken by a well-known exporter we know of.
DEFAULT_PORT = 9878
DEFAULT_LISTEN_ADDRESS = f":{DEFAULT_PORT}"
DEFAULT_TELEMETRY_PATH = "/metrics"
DEFAULT_DEMO_LISTEN_ADDRESS = "127.0.0.1:0"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eightbyeight-exporter",
        description="Prometheus exporter for 8x8 Work Analytics and Contact Center analytics.",
        # Exact flag names only: `--web.listen` must not quietly mean --web.listen-address.
        allow_abbrev=False,
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
    parser.add_argument(
        "--web.telemetry-path",
        dest="telemetry_path",
        default=DEFAULT_TELEMETRY_PATH,
        metavar="PATH",
        help=f"path to serve the metrics on (default {DEFAULT_TELEMETRY_PATH}); /, /-/healthy "
        "and /-/ready stay where they are",
    )
    parser.add_argument(
        "--web.disable-exporter-metrics",
        dest="disable_exporter_metrics",
        action="store_true",
        help="leave out the process_* and python_* metrics of the exporter's own process; "
        "the eightbyeight_* ones stay",
    )
    parser.add_argument("--log.level", dest="log_level", choices=LOG_LEVELS, default="info")
    parser.add_argument(
        "--log.format",
        dest="log_format",
        choices=LOG_FORMATS,
        default="json",
        help="json (default) and logfmt lines start with the exporter-toolkit's keys time, "
        "level, source and msg; console is for people",
    )
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
        "--demo.listen-address",
        dest="demo_listen_address",
        default=DEFAULT_DEMO_LISTEN_ADDRESS,
        metavar="[HOST]:PORT",
        help="address of the demo's simulator (default 127.0.0.1:0, a free port on loopback)",
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
    collectors = parser.add_argument_group(
        "collectors",
        "--collector.<name> / --no-collector.<name> set a section's `enabled` where the config "
        "file leaves it unsaid: the file wins (a flag it overrides is logged as "
        "collector_flags_overridden_by_config). Contact Center reports are named in the file.",
    )
    for name, (_api, _section, default) in COLLECTORS.items():
        collectors.add_argument(
            f"--collector.{name}",
            dest=f"collector_{name}",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"(default {'on' if default else 'off'})",
        )
    return parser


def collector_flags(args: argparse.Namespace) -> dict[str, bool]:
    """The --collector.<name> / --no-collector.<name> flags given, by collector name."""
    wanted = {name: getattr(args, f"collector_{name}") for name in COLLECTORS}
    return {name: on for name, on in wanted.items() if on is not None}
