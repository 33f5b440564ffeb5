#!/usr/bin/env bash
# One unified-testing ping test between two local programs: a private
# redis-server on a free loopback port, ONLY the UPPERCASE unified env
# (env -i), a random TEST_KEY, and the dialer's stdout checked for the YAML
# latency block.
#
#   tests/interop/rust/run-unified.sh LISTENER_CMD DIALER_CMD
#   TRANSPORT=tcp SECURE_CHANNEL=noise MUXER=yamux (defaults; quic-v1: set
#   SECURE_CHANNEL= MUXER= to leave them out)
#
# Prints one PASS/FAIL line; logs kept in UNIFIED_LOG_DIR if set.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 LISTENER_CMD DIALER_CMD" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$ROOT"
TRANSPORT=${TRANSPORT:-tcp}
SECURE_CHANNEL=${SECURE_CHANNEL-noise}
MUXER=${MUXER-yamux}
TIMEOUT=${TEST_TIMEOUT_SECS:-60}
KEY=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
LABEL="unified $TRANSPORT/${SECURE_CHANNEL:--}/${MUXER:--} key=$KEY"
REDIS_BIN=$(command -v redis-server || echo /usr/sbin/redis-server)
WORK=${UNIFIED_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/run-unified.XXXXXX")}
mkdir -p "$WORK"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -n ${UNIFIED_LOG_DIR:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL $LABEL: $*"
  for f in listener.err dialer.out dialer.err; do
    [[ -s $WORK/$f ]] && { echo "----- $f -----" >&2; tail -n 30 "$WORK/$f" >&2; }
  done
  exit 1
}

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout -k 5 $((TIMEOUT * 2 + 30)) "$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' \
  --appendonly no >"$WORK/redis.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do
  [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break
  sleep 0.1
done

peer() {  # ROLE CMD
  local vars=(PATH="$PATH" HOME="$HOME" TRANSPORT="$TRANSPORT" IS_DIALER="$1"
    LISTENER_IP=127.0.0.1 REDIS_ADDR="127.0.0.1:$PORT" TEST_KEY="$KEY"
    TEST_TIMEOUT_SECS="$TIMEOUT" DEBUG=false)
  [[ -n $SECURE_CHANNEL ]] && vars+=(SECURE_CHANNEL="$SECURE_CHANNEL")
  [[ -n $MUXER ]] && vars+=(MUXER="$MUXER")
  exec timeout -k 5 $((TIMEOUT + 10)) env -i "${vars[@]}" bash -c "exec $2"
}
peer false "$1" >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
PIDS+=("$!")
set +e
(peer true "$2") >"$WORK/dialer.out" 2>"$WORK/dialer.err" </dev/null
RC=$?
set -e
[[ $RC == 0 ]] || fail "dialer exited $RC"
[[ $(redis-cli -p "$PORT" exists listenerAddr) == 0 ]] || fail "something used the legacy key listenerAddr"
python3 - "$WORK/dialer.out" <<'PY' || fail "bad YAML on dialer stdout: $(head -c 300 "$WORK/dialer.out")"
import re, sys
text = open(sys.argv[1]).read()
m = re.fullmatch(r"latency:\n  handshake_plus_one_rtt: ([0-9.e+-]+)\n  ping_rtt: ([0-9.e+-]+)\n  unit: ms\n", text)
if not m:
    sys.exit(1)
float(m.group(1)); float(m.group(2))
PY
echo "PASS $LABEL $(tr '\n' ' ' <"$WORK/dialer.out")"
