# Shared by install.sh and run.sh (sourced). Where the pinned perf peer
# lives: /var/cache/lp2p-interop/rust-perf-<first 16 hex of sha256 over
# Cargo.lock, Cargo.toml and src/*.rs>/rust-perf (sources hashed too, so a
# change to src/ gets its own build rather than a stale cached binary).
RUST_PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUST_PERF_CACHE_ROOT=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}

rust_perf_hash() {
  (cd "$RUST_PERF_DIR" && cat Cargo.lock Cargo.toml $(LC_ALL=C ls src/*.rs)) |
    sha256sum | cut -c1-16
}

RUST_PERF_BIN="$RUST_PERF_CACHE_ROOT/rust-perf-$(rust_perf_hash)/rust-perf"
