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
source "$(dirname "${BASH_SOURCE[0]}")/../go/build.sh"

if [[ -x $GO_PERF_BIN ]]; then
  echo "$GO_PERF_BIN"
  exit 0
fi

go_build go-perf/install.sh "$GO_PERF_DIR" "$GO_PERF_BIN"
echo "$GO_PERF_BIN"
