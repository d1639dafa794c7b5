# Every target installs what it needs first: Node.js 22 (from the npm registry when the machine
# has another version) and the locked npm dependencies.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# Native addons (none today; sharp ships prebuilt) would build against Node 22's own headers.
export npm_config_nodedir := $(abspath $(NODE_BIN)/..)

STAGE ?= dev
# CDK: `make synth` runs the app itself (infra/app.ts with cdk.json's flags): no CDK CLI, no AWS
# credentials or calls, no notices or version checks; only a cold npm cache reaches the npm
# registry (sharp's linux-arm64 packages). diff/deploy/destroy hand that cloud assembly to the CDK
# CLI (aws-cdk 2.1148.1, pinned: it reads the assembly schema of aws-cdk-lib 2.276; override
# CDK_CLI to use another).
CDK_CLI ?= cdk
CDK_OUT := cdk.out
STACK := elevenlabs-vision-$(STAGE)
SYNTH := CDK_OUTDIR=$(CDK_OUT) tsx infra/app.ts
CDK := CDK_DISABLE_VERSION_CHECK=1 $(CDK_CLI) --app $(CDK_OUT) --no-notices

.PHONY: help deps dev dev-lambda test check typecheck lint unit bench synth deploy destroy diff secrets agent build clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# `npm install` rather than `npm ci`: the npm shipped on these machines writes lock files without
# other platforms' optional binaries (biome, swc, sharp...) and then refuses them in `npm ci`.
# With the lock file present, `npm install` still installs exactly the locked versions.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## Install Node 22 (if needed) and npm dependencies

dev: deps ## Run the product locally on :8787 (the web app at /): chat + sessions + uploads, embedded DynamoDB and S3
	tsx infra/local/dev-server.ts

dev-lambda: build ## Like `make dev`, but every request through AWS's Lambda runtime client on the built bundles
	tsx infra/local/dev-lambda-server.ts

test: deps ## Run every check: types, lint, unit + integration tests, CDK synth with real bundling
	tsc --noEmit -p tsconfig.json
	tsc --noEmit -p web/app/ui/tsconfig.json
	biome check .
	@mkdir -p .build
	@scripts/ensure-chromium.sh
	jest --ci --json --outputFile=.build/jest-results.json
	@node -e 'const r=require("./.build/jest-results.json");console.log(`jest: $${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests} skipped`)'
	$(MAKE) --no-print-directory synth

typecheck: deps
	tsc --noEmit -p tsconfig.json
	tsc --noEmit -p web/app/ui/tsconfig.json

lint: deps
	biome check .

unit: deps ## Only the jest suite
	jest --ci

bench: deps ## Benchmarks (results table in bench/README.md and README.md)
	tsx bench/run.ts

build: deps ## Bundle every function with esbuild into .build/ (the web app into .build/sessions/app/)
	tsx scripts/build.ts

synth: deps ## Synthesize the CloudFormation template offline (real esbuild bundling, cdk-nag)
	CDK_CONTEXT_JSON='{"stage":"$(STAGE)"}' $(SYNTH) && echo "synth ok: $(CDK_OUT)/$(STACK).template.json"

diff: synth ## Show what a deploy would change
	$(CDK) diff $(STACK)

deploy: synth ## Deploy the stack to the current AWS account/region (STAGE=dev by default)
	$(CDK) deploy $(STACK) --require-approval never --outputs-file $(CDK_OUT)/outputs-$(STAGE).json

destroy: deps ## Remove the stack (the bucket and tables of non-prod stages go too)
	@# Destroying needs the stack's name and assembly, not fresh bundles.
	CDK_CONTEXT_JSON='{"stage":"$(STAGE)","aws:cdk:bundling-stacks":[]}' $(SYNTH)
	$(CDK) destroy $(STACK) --force

secrets: deps ## Store provider / ElevenLabs / chat keys in Secrets Manager (reads them from your shell)
	tsx scripts/secrets.ts $(STAGE)

agent: deps ## Point an existing ElevenLabs agent at the deployed backend
	tsx scripts/configure-agent.ts $(STAGE)

clean:
	rm -rf .build cdk.out coverage
