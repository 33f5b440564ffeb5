#!/usr/bin/env bash
# Exec the rust-libp2p perf peer (install.sh builds it) with the test-plans
# perf CLI, e.g.
#   tests/interop/rust-perf/run.sh --run-server --server-address 127.0.0.1:4001
#   tests/interop/rust-perf/run.sh --server-address 127.0.0.1:4001 --transport tcp \
#     --upload-bytes 1048576 --download-bytes 1048576
# RUST_LOG=info logs to stderr.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -x $RUST_PERF_BIN ]]; then
  echo "rust-perf/run.sh: $RUST_PERF_BIN missing: run tests/interop/rust-perf/install.sh first" >&2
  exit 1
fi
exec "$RUST_PERF_BIN" "$@"
