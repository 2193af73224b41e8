#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed (used by the HTML report test of
# host/compare). Installs it with apt-get when it is not on PATH, retrying after
# `apt-get update`. Prints the path of the chromium binary on stdout.
# Exits non-zero, with the reason on stderr, when it cannot be installed.
# Env: CHROMIUM_APT_LOG (default: a temporary file) receives apt's output.
set -euo pipefail

die() { echo "chromium/ensure.sh: $*" >&2; exit 1; }

if bin="$(command -v chromium 2>/dev/null)"; then
    echo "$bin"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "chromium is not on PATH and apt-get is not available to install it"
if [ "$(id -u)" != 0 ]; then
    sudo="sudo -n"
    command -v sudo >/dev/null 2>&1 || die "chromium is not on PATH and installing it needs root (no sudo)"
else
    sudo=""
fi

log="${CHROMIUM_APT_LOG:-$(mktemp -t cutover-chromium-apt.XXXXXX)}"
echo "chromium/ensure.sh: installing chromium (apt log: $log)" >&2
export DEBIAN_FRONTEND=noninteractive
# A concurrent apt run holds the dpkg lock: wait for it rather than fail.
apt_install() { $sudo apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium; }
if ! apt_install >"$log" 2>&1; then
    $sudo apt-get -o DPkg::Lock::Timeout=300 update >>"$log" 2>&1 || true
    apt_install >>"$log" 2>&1 ||
        die "apt-get install chromium failed (no network?); see $log: $(tail -n 3 "$log" | tr '\n' ' ')"
fi

bin="$(command -v chromium 2>/dev/null)" || die "apt-get installed chromium but no chromium binary is on PATH"
echo "$bin"
