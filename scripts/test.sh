#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs the whole suite.
# Python packages: this project with its test extras. Debian: prometheus (promtool) and
# prometheus-alertmanager (amtool), only when missing. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! command -v promtool >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
fi

# pytest exits 5 when it collected no test: that is a failure here, and set -e passes it on.
exec python3 -m pytest "$@"
