#!/usr/bin/env bash
# Installs what the build needs, skipping what is already there:
#   scripts/ensure-tools.sh           the build (Rust targets, wasm-pack, wasm-bindgen-cli, npm packages)
#   scripts/ensure-tools.sh test      what only the tests need: Chromium and chromedriver, and
#                                     redis-server (uses apt-get: root, or sudo as another user)
# Called by `make`; safe to run again. Needs network access to crates.io, the
# npm registry and (test only) Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[tools] %s\n' "$*"; }

if [ "${1:-}" = test ]; then
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    say "installing Debian's chromium and chromium-driver (for the browser tests)"
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq chromium chromium-driver >/dev/null
  fi
  # A real Redis for the backend's replica tests, the replay of scenarios
  # with several backend replicas and the soak. The tests start their own
  # redis-server on free loopback ports; the package's service is not used.
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    say "installing Debian's redis-server (for the replica tests)"
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq redis-server redis-tools >/dev/null
  fi
  exit 0
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-pack >/dev/null 2>&1; then
  say "installing wasm-pack (about 3 minutes, once)"
  cargo install wasm-pack --locked
fi

# wasm-pack must find a wasm-bindgen CLI of exactly the version in Cargo.lock;
# its own download does not work here, so it is built once with cargo.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (about 3 minutes, once)"
  # Not --locked: its lock file names a webpki-roots release that not every
  # registry mirror serves; the newest compatible one works.
  cargo install wasm-bindgen-cli --version "$want" --force
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
