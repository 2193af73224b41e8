#!/usr/bin/env bash
# Installs everything cutover needs on a fresh machine of this kind and builds
# it: the Debian packages of the demo and the tests (scripts/system-deps.sh,
# the only script that installs system packages), the wasm32-wasip2 guest
# target, the guest plugins, the host binary.
# Idempotent; runnable from any directory.
# Env: CUTOVER_SETUP_BUILD=tests builds every host test binary (what
#   scripts/test.sh wants: one build with the features the tests unify)
#   instead of only the `cutover` binary. CUTOVER_SETUP_BUILD=fuzz installs
#   cargo-fuzz (crates.io) and builds the fuzz targets of fuzz/ on the stable
#   toolchain instead (what scripts/fuzz.sh wants; no plugins, no host binary).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || { echo "setup: cargo (rustup) is required" >&2; exit 1; }
bash scripts/system-deps.sh
if [ "${CUTOVER_SETUP_BUILD:-}" = fuzz ]; then
    command -v c++ >/dev/null || { echo "setup: a C++ compiler (g++) is required for libFuzzer" >&2; exit 1; }
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    cargo fuzz build --sanitizer none --target-dir target/fuzz
    echo "setup: done (fuzz targets: target/fuzz/x86_64-unknown-linux-gnu/release/)"
    exit 0
fi
# Guest toolchain + every plugin under plugins/ into target/plugins/.
bash scripts/build-plugins.sh
# The host.
if [ "${CUTOVER_SETUP_BUILD:-}" = tests ]; then
    cargo test --locked --workspace --no-run
else
    cargo build --locked -p cutover
fi
echo "setup: done (binary: target/debug/cutover, plugins: target/plugins/)"
