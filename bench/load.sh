#!/usr/bin/env bash
# Load benchmark: one real listener process (our binary, published through
# a private redis-server as run-pair.sh does) and lp2p-load's in-process
# dialers against it: SEQ sequential and CONC concurrent connections per
# round, each handshaking and pinging, with the listener's VmRSS/VmHWM after
# each phase. Exit non-zero when any connection failed.
#
#   bench/load.sh [BUILD_DIR]        (default: build)
#   env: SEQ (1000) CONC (200) ROUNDS (2) muxer (yamux) LISTENER_ADDR
#        (skip the local listener and load this address instead)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=$BUILD/lp2p-interop
LOAD=$BUILD/lp2p-load
SEQ=${SEQ:-1000} CONC=${CONC:-200} ROUNDS=${ROUNDS:-2}
export muxer=${muxer:-yamux}
[[ -x $LOAD ]] || { echo "no $LOAD: build first" >&2; exit 2; }

if [[ -n ${LISTENER_ADDR:-} ]]; then
  exec "$LOAD" --seq "$SEQ" --conc "$CONC" --rounds "$ROUNDS" --muxer "$muxer" "$LISTENER_ADDR"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/load.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done

transport=tcp security=noise is_dialer=false ip=127.0.0.1 redis_addr=127.0.0.1:$PORT \
  test_timeout_seconds=3600 "$BIN" >"$WORK/listener.out" 2>"$WORK/listener.err" &
LPID=$!
PIDS+=($LPID)
ADDR=
for _ in $(seq 100); do ADDR=$(redis-cli -p "$PORT" lpop listenerAddr); [[ -n $ADDR ]] && break; sleep 0.1; done
[[ -n $ADDR ]] || { echo "listener did not publish" >&2; cat "$WORK/listener.err" >&2; exit 1; }

set +e
"$LOAD" --pid "$LPID" --seq "$SEQ" --conc "$CONC" --rounds "$ROUNDS" --muxer "$muxer" "$ADDR"
RC=$?
set -e
kill -0 "$LPID" 2>/dev/null || { echo "the listener died" >&2; RC=1; }
if [[ $RC != 0 ]]; then echo "--- listener stderr (tail)"; tail -n 20 "$WORK/listener.err"; fi
exit $RC
