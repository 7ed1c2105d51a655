#!/usr/bin/env bash
# Runs the `netboot` CLI on the pinned Node 24, installing the npm
# dependencies first on a fresh clone. Usage: scripts/netboot.sh <command> ...
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/install-deps.sh" --npm
exec "$here/node_modules/.bin/node" "$here/bin/netboot.js" "$@"
