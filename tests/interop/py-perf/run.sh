#!/usr/bin/env bash
# Run the py-libp2p perf peer (perf.py in the py peer's venv; install.sh
# builds it) with the test-plans perf CLI, e.g.
#   tests/interop/py-perf/run.sh --run-server --server-address 127.0.0.1:4001
#   tests/interop/py-perf/run.sh --server-address 127.0.0.1:4001 --transport tcp \
#     --upload-bytes 1048576 --download-bytes 1048576
# DEBUG=true turns on py-libp2p's debug logs (stderr).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -f $PERF_PEER_READY ]]; then
  echo "py-perf/run.sh: no venv at $PY_PERF_VENV: run tests/interop/py-perf/install.sh first" >&2
  exit 1
fi
export PYTHONUNBUFFERED=1
exec "$PY_PERF_PY" "$PY_PERF_DIR/perf.py" "$@"
