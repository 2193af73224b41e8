#!/usr/bin/env bash
# Backtest speed on real data (issue 15): 100 alerting rules over 7 days at
# 1m, read through the prometheus adapter plugin's query-range from a local
# Prometheus holding 7 days of backfilled fixture-shaped history (25
# node-exporters), beside vmalert's replay mode on the same rules and data.
# Prints the wall times, their ratio and the agreement of the two. Target:
# <= 10 s for cutover. Uses 127.0.0.1:23250-23252. See
# host/engine/benches/backtest.rs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for b in prometheus promtool; do
    command -v "$b" >/dev/null 2>&1 || { echo "$b is not installed: run scripts/system-deps.sh first" >&2; exit 1; }
done
[ -f target/plugins/prometheus.wasm ] || bash scripts/build-plugins.sh
exec cargo bench -p cutover-engine --bench backtest "$@"
