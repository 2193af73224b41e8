#!/usr/bin/env bash
# Builds {{name}}.wasm (cutover:plugin/{{kind}}) with the toolchains that
# cutover's scripts/build-polyglot.sh installs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tc="${CUTOVER_TOOLCHAINS:-{{toolchains}}}"
py="$tc/py/bin/componentize-py"
[ -x "$py" ] || { echo "missing $py: run scripts/build-polyglot.sh in the cutover checkout" >&2; exit 1; }
PYTHONDONTWRITEBYTECODE=1 "$py" -d "$here/wit" -w {{kind}} componentize -p "$here" app \
    -o "$here/{{name}}.wasm" >/dev/null
echo "built $here/{{name}}.wasm"
