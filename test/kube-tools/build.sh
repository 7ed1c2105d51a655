#!/usr/bin/env bash
# Builds the real control plane the tests run against: kube-apiserver and
# kubectl (Kubernetes 1.34, from the published modules) and etcd 3.6. The
# binaries are cached outside the repository, keyed by version, and built only
# when missing. Prints the directory that holds them on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version_of() { grep -oE "$1 v[0-9][0-9A-Za-z.+-]*" "$2" | head -n 1 | cut -d' ' -f2; }
k8s_version=$(version_of 'k8s.io/kubernetes' "$here/kubernetes/go.mod")
etcd_version=$(version_of 'go.etcd.io/etcd/server/v3' "$here/etcd/go.mod")
cache=${NETBOOT_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netboot-operator}
out="$cache/kube-$k8s_version-etcd-$etcd_version"

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is not installed. The control-plane tests build kube-apiserver and etcd from Go modules:" >&2
  echo "  install Go 1.26 or newer (Debian: apt-get install golang-go, or the upstream tarball) and run again." >&2
  exit 3
fi

build() { # build <name> <module dir> <package>
  local name=$1 dir=$2 pkg=$3
  [ -x "$out/$name" ] && return 0
  echo "build.sh: building $name (cold builds take several minutes on 2 cores)..." >&2
  local start=$SECONDS
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  echo "build.sh: built $name in $((SECONDS - start))s" >&2
}

mkdir -p "$out"
build etcd "$here/etcd" .
build kube-apiserver "$here/kubernetes" ./cmd/kube-apiserver
build kubectl "$here/kubernetes" ./cmd/kubectl
echo "$out"
