#!/usr/bin/env bash
# Build the pinned go-libp2p interop peer (go-libp2p v0.48.0, see go.mod and
# go.sum) into /var/cache/lp2p-interop/go-<first 16 hex of sha256(go.mod +
# go.sum)>/peer, unless it is already there. Idempotent; run as root.
#
#   tests/interop/go/install.sh
#
# Needs Go >= 1.25.7 (go-libp2p v0.48.0's minimum): `go` on PATH or
# /usr/local/go/bin/go. The toolchain is never switched or downloaded
# (GOTOOLCHAIN=local). Modules come through the machine's default Go proxy
# settings and are checked against go.sum (-mod=readonly: a go.sum that
# lacks a hash fails the build instead of being completed).
#
# Env: LP2P_INTEROP_CACHE (default /var/cache/lp2p-interop). The module and build
# caches live there too (go-modcache, go-buildcache), so a warm run is fast.
# Prints the binary's path on stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}
MIN_GO=1.25.7

die() { echo "go/install.sh: $*" >&2; exit 1; }

HASH=$(cat "$HERE/go.mod" "$HERE/go.sum" | sha256sum | cut -c1-16)
DEST=$CACHE/go-$HASH
BIN=$DEST/peer
# The directory is named by the lock files, as for every foreign peer; the
# stamp inside also covers our own sources so an edited main.go rebuilds.
SRC_SUM=$(cat "$HERE/go.mod" "$HERE/go.sum" "$HERE"/*.go | sha256sum | cut -c1-64)

if [[ -x $BIN && -f $DEST/stamp && $(cat "$DEST/stamp") == "$SRC_SUM" ]]; then
  echo "$BIN"
  exit 0
fi

GO=$(command -v go || true)
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
[[ -n $GO ]] || die "no Go toolchain found (need go >= $MIN_GO on PATH or in /usr/local/go)"
export GOTOOLCHAIN=local
ver=$("$GO" env GOVERSION 2>/dev/null || true)
ver=${ver#go}
[[ -n $ver ]] || die "cannot read the version of $GO"
lowest=$(printf '%s\n%s\n' "$MIN_GO" "$ver" | sort -V | head -n1)
[[ $lowest == "$MIN_GO" ]] || die "$GO is go$ver; go-libp2p v0.48.0 needs go >= $MIN_GO"

mkdir -p "$DEST" "$CACHE/go-modcache" "$CACHE/go-buildcache" || die "cannot create $DEST"
export GOMODCACHE=$CACHE/go-modcache
export GOCACHE=$CACHE/go-buildcache
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

echo "go/install.sh: building go-libp2p peer with go$ver into $DEST" >&2
tmp=$DEST/peer.tmp.$$
trap 'rm -f "$tmp"' EXIT
(cd "$HERE" && "$GO" build -trimpath -o "$tmp" .) || die "go build failed (see above)"
mv -f "$tmp" "$BIN"
echo "$SRC_SUM" >"$DEST/stamp"
echo "$BIN"
