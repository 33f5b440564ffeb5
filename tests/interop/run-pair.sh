#!/usr/bin/env bash
# Run ONE test-plans transport-interop ping test between two local programs.
#
#   tests/interop/run-pair.sh LISTENER_CMD DIALER_CMD
#
# e.g. tests/interop/run-pair.sh 'node tests/interop/js/peer.mjs' build/lp2p-interop
#
# Commands are shell words, run from the repository root (so relative paths
# like build/lp2p-interop work from anywhere).  Both get the test-plans env:
#   transport (default tcp), security (default noise), muxer (default yamux),
#   test_timeout_seconds (default 60), is_dialer, ip=127.0.0.1 (PAIR_IP=::1 for IPv6),
#   redis_addr=127.0.0.1:<port of a private redis-server started here>.
# Other knobs:
#   PAIR_TIMEOUT  hard kill bound per process in seconds (default test_timeout_seconds+10)
#   PAIR_LOG_DIR  keep the listener/dialer logs there (default: temp dir, removed)
#   PAIR_QUIET=1  don't dump logs on failure
#
# Output: one line on stdout
#   PASS <transport>/<security>/<muxer> handshakePlusOneRTTMillis=<x> pingRTTMilllis=<y>
# or FAIL <...>: <reason> (exit status 1; logs tails on stderr).
# A fresh machine needs the js deps first: npm ci --prefix tests/interop/js
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 LISTENER_CMD DIALER_CMD" >&2
  exit 2
fi
LISTENER_CMD=$1
DIALER_CMD=$2

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

export transport=${transport:-tcp}
export security=${security:-noise}
export muxer=${muxer:-yamux}
export test_timeout_seconds=${test_timeout_seconds:-60}
PAIR_TIMEOUT=${PAIR_TIMEOUT:-$((test_timeout_seconds + 10))}
LABEL="$transport/$security/$muxer"

REDIS_BIN=$(command -v redis-server || true)
[[ -z $REDIS_BIN && -x /usr/sbin/redis-server ]] && REDIS_BIN=/usr/sbin/redis-server
if [[ -z $REDIS_BIN ]]; then
  echo "FAIL $LABEL: redis-server not found" ; exit 1
fi

if [[ -n ${PAIR_LOG_DIR:-} ]]; then
  mkdir -p "$PAIR_LOG_DIR"; WORK=$PAIR_LOG_DIR; KEEP=1
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/run-pair.XXXXXX"); KEEP=0
fi

REDIS_PID=
LISTENER_PID=
cleanup() {
  local pid
  for pid in $LISTENER_PID $REDIS_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in $LISTENER_PID $REDIS_PID; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [[ $KEEP == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dump_logs() {
  [[ ${PAIR_QUIET:-0} == 1 ]] && return 0
  local f
  for f in redis.log listener.out listener.err dialer.out dialer.err; do
    if [[ -s $WORK/$f ]]; then
      echo "----- $f (last 30 lines) -----" >&2
      tail -n 30 "$WORK/$f" >&2
    fi
  done
}

fail() {
  echo "FAIL $LABEL: $*"
  dump_logs
  exit 1
}

pick_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && IFS= read -r -t 1 l <&3 && [[ $l == +PONG* ]]) 2>/dev/null
  fi
}

# Start a private redis on a free loopback port (retry if the port got taken).
REDIS_PORT=
for _ in 1 2 3 4 5; do
  port=$(pick_port)
  timeout -k 5 $((PAIR_TIMEOUT * 2 + 30)) "$REDIS_BIN" --port "$port" --bind 127.0.0.1 \
    --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 50); do
    if redis_ping "$port"; then REDIS_PORT=$port; break; fi
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $REDIS_PORT ]] && break
  kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=
done
[[ -n $REDIS_PORT ]] || fail "could not start redis-server"

# The listen IP: loopback, IPv4 unless PAIR_IP=::1 asks for IPv6.
export ip=${PAIR_IP:-127.0.0.1}
export redis_addr=127.0.0.1:$REDIS_PORT

is_dialer=false timeout -k 5 "$PAIR_TIMEOUT" bash -c "exec $LISTENER_CMD" \
  >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
LISTENER_PID=$!

set +e
is_dialer=true timeout -k 5 "$PAIR_TIMEOUT" bash -c "exec $DIALER_CMD" \
  >"$WORK/dialer.out" 2>"$WORK/dialer.err" </dev/null
DIALER_RC=$?
set -e

LISTENER_ALIVE=1
kill -0 "$LISTENER_PID" 2>/dev/null || LISTENER_ALIVE=0

[[ $DIALER_RC == 124 || $DIALER_RC == 137 ]] && fail "dialer timed out after ${PAIR_TIMEOUT}s (exit $DIALER_RC)"
[[ $DIALER_RC == 0 ]] || fail "dialer exited $DIALER_RC$([[ $LISTENER_ALIVE == 0 ]] && echo ' (listener already gone)')"

# Exactly one line, a JSON object with both numeric fields.
VALIDATE='
import json, math, sys
data = open(sys.argv[1], "rb").read().decode("utf-8")
lines = data.splitlines()
if len(lines) != 1 or not data.endswith("\n"):
    sys.exit("stdout must be exactly one newline-terminated line, got %d line(s): %r" % (len(lines), data[:300]))
try:
    o = json.loads(lines[0])
except ValueError as e:
    sys.exit("not JSON (%s): %r" % (e, lines[0][:300]))
if not isinstance(o, dict):
    sys.exit("not a JSON object")
out = []
for k in ("handshakePlusOneRTTMillis", "pingRTTMilllis"):
    v = o.get(k)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        sys.exit("field %s missing or not a non-negative number: %r" % (k, v))
    out.append(repr(v))
print(" ".join(out))
'
VALIDATE_JS='
const fs = require("fs");
const data = fs.readFileSync(process.argv[1], "utf8");
const lines = data.split("\n");
if (lines.length !== 2 || lines[1] !== "") { console.error("stdout must be exactly one newline-terminated line: " + JSON.stringify(data.slice(0, 300))); process.exit(1) }
let o; try { o = JSON.parse(lines[0]) } catch (e) { console.error("bad JSON: " + e.message); process.exit(1) }
const out = [];
for (const k of ["handshakePlusOneRTTMillis", "pingRTTMilllis"]) {
  const v = o?.[k];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) { console.error("field " + k + " missing or not a non-negative number: " + JSON.stringify(v)); process.exit(1) }
  out.push(String(v));
}
console.log(out.join(" "));
'
set +e
if command -v python3 >/dev/null 2>&1; then
  NUMS=$(python3 -c "$VALIDATE" "$WORK/dialer.out" 2>&1)
else
  NUMS=$(node -e "$VALIDATE_JS" "$WORK/dialer.out" 2>&1)
fi
VRC=$?
set -e
[[ $VRC == 0 ]] || fail "bad dialer output: $NUMS"

[[ $LISTENER_ALIVE == 1 ]] || fail "listener exited before the dialer finished"

read -r HS PING <<<"$NUMS"
echo "PASS $LABEL handshakePlusOneRTTMillis=$HS pingRTTMilllis=$PING"
