# Shared by install.sh and run.sh (sourced): where the pinned peer lives
# (cargo.sh says how it is keyed).
RUST_PEER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$RUST_PEER_DIR/cargo.sh"
RUST_PEER_BIN=$(cargo_peer_bin "$RUST_PEER_DIR" rust rust-peer)
