#!/usr/bin/env bash
# Idempotent setup for Lease Lab: installs every tool `make serve` and `make test` need,
# skipping whatever is already present at the right version. Prints each step it takes.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "no wasm-bindgen version in Cargo.lock" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"

# 1. Debian packages: headless browsers and their drivers, and a C compiler (Rust links with
# it; the native programs' allocator, mimalloc, is one C file built with it).
need_apt=()
have cc || need_apt+=(gcc)
have chromium || need_apt+=(chromium)
have chromedriver || need_apt+=(chromium-driver)
have firefox-esr || have firefox || need_apt+=(firefox-esr)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  say "chromium, chromedriver, firefox: present"
fi

# 2. Rust target.
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown target: present"
else
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 3. Cargo-installed tools, each pinned.
if have trunk && trunk --version | grep -q "$TRUNK_VERSION"; then
  say "trunk $TRUNK_VERSION: present"
else
  say "cargo install trunk $TRUNK_VERSION (takes ~12 min on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi
if have wasm-bindgen && wasm-bindgen --version | grep -q "$WASM_BINDGEN_VERSION" && have wasm-bindgen-test-runner; then
  say "wasm-bindgen-cli $WASM_BINDGEN_VERSION: present"
else
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes ~5 min)"
  # --locked fails on a yanked webpki-roots here, so resolve fresh.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if have geckodriver; then
  say "geckodriver: present"
else
  say "cargo install geckodriver (takes ~2 min)"
  cargo install geckodriver --locked
fi

# 4. wasm-opt from npm binaryen (Debian's wasm-opt 108 emits broken wasm).
if have wasm-opt && wasm-opt --version | grep -q "version $BINARYEN_VERSION"; then
  say "wasm-opt $BINARYEN_VERSION: present"
else
  say "npm install -g binaryen@$BINARYEN_VERSION"
  npm install -g --silent "binaryen@$BINARYEN_VERSION"
fi

# 5. End-to-end test driver (playwright-core drives Debian's chromium; no browser download).
if [ -d e2e/node_modules/playwright-core ] && [ -d e2e/node_modules/@axe-core/playwright ]; then
  say "playwright-core and axe-core: present"
else
  say "npm install (e2e/)"
  (cd e2e && npm install --silent --no-audit --no-fund)
fi

# 6. Crates.
say "cargo fetch"
cargo fetch --quiet
say "done"
