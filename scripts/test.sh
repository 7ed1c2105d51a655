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
# A test file that leaks a handle (a bound socket once did) never exits, and the run would wait for it forever.
# The whole tier gets 30 minutes (it takes about 5), then fails loudly. Not --test-force-exit: it ends a file
# before the tests that file registers after an await have run, and drops them from the count without a word.
tests_timeout_s=1800
set +e
step "tests" timeout --kill-after=30 "$tests_timeout_s" node --test --test-concurrency=2 --test-timeout=900000 \
  'test/unit/**/*.test.ts' 'test/kube/**/*.test.ts' 'test/install/**/*.test.ts' 'test/protocol/**/*.test.ts' 'test/e2e/**/*.test.ts'
rc=$?
set -e
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  echo "test: the tests did not finish within ${tests_timeout_s}s: a test file is hanging (see the last file that reported above)" >&2
fi
[ "$rc" = 0 ] || exit "$rc"
echo "test: all tiers passed in $((SECONDS - start))s" >&2
