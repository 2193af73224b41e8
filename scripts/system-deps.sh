#!/usr/bin/env bash
# The one place that installs Debian packages for cutover's demo and tests.
# Called by scripts/setup.sh (so by scripts/demo.sh and scripts/test.sh);
# tests and fixtures never install anything: a missing tool makes them fail
# at once, naming this script.
#
# Serial and idempotent: checks what is missing, then one `apt-get update`
# and one `apt-get install` (waiting up to 10 minutes for the dpkg lock held
# by any other apt run). Installs nothing when everything is present.
#
# What and why:
#   prometheus prometheus-alertmanager prometheus-node-exporter
#                   the real old/new alerting stacks (tests/fixture/start.sh),
#                   promtool and amtool (rule and config checks)
#   victoria-metrics vmalert, whose dry run checks rules translated for it
#   icinga2         the legacy-system fixture (tests/fixture/icinga2)
#   chromium        the HTML report test (host/compare, headless)
#   clang-14 lld-14 libclang-rt-14-dev-wasm32 wasi-libc
#                   the C guest toolchain (scripts/build-polyglot.sh)
#   openssl curl    the Icinga2 fixture's private CA and readiness probes
#   g++             libFuzzer, which cargo-fuzz compiles (scripts/fuzz.sh)
#   postgresql      the PostgreSQL state backend's tests (tests/fixture/pg: a
#                   server of the tests' own on 127.0.0.1, never the system one)
# Usage: scripts/system-deps.sh [--check | --list]
#   --check: say what is missing, exit 1 if anything is; --list: print the packages
set -euo pipefail

# package -> a file that proves it is installed
declare -A probe=(
    [prometheus]=/usr/bin/prometheus
    [prometheus-alertmanager]=/usr/bin/prometheus-alertmanager
    [prometheus-node-exporter]=/usr/bin/prometheus-node-exporter
    [victoria-metrics]=/usr/bin/vmalert
    [icinga2]=/usr/sbin/icinga2
    [chromium]=/usr/bin/chromium
    [clang-14]=/usr/bin/clang-14
    [lld-14]=/usr/bin/wasm-ld-14
    [libclang-rt-14-dev-wasm32]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a
    [wasi-libc]=/usr/lib/wasm32-wasi/libc.a
    [openssl]=/usr/bin/openssl
    [curl]=/usr/bin/curl
    [g++]=/usr/bin/g++
    # versioned directory: probed with a glob below
    [postgresql]='/usr/lib/postgresql/*/bin/initdb'
)
order=(prometheus prometheus-alertmanager prometheus-node-exporter victoria-metrics icinga2 chromium
    clang-14 lld-14 libclang-rt-14-dev-wasm32 wasi-libc openssl curl g++ postgresql)

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${order[@]}"
    exit 0
fi

# Whether the probe path of package $1 exists (a glob matches something).
present() {
    local f
    for f in ${probe[$1]}; do [ -e "$f" ] && return 0; done
    return 1
}

missing=()
for p in "${order[@]}"; do
    present "$p" || missing+=("$p")
done

if [ "${1:-}" = "--check" ]; then
    if [ ${#missing[@]} -gt 0 ]; then
        echo "system-deps: missing: ${missing[*]}" >&2
        exit 1
    fi
    echo "system-deps: all present"
    exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: all ${#order[@]} packages present"
    exit 0
fi

die() { echo "system-deps: $*" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || die "need ${missing[*]} and apt-get is not available (a Debian machine is expected)"
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need ${missing[*]}; installing them needs root (no sudo)"
    sudo="sudo -n"
fi

start=$(date +%s)
log="${TMPDIR:-/tmp}/cutover-system-deps.$$.log"
echo "system-deps: installing ${missing[*]} (apt log: $log)"
export DEBIAN_FRONTEND=noninteractive
apt=($sudo apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
"${apt[@]}" update >"$log" 2>&1 || die "apt-get update failed; see $log: $(tail -n 3 "$log" | tr '\n' ' ')"
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
    die "apt-get install ${missing[*]} failed; see $log: $(tail -n 3 "$log" | tr '\n' ' ')"

# The Debian services must not run on their default ports: the fixtures start
# their own on 127.0.0.1. (Packages here do not auto-start; stop them if a
# machine's policy did.)
for svc in prometheus prometheus-alertmanager prometheus-node-exporter victoria-metrics icinga2 postgresql; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        $sudo systemctl stop "$svc" || true
    fi
done

still=()
for p in "${missing[@]}"; do
    present "$p" || still+=("$p")
done
[ ${#still[@]} -eq 0 ] || die "installed, but still missing: ${still[*]} (see $log)"
echo "system-deps: installed ${#missing[@]} packages in $(( $(date +%s) - start ))s"
