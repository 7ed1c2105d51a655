#!/usr/bin/env bash
# The one test command (`npm test`, README, .ci/run). Installs what it needs,
# checks generated files, types and lint, builds the real control plane when
# it is not cached, then runs every test tier in one node:test run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH"
case "$(node --version)" in v24.*) ;; *) echo "test: expected Node 24 from node_modules/.bin, got $(node --version)" >&2; exit 1 ;; esac

step() { echo "== $1" >&2; shift; "$@"; }
step "generated files are current" node scripts/generate.ts --check
step "type check" tsc --noEmit -p .
step "lint" node scripts/lint.ts
step "control plane (kube-apiserver, etcd, kubectl)" bash test/kube-tools/build.sh >/dev/null
# --test-force-exit: a test file whose tests are done exits even if a handle leaked (a bound socket once kept
# one alive, and the whole run waited); its failures are still reported.
step "tests" node --test --test-concurrency=2 --test-timeout=900000 --test-force-exit \
  'test/unit/**/*.test.ts' 'test/kube/**/*.test.ts' 'test/install/**/*.test.ts' 'test/protocol/**/*.test.ts' 'test/e2e/**/*.test.ts'
echo "test: all tiers passed in $((SECONDS - start))s" >&2
