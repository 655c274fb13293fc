#!/usr/bin/env bash
# Install everything the tests need and run them: Debian's chromium for the browser tests,
# Debian's haproxy for the serving tests (python -m alexnet_viz serve), the dev requirements in a
# virtual environment ($VENV, default .venv), then ruff, mypy and pytest.
# Arguments go to pytest: `bash scripts/test.sh -m "not slow"` is the fast loop.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  fi
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# Style and types first: cheap, and a red one names the line.
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/alexnet-viz" summary --format csv >/dev/null
exec "$VENV/bin/python" -m pytest "$@"
