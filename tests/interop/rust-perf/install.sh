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

die() { echo "rust-perf/install.sh: $*" >&2; exit 1; }

if [[ -x $RUST_PERF_BIN ]]; then
  echo "rust perf peer already built: $RUST_PERF_BIN" >&2
  exit 0
fi

for d in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
  [[ -d $d ]] && PATH=$PATH:$d
done
command -v cargo >/dev/null || die "cargo not found (install Rust >= 1.88 with rustup)"
ver=$(rustc --version | awk '{print $2}')
IFS=. read -r maj min _ <<<"$ver"
if (( maj < 1 || (maj == 1 && min < 88) )); then
  die "rustc $ver is too old: need >= 1.88"
fi

export CARGO_TARGET_DIR=$RUST_PERF_CACHE_ROOT/rust-target
mkdir -p "$CARGO_TARGET_DIR"
echo "building rust perf peer with rustc $ver into $CARGO_TARGET_DIR (slow when cold)" >&2
start=$(date +%s)
(cd "$RUST_PERF_DIR" && cargo build --release --locked -j "${CARGO_JOBS:-2}") ||
  die "cargo build failed"
echo "built in $(( $(date +%s) - start )) s" >&2

out=$(dirname "$RUST_PERF_BIN")
tmp=$(mktemp -d "$RUST_PERF_CACHE_ROOT/.rust-perf-install.XXXXXX")
cp "$CARGO_TARGET_DIR/release/rust-perf" "$tmp/rust-perf"
cp "$RUST_PERF_DIR/Cargo.lock" "$RUST_PERF_DIR/Cargo.toml" "$tmp/"
rm -rf "$out"
mv "$tmp" "$out"
echo "installed $RUST_PERF_BIN" >&2
