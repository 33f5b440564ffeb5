#!/usr/bin/env bash
# The main job, locally: builds the binary if needed, then runs our listener
# and our dialer through a redis-server this script starts on a free
# loopback port, and prints the dialer's result. Env: muxer (yamux|mplex),
# security (noise), transport (tcp).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/lp2p-interop ]]; then
  cmake -S . -B build >/dev/null && cmake --build build -j2 >/dev/null
fi
PAIR_LOG_DIR=${PAIR_LOG_DIR:-$(mktemp -d)}
export PAIR_LOG_DIR
tests/interop/run-pair.sh build/lp2p-interop build/lp2p-interop
echo "dialer output:"
cat "$PAIR_LOG_DIR"/dialer.out 2>/dev/null || true
