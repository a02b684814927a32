#!/usr/bin/env bash
# Install Microsoft's Python clients into virtualenvs for the emulator conformance tests:
#   install.sh        the Python SDK (requirements.txt)     into $NETFORM_PY_VENV, default .ci-tools/py
#   install.sh cli    the Azure CLI  (requirements-cli.txt) into $NETFORM_AZ_VENV, default .ci-tools/az
# Idempotent and quick on re-runs: nothing happens while the venv's stamp matches the
# requirements file. .ci-tools/ is git-ignored.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
case "${1:-sdk}" in
  sdk) VENV="${NETFORM_PY_VENV:-$ROOT/.ci-tools/py}"; REQ="$ROOT/tests/python/requirements.txt"; WHAT="the Azure Python SDK" ;;
  cli) VENV="${NETFORM_AZ_VENV:-$ROOT/.ci-tools/az}"; REQ="$ROOT/tests/python/requirements-cli.txt"; WHAT="the Azure CLI" ;;
  *) echo "usage: $0 [sdk|cli]" >&2; exit 2 ;;
esac
STAMP="$VENV/.netform-requirements"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && cmp -s "$REQ" "$STAMP"; then
  exit 0
fi
PY="$(command -v python3 || true)"
if [ -z "$PY" ]; then
  echo "python3 not found: cannot install $WHAT" >&2
  exit 2
fi
echo "Installing $WHAT into $VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
cp "$REQ" "$STAMP"
