#!/usr/bin/env bash
# Run the py-libp2p 0.8.1 interop peer from any directory.  It is configured
# only by the harness environment (see peer.py / README.md); arguments are
# passed through (--test-plans / --unified force a mode).
# The venv comes from install.sh: tests/interop/py/install.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=$("$HERE/install.sh" --print-dir)
if [[ ! -f $VENV/.lp2p-complete ]]; then
  echo "py peer: no venv at $VENV; run $HERE/install.sh first" >&2
  exit 1
fi
export PYTHONUNBUFFERED=1
exec "$VENV/bin/python" "$HERE/peer.py" "$@"
