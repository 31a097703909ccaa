# Sourced by scripts/demo.sh and scripts/test.sh: puts a virtual environment of the project first
# on PATH, so that `python3` and `pip` are its own. Debian's and Ubuntu's system Python refuses
# `pip install` outside one (PEP 668, externally-managed-environment) and ships venv's pip only
# in the python3-venv package, installed here when missing (through sudo when not root).
# Already inside a virtual environment (VIRTUAL_ENV), that one is used; else
# $EIGHTBYEIGHT_VENV, by default .venv in the checkout, made on first use.

venv_fail() {
  echo "error: $*" >&2
  exit 1
}

venv_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    venv_fail "needs root for: $* (run it as root, or install the package yourself, e.g. python3-venv)"
  fi
}

if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python3" ]; then
  venv_dir="$VIRTUAL_ENV"
else
  venv_dir="${EIGHTBYEIGHT_VENV:-.venv}"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || venv_fail "python3 is $(python3 -V 2>&1): the exporter needs Python 3.11 or newer"
  # A first run interrupted early leaves a venv whose python3 exists but whose pip does not
  # (venv installs pip last): made again, or every later run fails with "No module named pip".
  if [ -x "$venv_dir/bin/python3" ] && ! "$venv_dir/bin/python3" -m pip --version >/dev/null 2>&1; then
    echo "--- $venv_dir is incomplete (an interrupted install?): making it again" >&2
    rm -rf "$venv_dir"
  fi
  if [ ! -x "$venv_dir/bin/python3" ]; then
    if ! python3 -m venv "$venv_dir" >/dev/null 2>&1; then
      rm -rf "$venv_dir"
      # Debian and Ubuntu leave ensurepip out of the base python3: python3-venv has it.
      command -v apt-get >/dev/null 2>&1 \
        || venv_fail "python3 -m venv failed: install Python's venv module, then run this again"
      echo "--- installing python3-venv (python3 -m venv needs it here)"
      export DEBIAN_FRONTEND=noninteractive
      venv_as_root apt-get update -qq
      venv_as_root apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv "$venv_dir" || venv_fail "python3 -m venv $venv_dir failed"
    fi
  fi
fi
venv_dir="$(cd "$venv_dir" && pwd)"
export VIRTUAL_ENV="$venv_dir"
export PATH="$venv_dir/bin:$PATH"
hash -r

# `venv_install PIP-INSTALL-ARGUMENTS...`: pip install into the venv, skipped when these
# arguments' last install was from the same pyproject.toml and constraints.txt (a stamp per
# set of arguments in the venv, rewritten by each install): a second run then needs no
# network, and an editable install picks up code changes by itself.
venv_install() {
  local stamp key
  stamp="$VIRTUAL_ENV/.eightbyeight-installed-$(printf '%s' "$*" | sha256sum | cut -c1-16)"
  key="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$key" ] && [ -x "$VIRTUAL_ENV/bin/eightbyeight-exporter" ]; then
    return 0
  fi
  python3 -m pip install --quiet --disable-pip-version-check "$@"
  echo "$key" >"$stamp"
}
