#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, checks the code, then runs the
# whole suite. Python packages: this project with its test extras, into a virtual environment
# (scripts/venv.sh: the system Python takes no `pip install`, PEP 668). Debian: prometheus
# (promtool) and prometheus-alertmanager (amtool), only when missing. The checks (lint, format, types, the
# import layers of pyproject.toml) run before pytest and each one fails the script; extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

# The runtime dependencies at the versions the image ships (constraints.txt); the test tools
# as pyproject.toml bounds them.
venv_install -c constraints.txt -e '.[test]'

if ! command -v promtool >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
fi

# Every check runs, so that one CI run reports all of them; any failure stops the script
# before pytest.
failed=()
check() {
  echo "--- $*"
  "$@" || failed+=("$*")
}
check python3 -m ruff check .
check python3 -m ruff format --check .
check python3 -m mypy exporter mixin simulator tests benchmarks
check lint-imports
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi

# pytest exits 5 when it collected no test: that is a failure here, and set -e passes it on
# (pytest-xdist keeps that exit code). One worker per core (PYTEST_WORKERS overrides it, 0 runs
# in this process): half of the suite's time is spent waiting on real seconds (timeouts, scrape
# intervals, subprocesses), so two workers on a 2-core CI machine nearly halve it. loadgroup:
# tests marked xdist_group share a worker. Extra arguments come last and win.
exec python3 -m pytest -n "${PYTEST_WORKERS:-auto}" --dist loadgroup "$@"
