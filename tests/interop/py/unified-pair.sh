#!/usr/bin/env bash
# One unified-testing style ping test between two local programs: UPPERCASE
# env only (TRANSPORT, SECURE_CHANNEL, MUXER, IS_DIALER, LISTENER_IP,
# REDIS_ADDR, TEST_KEY, TEST_TIMEOUT_SECS), key <TEST_KEY>_listener_multiaddr,
# dialer must print the YAML latency block.  A private redis-server on loopback.
#
#   TRANSPORT=tcp SECURE_CHANNEL=noise MUXER=yamux \
#     tests/interop/py/unified-pair.sh tests/interop/py/run.sh tests/interop/py/run.sh
#
# PAIR_LOG_DIR=dir keeps the logs.  Prints one PASS/FAIL line.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 LISTENER_CMD DIALER_CMD" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$ROOT"
export TRANSPORT=${TRANSPORT:-tcp} SECURE_CHANNEL=${SECURE_CHANNEL:-noise} MUXER=${MUXER:-yamux}
export TEST_TIMEOUT_SECS=${TEST_TIMEOUT_SECS:-60} LISTENER_IP=${LISTENER_IP:-127.0.0.1}
export TEST_KEY=${TEST_KEY:-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
# nothing in test-plans spelling may leak through
unset transport security muxer is_dialer ip redis_addr test_timeout_seconds test_key
LABEL="$TRANSPORT/$SECURE_CHANNEL/$MUXER (unified)"
LIMIT=$((TEST_TIMEOUT_SECS + 10))
WORK=${PAIR_LOG_DIR:-$(mktemp -d)}; mkdir -p "$WORK"
REDIS_BIN=$(command -v redis-server || echo /usr/sbin/redis-server)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$! LPID=
cleanup() {
  [[ -n $LPID ]] && kill "$LPID" 2>/dev/null; kill "$REDIS_PID" 2>/dev/null
  wait 2>/dev/null; [[ -n ${PAIR_LOG_DIR:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 50); do [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done
export REDIS_ADDR=127.0.0.1:$PORT
IS_DIALER=false timeout -k 5 "$LIMIT" bash -c "exec $1" >"$WORK/listener.out" 2>"$WORK/listener.err" &
LPID=$!
set +e
IS_DIALER=true timeout -k 5 "$LIMIT" bash -c "exec $2" >"$WORK/dialer.out" 2>"$WORK/dialer.err"
RC=$?
set -e
fail() { echo "FAIL $LABEL: $*"; tail -n 20 "$WORK"/dialer.err "$WORK"/listener.err >&2; exit 1; }
[[ $RC == 0 ]] || fail "dialer exited $RC"
python3 - "$WORK/dialer.out" <<'P' || fail "bad dialer output: $(head -c 300 "$WORK/dialer.out")"
import re, sys
t = open(sys.argv[1]).read()
num = r"(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
m = re.fullmatch(r"latency:\n  handshake_plus_one_rtt: %s\n  ping_rtt: %s\n  unit: ms\n" % (num, num), t)
sys.exit(0 if m else 1)
P
[[ -s $WORK/listener.out ]] && fail "listener wrote to stdout"
echo "PASS $LABEL $(tr '\n' ' ' <"$WORK/dialer.out")"
