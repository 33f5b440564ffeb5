#!/usr/bin/env bash
# Exec the rust-libp2p test peer (install.sh builds it). Configured only by
# the harness environment: test-plans (transport, security, muxer,
# is_dialer, ip, redis_addr, test_timeout_seconds) or unified-testing when
# TEST_KEY is set (TRANSPORT, SECURE_CHANNEL, MUXER, IS_DIALER, LISTENER_IP,
# REDIS_ADDR, TEST_KEY, TEST_TIMEOUT_SECS, DEBUG). RUST_LOG works too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ ! -x $RUST_PEER_BIN ]]; then
  echo "rust/run.sh: $RUST_PEER_BIN missing: run tests/interop/rust/install.sh first" >&2
  exit 1
fi
exec "$RUST_PEER_BIN"
