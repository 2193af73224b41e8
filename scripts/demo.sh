#!/usr/bin/env bash
# The main demo from a fresh clone: installs what is needed, builds, then runs
#   offline (default): the five-phase alerting migration of
#     plans/offline-demo.toml, with the file-adapter standing in for both
#     alerting systems, on a scratch copy under target/demo;
#   real: the migration on real systems: Prometheus + Alertmanager stacks A
#     (old) and B (new) started on 127.0.0.1 by tests/fixture/start.sh
#     (scripts/system-deps.sh installs them), the plan tests/fixture/plan/
#     migration.toml.in: cutover previews and then migrates rules, routes and
#     silences wave by wave (team web, team payments, the rest) with a
#     gating parallel run per wave, silences the old stack; then a run with
#     one rule broken on the way halts at the core pilot and only that wave
#     is rolled back. About two minutes. Every process it starts is stopped
#     by PID at the end;
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

# expect CODE WHAT COMMAND...: runs a cutover command that must end with
# exit CODE (the gates are real: the demo shows them stopping the run).
expect() {
    local want="$1" what="$2" rc=0
    shift 2
    "$@" || rc=$?
    if [ "$rc" != "$want" ]; then
        echo "demo: expected exit $want ($what), got $rc" >&2
        exit 1
    fi
    printf '\033[2m(exit %s: %s)\033[0m\n' "$rc" "$what"
}

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

step "cutover compare (offline: the old vs the new system's recorded alerts; 2 missing: FAIL)"
expect 1 "the comparison fails: 2 alerts missing" \
    "$cutover" compare "$demo/demo-data/old/alerts.json" "$demo/demo-data/new/alerts.json" \
    --ignore-label instance --rename ServiceDown=InstanceDown

step "cutover run: preparation backs up both systems, then waits for a person"
expect 5 "paused: a critical checklist item without a check needs a confirmation by name" \
    "$cutover" run "$plan"
step "cutover approve --item 0: the operator confirms the verified backups"
"$cutover" approve "$plan" preparation --item 0 --by demo-operator

step "cutover resume: the non-critical pilot's parallel run finds 2 alerts missing on the new system"
expect 5 "paused by the migration alert: alerts fired by the old system are missing on the new one" \
    "$cutover" resume "$plan"
"$cutover" status "$plan"

step "the fix: the new system's corrected recording (DiskAlmostFull and HighQueueDepth{queue=orders} restored)"
cp plans/demo-data/new-fixed/alerts.json plans/demo-data/new-fixed/alert_rules.yml "$demo/demo-data/new/"
"$cutover" compare "$demo/demo-data/old/alerts.json" "$demo/demo-data/new/alerts.json" \
    --ignore-label instance --rename ServiceDown=InstanceDown

step "cutover resume: the pilot runs its window again and passes; the core pilot passes"
expect 5 "paused: full migration's manual item waits for a confirmation" "$cutover" resume "$plan"
"$cutover" approve "$plan" full-migration --item 0 --by demo-operator

step "cutover resume: decommission archives the old system, then waits for a person"
expect 5 "paused: decommission's manual item waits for a confirmation" "$cutover" resume "$plan"
"$cutover" approve "$plan" decommission --item 0 --by demo-operator

step "cutover resume: the run completes"
expect 0 "completed" "$cutover" resume "$plan"
step "cutover status"
"$cutover" status "$plan"
}

case "$mode" in
    offline) offline ;;
    real) exec bash "$root/scripts/demo-real.sh" ;;
    all) offline; exec bash "$root/scripts/demo-real.sh" ;;
esac
