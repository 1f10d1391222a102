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
	@echo "make dev     run the app locally (dynalite + s3rver + offline model) on http://127.0.0.1:2024"
	@echo "             INSTANCES=2 runs two app processes (ports 2024, 2025) on the same data"
	@echo "             AUTH=cognito signs in against a local Cognito pool (moto; demo users printed)"
	@echo "make test    lint, type-check and test everything (what CI runs)"
	@echo "make bench   print the benchmark tables (stream, durable runs, cold start, cost of an essay)"
	@echo "make bench-load  N = 10, 50, 200 seed journeys at once on one app process (dynalite, moto)"
	@echo "make api-types  regenerate web/src/api/openapi.json and schema.d.ts from the app"

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
# INSTANCES app processes on PORT, PORT+1, ... share one dynalite and one s3rver.
PORT ?= 2024
INSTANCES ?= 1
AUTH ?= none
PACE_MS ?=
.PHONY: dev
dev: setup web-build
	$(PY) python -m wayfarer.devstack --port $(PORT) --instances $(INSTANCES) --auth $(AUTH) \
		$(if $(PACE_MS),--pace-ms $(PACE_MS))

# ---------------------------------------------------------------- web
# npm scripts of web/: build, typecheck, lint, test (vitest), e2e (Playwright + Debian chromium).
.PHONY: web-setup web-build web-test chromium api-types
web-setup: web/node_modules/.installed

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-build: web-setup
	cd web && npm run build

# The web app's types from the app's OpenAPI: web/src/api/openapi.json (dumped from the app), then
# schema.d.ts (npm run gen:api). Both are checked in, so building the web app needs no Python;
# make test fails while either lags (tests/test_api_types.py, npm run typecheck).
api-types: setup web-setup
	$(PY) python -m wayfarer.openapi_dump > web/src/api/openapi.json.tmp
	mv web/src/api/openapi.json.tmp web/src/api/openapi.json
	cd web && npm run gen:api

# The e2e suite drives Debian's chromium; install it when missing (CI machines start without
# it), with an emoji font so the step icons in the screenshots are not empty boxes.
chromium:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi emoji || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

web-test: web-setup chromium
	cd web && npm run typecheck && npm run lint && npm run test && npm run build && npm run e2e

# ---------------------------------------------------------------- quality
.PHONY: test lint typecheck pytest audit
test: setup lint typecheck pytest web-test audit

# Known vulnerabilities in the locked runtime dependencies (.ci/audit.py says what fails).
audit: setup web-setup
	@mkdir -p .build
	$(UV) export --frozen --no-dev --no-emit-project --no-hashes --no-header --no-annotate -o .build/requirements.txt >/dev/null
	$(PY) pip-audit -r .build/requirements.txt --disable-pip --no-deps --progress-spinner off -f json -o .build/pip-audit.json >/dev/null 2>&1 || true
	cd web && npm audit --omit=dev --audit-level=critical --json > ../.build/npm-audit.json 2>/dev/null || true
	$(PY) python .ci/audit.py .build/pip-audit.json .build/npm-audit.json

lint:
	$(PY) ruff check functions tests bench
	$(PY) ruff format --check functions tests bench

typecheck:
	$(PY) mypy $(PKG)

pytest:
	$(PY) pytest

# ---------------------------------------------------------------- bench
.PHONY: bench bench-load bench-cold
bench: setup
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) python -m bench.run_stream
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) python -m bench.durable_runs
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) python -m bench.cold_start
	$(PY) python -m bench.essay_cost

bench-load: setup
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) python -m bench.load

# Side by side with the code before issue 13's start-up work (any git ref: make bench-cold COLD_VS=HEAD~3).
COLD_VS ?= 9306a7e
bench-cold: setup
	POWERTOOLS_LOG_LEVEL=WARNING $(PY) python -m bench.cold_start --vs $(COLD_VS)

