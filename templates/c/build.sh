#!/usr/bin/env bash
# Builds {{name}}.wasm (cutover:plugin/{{kind}}) with the toolchains that
# cutover's scripts/build-polyglot.sh installs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tc="${CUTOVER_TOOLCHAINS:-{{toolchains}}}"
for t in "$tc/cargo/bin/wit-bindgen" "$tc/py/bin/wasm-tools" "$tc/wasi_snapshot_preview1.reactor.wasm"; do
    [ -e "$t" ] || { echo "missing $t: run scripts/build-polyglot.sh in the cutover checkout" >&2; exit 1; }
done
command -v clang-14 >/dev/null || { echo "missing clang-14: run scripts/build-polyglot.sh" >&2; exit 1; }
rm -rf "$here/gen" && mkdir -p "$here/gen"
"$tc/cargo/bin/wit-bindgen" c "$here/wit" --world {{kind}} --out-dir "$here/gen" >/dev/null 2>&1
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -Wall -Werror \
    -Wno-unused-parameter -I "$here/gen" -o "$here/gen/core.wasm" \
    "$here/{{name}}.c" "$here/gen/{{kind}}.c" "$here/gen/{{kind}}_component_type.o"
"$tc/py/bin/wasm-tools" component new "$here/gen/core.wasm" \
    --adapt "$tc/wasi_snapshot_preview1.reactor.wasm" -o "$here/{{name}}.wasm"
echo "built $here/{{name}}.wasm"
