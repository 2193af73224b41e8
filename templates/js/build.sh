#!/usr/bin/env bash
# Builds {{name}}.wasm (cutover:plugin/{{kind}}) with the toolchains that
# cutover's scripts/build-polyglot.sh installs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tc="${CUTOVER_TOOLCHAINS:-{{toolchains}}}"
js="$tc/node/node_modules/.bin/componentize-js"
[ -x "$js" ] || { echo "missing $js: run scripts/build-polyglot.sh in the cutover checkout" >&2; exit 1; }
"$js" "$here/{{name}}.js" --wit "$here/wit" --world-name {{kind}} -d http fetch-event \
    -o "$here/{{name}}.wasm" >/dev/null
echo "built $here/{{name}}.wasm"
