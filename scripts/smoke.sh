#!/usr/bin/env bash
# Serves the release build in dist/ on loopback and, in headless Chromium, checks that the page
# renders a cluster, elects a leader and commits a write (e2e/smoke.mjs), then runs the
# end-to-end journeys (e2e/journeys.mjs: partition, stale read, crash/restart, share a link,
# scrub back and fork, export/import, tours, a damaged link, random-click soak). Leaves screenshots in e2e/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
# A free loopback port (a fixed one could be taken by another server and test the wrong page).
port=${SMOKE_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
[ -f dist/index.html ] || { echo "dist/ is missing: run trunk build --release first" >&2; exit 1; }
python3 -m http.server "$port" --bind 127.0.0.1 -d dist >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
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
node e2e/smoke.mjs "http://127.0.0.1:$port/" e2e/out/smoke.png
(cd e2e && node journeys.mjs "http://127.0.0.1:$port/")
