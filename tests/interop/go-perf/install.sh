#!/usr/bin/env bash
# Build the go-libp2p perf peer (go-libp2p v0.48.0, pinned by go.mod and
# go.sum, the same as tests/interop/go) into
# /var/cache/lp2p-interop/go-perf-<first 16 hex of sha256(go.mod + go.sum +
# *.go)>/go-perf, unless it is already there. Idempotent; run as root.
#
#   tests/interop/go-perf/install.sh
#
# Needs Go >= 1.25.7 (`go` on PATH or /usr/local/go/bin/go), as
# tests/interop/go. GOTOOLCHAIN=local, -mod=readonly: modules come through
# the machine's default Go proxy settings and must match go.sum. The module
# and build caches are the go peer's (go-modcache, go-buildcache), so the
# shared modules are fetched and compiled once. Prints the binary's path.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CACHE=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}
MIN_GO=1.25.7
die() { echo "go-perf/install.sh: $*" >&2; exit 1; }

if [[ -x $GO_PERF_BIN ]]; then
  echo "$GO_PERF_BIN"
  exit 0
fi

GO=$(command -v go || true)
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
[[ -n $GO ]] || die "no Go toolchain found (need go >= $MIN_GO on PATH or in /usr/local/go)"
export GOTOOLCHAIN=local
ver=$("$GO" env GOVERSION 2>/dev/null || true)
ver=${ver#go}
[[ -n $ver ]] || die "cannot read the version of $GO"
[[ $(printf '%s\n%s\n' "$MIN_GO" "$ver" | sort -V | head -n1) == "$MIN_GO" ]] ||
  die "$GO is go$ver; go-libp2p v0.48.0 needs go >= $MIN_GO"

DEST=$(dirname "$GO_PERF_BIN")
mkdir -p "$DEST" "$CACHE/go-modcache" "$CACHE/go-buildcache" || die "cannot create $DEST"
export GOMODCACHE=$CACHE/go-modcache GOCACHE=$CACHE/go-buildcache
export GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

echo "go-perf/install.sh: building with go$ver into $DEST" >&2
tmp=$DEST/go-perf.tmp.$$
trap 'rm -f "$tmp"' EXIT
(cd "$GO_PERF_DIR" && "$GO" build -trimpath -o "$tmp" .) || die "go build failed (see above)"
mv -f "$tmp" "$GO_PERF_BIN"
echo "$GO_PERF_BIN"
