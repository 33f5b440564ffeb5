#!/usr/bin/env bash
# Exec the go-libp2p perf peer (install.sh builds it) with the test-plans
# perf CLI, e.g.
#   tests/interop/go-perf/run.sh --run-server --server-address 127.0.0.1:4001
#   tests/interop/go-perf/run.sh --server-address 127.0.0.1:4001 --transport tcp \
#     --upload-bytes 1048576 --download-bytes 1048576
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -x $GO_PERF_BIN ]]; then
  echo "go-perf/run.sh: $GO_PERF_BIN missing: run tests/interop/go-perf/install.sh first" >&2
  exit 1
fi
exec "$GO_PERF_BIN" "$@"
