#!/usr/bin/env bash
# Builds {{name}}.wasm (cutover:plugin/{{kind}}) for wasm32-wasip2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
target="${CARGO_TARGET_DIR:-$here/target}"
CARGO_TARGET_DIR="$target" cargo build --quiet --release \
    --manifest-path "$here/Cargo.toml" --target wasm32-wasip2
cp -f "$target/wasm32-wasip2/release/{{crate}}.wasm" "$here/{{name}}.wasm"
echo "built $here/{{name}}.wasm"
