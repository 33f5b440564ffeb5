# Shared by install.sh, run.sh, tests/perf/interop.sh and bench/perf.sh
# (sourced): the py-libp2p perf peer runs perf.py in the py peer's venv
# (tests/interop/py: py-libp2p 0.8.1, hashed lock, which has libp2p.perf),
# so it is keyed, built and cached exactly as that venv; and what it offers
# tests/perf/interop.sh (the PERF_PEER_* interface, tests/perf/README.md).
PY_PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY_PERF_VENV=$("$PY_PERF_DIR/../py/install.sh" --print-dir)
PY_PERF_PY=$PY_PERF_VENV/bin/python

PERF_PEER_READY=$PY_PERF_VENV/.lp2p-complete
PERF_PEER_INSTALL=tests/interop/py-perf/install.sh
# transport security muxer. Its server offers Noise and TLS, yamux and
# mplex at once (Noise and yamux proposed first by its client unless
# --security / --muxer, ours, narrow them).
PERF_PEER_CASES=("tcp noise yamux" "tcp tls yamux" "tcp noise mplex" "quic-v1 - -")
PERF_PEER_MID=intermediary
perf_peer_server() { PERF_CMD=("$PY_PERF_PY" "$PY_PERF_DIR/perf.py"); }
perf_peer_client() {
  PERF_CMD=("$PY_PERF_PY" "$PY_PERF_DIR/perf.py" --transport "$1")
  [[ $2 == - ]] || PERF_CMD+=(--security "$2")
  [[ $3 == - ]] || PERF_CMD+=(--muxer "$3")
}
# What its server logs once a run is through (after its close).
perf_peer_server_saw() { echo "perf: served: received $1 bytes, sent $2 bytes"; }
PERF_PEER_SIGTERM0=1
perf_peer_lenient() { return 1; }
# perf_peer_sizes TRANSPORT: py's quic-v1 moves about 2 MB/s here (py x py
# did not finish 100 MB both ways in 60 s), so its cases stay small.
perf_peer_sizes() { [[ $1 != quic-v1 ]] || echo "1048576:1048576 3000000:0 0:2000000"; }
