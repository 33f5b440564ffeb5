# Shared by install.sh, run.sh, tests/perf/interop.sh and bench/perf.sh
# (sourced): where the pinned perf peer lives (../rust/cargo.sh says how it
# is keyed; it shares the rust peer's target dir).
RUST_PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$RUST_PERF_DIR/../rust/cargo.sh"
RUST_PERF_BIN=$(cargo_peer_bin "$RUST_PERF_DIR" rust-perf rust-perf)

# What it offers tests/perf/interop.sh (the PERF_PEER_* interface,
# tests/perf/README.md): transport security muxer. tcp is TLS and yamux only.
PERF_PEER_READY=$RUST_PERF_BIN
PERF_PEER_INSTALL=tests/interop/rust-perf/install.sh
PERF_PEER_CASES=("tcp tls yamux" "quic-v1 - -")
# upstream's binary says "intermediate", not the test-plans "intermediary"
PERF_PEER_MID=intermediate
perf_peer_server() { PERF_CMD=(env RUST_LOG=info "$RUST_PERF_BIN"); }
perf_peer_client() { PERF_CMD=("$RUST_PERF_BIN" --transport "$1"); }
# RUST_LOG=info: "finished run ... to_send: D, to_receive: U" once its own
# half-close is through.
perf_peer_server_saw() { echo "to_send: $2, to_receive: $1 "; }
# SIGTERM kills it (no handler, as upstream): any exit status.
PERF_PEER_SIGTERM0=0
# perf_peer_lenient DIR TRANSPORT UP DOWN -> 0, 1 or 2 (tests/perf/interop.sh).
# The rust client with nothing to download exits as soon as its upload is
# flushed. tcp (1): its kernel may answer our window updates with a reset
# that drops the unread tail of the upload at our end (upstream's own
# server sees the same), or its TCP FIN arrives before its yamux
# half-close: then the end of the connection is all our server sees.
# quic-v1 (2): it reports as soon as its upload is in its QUIC send buffer
# and exits without sending it or closing, so our server hears nothing more
# until its idle timeout (rust's own server logs no run for it either).
perf_peer_lenient() {
  if [[ $1 == ours-server && $4 == 0 ]]; then
    [[ $2 == tcp ]] && echo 1 || echo 2
  else
    echo 0
  fi
}
