"""`python -m mixin`: write the Prometheus rules and the Grafana dashboards from the
mixin's settings (`mixin/config.yaml` in the repository; your own copy elsewhere)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from exporter.core.errors import ConfigError
from mixin.chart import write_chart_files
from mixin.config import load_mixin_config
from mixin.dashboards import write_dashboards
from mixin.rules import render_rules

RULES_OUT = Path("mixin/rules.yml")
DASHBOARDS_OUT = Path("grafana_dashboards")
CHART_FILES = Path("helm/eightbyeight-exporter/files")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mixin",
        description="Write the 8x8 exporter's Prometheus rules and Grafana dashboards.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("mixin/config.yaml"),
        help="thresholds and windows (default mixin/config.yaml; defaults "
        "apply when the file does not exist)",
    )
    parser.add_argument(
        "--rules-out",
        type=Path,
        default=RULES_OUT,
        help="rules file to write (default mixin/rules.yml)",
    )
    parser.add_argument(
        "--dashboards-out",
        type=Path,
        default=DASHBOARDS_OUT,
        help="directory of the dashboards (default grafana_dashboards)",
    )
    parser.add_argument(
        "--chart-files",
        type=Path,
        help="the Helm chart's files/ directory: its rules template and dashboards (default "
        f"{CHART_FILES} when the rules and dashboards go to their default places and the "
        "chart is there; else only when given)",
    )
    args = parser.parse_args(argv)
    try:
        config = load_mixin_config(args.config if args.config.exists() else None)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {args.config}: {problem}", file=sys.stderr)
        return 2
    args.rules_out.parent.mkdir(parents=True, exist_ok=True)
    args.rules_out.write_text(render_rules(config), encoding="utf-8")
    args.dashboards_out.mkdir(parents=True, exist_ok=True)
    written = write_dashboards(config, args.dashboards_out)
    print(
        f"wrote {args.rules_out} and {len(written)} dashboards in {args.dashboards_out}",
        file=sys.stderr,
    )
    # The chart ships copies (symlinks out of a chart are dropped by `helm package`): they
    # follow the same settings, and a test keeps them equal to the files above. A run that
    # writes its rules elsewhere (a user's own copy, a test) leaves the chart alone.
    chart_dir = args.chart_files
    repository_run = args.rules_out == RULES_OUT and args.dashboards_out == DASHBOARDS_OUT
    if chart_dir is None and repository_run and CHART_FILES.parent.is_dir():
        chart_dir = CHART_FILES
    if chart_dir is not None:
        chart_files = write_chart_files(config, chart_dir)
        print(f"wrote {len(chart_files)} files in {chart_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
