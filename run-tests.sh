#!/usr/bin/env bash
# Run the whole test suite. Installs and starts what the tests need first (Azurite from the
# npm registry into .ci-tools/, a throwaway PostgreSQL cluster), both on loopback ports and
# stopped when this script exits; CI (.ci/run) calls this same script.
#
# The backend tests find the servers through NETFORM_TEST_AZURITE_ENDPOINT and
# NETFORM_TEST_PG_CONN. Run without this script, they start their own (or skip loudly, and
# fail under CI=true, when the binaries are missing).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (install Rust with rustup)" >&2
  exit 1
fi

ROOT="$PWD"
TOOLS="$ROOT/.ci-tools"
AZURITE_VERSION="3.35.0"
RUN_DIR="$(mktemp -d)"
AZURITE_PID=""
PG_BIN=""
PG_DATA=""

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  set +e
  if [ -n "$AZURITE_PID" ]; then kill "$AZURITE_PID" 2>/dev/null; wait "$AZURITE_PID" 2>/dev/null; fi
  if [ -n "$PG_DATA" ]; then as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1; fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null \
    || python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 1 150); do
    if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# --- Azurite (Azure Blob Storage emulator) for the azurerm backend -----------------------
AZURITE_BIN="$TOOLS/azurite/node_modules/.bin/azurite-blob"
if [ ! -x "$AZURITE_BIN" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "Installing Azurite $AZURITE_VERSION into $TOOLS/azurite"
    mkdir -p "$TOOLS/azurite"
    (cd "$TOOLS/azurite" && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install "azurite@$AZURITE_VERSION" --no-audit --no-fund --loglevel=error)
  else
    echo "warning: npm not found: the azurerm backend tests cannot run" >&2
  fi
fi
if [ -x "$AZURITE_BIN" ]; then
  port="$(free_port)"
  # --disableTelemetry: otherwise Azurite calls out to Application Insights.
  # --skipApiVersionCheck: azure_storage_blob 1.1 sends a newer x-ms-version than Azurite knows.
  "$AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$port" --location "$RUN_DIR/azurite" \
    --silent --skipApiVersionCheck --disableTelemetry &
  AZURITE_PID=$!
  if wait_port "$port"; then
    export NETFORM_TEST_AZURITE_ENDPOINT="http://127.0.0.1:$port/devstoreaccount1"
    echo "Azurite on $NETFORM_TEST_AZURITE_ENDPOINT"
  else
    echo "warning: Azurite did not start" >&2
  fi
fi

# --- PostgreSQL for the pg backend --------------------------------------------------------
find_pg() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PG_BIN="$(find_pg)"
if [ -z "$PG_BIN" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing PostgreSQL (apt-get install postgresql)"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null \
    || echo "warning: could not install PostgreSQL" >&2
  PG_BIN="$(find_pg)"
fi
if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
  [ "$(id -u)" = "0" ] && chown postgres: "$RUN_DIR"
  PG_DATA="$RUN_DIR/pg"
  port="$(free_port)"
  if as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres --no-sync >/dev/null \
    && as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$RUN_DIR/pg.log" -w \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$RUN_DIR -c fsync=off" start >/dev/null; then
    export NETFORM_TEST_PG_CONN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    echo "PostgreSQL on 127.0.0.1:$port"
  else
    echo "warning: PostgreSQL did not start" >&2
    cat "$RUN_DIR/pg.log" >&2 2>/dev/null || true
    PG_DATA=""
  fi
else
  echo "warning: PostgreSQL not found: the pg backend tests cannot run" >&2
fi

# --- Microsoft's Python SDK and the Azure CLI for the emulator conformance tests ----------
# (tests/python_sdk.rs, tests/azure_cli.rs.) Pinned in tests/python/requirements*.txt,
# installed from PyPI into .ci-tools/py and .ci-tools/az; a no-op while the installed set
# matches (the CLI's first install takes about a minute). The tests install them too when run
# alone.
if ! bash tests/python/install.sh sdk; then
  echo "warning: could not install the Azure Python SDK: tests/python_sdk.rs will fail under CI" >&2
fi
if ! bash tests/python/install.sh cli; then
  echo "warning: could not install the Azure CLI: tests/azure_cli.rs will fail under CI" >&2
fi

# --- The tests ------------------------------------------------------------------------------
status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast || status=$?
else
  cargo test --workspace --no-fail-fast || status=$?
fi
exit "$status"
