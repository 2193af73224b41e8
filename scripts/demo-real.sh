#!/usr/bin/env bash
# The real-system demo (run it through `scripts/demo.sh real`, which builds
# first). Starts the old stack (Prometheus A -> Alertmanager A) and the new
# one (Prometheus B -> Alertmanager B, at first with a copy of the old rules)
# on 127.0.0.1, then walks the migration plan tests/fixture/plan/
# migration.toml.in through the `cutover` binary:
#   preparation: backups, probe, rules diff (findings), rollback point;
#   core pilot: the migrated rules are deployed to stack B while the plan
#     waits for approval, both stacks run side by side, and the critical
#     match-rate item halts the pilot;
#   `cutover rollback --to pre-migration` puts the old rules back on stack B;
#   a second parallel run (tests/fixture/plan/parity.toml.in) shows parity.
# Reports land in target/demo-real/state/reports/ (JSON, Markdown, HTML).
# Every process started is stopped by PID on exit, also on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cutover="$root/target/debug/cutover"
[ -x "$cutover" ] || { echo "demo-real: $cutover missing: run scripts/demo.sh real" >&2; exit 2; }

demo="$root/target/demo-real"
rm -rf "$demo"
mkdir -p "$demo"
run="$demo/fixture"
export CUTOVER_CACHE_DIR="${CUTOVER_CACHE_DIR:-$root/target/demo-cache}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
stop() { FIXTURE_RUN_DIR="$run" bash "$root/tests/fixture/stop.sh" >/dev/null 2>&1 || true; }
trap stop EXIT

# Ports away from the test suite's.
export FIXTURE_NODE_PORT=19800 FIXTURE_PROM_A_PORT=19801 FIXTURE_PROM_B_PORT=19802 \
    FIXTURE_AM_A_PORT=19803 FIXTURE_AM_B_PORT=19804 FIXTURE_SINK_PORT=19809

step "start the old and the new stack on 127.0.0.1 (stack B starts with the old rules)"
FIXTURE_RUN_DIR="$run" FIXTURE_NEW_RULES=v1 bash "$root/tests/fixture/start.sh"
# shellcheck disable=SC1091
. "$run/fixture.env"
bash "$root/tests/fixture/plan/render.sh" "$run" "$demo" 15s >/dev/null
cd "$demo"

alerts() { # names of the alerts an Alertmanager holds, sorted, one line
    curl -fsS "http://127.0.0.1:$1/api/v2/alerts" | python3 -c '
import json, sys
names = sorted(a["labels"]["alertname"] + ("{%s}" % a["labels"]["queue"] if "queue" in a["labels"] else "")
               for a in json.load(sys.stdin))
print(" ".join(names))'
}
settle() { # port expected-names timeout-s
    local t0; t0=$(date +%s)
    until [ "$(alerts "$1")" = "$2" ]; do
        [ $(( $(date +%s) - t0 )) -lt "$3" ] || { echo "demo-real: timed out waiting for: $2 (have: $(alerts "$1"))" >&2; exit 1; }
        sleep 0.5
    done
}
textfile() { # from to
    local tmp="$FIXTURE_TEXTFILE.tmp"
    sed "s/$1/$2/" "$FIXTURE_TEXTFILE" >"$tmp" && mv "$tmp" "$FIXTURE_TEXTFILE"
}

step "cutover plugin lock; cutover validate; cutover plan"
"$cutover" plugin lock migration.toml
"$cutover" plugin lock parity.toml >/dev/null
"$cutover" validate migration.toml
"$cutover" plan migration.toml

step "cutover run: preparation, then the pilot waits for the migrated rules"
rc=0
"$cutover" run migration.toml || rc=$?
[ "$rc" = 5 ] || { echo "demo-real: expected a pause for approval (exit 5), got $rc" >&2; exit 1; }
"$cutover" backup list --plan migration.toml

step "deploy the migrated rules (v2) to stack B, as the team's config management would"
rm -f "$FIXTURE_PROM_B_RULES_DIR"/*.yml
cp "$root/tests/fixture/rules/v2-new.rules.yml" "$FIXTURE_PROM_B_RULES_DIR/.v2.tmp"
mv "$FIXTURE_PROM_B_RULES_DIR/.v2.tmp" "$FIXTURE_PROM_B_RULES_DIR/v2-new.rules.yml"
curl -fsS -X POST "http://127.0.0.1:$FIXTURE_PROM_B_PORT/-/reload"
# ErrorRateHigh goes quiet first, so the pilot sees it start on both stacks.
textfile 'fixture_error_rate{service="api"} 0.2' 'fixture_error_rate{service="api"} 0.01'
settle "$FIXTURE_AM_B_PORT" "HighQueueDepth{emails} InstanceDown Watchdog" 60
settle "$FIXTURE_AM_A_PORT" "DiskAlmostFull HighQueueDepth{emails} HighQueueDepth{orders} ServiceDown Watchdog" 60
echo "stack B now fires: $(alerts "$FIXTURE_AM_B_PORT")"

step "cutover approve + resume: both stacks run side by side for 15 s"
"$cutover" approve migration.toml pilot-core/deploy-migrated-rules --by sre-lead
( sleep 4; textfile 'fixture_error_rate{service="api"} 0.01' 'fixture_error_rate{service="api"} 0.2' ) &
rc=0
"$cutover" resume migration.toml || rc=$?
wait
echo "cutover resume exited $rc (1: the critical match-rate item halted the pilot)"
"$cutover" status migration.toml
echo
cat state/reports/parallel-core.md
echo "HTML report: $demo/state/reports/parallel-core.html"

step "cutover rollback --to pre-migration: the old rules go back on stack B"
"$cutover" rollback --plan migration.toml --to pre-migration
ls "$FIXTURE_PROM_B_RULES_DIR"
settle "$FIXTURE_AM_B_PORT" "DiskAlmostFull ErrorRateHigh HighQueueDepth{emails} HighQueueDepth{orders} ServiceDown Watchdog" 60

step "a second parallel run: parity"
"$cutover" run parity.toml
"$cutover" history migration.toml | tail -n 8
echo
echo "demo-real: done; reports in $demo/state/reports and $demo/state-parity/reports"
