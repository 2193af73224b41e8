#!/usr/bin/env bash
# Builds {{name}} and runs it in the real cutover host: the call must succeed
# and answer with this plugin's own output.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cutover="${CUTOVER:-{{cutover}}}"
command -v "$cutover" >/dev/null || [ -x "$cutover" ] \
    || { echo "cutover binary not found (set CUTOVER=path/to/cutover)" >&2; exit 1; }
{{pre_test}}bash "$here/build.sh"
out="$("$cutover" plugin run "$here/{{name}}.wasm" --call {{call}} --params '{"hello":"world"}')"
echo "$out"
for want in {{expect}}; do
    grep -q -- "$want" <<<"$out" || { echo "FAIL: output lacks $want" >&2; exit 1; }
done
{{adapter_test}}echo "1 passed, 0 failed"
