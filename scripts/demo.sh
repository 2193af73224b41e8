#!/usr/bin/env bash
# The main demo from a fresh clone: installs what is needed, builds, then runs
#   offline (default): the five-phase alerting migration of
#     plans/offline-demo.toml, with the file-adapter standing in for both
#     alerting systems, on a scratch copy under target/demo;
#   real: the migration on real systems: Prometheus + Alertmanager stacks A
#     (old) and B (new) started on 127.0.0.1 by tests/fixture/start.sh
#     (scripts/system-deps.sh installs them), the plan tests/fixture/plan/
#     migration.toml.in: backups, rules diff, deploy of the migrated rules,
#     parallel run, the critical match-rate item halting the pilot, rollback
#     of stack B to the old rules, and a parity run. About a minute. Every
#     process it starts is stopped by PID at the end;
#   all: both.
# Usage: scripts/demo.sh [offline|real|all]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode="${1:-offline}"
case "$mode" in
    offline | real | all) ;;
    *) echo "usage: scripts/demo.sh [offline|real|all]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
cutover="$root/target/debug/cutover"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

offline() {

demo="$root/target/demo"
rm -rf "$demo"
mkdir -p "$demo"
cp -r plans/demo-data "$demo/demo-data"
sed "s#\.\./target/plugins/#$root/target/plugins/#g" plans/offline-demo.toml > "$demo/offline-demo.toml"
plan="$demo/offline-demo.toml"

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

step "cutover run (the whole migration, durable and resumable)"
rc=0
"$cutover" run "$plan" || rc=$?
step "cutover status"
"$cutover" status "$plan"
return "$rc"
}

case "$mode" in
    offline) offline ;;
    real) exec bash "$root/scripts/demo-real.sh" ;;
    all) offline; exec bash "$root/scripts/demo-real.sh" ;;
esac
