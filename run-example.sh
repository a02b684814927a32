#!/usr/bin/env bash
# Plan and apply the ExpressRoute reference architecture on the embedded emulator.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --bin netform
nf() { target/release/netform --chdir examples/expressroute --emulator "$@"; }
nf validate
nf plan
nf apply --auto-approve
echo; echo "== a second plan finds nothing to do =="
nf plan
nf output
