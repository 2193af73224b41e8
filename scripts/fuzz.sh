#!/usr/bin/env bash
# Coverage-guided fuzzing of cutover's parsers (issue 17): every cargo-fuzz
# target in fuzz/ (see README "Fuzzing"), one after the other, each for
# SECONDS, or by default until it has run 1,000,000 inputs (2 to 15 minutes
# a target on the 2-core machine the README figures were measured on).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (SECONDS 0: the default)
#
# Stable toolchain: built with `--sanitizer none` (no AddressSanitizer, which
# needs nightly); libFuzzer's coverage instrumentation works on stable.
# Hangs are findings (-timeout per input), so is an RSS over 2 GiB
# (-rss_limit_mb) and a single allocation over 2 GiB (the fuzz crate's
# allocator aborts, as ASan's malloc limit would). One fuzzing process at a
# time, single-threaded (the machine is shared).
#
# cargo-fuzz is installed by `CUTOVER_SETUP_BUILD=fuzz scripts/setup.sh`,
# called here when it is missing. The working corpus (committed seeds in
# fuzz/seeds plus the test fixtures) and crash artifacts live under
# target/fuzz; a crash stops the script with exit 1 naming the input.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

secs="${1:-0}"
shift || true
case "$secs" in '' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac
all=(plan compare_dumps journal backup_manifest rules_yaml alertmanager_config)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

command -v cargo-fuzz >/dev/null || CUTOVER_SETUP_BUILD=fuzz bash scripts/setup.sh

out="$root/target/fuzz"
fuzz=(cargo fuzz run --sanitizer none --target-dir "$out")
cargo fuzz build --sanitizer none --target-dir "$out"

# Seed corpus of one target: the committed seeds, then the fixtures.
seed() {
    local t="$1" dir="$out/corpus/$1" f
    mkdir -p "$dir"
    cp fuzz/seeds/"$t"/* "$dir"/ 2>/dev/null || true
    case "$t" in
    plan)
        cp host/plan/tests/ui/*.toml plans/*.toml "$dir"/
        for f in tests/fixture/plan/*.toml.in templates/plan/plan.toml; do
            cp "$f" "$dir/$(echo "$f" | tr / _)"
        done
        ;;
    compare_dumps)
        for f in host/compare/tests/fixtures/*.json* host/compare/tests/fixtures/reference/*.json; do
            cp "$f" "$dir/$(echo "$f" | tr / _)"
        done
        ;;
    journal)
        # Mode byte first: 0 as is, 1 re-sealed (see fuzz/src/lib.rs).
        for f in host/engine/tests/fixtures/journals/*.log; do
            { printf '\0'; cat "$f"; } >"$dir/raw-$(basename "$f")"
            { printf '\1'; cat "$f"; } >"$dir/sealed-$(basename "$f")"
        done
        ;;
    backup_manifest) ;; # committed seeds only (what the backup tests write)
    rules_yaml)
        for f in tests/fixture/rules/*.yml tests/fixtures/real-world-rules/*.y*ml \
            plans/rules/*/*.yml examples/rules/*.yml plugins/translate-core/samples/rules*.yml; do
            [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr / _)"
        done
        ;;
    alertmanager_config)
        for f in tests/fixture/config/alertmanager*.yml.in plugins/translate-core/tests/data/alertmanager-*.yml \
            plugins/translate-core/samples/routes-*.yml; do
            [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr / _)"
        done
        ;;
    esac
}

failed=()
summary=()
for t in "${targets[@]}"; do
    seed "$t"
    mkdir -p "$out/artifacts/$t" "$out/logs"
    log="$out/logs/$t.log"
    if [ "$secs" -gt 0 ]; then
        budget=(-max_total_time="$secs")
        echo "fuzz: $t for ${secs}s (log: $log)"
    else
        budget=(-runs=1000000)
        echo "fuzz: $t for 1,000,000 inputs (log: $log)"
    fi
    status=0
    start=$(date +%s)
    "${fuzz[@]}" "$t" "$out/corpus/$t" -- "${budget[@]}" \
        -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" >"$log" 2>&1 || status=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    line="$t: ${execs:-?} executions, ${rate:-?} exec/s, ${took}s"
    if [ "$status" -ne 0 ]; then
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        line="$line: FAILED (exit $status${crash:+, input $crash})"
        failed+=("$t")
        grep -E "panicked|ERROR: libFuzzer|SUMMARY" "$log" | head -5 >&2 || true
    fi
    summary+=("$line")
    echo "fuzz: $line"
done
rm -rf "${TMPDIR:-/tmp}/cutover-fuzz" /dev/shm/cutover-fuzz
echo "fuzz: summary ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in ${failed[*]} (inputs under $out/artifacts)" >&2
    exit 1
fi
