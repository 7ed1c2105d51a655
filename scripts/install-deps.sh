#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine: the Debian
# packages for the protocol and end-to-end tiers, and the npm dependencies
# (which pin Node 24 for every npm script). Idempotent and quiet when all is
# there. Without root and with a package missing it fails, naming the package:
# the tests never skip because a tool is absent.
#   install-deps.sh         Debian packages and npm dependencies
#   install-deps.sh --npm   npm dependencies only (what `netboot` itself needs)
set -euo pipefail
cd "$(dirname "$0")/.."

npm_deps() {
  if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "install-deps: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}
if [ "${1:-}" = --npm ]; then npm_deps; exit 0; fi

packages=(
  dnsmasq-base qemu-system-x86 ipxe ovmf kea-admin tftp-hpa atftp python3-scapy
  tcpdump tshark iproute2 curl openssl lua5.4 nftables libcap2-bin iputils-ping
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root, or: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm_deps
