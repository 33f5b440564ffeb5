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
source "$HERE/build.sh"

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

go_build go/install.sh "$HERE" "$BIN"
echo "$SRC_SUM" >"$DEST/stamp"
echo "$BIN"
