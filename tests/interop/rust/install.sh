#!/usr/bin/env bash
# Build the pinned rust-libp2p test peer (Cargo.lock, --locked) and put the
# binary in its cache dir; do nothing when it is already there.
#
#   tests/interop/rust/install.sh
#
# Needs cargo/rustc >= 1.88 (libp2p 0.57's MSRV): on PATH, in
# $CARGO_HOME/bin or in ~/.cargo/bin (rustup's place). Debian 12's own rustc
# (1.63) is too old. The target dir /var/cache/lp2p-interop/rust-target is
# shared by every lock version, so a changed lock rebuilds incrementally.
# A cold build on 2 cores takes many minutes (see README.md).
# Env: CARGO_JOBS (default 2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo_peer_install "$RUST_PEER_DIR" rust rust-peer
