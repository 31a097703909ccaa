#!/usr/bin/env bash
# Installs the exporter into a virtual environment of its own (scripts/venv.sh: on a fresh Debian
# or Ubuntu the system Python takes no `pip install`) and runs it against the embedded
# simulator. Extra arguments go to the exporter (`--web.listen-address`, `--log.level`, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

# Editable: a change of the checkout needs no new install (venv_install skips an unchanged one).
venv_install -c constraints.txt -e .
exec eightbyeight-exporter --demo "$@"