# ---------------------------------------------------------------- deploy (SAM)
# The AWS tools live in their own locked uv projects under layers/tools/ (aws-sam-cli, cfn-lint,
# checkov and awscli pin boto3 ranges that cannot share one environment, nor the app's);
# `uv run` installs each from its uv.lock on first use. Docker is not needed: the layer builds
# through layers/Makefile with a cross-platform install. Override per call, e.g.
#   make deploy PARAMS="AuthMode=none ReservedConcurrency=5" STACK=wayfarer-dev REGION=eu-west-1
STACK ?= wayfarer
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)
PARAMS ?=
tool = env -u VIRTUAL_ENV SAM_CLI_TELEMETRY=0 $(UV) run --frozen --project layers/tools/$(1) $(2)
SAM := $(call tool,sam,sam)
CFN_LINT := $(call tool,cfn-lint,cfn-lint)
CHECKOV := $(call tool,checkov,checkov)
AWS := $(call tool,aws,aws) --region $(REGION)
stack_output = $(AWS) cloudformation describe-stacks --stack-name $(STACK) \
	--query "Stacks[0].Outputs[?OutputKey=='$(1)'].OutputValue" --output text

# web/dist/config.json from the stack's outputs (describe-stacks' Outputs list on stdin): where
# the API is and, with AuthMode=cognito, where the site signs in. json.dump escapes every value.
define site_config_py
import json, sys
outputs = {o["OutputKey"]: o["OutputValue"] for o in json.load(sys.stdin) or []}
config = {"apiUrl": outputs["ApiUrl"], "streamUrl": outputs["StreamUrl"]}
if outputs.get("AuthMode") == "cognito":
    config["auth"] = {
        "type": "cognito",
        "region": outputs["AuthRegion"],
        "userPoolId": outputs["UserPoolId"],
        "clientId": outputs["UserPoolClientId"],
    }
with open(sys.argv[1], "w") as out:
    json.dump(config, out)
    out.write("\n")
endef
export site_config_py

.PHONY: build deploy destroy template-check
build: | $(UV)
	$(SAM) build

deploy: build
	$(SAM) deploy --stack-name $(STACK) --region $(REGION) $(if $(PARAMS),--parameter-overrides $(PARAMS))
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web-build; fi
	@if [ ! -d web/dist ]; then echo "no web/dist: the stack is up, the site was not uploaded"; exit 0; fi; \
	$(AWS) cloudformation describe-stacks --stack-name $(STACK) --query "Stacks[0].Outputs" --output json \
		| python3 -c "$$site_config_py" web/dist/config.json; \
	echo "web/dist/config.json: $$(cat web/dist/config.json)"; \
	bucket="$$($(call stack_output,SiteBucketName))"; dist="$$($(call stack_output,DistributionId))"; \
	if [ -d web/dist/assets ]; then \
		$(AWS) s3 sync web/dist/assets "s3://$$bucket/assets" --cache-control "public, max-age=31536000, immutable"; fi; \
	$(AWS) s3 sync web/dist "s3://$$bucket" --exclude "assets/*" --cache-control "no-cache"; \
	$(AWS) s3 sync web/dist "s3://$$bucket" --delete; \
	$(AWS) cloudfront create-invalidation --distribution-id "$$dist" --paths "/*" --query Invalidation.Id --output text; \
	echo "site: $$($(call stack_output,SiteUrl))"

# Asks first (YES=1 skips the question): the buckets are emptied before the stack goes, and the
# user pool (DeletionPolicy Retain, so that no deploy deletes the accounts) is deleted after it.
destroy: | $(UV)
	@if [ "$(YES)" != 1 ]; then read -r -p "Delete stack $(STACK) in $(REGION) and all its data? [y/N] " answer; \
		[ "$$answer" = y ] || [ "$$answer" = Y ] || { echo "kept"; exit 1; }; fi
	@for output in SiteBucketName OffloadBucketName; do \
		bucket="$$($(call stack_output,$$output) 2>/dev/null || true)"; \
		if [ -n "$$bucket" ] && [ "$$bucket" != None ]; then $(AWS) s3 rm "s3://$$bucket" --recursive --quiet; fi; \
	done
	@pool="$$($(call stack_output,UserPoolId) 2>/dev/null || true)"; \
	$(SAM) delete --stack-name $(STACK) --region $(REGION) --no-prompts; \
	if [ -n "$$pool" ] && [ "$$pool" != None ]; then \
		$(AWS) cognito-idp delete-user-pool --user-pool-id "$$pool" && echo "deleted user pool $$pool"; fi

# What CI can prove without an AWS account: the template is valid SAM/CloudFormation, passes
# cfn-lint and checkov (0 failed; each skip is justified next to its resource), and builds.
template-check: | $(UV)
	$(SAM) validate --lint
	$(CFN_LINT) template.yaml
	$(CHECKOV) --file template.yaml --compact --quiet --skip-download
	$(SAM) build
