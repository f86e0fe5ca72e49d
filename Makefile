# jetscribe — one command per habit. `make dev` runs the whole stack, `make test` checks it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Debian packages the project needs on a bare machine: PostgreSQL server binaries (the
# embedded database of `make dev`/`make test`), espeak-ng (speech for the tests),
# ffmpeg (the converter; the tests check ffmpeg reads our subtitles) and npm (the tests
# validate the KEDA manifests with the KEDA schemas of an npm package), chromium and
# chromium-driver (the web console's browser tests). Each is `package:command it installs`.
APT_PACKAGES := espeak-ng:espeak-ng ffmpeg:ffmpeg npm:npm chromium:chromium \
                chromium-driver:chromedriver
# The npm packages of the deploy tests (installed from their lock file).
DEPLOY_NODE := tests/deploy/node_modules/.package-lock.json
export HF_HUB_OFFLINE := 1
export ORT_DISABLE_TELEMETRY := 1

.PHONY: help install system-deps dev test test-fast lint format check schemas bench bench-gpu chaos clean

help:
	@echo "make dev      run NATS, PostgreSQL, S3 and every service; gateway on :8000 (PORT=...)"
	@echo "make test     the whole test suite (unit, local, handlers, connected, end to end, deploy)"
	@echo "make lint     ruff + mypy + import rules (lint-imports)      make check  lint + test"
	@echo "make schemas  export JSON Schema / AsyncAPI of the contracts"
	@echo "make bench    benchmarks (never part of make test), results in tests/bench/results"
	@echo "make bench-gpu  the transcriber on an NVIDIA GPU against faster-whisper direct"
	@echo "make chaos    the fault suite (kills, outages, poison, long file, 10k jobs; ~40 min),"
	@echo "              results in tests/chaos/results.md (ROWS=a,b JOBS=N to narrow it)"

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# resemblyzer for its voice encoder's weights only: its librosa and webrtcvad are not
	# needed (services/transcriber/adapters/voice_encoder.py).
	$(BIN)/pip install -q --no-deps 'resemblyzer==0.1.4'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Installs what the machine lacks, only where apt is usable (root on Debian/Ubuntu).
system-deps:
	@missing=""; \
	for pc in $(APT_PACKAGES); do \
	  command -v $${pc#*:} >/dev/null 2>&1 || missing="$$missing $${pc%%:*}"; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$$missing postgres"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; \
	    case "$$missing" in *postgres*) \
	      apt-get install -y -qq postgresql-common >/dev/null; \
	      sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf; \
	      apt-get install -y -qq postgresql >/dev/null;; esac; \
	    pkgs=$$(echo "$$missing" | sed 's/postgres//'); \
	    [ -z "$$(echo $$pkgs)" ] || apt-get install -y -qq $$pkgs >/dev/null; \
	  else echo "missing system packages:$$missing (install them, or run as root with apt)"; fi; \
	fi

dev: $(STAMP) system-deps
	$(BIN)/python -m services.devstack.main

$(DEPLOY_NODE): tests/deploy/package.json tests/deploy/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/deploy --silent --no-audit --no-fund; \
	else echo "npm not found: the KEDA manifest check cannot run (install npm)"; fi

test: $(STAMP) system-deps $(DEPLOY_NODE)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "unit or local or handlers"

lint: $(STAMP)
	$(BIN)/ruff check contracts services tests
	$(BIN)/ruff format --check contracts services tests
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format contracts services tests
	$(BIN)/ruff check --fix contracts services tests

check: lint test

schemas: $(STAMP)
	$(BIN)/python -m contracts.schema_export

# PEER_URL=http://host:9000: the many-clips benchmark against a running
# whisper-asr-webservice (`POST /asr`) instead of faster-whisper called directly.
bench: $(STAMP) system-deps
	@command -v wrk >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true
	$(BIN)/python -m tests.bench.run
	$(BIN)/python -m tests.bench.batching $(if $(PEER_URL),--peer $(PEER_URL))
	$(BIN)/python -m tests.bench.scale
	$(BIN)/python -m tests.bench.diarization
	$(BIN)/python -m tests.bench.uploads

# The transcriber on CUDA against faster-whisper on the same GPU; skips (exit 0, saying
# why) where there is no NVIDIA GPU.
bench-gpu: $(STAMP) system-deps
	$(BIN)/python -m tests.bench.gpu

# The fault suite: real processes, SIGKILLs and outages; never part of `make test` (a short
# subset is: tests/chaos/test_short.py). ROWS=kill-transcriber,poison narrows it.
chaos: $(STAMP) system-deps
	$(BIN)/python -m tests.chaos.run $(if $(ROWS),--rows $(ROWS)) $(if $(JOBS),--jobs $(JOBS))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
