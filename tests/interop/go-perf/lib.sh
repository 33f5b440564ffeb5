# Shared by install.sh, run.sh, tests/perf/interop.sh and bench/perf.sh
# (sourced): where the pinned go-libp2p perf peer lives, and what it offers
# tests/perf/interop.sh (the PERF_PEER_* interface, tests/perf/README.md).
# Its cache dir is keyed by go.mod, go.sum and the sources.
GO_PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO_PERF_HASH=$(cat "$GO_PERF_DIR/go.mod" "$GO_PERF_DIR/go.sum" "$GO_PERF_DIR"/*.go | sha256sum | cut -c1-16)
GO_PERF_BIN=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}/go-perf-$GO_PERF_HASH/go-perf

PERF_PEER_READY=$GO_PERF_BIN
PERF_PEER_INSTALL=tests/interop/go-perf/install.sh
# transport security muxer. go-libp2p v0.48.0 has yamux only; its server
# offers TLS and Noise on tcp at once (go's default host), its client
# proposes TLS first unless --security (ours) narrows it to one.
PERF_PEER_CASES=("tcp tls yamux" "tcp noise yamux" "quic-v1 - -")
PERF_PEER_MID=intermediary
perf_peer_server() { PERF_CMD=("$GO_PERF_BIN"); }
perf_peer_client() {
  PERF_CMD=("$GO_PERF_BIN" --transport "$1")
  [[ $2 == - ]] || PERF_CMD+=(--security "$2")
}
# What its server logs once a run is through (after its half-close).
perf_peer_server_saw() { echo "perf: served: received $1 bytes, sent $2 bytes"; }
# go's server exits 0 on SIGTERM too.
PERF_PEER_SIGTERM0=1
# No known quirk: a go client reads the download to EOF and closes the stream.
perf_peer_lenient() { echo 0; }
