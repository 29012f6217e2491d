#!/usr/bin/env bash
# Where one speed figure's time goes in V8 and natively, part by part: `perf` samples of node
# running the bench's wasm module (V8's compiled functions named by `--perf-basic-prof`) beside
# `perf` samples of the native speed example (stacks unwound from DWARF), and for each Rust
# function its inclusive share of each run. A part that takes a larger share in V8 than
# natively is where WebAssembly loses more than elsewhere; equal shares mean it loses evenly.
#   scripts/profile-compare.sh ["sim 5 1000 eager"] [wasm_runs] [rows]
# NODE=path/to/node profiles another node's V8 (as for scripts/wasm-instructions.sh, which
# builds the module). Needs perf and c++filt. Files go to target/profile-compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-sim 5 1000 eager}; runs=${2:-6}; rows=${3:-40}
node=${NODE:-node}
for tool in perf c++filt python3; do
  command -v "$tool" >/dev/null || { echo "profile-compare: needs $tool" >&2; exit 1; }
done
BUILD_ONLY=1 scripts/wasm-instructions.sh
out=target/profile-compare
mkdir -p "$out"
wasm=target/wasm-instructions/target/wasm32-unknown-unknown/release/wasm_instructions.wasm
# In its own directory: V8 leaves a log file where it runs.
root=$PWD
(cd "$out" && perf record -q -F 2000 -g -o v8.data "$node" --perf-basic-prof \
  "$root/target/wasm-instructions/run.mjs" "$root/$wasm" "$spec" "$runs" 2>/dev/null)
# V8 names a compiled wasm function `JS:<mangled name>-<index>-<tier>`: keep the Rust name.
perf script -i "$out/v8.data" 2>/dev/null |
  sed -E 's/JS:(_ZN[^ ]*E)-[0-9]+-(turbofan|liftoff)/\1/' | c++filt > "$out/v8.txt"
: > "$out/native.txt"
for run in 1 2 3; do
  perf record -q -F 1000 --call-graph dwarf,16384 -o "$out/native.data" target/release/examples/speed "$spec" >/dev/null 2>&1
  perf script -i "$out/native.data" 2>/dev/null >> "$out/native.txt"
done
python3 - "$out/v8.txt" "$out/native.txt" "$rows" <<'PY'
import collections, re, sys

def shares(path):
    """Each function's inclusive share of the samples (a function counted once per sample)."""
    counts, samples = collections.Counter(), 0
    for block in open(path, errors="replace").read().split("\n\n"):
        frames = block.strip().split("\n")[1:]
        if not frames:
            continue
        samples += 1
        names = set()
        for frame in frames:
            parts = frame.strip().split(" ", 1)
            if len(parts) < 2:
                continue
            name = parts[1].rsplit(" (", 1)[0]
            name = re.sub(r"\+0x[0-9a-f]+$", "", name)
            name = re.sub(r"::h[0-9a-f]{16}$", "", name)
            # Rust functions only: node's and V8's own frames have no native counterpart.
            if "::" in name and not name.startswith(("node::", "v8::", "std::", "Builtins_")):
                names.add(name)
        counts.update(names)
    return {name: n / samples for name, n in counts.items()}, samples

v8, v8_samples = shares(sys.argv[1])
native, native_samples = shares(sys.argv[2])
rows = int(sys.argv[3])
print(f"inclusive share of the run, V8 ({v8_samples} samples) and native ({native_samples} samples)")
print(f"{'V8':>7} {'native':>7}  function")
names = sorted(set(v8) | set(native), key=lambda n: -max(v8.get(n, 0), native.get(n, 0)))
shown = 0
for name in names:
    # The outer frames (main, the bench's driver, the event loop) are the whole run in both.
    if v8.get(name, 0) > 0.95 or native.get(name, 0) > 0.95:
        continue
    print(f"{v8.get(name, 0) * 100:6.1f}% {native.get(name, 0) * 100:6.1f}%  {name[:110]}")
    shown += 1
    if shown == rows:
        break
PY
