# Thin aliases. The README's two commands are `make run` and `make test`;
# both set up what they need on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export REDIS_URL ?= redis://127.0.0.1:6379
CERTS ?= certs
BUF := sdk/node_modules/.bin/buf

.PHONY: run test lint fmt clippy buf helm bench certs services sdk-tools pytools pgbench sdk test-ts \
	sdk-python sdk-python-tools test-python fuzz fuzz-tools chaos chaos-short

## run: start PostgreSQL/Redis if needed, write dev certificates if missing, migrate, start the mesh
run: services
	$(CARGO) build -p bank-cli
	target/debug/bank certs --dir $(CERTS)
	target/debug/bank migrate
	target/debug/bank up --certs $(CERTS)

## test: every test of the workspace against real PostgreSQL and Redis, then the Python
## SDK's interop tests, the TypeScript SDK / browser console tests and the short bank-invariant
## run under faults (each runs even when an earlier part failed; make fails if any did)
test: services pytools
	@status=0; \
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --no-fail-fast || status=$$?; \
	else \
	  echo "cargo-nextest not found; using cargo test"; \
	  $(CARGO) test --workspace --no-fail-fast || status=$$?; \
	fi; \
	$(MAKE) --no-print-directory test-python || status=$$?; \
	$(MAKE) --no-print-directory test-ts || status=$$?; \
	$(MAKE) --no-print-directory chaos-short || status=$$?; \
	exit $$status

# Python tools the tests drive (an OpenAPI validator), in a virtualenv under target/.
PYENV := target/pyenv
pytools: $(PYENV)/.ready
$(PYENV)/.ready: tests/requirements.txt
	python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
	touch $@

# The Python SDK (sdk/python): its pinned tools (grpcio-tools, pytest, grpcurl) in a virtualenv.
PYSDK_VENV := target/sdk-python-venv
PYSDK_PY := $(PYSDK_VENV)/bin/python
sdk-python-tools: $(PYSDK_VENV)/.ready
$(PYSDK_VENV)/.ready: sdk/python/requirements-dev.txt
	python3 -m venv $(PYSDK_VENV)
	$(PYSDK_VENV)/bin/pip install -q --disable-pip-version-check -r sdk/python/requirements-dev.txt
	touch $@

## sdk-python: regenerate only the Python SDK (buf.gen.yaml's sdk/python entries)
sdk-python: sdk-tools sdk-python-tools
	$(PYSDK_PY) sdk/python/tools/generate.py

