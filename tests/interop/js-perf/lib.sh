# Shared by install.sh, run.sh, tests/perf/interop.sh and bench/perf.sh
# (sourced): the js perf peer is perf.mjs (our /perf/1.0.0 handler and
# client on the js-libp2p 3 stack) run with the js peer's node_modules
# (tests/interop/js: its package-lock.json, cached by its install.sh), so it
# is keyed and built exactly as that peer; and what it offers
# tests/perf/interop.sh (the PERF_PEER_* interface, tests/perf/README.md).
JS_PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JS_PERF_KEY=$(sha256sum "$JS_PERF_DIR/../js/package-lock.json" | cut -c1-16)

# install.sh links node_modules here to the js peer's; its stamp holds the
# lock's key. A stale or missing one is "not installed" (a path that does
# not exist).
PERF_PEER_READY=$JS_PERF_DIR/node_modules/.lp2p-lock-key
if [[ ! -f $PERF_PEER_READY || $(cat "$PERF_PEER_READY" 2>/dev/null) != "$JS_PERF_KEY" ]]; then
  PERF_PEER_READY=$JS_PERF_DIR/node_modules/.lp2p-lock-key-$JS_PERF_KEY-missing
fi
PERF_PEER_INSTALL=tests/interop/js-perf/install.sh
# transport security muxer. The server offers Noise and TLS, yamux and
# mplex at once unless --security / --muxer narrow it (its client proposes
# Noise and yamux first); tcp and quic-v1 at the one port.
PERF_PEER_CASES=("tcp noise yamux" "tcp tls yamux" "tcp noise mplex" "tcp tls mplex" "quic-v1 - -")
PERF_PEER_MID=intermediary
perf_peer_server() { PERF_CMD=(node "$JS_PERF_DIR/perf.mjs"); }
perf_peer_client() {
  PERF_CMD=(node "$JS_PERF_DIR/perf.mjs" --transport "$1")
  [[ $2 == - ]] || PERF_CMD+=(--security "$2")
  [[ $3 == - ]] || PERF_CMD+=(--muxer "$3")
}
# What its server logs once a run is through (after its half-close).
perf_peer_server_saw() { echo "perf: served: received $1 bytes, sent $2 bytes"; }
PERF_PEER_SIGTERM0=1
perf_peer_lenient() { echo 0; }
# No perf_peer_xfail: every run passes since the handler reads to
# readableEnded with an empty read buffer and our client holds its
# half-close until the protocol is confirmed (README.md, "Lost bytes").
