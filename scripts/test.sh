#!/usr/bin/env bash
# Install everything the tests need and run them: Debian's chromium for the browser tests,
# Debian's haproxy for the serving tests (python -m alexnet_viz serve), the dev requirements in a
# virtual environment ($VENV, default .venv), then ruff, mypy and pytest.
# Arguments go to pytest: `bash scripts/test.sh -m "not slow" -n auto` is the fast loop (one worker per core).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v haproxy >/dev/null 2>&1 || missing="$missing haproxy"
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# Style and types first: cheap, and a red one names the line.
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/alexnet-viz" summary --format csv >/dev/null
exec "$VENV/bin/python" -m pytest "$@"
