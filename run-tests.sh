#!/usr/bin/env bash
# Run the whole test suite. Installs what the tests need first; CI calls this same script.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (install Rust with rustup)" >&2
  exit 1
fi
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
