#!/usr/bin/env bash
# The main demo from a fresh clone: installs what is needed, builds, then runs
# the offline five-phase alerting migration (plans/offline-demo.toml) with the
# file-adapter standing in for both alerting systems. Works on a scratch copy
# under target/demo so the repository stays untouched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
cutover="$root/target/debug/cutover"

demo="$root/target/demo"
rm -rf "$demo"
mkdir -p "$demo"
cp -r plans/demo-data "$demo/demo-data"
sed "s#\.\./target/plugins/#$root/target/plugins/#g" plans/offline-demo.toml > "$demo/offline-demo.toml"
plan="$demo/offline-demo.toml"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "cutover plugin inspect target/plugins/file-adapter.wasm"
"$cutover" plugin inspect target/plugins/file-adapter.wasm

step "cutover plugin lock (pin every plugin by sha256)"
"$cutover" plugin lock "$plan"

step "cutover validate"
"$cutover" validate "$plan"

step "cutover plan (dry-run preview)"
"$cutover" plan "$plan"

step "cutover compare (offline: the old vs the new system's recorded alerts)"
"$cutover" compare "$demo/demo-data/old/alerts.json" "$demo/demo-data/new/alerts.json" \
    --ignore-label instance --rename ServiceDown=InstanceDown || true

if "$cutover" run --help >/dev/null 2>&1; then
    step "cutover run (the whole migration, durable and resumable)"
    rc=0
    "$cutover" run "$plan" || rc=$?
    step "cutover status"
    "$cutover" status "$plan"
    exit "$rc"
fi
