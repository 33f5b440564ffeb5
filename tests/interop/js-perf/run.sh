#!/usr/bin/env bash
# Run the js perf peer (perf.mjs on the js peer's js-libp2p; install.sh
# links it) with the test-plans perf CLI, e.g.
#   tests/interop/js-perf/run.sh --run-server --server-address 127.0.0.1:4001
#   tests/interop/js-perf/run.sh --server-address 127.0.0.1:4001 --transport tcp \
#     --upload-bytes 1048576 --download-bytes 1048576
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -f $PERF_PEER_READY ]]; then
  echo "js-perf/run.sh: not installed for this js lock: run tests/interop/js-perf/install.sh first" >&2
  exit 1
fi
exec node "$JS_PERF_DIR/perf.mjs" "$@"
