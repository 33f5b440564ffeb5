#!/usr/bin/env bash
# Run the go-libp2p interop peer, configured only by the harness environment
# (test-plans lowercase or unified-testing UPPERCASE with TEST_KEY; see
# README.md). Works from any directory. Builds the peer first if the cache
# (install.sh) does not have it yet; run install.sh beforehand so a test's
# time is not spent compiling.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$("$HERE/install.sh") || { echo "go/run.sh: install.sh failed" >&2; exit 1; }
exec "$BIN" "$@"
