# Every target installs what it needs first: Node.js 22 (from the npm registry when the machine
# has another version) and the locked npm dependencies.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# Native addons (none today; sharp ships prebuilt) would build against Node 22's own headers.
export npm_config_nodedir := $(abspath $(NODE_BIN)/..)

STAGE ?= dev
CDK := cdk --app "tsx infra/app.ts" -c stage=$(STAGE)

.PHONY: help deps dev test check typecheck lint unit bench synth deploy destroy diff secrets agent build clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## Install Node 22 (if needed) and npm dependencies

dev: deps ## Run the product locally: chat + sessions + uploads on :8787 with embedded DynamoDB and S3
	tsx infra/local/dev-server.ts

test: deps ## Run every check: types, lint, unit + integration tests, CDK synth with real bundling
	tsc --noEmit -p tsconfig.json
	biome check .
	jest --ci
	$(MAKE) --no-print-directory synth

typecheck: deps
	tsc --noEmit -p tsconfig.json

lint: deps
	biome check .

unit: deps ## Only the jest suite
	jest --ci

bench: deps ## Benchmarks (results table in bench/README.md and README.md)
	tsx bench/run.ts

build: deps ## Bundle every function with esbuild into .build/
	tsx scripts/build.ts

synth: deps ## Synthesize the CloudFormation template offline (real esbuild bundling)
	$(CDK) synth --quiet > /dev/null && echo "synth ok: cdk.out/"

diff: deps ## Show what a deploy would change
	$(CDK) diff

deploy: deps ## Deploy the stack to the current AWS account/region (STAGE=dev by default)
	$(CDK) deploy --require-approval never --outputs-file cdk.out/outputs-$(STAGE).json

destroy: deps ## Remove the stack (the bucket and tables of non-prod stages go too)
	$(CDK) destroy --force

secrets: deps ## Store provider / ElevenLabs / chat keys in Secrets Manager (reads them from your shell)
	tsx scripts/secrets.ts $(STAGE)

agent: deps ## Point an existing ElevenLabs agent at the deployed backend
	tsx scripts/configure-agent.ts $(STAGE)

clean:
	rm -rf .build cdk.out coverage
