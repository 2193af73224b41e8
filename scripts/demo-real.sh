#!/usr/bin/env bash
# The real-system demo (run it through `scripts/demo.sh real`, which builds
# first). Starts the fixture's migration scenario on 127.0.0.1: the old stack
# (Prometheus A -> Alertmanager A) with three teams' rules, routes and
# silences, and the new one (Prometheus B -> Alertmanager B) with nothing.
# Then cutover carries out the migration of tests/fixture/plan/
# migration.toml.in itself, through the `cutover` binary only (nothing here
# edits either stack):
#   `cutover plan`: every migrate step's items, previewed read-only;
#   preparation: backups of rules, routes and silences, probe, rollback point;
#   non-critical pilot (team web): rules, routes and silences migrated, a
#     gating parallel run, then team web confirms by hand;
#   core pilot (team payments), full migration (everything left): the same;
#   decommission: the old Alertmanager silenced, checked muted, final parity.
# Then the same plan with one rule broken on the way (`for: 1h` on the core
# pilot's OrdersQueueDepth) on a fresh fixture: the core pilot's parallel run
# misses the alert, and the plan's rollback policy undoes that wave alone
# (back to the web pilot's end point, pilot-noncritical-done).
# Reports land in target/demo-real/{good,broken}/state/reports/.
# Every process started is stopped by PID on exit, also on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cutover="$root/target/debug/cutover"
[ -x "$cutover" ] || { echo "demo-real: $cutover missing: run scripts/demo.sh real" >&2; exit 2; }

demo="$root/target/demo-real"
rm -rf "$demo"
mkdir -p "$demo"
export CUTOVER_CACHE_DIR="${CUTOVER_CACHE_DIR:-$root/target/demo-cache}"
run=""

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
stop() { [ -z "$run" ] || FIXTURE_RUN_DIR="$run" bash "$root/tests/fixture/stop.sh" >/dev/null 2>&1 || true; }
trap stop EXIT

# Ports away from the test suite's.
export FIXTURE_NODE_PORT=19800 FIXTURE_PROM_A_PORT=19801 FIXTURE_PROM_B_PORT=19802 \
    FIXTURE_AM_A_PORT=19803 FIXTURE_AM_B_PORT=19804 FIXTURE_SINK_PORT=19809 \
    FIXTURE_SCENARIO=migration

rules() { # alert rule names Prometheus on port $1 has loaded, one line
    curl -fsS "http://127.0.0.1:$1/api/v1/rules" | python3 -c '
import json, sys
print(" ".join(sorted(r["name"] for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"])) or "(none)")'
}
silences() { # active silences of the Alertmanager on port $1, one a line
    curl -fsS "http://127.0.0.1:$1/api/v2/silences" | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["status"]["state"] == "active":
        m = ",".join("%s=%s" % (x["name"], x["value"]) for x in s["matchers"])
        print("  {%s} by %s: %s" % (m, s["createdBy"], s["comment"]))'
}
receivers() { # receivers of the Alertmanager on port $1 (its running configuration), one line
    curl -fsS "http://127.0.0.1:$1/api/v2/status" | python3 -c '
import json, re, sys
print(" ".join(re.findall(r"^- name: (\S+)", json.load(sys.stdin)["config"]["original"], re.M)))'
}
show() { # the new stack, as its own APIs answer
    echo "Prometheus B rules:    $(rules "$FIXTURE_PROM_B_PORT")"
    echo "Alertmanager B receivers: $(receivers "$FIXTURE_AM_B_PORT")"
    echo "Alertmanager B silences:"; silences "$FIXTURE_AM_B_PORT"
}
fixture() { # name [PAYMENTS_RULES_PARAMS]
    stop
    run="$demo/$1/fixture"
    FIXTURE_RUN_DIR="$run" bash "$root/tests/fixture/start.sh"
    # shellcheck disable=SC1091
    . "$run/fixture.env"
    PAYMENTS_RULES_PARAMS="${2:-}" bash "$root/tests/fixture/plan/render.sh" "$run" "$demo/$1" 12s >/dev/null
    cd "$demo/$1"
    "$cutover" plugin lock migration.toml >/dev/null
}
expect_rc() { # want command...
    local want="$1" rc=0; shift
    "$@" || rc=$?
    [ "$rc" = "$want" ] || { echo "demo-real: expected exit $want from $*, got $rc" >&2; exit 1; }
}

step "start the old stack (3 teams) and an empty new stack on 127.0.0.1"
fixture good
echo "Prometheus A rules: $(rules "$FIXTURE_PROM_A_PORT")"
echo "Alertmanager A silences:"; silences "$FIXTURE_AM_A_PORT"
show

step "cutover validate; cutover plan (read-only preview of every migrate step)"
"$cutover" validate migration.toml
"$cutover" plan migration.toml | sed -n '/^Migration preview/,$p'

step "cutover run: preparation, then the non-critical pilot moves team web"
expect_rc 5 "$cutover" run migration.toml
show

step "team web confirms its pages; cutover resume: core pilot, full migration, decommission"
"$cutover" approve migration.toml pilot-noncritical --item 1 --by web-lead
expect_rc 0 "$cutover" resume migration.toml
"$cutover" status migration.toml
show
echo "Alertmanager A silences (the decommission one is cutover's):"; silences "$FIXTURE_AM_A_PORT"
echo "parallel-run reports: $demo/good/state/reports/"

step "again, on a fresh fixture, with one rule broken on the way (OrdersQueueDepth for: 1h)"
fixture broken 'params = { for_overrides = { OrdersQueueDepth = "1h" } }'
expect_rc 5 "$cutover" run migration.toml
"$cutover" approve migration.toml pilot-noncritical --item 1 --by web-lead
echo "cutover resume: the core pilot's parallel run misses OrdersQueueDepth; the plan's"
echo "policy (on_alert = \"rollback\") rolls the core wave back to pilot-noncritical-done"
expect_rc 6 "$cutover" resume migration.toml
sed -n '1,25p' state/reports/parallel-core.md
echo "after the automatic rollback: only the core wave is gone"
show
"$cutover" status migration.toml | sed -n "1,20p"
echo
echo "demo-real: done; reports in $demo/good/state/reports and $demo/broken/state/reports"
