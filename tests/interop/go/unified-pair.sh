#!/usr/bin/env bash
# One unified-testing style ping test between two commands (UPPERCASE env,
# TEST_KEY, Redis key <TEST_KEY>_listener_multiaddr, YAML result), through a
# private redis-server on loopback:
#
#   TRANSPORT=tcp SECURE_CHANNEL=noise MUXER=yamux \
#     tests/interop/go/unified-pair.sh tests/interop/go/run.sh tests/interop/go/run.sh
#
# Commands run from the repository root. Prints PASS/FAIL and the YAML.
# Keeps logs in $PAIR_LOG_DIR when set. Checks the dialer's stdout is exactly
# the latency block with numeric values and that the dialer took the key.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 LISTENER_CMD DIALER_CMD" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$ROOT"

export TRANSPORT=${TRANSPORT:-tcp} SECURE_CHANNEL=${SECURE_CHANNEL-noise} MUXER=${MUXER-yamux}
export TEST_TIMEOUT_SECS=${TEST_TIMEOUT_SECS:-60} DEBUG=false
export TEST_KEY=${TEST_KEY:-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
export LISTENER_IP=${LISTENER_IP:-127.0.0.1}
LABEL="unified $TRANSPORT/${SECURE_CHANNEL:--}/${MUXER:--} key $TEST_KEY"
BOUND=$((TEST_TIMEOUT_SECS + 10))

REDIS_BIN=$(command -v redis-server || echo /usr/sbin/redis-server)
if [[ -n ${PAIR_LOG_DIR:-} ]]; then mkdir -p "$PAIR_LOG_DIR"; WORK=$PAIR_LOG_DIR; KEEP=1
else WORK=$(mktemp -d); KEEP=0; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RPID= LPID=
cleanup() {
  local p
  for p in $LPID $RPID; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $LPID $RPID; do wait "$p" 2>/dev/null || true; done
  [[ $KEEP == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL $LABEL: $*"; tail -n 20 "$WORK"/listener.err "$WORK"/dialer.err >&2 || true; exit 1; }

"$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
RPID=$!
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
export REDIS_ADDR=127.0.0.1:$PORT

IS_DIALER=false timeout -k 5 "$BOUND" bash -c "exec $1" >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
LPID=$!
set +e
IS_DIALER=true timeout -k 5 "$BOUND" bash -c "exec $2" >"$WORK/dialer.out" 2>"$WORK/dialer.err" </dev/null
rc=$?
set -e
[[ $rc == 0 ]] || fail "dialer exited $rc"
kill -0 "$LPID" 2>/dev/null || fail "listener exited before the dialer finished"
[[ $(redis-cli -p "$PORT" exists "${TEST_KEY}_listener_multiaddr") == 0 ]] || fail "key left in redis"
python3 - "$WORK/dialer.out" <<'PY' || fail "bad dialer output"
import re, sys
lines = open(sys.argv[1]).read().split("\n")
want = [r"latency:", r"  handshake_plus_one_rtt: \d+(\.\d+)?", r"  ping_rtt: \d+(\.\d+)?", r"  unit: ms", r""]
if len(lines) != len(want) or not all(re.fullmatch(w, l) for w, l in zip(want, lines)):
    sys.exit("unexpected stdout: %r" % lines)
PY
echo "PASS $LABEL"
cat "$WORK/dialer.out"
