#!/usr/bin/env bash
# Install Microsoft's Python SDK (tests/python/requirements.txt) into a virtualenv for
# tests/python_sdk.rs. Idempotent and quick on re-runs: nothing happens while the venv's stamp
# matches the requirements file. Venv: $NETFORM_PY_VENV, default .ci-tools/py (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${NETFORM_PY_VENV:-$ROOT/.ci-tools/py}"
REQ="$ROOT/tests/python/requirements.txt"
STAMP="$VENV/.netform-requirements"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && cmp -s "$REQ" "$STAMP"; then
  exit 0
fi
PY="$(command -v python3 || true)"
if [ -z "$PY" ]; then
  echo "python3 not found: cannot install the Azure Python SDK" >&2
  exit 2
fi
echo "Installing the Azure Python SDK into $VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
cp "$REQ" "$STAMP"
