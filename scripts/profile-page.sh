#!/usr/bin/env bash
# A CPU profile of the simulation running in the page, in headless Chromium, summarised by
# function (wasm functions by their Rust names). The page is built as the release page is (the
# wasm-release profile) but with wasm-opt's size passes off and the name section kept, so the
# profile names the code that runs; it goes to target/profile-dist/, not dist/.
#   scripts/profile-page.sh [seconds] [nodes] [ops_per_sec] [speed] [cpu_slowdown]
#   (defaults 10, 5, 100, 10, 1; speed 1, 10 or 100; a slowdown of 4 is a phone's CPU)
# At speed 100 the page simulates flat out: the profile is then mostly the simulator's.
# Prints the functions with the most self time, their share, and the share in the simulator,
# raft-rs, the allocator, the page's own code and the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}; nodes=${2:-5}; ops=${3:-100}; speed=${4:-10}; slowdown=${5:-1}
page=profile-index.html
trap 'rm -f "$page"' EXIT
# The same page, with wasm-opt off and debug info (and so the names) kept.
sed -e 's/data-wasm-opt="s"/data-wasm-opt="0" data-keep-debug/' \
    -e 's/ data-wasm-opt-params="[^"]*"//' index.html > "$page"
trunk build "$page" --release true --dist target/profile-dist --public-url ./ >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 -d target/profile-dist >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$page"' EXIT
sleep 1
(cd e2e && node profile.mjs "http://127.0.0.1:$port/" "$seconds" "$nodes" "$ops" "$speed" "$slowdown")
