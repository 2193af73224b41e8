#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is needed (Debian
# packages through scripts/system-deps.sh, guest toolchains), builds the
# plugins, then runs lints and every test. This is what README's test command
# and .ci/run call.
#
# A failing stage does not hide the others: every stage runs, test binaries
# run with --no-fail-fast, one closing total is printed over all of them, and
# the script exits non-zero if any stage or test failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
suite_start=$(date +%s)

CUTOVER_SETUP_BUILD=tests bash scripts/setup.sh || { echo "test.sh: setup failed" >&2; exit 1; }

failed=()
stage() { # stage NAME COMMAND...: runs, prints its wall time, records a failure
    local name="$1" s rc
    shift
    echo "== $name"
    s=$(date +%s)
    "$@"
    rc=$?
    echo "== $name: $( [ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)" ) in $(( $(date +%s) - s ))s"
    [ $rc = 0 ] || failed+=("$name")
}

# Every cargo test summary is collected to print one total at the end.
log="$root/target/test-summary.log"
mkdir -p "$root/target"
: > "$log"

stage "cargo fmt --check" bash -c 'cargo fmt --all --check && cd plugins && cargo fmt --all --check'
stage "cargo clippy (host)" cargo clippy --locked --workspace --all-targets -- -D warnings
stage "cargo clippy (guests)" env CARGO_TARGET_DIR="$root/target/guests" cargo clippy --locked \
    --manifest-path plugins/Cargo.toml --workspace --all-targets --target wasm32-wasip2 -- -D warnings
guest_tests() {
    CARGO_TARGET_DIR="$root/target/guests" cargo test --locked --no-fail-fast \
        --manifest-path plugins/Cargo.toml --workspace --target x86_64-unknown-linux-gnu 2>&1 | tee -a "$log"
}
stage "guest unit tests (native)" guest_tests
stage "polyglot guests (Rust, JavaScript, Python, C)" bash scripts/build-polyglot.sh
host_tests() { cargo test --locked --workspace --no-fail-fast 2>&1 | tee -a "$log"; }
stage "host tests" host_tests

# One closing line over every test binary above, and the suite's wall time.
echo "test.sh: wall time $(( $(date +%s) - suite_start ))s"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'test.sh: FAILED stages: %s\n' "$(IFS=,; echo "${failed[*]}")"
fi
awk '/^test result:/ { p += $4; f += $6 } END { printf "total: %d passed, %d failed\n", p, f }' "$log"
[ ${#failed[@]} -eq 0 ]
