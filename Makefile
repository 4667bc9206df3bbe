# Two commands set everything up on a fresh machine:
#   make demo   build everything and start the demo on the built-in Twilio simulator
#   make test   run every test suite (what CI runs)
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SHARED ?= ../shared
SCENARIOS ?= $(SHARED)/scenarios
export SHARED_DIR := $(abspath $(SHARED))
export CHROMEDRIVER ?= /usr/bin/chromedriver

BUNDLE := plugin-shim/dist/plugin-dual-channel-recording.js
WASM := pkg/dual_channel_recording_bg.wasm
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
	--enable-mutable-globals --strip-debug --strip-producers

.PHONY: help tools wasm bundle bins build test test-rust test-wasm test-js replay replay-browser \
	contract demo bench lint clean

help:
	@echo "make demo    build everything and serve the demo page on the Twilio simulator"
	@echo "make test    run every test suite"
	@echo "make replay SCENARIOS='FILE_OR_DIR ...'   play scenario files (add BROWSER=1 for Chromium)"
	@echo "make bench   run the benchmarks (figures go to BENCHMARKS.md by hand)"

tools:
	@scripts/ensure-tools.sh

wasm: tools
	wasm-pack build --profile wasm-release --target web --out-dir pkg --no-pack
	npx wasm-opt $(WASM_OPT_FLAGS) $(WASM) -o $(WASM)

bundle: wasm
	node plugin-shim/build.mjs

bins: tools
	cargo build -p twilio-sim -p recording-backend

build: bundle bins

lint: tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p dual-channel-recording --target wasm32-unknown-unknown --all-targets -- -D warnings
	npx eslint .

test-rust: tools
	cargo test --workspace

test-wasm: tools
	wasm-pack test --node
	wasm-pack test --headless --chrome

test-js: build
	node --test tests/harness/ tests/replay/
	node --test tests/contract/
	node --test tests/browser/

replay: build
	node tests/replay/replay.mjs $(if $(BROWSER),--browser) $(SCENARIOS)

replay-browser: build
	node tests/replay/replay.mjs --browser $(SCENARIOS) tests/scenarios

test: lint test-rust test-wasm test-js
	node tests/replay/replay.mjs $(SCENARIOS) tests/scenarios
	node tests/replay/replay.mjs --browser $(SCENARIOS) tests/scenarios

demo: build
	node tests/demo/server.mjs

bench: build
	node bench/run.mjs

clean:
	cargo clean
	rm -rf pkg plugin-shim/dist tests/.out
