# Wayfarer: every command in the README lives here.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := $(UV) run --frozen
PKG := functions/agent/wayfarer
export PYTHONPATH := $(CURDIR)/functions/agent

.PHONY: help
help:
	@echo "make dev     run the app locally (dynalite + offline model) on http://127.0.0.1:2024"
	@echo "make test    lint, type-check and test everything (what CI runs)"
	@echo "make bench   print the benchmark tables"

# ---------------------------------------------------------------- set-up
# Idempotent: a fresh machine gets uv, the locked Python env and the locked npm tools.
.PHONY: setup
setup: $(UV) .venv/.synced node_modules/.installed

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# ---------------------------------------------------------------- run
.PHONY: dev
dev: setup web-build
	$(PY) python -m wayfarer.devstack

# ---------------------------------------------------------------- web
# npm scripts of web/: build, typecheck, lint, test (vitest), e2e (Playwright + Debian chromium).
.PHONY: web-setup web-build web-test chromium
web-setup: web/node_modules/.installed

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-build: web-setup
	cd web && npm run build

# The e2e suite drives Debian's chromium; install it when missing (CI machines start without it).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

web-test: web-setup chromium
	cd web && npm run typecheck && npm run lint && npm run test && npm run build && npm run e2e

# ---------------------------------------------------------------- quality
.PHONY: test lint typecheck pytest
test: setup lint typecheck pytest web-test

lint:
	$(PY) ruff check functions tests bench
	$(PY) ruff format --check functions tests bench

typecheck:
	$(PY) mypy $(PKG)

pytest:
	$(PY) pytest

# ---------------------------------------------------------------- bench
.PHONY: bench
bench: setup
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) python -m bench.run_stream

# ---------------------------------------------------------------- deploy (SAM)