## test-python: the Python SDK, installed with pip, against a throwaway mesh (its own certificates,
## databases, Redis prefix and ports): member and admin flows, reflection clients, internal services
## refused, the example, and the committed generated code checked against proto/
test-python: services sdk-tools sdk-python-tools
	$(CARGO) build -p bank-cli
	$(PYSDK_VENV)/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall ./sdk/python
	@rm -rf sdk/python/build sdk/python/src/*.egg-info
	cd sdk/python && ../../$(PYSDK_PY) -m pytest -q tests

## chaos: the bank invariant under faults (Jepsen's bank workload, about 7 minutes after the build):
## the mesh as separate processes on a private PostgreSQL and Redis, concurrent clients through the
## gateway for 5 minutes under a random schedule of overlapping faults (SIGKILL/SIGSTOP of services,
## PostgreSQL immediate restarts, Redis restarts losing its data, a slowed Transfer), then the checks
## as tables; logs and report in target/chaos. CHAOS_ARGS=--seed N replays a schedule.
CHAOS_ARGS ?=
CHAOS_BINS := -p auth-service -p account-service -p transfer-service -p finance-service -p analytics-service \
	-p bank-gateway -p bank-chaos
chaos: services
	$(CARGO) build -q $(CHAOS_BINS)
	target/debug/bank-chaos --profile long --artifacts target/chaos $(CHAOS_ARGS)

## chaos-short: the same for 75 seconds with a fixed schedule holding every kind of fault (part of
## make test, about 2 minutes); logs and report in target/chaos-short
chaos-short: services
	$(CARGO) build -q $(CHAOS_BINS)
	target/debug/bank-chaos --profile short --artifacts target/chaos-short $(CHAOS_ARGS)

## lint: rustfmt, clippy (warnings are errors), buf lint and buf breaking, the Helm chart
lint: fmt clippy buf helm

fmt:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

sdk-tools: $(BUF)
$(BUF): sdk/package.json sdk/package-lock.json
	@# npm ci trips over optional platform packages missing from the lock (npm 11); install honours the lock.
	npm install --prefix sdk --no-audit --no-fund --loglevel=error
	touch $(BUF)

## sdk: regenerate the committed SDK code from proto/ (buf generate: every plugin in buf.gen.yaml)
## and rebuild the committed console bundle (sdk/console/dist, embedded by the gateway)
sdk: sdk-tools sdk-python-tools
	$(BUF) generate
	node sdk/console/build.mjs

## test-ts: the TypeScript SDK and the browser console in headless Chromium (Debian's chromium,
## installed when missing) through grpc-web against a throwaway mesh (its own certificates,
## databases, Redis prefix and ports); screenshots in target/ts-e2e. Also fails when the
## committed TypeScript SDK code or console bundle is stale, or either does not type-check.
test-ts: services sdk-tools
	$(CARGO) build -p bank-cli
	node sdk/console/test/e2e.mjs --bank target/debug/bank --artifacts target/ts-e2e

buf: sdk-tools
	$(BUF) lint
	$(BUF) build -o /dev/null
	@# Breaking changes are checked against main once main has a previous version:
	@# on a branch against main, on main against its previous commit.
	@if git rev-parse --verify -q main >/dev/null && [ "$$(git rev-parse --abbrev-ref HEAD)" != main ]; then \
	  $(BUF) breaking --against '.git#branch=main'; \
	elif git rev-parse --verify -q HEAD~1 >/dev/null && git cat-file -e HEAD~1:buf.yaml 2>/dev/null; then \
	  $(BUF) breaking --against '.git#ref=HEAD~1'; \
	else \
	  echo "buf breaking: no previous version to compare with"; \
	fi

## helm: helm lint --strict + helm template for both values files, schema-validated, offline
## once helm (npm) and kubernetes-validate (PyPI) sit in target/helm-tools
helm:
	helm/check.sh

## bench: the ledger under load over gRPC+mTLS next to pgbench's ceiling, and the same RPCs
## as REST and gRPC through the gateway (several minutes after the release build); results go
## to docs/BENCHMARKS.md by hand with the command used
BENCH_ARGS ?= all
bench: services pgbench
	$(CARGO) run --release -p bank-load -- $(BENCH_ARGS)

## fuzz: libFuzzer (cargo-fuzz, stable toolchain, no sanitizer) on the transcoder and every domain
## parser, FUZZ_SECS seconds per target (default 60) from the committed seeds in tests/fuzz/corpus;
## the growing corpus and any crash go to target/fuzz-corpus and target/fuzz-artifacts. The fuzz
## crate is its own workspace; it starts from the main Cargo.lock (copied, not committed) so it
## fuzzes the dependency versions the services ship with
FUZZ_SECS ?= 60
FUZZ_TARGETS ?= transcode_request transcode_response auth_domain account_domain transfer_domain \
	finance_domain domain_agreement
FUZZ_FLAGS := --fuzz-dir tests/fuzz --target-dir target/fuzz --sanitizer none
fuzz: fuzz-tools
	cp Cargo.lock tests/fuzz/Cargo.lock
	$(CARGO) fuzz build $(FUZZ_FLAGS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/fuzz-corpus/$$t target/fuzz-artifacts/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECS) s"; \
	  $(CARGO) fuzz run $(FUZZ_FLAGS) $$t target/fuzz-corpus/$$t tests/fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECS) -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=target/fuzz-artifacts/$$t/ >target/fuzz-artifacts/$$t/run.log 2>&1 \
	    || { tail -60 target/fuzz-artifacts/$$t/run.log; \
	         echo "fuzz: $$t failed; the input is in target/fuzz-artifacts/$$t"; exit 1; }; \
	  grep -E '^(Done|stat::)|DONE' target/fuzz-artifacts/$$t/run.log; \
	done

fuzz-tools:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --version 0.13.2 --locked

## certs: (re)write development certificates into $(CERTS) if missing
certs:
	$(CARGO) run -q -p bank-cli -- certs --dir $(CERTS)

services:
	@tests/scripts/ensure-services.sh

# pgbench lives in the server package on Debian (postgresql-contrib pulls it in; /usr/bin/pgbench is only
# a wrapper); installed like ensure-services.sh installs PostgreSQL.
pgbench:
	@if ! ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1; then \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo -n"; fi; \
	  echo "installing pgbench (postgresql-contrib)"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-contrib postgresql-client >/dev/null; \
	fi
