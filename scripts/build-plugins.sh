#!/usr/bin/env bash
# Builds every guest plugin (plugins/ workspace) for wasm32-wasip2 in release
# and copies the components to target/plugins/<crate-name>.wasm.
# Runnable from any directory; idempotent.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$root/plugins/Cargo.toml"
# plugins/.cargo/config.toml sets this too, but only when cargo runs from
# plugins/; be explicit so any cwd works.
guest_target="$root/target/guests"
out="$root/target/plugins"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

start=$(date +%s)
CARGO_TARGET_DIR="$guest_target" cargo build --release \
    --manifest-path "$manifest" --target wasm32-wasip2 --workspace
built=$(( $(date +%s) - start ))

mkdir -p "$out"
shopt -s nullglob
wasms=("$guest_target"/wasm32-wasip2/release/*.wasm)
if [ ${#wasms[@]} -eq 0 ]; then
    echo "build-plugins: no .wasm produced in $guest_target/wasm32-wasip2/release" >&2
    exit 1
fi
for wasm in "${wasms[@]}"; do
    name="$(basename "$wasm" .wasm)"
    cp -f "$wasm" "$out/${name//_/-}.wasm"
done

echo "build-plugins: built in ${built}s; components in $out:"
for f in "$out"/*.wasm; do
    printf '  %-24s %10s bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done
