#!/usr/bin/env bash
# Installs what the build and the tests need, skipping what is already there.
# Called by `make`; safe to run again. Needs network access to crates.io, the
# npm registry and Debian's archive (the only registries this project uses).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[tools] %s\n' "$*"; }

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
  # Not --locked: its lock file names a webpki-roots release the registry
  # mirror here does not serve; the newest compatible one works.
  cargo install wasm-bindgen-cli --version "$want" --force
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing Debian's chromium and chromium-driver"
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq chromium chromium-driver >/dev/null
fi

# A real Redis for the backend's replica tests and the replay of scenarios
# with several backend replicas (their shared claim store). The tests start
# their own redis-server on free loopback ports; the package's service is
# not used.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  say "installing Debian's redis-server"
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq redis-server redis-tools >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
