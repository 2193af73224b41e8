#!/usr/bin/env bash
# Re-blesses the expected outputs of the host crates in one command: the insta
# snapshots (INSTA_UPDATE=always writes them in place; cargo-insta is not
# needed) and the golden files (UPDATE_GOLDENS=1), then prints what changed
# for review: `git diff` it, commit what is intended, restore what is not.
#
#   scripts/bless.sh                                   # every host crate but cutover-systest
#   scripts/bless.sh -p cutover --test cli snapshots   # any `cargo test` selection instead
#
# Tests that need the real systems (scripts/system-deps.sh) fail without them
# and bless nothing; the script exits with cargo's status after the summary.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Every modified or new file with the hash of its content, to tell afterwards
# what this run changed from what was already changed in the work tree.
fingerprints() {
    git ls-files --modified --others --exclude-standard | sort -u | while IFS= read -r f; do
        printf '%s %s\n' "$(git hash-object -- "$f" 2>/dev/null || echo deleted)" "$f"
    done | sort
}

before="$(mktemp)"
trap 'rm -f "$before"' EXIT
fingerprints > "$before"
[ $# -gt 0 ] || set -- --workspace --exclude cutover-systest
INSTA_UPDATE=always UPDATE_GOLDENS=1 cargo test --no-fail-fast "$@"
rc=$?

# Paths whose content differs before and after (either side of `comm -3`).
mapfile -t changed < <(comm -3 "$before" <(fingerprints) | sed 's/^\t//' | cut -d' ' -f2- | sort -u)
echo
if [ ${#changed[@]} -eq 0 ]; then
    echo "bless.sh: no snapshot or golden file changed"
else
    echo "bless.sh: ${#changed[@]} file(s) changed; review them before committing:"
    git status --short -- "${changed[@]}"
    git diff --stat -- "${changed[@]}"
fi
[ $rc -eq 0 ] || echo "bless.sh: cargo test exited $rc (see the failures above)" >&2
exit $rc
