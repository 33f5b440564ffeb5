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

die() { echo "rust/install.sh: $*" >&2; exit 1; }

if [[ -x $RUST_PEER_BIN ]]; then
  echo "rust peer already built: $RUST_PEER_BIN" >&2
  exit 0
fi

for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
  [[ -d $d ]] && PATH=$PATH:$d
done
command -v cargo >/dev/null || die "cargo not found (install Rust >= 1.88 with rustup)"
ver=$(rustc --version | awk '{print $2}')
IFS=. read -r maj min _ <<<"$ver"
if (( maj < 1 || (maj == 1 && min < 88) )); then
  die "rustc $ver is too old: libp2p 0.57 needs >= 1.88"
fi

export CARGO_TARGET_DIR=$RUST_CACHE_ROOT/rust-target
mkdir -p "$CARGO_TARGET_DIR"
echo "building rust peer with rustc $ver into $CARGO_TARGET_DIR (slow when cold)" >&2
start=$(date +%s)
(cd "$RUST_PEER_DIR" && cargo build --release --locked -j "${CARGO_JOBS:-2}") ||
  die "cargo build failed"
echo "built in $(( $(date +%s) - start )) s" >&2

out=$(dirname "$RUST_PEER_BIN")
tmp=$(mktemp -d "$RUST_CACHE_ROOT/.rust-install.XXXXXX")
cp "$CARGO_TARGET_DIR/release/rust-peer" "$tmp/rust-peer"
cp "$RUST_PEER_DIR/Cargo.lock" "$RUST_PEER_DIR/Cargo.toml" "$tmp/"
rm -rf "$out"
mv "$tmp" "$out"
echo "installed $RUST_PEER_BIN" >&2
