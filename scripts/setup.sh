#!/usr/bin/env bash
# Installs everything cutover needs on a fresh machine of this kind and builds
# it: the wasm32-wasip2 guest target, the guest plugins, the host binary.
# Idempotent; runnable from any directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || { echo "setup: cargo (rustup) is required" >&2; exit 1; }
# Guest toolchain + every plugin under plugins/ into target/plugins/.
bash scripts/build-plugins.sh
# The host CLI.
cargo build --locked -p cutover
echo "setup: done (binary: target/debug/cutover, plugins: target/plugins/)"
