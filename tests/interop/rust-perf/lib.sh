# Shared by install.sh, run.sh, tests/perf/interop.sh and bench/perf.sh
# (sourced): where the pinned perf peer lives (../rust/cargo.sh says how it
# is keyed; it shares the rust peer's target dir).
RUST_PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$RUST_PERF_DIR/../rust/cargo.sh"
RUST_PERF_BIN=$(cargo_peer_bin "$RUST_PERF_DIR" rust-perf rust-perf)
