# Two commands set everything up on a fresh machine:
#   make demo   build everything and start the demo on the built-in Twilio simulator
#   make test   run every test suite (what CI runs)
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The public scenarios, as this repository keeps them (tests/scenarios/README.md).
PUBLIC := tests/scenarios/public
SCENARIOS ?= $(PUBLIC)
# next/ examples that a merged issue made pass (only those are copied):
# replayed by `make test` too.
NEXT_SCENARIOS := $(PUBLIC)/next
ALL_SCENARIOS = $(SCENARIOS) $(NEXT_SCENARIOS) tests/scenarios
# The shared material the copies come from, when it sits beside the
# repository (CI has it): `make test` plays its scenarios too, and the same
# next/ files, so that a newer shared example is caught.
SHARED ?= ../shared
SHARED_NEXT := $(addprefix $(SHARED)/scenarios/next/,$(notdir $(sort $(wildcard $(NEXT_SCENARIOS)/*.json))))
# Against the shared schema, which may be newer than our copy; one line saying
# so when there is no shared material (a lone clone).
REPLAY_SHARED = if [ -d $(SHARED)/scenarios ]; then \
		echo "node tests/replay/replay.mjs $(SHARED)/scenarios $(SHARED_NEXT)"; \
		SCENARIO_SCHEMA=$(abspath $(SHARED))/scenarios/scenario.schema.json \
			node tests/replay/replay.mjs $(SHARED)/scenarios $(SHARED_NEXT); \
	else \
		echo "[replay] no $(SHARED)/scenarios beside the repository: shared scenarios skipped (our copies in $(PUBLIC) were played)"; \
	fi
export CHROMEDRIVER ?= /usr/bin/chromedriver

BUNDLE := plugin-shim/dist/plugin-dual-channel-recording.js
OFFICIAL_BUNDLE := plugin-shim/build/plugin-dual-channel-recording.js
WASM := pkg/dual_channel_recording_bg.wasm
# --zero-filled-memory: the module's own memory starts zeroed, so zero bytes
# leave the data segments; --low-memory-unused: Rust's stack and data lie
# above the low 1 KiB (the stack grows down toward it from 1 MiB), so constant
# offsets fold into loads and stores. --flatten --rereloop then -Oz twice:
# binaryen's control-flow rebuild finds shorter code than -Oz alone. Together
# about 1.1 KB gzipped off the wasm (BENCHMARKS.md, "The bundle after issues
# 18 to 20").
WASM_OPT_FLAGS := --low-memory-unused --zero-filled-memory -Oz --flatten --rereloop -Oz -Oz \
	--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
	--enable-mutable-globals --strip-debug --strip-producers

.PHONY: help tools test-tools image wasm bundle plugin-deps bundle-official typecheck test-plugin bins build test test-rust test-wasm test-js replay replay-shared contract-replay \
	demo bench soak lint clean

# Every target of the .PHONY list, one line each (tests/deploy checks it).
help:
	@echo "Start here:"
	@echo "  make demo             build everything and serve the demo page on the Twilio simulator"
	@echo "  make test             run every test suite (Debian or Ubuntu: installs redis-server and Chromium with apt)"
	@echo "Build:"
	@echo "  make build            the plugin bundle and the Rust binaries (bundle + bins)"
	@echo "  make bundle           the plugin bundle (plugin-shim/dist), with its wasm core"
	@echo "  make bundle-official  the bundle as Flex developers build it (flex-plugin build)"
	@echo "  make wasm             the core compiled to wasm (pkg/)"
	@echo "  make bins             twilio-sim and recording-backend (debug)"
	@echo "  make image            the backend's container image (podman or docker)"
	@echo "  make plugin-deps      npm ci in plugin-shim when its lock file changed"
	@echo "  make tools            install the build tools (Rust targets, wasm-pack, wasm-bindgen-cli, npm packages)"
	@echo "  make test-tools       install what only the tests need (Chromium, chromedriver, redis-server)"
	@echo "Test (each is part of make test):"
	@echo "  make lint             rustfmt, clippy (native and wasm32) and eslint"
	@echo "  make typecheck        the shim against @twilio/flex-ui's published types"
	@echo "  make test-rust        cargo test of the workspace"
	@echo "  make test-wasm        the core's wasm tests in Node and headless Chrome"
	@echo "  make test-js          the harness, replay, contract, browser, demo and deploy tests"
	@echo "  make test-plugin      the official bundle's tests"
	@echo "  make replay SCENARIOS='FILE_OR_DIR ...'   play scenario files (BROWSER=1: in Chromium; PRISM=1: through Prism)"
	@echo "  make contract-replay  every scenario through Prism, checked against Twilio's OpenAPI description"
	@echo "  make replay-shared    the shared scenarios beside the repository (../shared), if any"
	@echo "Measure:"
	@echo "  make bench            run the benchmarks (figures go to BENCHMARKS.md by hand)"
	@echo "  make soak             a 10-minute shift of 5,000 calls on two replicas with faults (figures go to BENCHMARKS.md by hand)"
	@echo "Other:"
	@echo "  make clean            remove build output (target/, pkg/, bundles, tests/.out)"
	@echo "  make help             this list"

tools:
	@scripts/ensure-tools.sh

# Chromium and chromedriver: only the tests and benchmarks need them, not `make demo`.
test-tools:
	@scripts/ensure-tools.sh test

wasm: tools
	wasm-pack build --profile wasm-release --target web --out-dir pkg --no-pack
	npx wasm-opt $(WASM_OPT_FLAGS) $(WASM) -o $(WASM)

bundle: wasm plugin-deps
	node plugin-shim/build.mjs

# The plugin project's own npm packages (the official Flex builder, Flex's
# types): npm ci when the lock file is newer than the install.
plugin-deps:
	@if [ ! -f plugin-shim/node_modules/.package-lock.json ] || [ plugin-shim/package-lock.json -nt plugin-shim/node_modules/.package-lock.json ]; then \
		echo "[plugin] npm ci in plugin-shim (about 2 minutes, once)"; \
		cd plugin-shim && { npm ci --no-audit --no-fund --loglevel=error || { ../scripts/explain-npm-failure.sh; exit 1; }; }; \
	fi

# The bundle as Flex developers build it: flex-plugin build (webpack 4).
bundle-official: wasm plugin-deps
	cd plugin-shim && PERSIST_TERMINAL=true npx flex-plugin build
	@test -f $(OFFICIAL_BUNDLE)

# The shim's use of Flex, checked against @twilio/flex-ui's published types.
typecheck: wasm plugin-deps
	node plugin-shim/scripts/gen-core.cjs
	plugin-shim/node_modules/.bin/tsc -p plugin-shim

test-plugin: build bundle-official test-tools
	node --test plugin-shim/test/

bins: tools
	cargo build -p twilio-sim -p recording-backend

build: bundle bins

lint: tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p dual-channel-recording --target wasm32-unknown-unknown --all-targets -- -D warnings
	npx eslint .

test-rust: tools test-tools
	cargo test --workspace

test-wasm: tools test-tools
	wasm-pack test --node
	wasm-pack test --headless --chrome

test-js: build test-tools
	node --test tests/harness/ tests/replay/
	node --test tests/contract/
	node --test tests/browser/
	node --test tests/demo/
	node --test tests/deploy/

# BROWSER=1 plays in headless Chromium; PRISM=1 puts `prism proxy --errors`
# between the backend and the simulator and checks every answer against
# Twilio's OpenAPI description.
replay: build test-tools
	node tests/replay/replay.mjs $(if $(BROWSER),--browser) $(if $(PRISM),--via-prism) $(SCENARIOS)

# Every scenario, ours and the public ones, through Prism (issue 5's contract test).
contract-replay: build
	node tests/replay/replay.mjs --via-prism $(ALL_SCENARIOS)

# The shared scenarios beside the repository, if any (also part of `make test`).
replay-shared: build test-tools
	@$(REPLAY_SHARED)

test: lint typecheck test-rust test-wasm test-js test-plugin
	node tests/replay/replay.mjs $(ALL_SCENARIOS)
	node tests/replay/replay.mjs --browser $(ALL_SCENARIOS)
	node tests/replay/replay.mjs --via-prism $(ALL_SCENARIOS)
	PLUGIN_BUNDLE=$(OFFICIAL_BUNDLE) node tests/replay/replay.mjs $(ALL_SCENARIOS)
	PLUGIN_BUNDLE=$(OFFICIAL_BUNDLE) node tests/replay/replay.mjs --browser $(ALL_SCENARIOS)
	node tests/replay/replay.mjs --flex-actions $(ALL_SCENARIOS)
	@$(REPLAY_SHARED)
	node tests/soak/soak.mjs --duration-s 30 --calls 50 --workers 10

demo: build
	node tests/demo/server.mjs

# The backend's container image (podman, else docker). Not part of `make test`:
# it compiles the backend from scratch inside the image.
CONTAINER ?= $(shell command -v podman || command -v docker)
image:
	$(CONTAINER) build $(if $(findstring podman,$(CONTAINER)),--format docker) -f Containerfile -t recording-backend .

bench: build test-tools
	node bench/run.mjs
	node bench/safety-net.mjs

# A shift-long soak on release binaries: 5,000 calls over 10 minutes from 50
# workers with two Flex instances each, two backend replicas sharing Redis,
# faults on the way (tests/soak/soak.mjs says which). Figures: BENCHMARKS.md.
soak: bundle tools test-tools
	cargo build --release -p twilio-sim -p recording-backend
	TWILIO_SIM_BIN=target/release/twilio-sim BACKEND_BIN=target/release/recording-backend \
		node tests/soak/soak.mjs --duration-s 600 --calls 5000 --workers 50

clean:
	cargo clean
	rm -rf pkg plugin-shim/dist plugin-shim/build plugin-shim/src/generated tests/.out
