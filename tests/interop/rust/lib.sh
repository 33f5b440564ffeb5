# Shared by install.sh and run.sh (sourced). Where the pinned peer lives:
# /var/cache/lp2p-interop/rust-<first 16 hex of sha256 over Cargo.lock,
# Cargo.toml and the peer's sources>/rust-peer. The sources are hashed too
# so that a change to src/ gets its own build, not a stale cached binary.
RUST_PEER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUST_CACHE_ROOT=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}

rust_peer_hash() {
  (cd "$RUST_PEER_DIR" && cat Cargo.lock Cargo.toml $(LC_ALL=C ls src/*.rs)) |
    sha256sum | cut -c1-16
}

RUST_PEER_BIN="$RUST_CACHE_ROOT/rust-$(rust_peer_hash)/rust-peer"
