#!/usr/bin/env bash
# Build the pinned rust-libp2p perf peer (Cargo.lock, --locked) and put the
# binary in its cache dir; do nothing when it is already there.
#
#   tests/interop/rust-perf/install.sh
#
# Needs cargo/rustc >= 1.88 (as tests/interop/rust; libp2p-perf 0.3.0 itself
# asks for 1.73): on PATH, in $CARGO_HOME/bin or in ~/.cargo/bin. The target
# dir /var/cache/lp2p-interop/rust-target is the rust peer's, shared so that
# crates both lock at the same version are compiled once.
# Env: CARGO_JOBS (default 2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo_peer_install "$RUST_PERF_DIR" rust-perf rust-perf
