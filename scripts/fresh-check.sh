#!/usr/bin/env bash
# Proves the README's test command on a fresh state of this machine:
#   1. apt-get remove --purge every package scripts/system-deps.sh installs;
#   2. removes the guest target (rustup wasm32-wasip2), the compiled-plugin
#      cache (~/.cache/cutover) and target/toolchains of this checkout;
#   3. clones this repository (its HEAD) into a new directory;
#   4. runs `bash .ci/run` there as CI does (CI=true, no standard input);
#   5. prints the closing line and the wall time.
# Destructive for the machine's packages, so it asks for --yes.
# Usage: scripts/fresh-check.sh --yes [DIR]   (DIR: where to clone; default a new /tmp dir)
# Not kept fresh: ~/.cargo/registry (crate downloads only; a fresh machine
# downloads them in the build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# openssl and curl come with every new machine of this kind (and purging them
# would take much of the system with them): they stay.
mapfile -t pkgs < <(bash "$root/scripts/system-deps.sh" --list | grep -vxE 'openssl|curl')
if [ "${1:-}" != --yes ]; then
    echo "fresh-check: would purge ${pkgs[*]}, remove rustup's wasm32-wasip2, ~/.cache/cutover and" >&2
    echo "  $root/target/toolchains, then clone and run .ci/run. Pass --yes to do it." >&2
    exit 2
fi
dir="${2:-$(mktemp -d -t cutover-fresh.XXXXXX)}"

# The PostgreSQL server lives in a versioned package (postgresql-15) that a
# machine may also hold through postgresql-contrib: purge those too, so the
# server binaries the state tests need are really gone.
if printf '%s\n' "${pkgs[@]}" | grep -qx postgresql; then
    mapfile -t -O "${#pkgs[@]}" pkgs < <(dpkg-query -W -f='${Package}\n' 'postgresql-[0-9]*' postgresql-contrib 2>/dev/null | grep -v -- '-client' || true)
fi
echo "fresh-check: purging ${pkgs[*]}"
installed=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && installed+=("$p")
done
if [ ${#installed[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 remove --purge -y "${installed[@]}" >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 autoremove --purge -y >/dev/null
fi
for p in "${pkgs[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        echo "fresh-check: $p is still installed" >&2
        exit 1
    fi
done
# Every probe of system-deps.sh (but openssl and curl) must now fail.
left=$(bash "$root/scripts/system-deps.sh" --check 2>&1 | sed -n 's/^system-deps: missing: //p' || true)
for p in $(bash "$root/scripts/system-deps.sh" --list | grep -vxE 'openssl|curl'); do
    if ! printf '%s\n' $left | grep -qx "$p"; then
        echo "fresh-check: $p is still present after the purge (its probe file exists)" >&2
        exit 1
    fi
done
rustup target remove wasm32-wasip2 >/dev/null 2>&1 || true
rm -rf "${CUTOVER_CACHE_DIR:-$HOME/.cache/cutover}" "$root/target/toolchains"

echo "fresh-check: cloning into $dir"
rm -rf "$dir"
git clone --quiet "$root" "$dir"
cd "$dir"
start=$(date +%s)
set +e
CI=true bash .ci/run </dev/null 2>&1 | tee "$dir.log"
rc=${PIPESTATUS[0]}
set -e
wall=$(( $(date +%s) - start ))
echo "fresh-check: exit $rc, wall ${wall}s ($(( wall / 60 )) min), log $dir.log"
echo "fresh-check: closing line: $(grep -E '^total: [0-9]+ passed' "$dir.log" | tail -1)"
exit "$rc"
