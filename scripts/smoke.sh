#!/usr/bin/env bash
# Serves the release build in dist/ on loopback, under a sub-path as a static site would, and, in
# headless Chromium, checks that the page renders a cluster, elects a leader and commits a write
# (e2e/smoke.mjs), that it reloads and runs with the network cut (e2e/offline.mjs), then runs the
# end-to-end journeys (e2e/journeys.mjs: partition, stale read, crash/restart, share a link,
# scrub back and fork, export/import, tours, a damaged link, axe-core's audit, keyboard only, touch
# on a phone and a tablet, projector mode, random-click soak). Leaves screenshots in e2e/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
# A free loopback port (a fixed one could be taken by another server and test the wrong page).
port=${SMOKE_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
[ -f dist/index.html ] || { echo "dist/ is missing: run trunk build --release first" >&2; exit 1; }
# Served from a sub-path, as a course's web page would publish it (its URLs are relative).
site=$(mktemp -d)
sub=courses/raft/lease-lab
mkdir -p "$site/$sub" && cp -r dist/. "$site/$sub/"
python3 -m http.server "$port" --bind 127.0.0.1 -d "$site" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$site"' EXIT
for _ in $(seq 1 50); do
  python3 - "$port" <<'PY' && break
import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
  sleep 0.1
done
kill -0 "$server" 2>/dev/null || { echo "smoke: could not serve dist/ on port $port" >&2; exit 1; }
mkdir -p e2e/out
url="http://127.0.0.1:$port/$sub/"
# `scripts/smoke.sh frames`: serve the page the same way, and only measure its frame times on a
# phone with the CPU at 1× and slowed 4× (e2e/frames.mjs; `make bench` runs it).
if [ "${1:-}" = frames ]; then
  (cd e2e && node frames.mjs "$url")
  exit 0
fi
node e2e/smoke.mjs "$url" e2e/out/smoke.png
node e2e/offline.mjs "$url"
(cd e2e && node journeys.mjs "$url")
