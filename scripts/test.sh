#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is needed (guest
# toolchain), builds the plugins, then runs lints and every test.
# This is what README's test command and .ci/run call.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all --check
( cd plugins && cargo fmt --all --check )

echo "== cargo clippy (host)"
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "== cargo clippy (guests)"
CARGO_TARGET_DIR="$root/target/guests" cargo clippy --locked \
    --manifest-path plugins/Cargo.toml --workspace --all-targets --target wasm32-wasip2 -- -D warnings

# Every cargo test summary is collected to print one total at the end.
log="$root/target/test-summary.log"
mkdir -p "$root/target"
: > "$log"

echo "== guest unit tests (native)"
CARGO_TARGET_DIR="$root/target/guests" cargo test --locked \
    --manifest-path plugins/Cargo.toml --workspace --target x86_64-unknown-linux-gnu 2>&1 | tee -a "$log"

echo "== polyglot guests (Rust, JavaScript, Python, C toolchains and example checks)"
bash scripts/build-polyglot.sh

echo "== host tests"
cargo test --locked --workspace 2>&1 | tee -a "$log"

# One closing line over every test binary above.
awk '/^test result:/ { p += $4; f += $6 } END { printf "all tests: %d passed, %d failed\n", p, f }' "$log"
