#!/usr/bin/env bash
# The py-libp2p perf peer needs nothing but the py peer's venv (py-libp2p
# 0.8.1 ships libp2p.perf): build that one (cached under
# /var/cache/lp2p-interop/py-<hash of its locks>/) unless it is there, and
# check that it has the perf service. Prints the venv directory.
#
#   tests/interop/py-perf/install.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=$("$HERE/../py/install.sh") || { echo "py-perf/install.sh: tests/interop/py/install.sh failed" >&2; exit 1; }
"$VENV/bin/python" -c 'from libp2p.perf import PerfService, PROTOCOL_NAME; assert PROTOCOL_NAME == "/perf/1.0.0"' ||
  { echo "py-perf/install.sh: $VENV has no usable libp2p.perf" >&2; exit 1; }
echo "$VENV"
