#!/usr/bin/env bash
# Process-level hostile cases for the real binary (ctest: hostile_process).
#
#   tests/hostile/process.sh path/to/lp2p-interop
#
# Each case runs the binary as the harness would and checks: exit status
# non-zero, nothing on stdout, a clear message on stderr, and (where the
# case is about failing fast) the time it took.
#   1. Redis not running (dialer and listener): retried until the test
#      timeout, then a clear message.
#   2. BLPOP times out: Redis up, no listener.
#   3. The listener address is not a multiaddr.
#   4. The listener's peer id differs from the one in the address.
#   5. The listener offers only another security protocol (a scripted
#      listener answering "na"): fails at once, not by timeout.
#   6. The GnuTLS module (src/gnutls_module.h) missing or not ours: tls,
#      ws, wss and quic-v1 fail at start (a missing file, another
#      library, a module of another build); the perf CLI server serves tcp
#      alone with one line naming it; a tcp/noise
#      dialer without it still passes (it never opens it).
set -uo pipefail

BIN=${1:?usage: $0 path/to/lp2p-interop}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
REDIS_BIN=$(command -v redis-server || echo /usr/sbin/redis-server)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hostile-process.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILS=0
pass() { echo "PASS $*"; }
failc() { echo "FAIL $*"; FAILS=$((FAILS + 1)); for f in "$WORK"/out "$WORK"/err; do [[ -s $f ]] && { echo "--- $f"; tail -n 20 "$f"; }; done; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

export transport=tcp security=noise muxer=yamux ip=127.0.0.1

# run NAME EXPECTED_STDERR MAX_SECONDS ENV... : runs the dialer (or
# listener) with the given env and checks the outcome.
run() {
  local name=$1 want=$2 max=$3
  shift 3
  local t0 t1 rc
  t0=$(date +%s%N)
  env "$@" timeout -k 2 $((max + 10)) "$BIN" >"$WORK/out" 2>"$WORK/err" </dev/null
  rc=$?
  t1=$(date +%s%N)
  local ms=$(((t1 - t0) / 1000000))
  if [[ $rc == 0 ]]; then failc "$name: exit 0"; return; fi
  if [[ $rc == 124 || $rc == 137 ]]; then failc "$name: hung (killed by timeout)"; return; fi
  if [[ -s $WORK/out ]]; then failc "$name: something on stdout"; return; fi
  if ! grep -q -- "$want" "$WORK/err"; then failc "$name: stderr lacks '$want'"; return; fi
  if ((ms > max * 1000)); then failc "$name: took ${ms} ms (> ${max} s)"; return; fi
  pass "$name (exit $rc, ${ms} ms): $(grep -m1 -- "$want" "$WORK/err")"
}

# 1. Redis not running.
NOPORT=$(free_port)
run "dialer, redis not running" "cannot reach redis" 5 \
  is_dialer=true redis_addr=127.0.0.1:$NOPORT test_timeout_seconds=2
run "listener, redis not running" "cannot reach redis" 5 \
  is_dialer=false redis_addr=127.0.0.1:$NOPORT test_timeout_seconds=2

# A private redis for the rest.
RPORT=$(free_port)
"$REDIS_BIN" --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
  >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
rcli() { redis-cli -h 127.0.0.1 -p "$RPORT" "$@"; }
for _ in $(seq 50); do [[ $(rcli ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done
[[ $(rcli ping 2>/dev/null) == PONG ]] || { echo "FAIL: redis-server did not start"; exit 1; }
export redis_addr=127.0.0.1:$RPORT

# 2. BLPOP times out.
rcli del listenerAddr >/dev/null
run "dialer, no listener address (BLPOP times out)" "no listener address under listenerAddr" 5 \
  is_dialer=true test_timeout_seconds=2

# 3. Not a multiaddr.
rcli rpush listenerAddr "hello, not a multiaddr" >/dev/null
run "dialer, listener address is not a multiaddr" "is not a dialable multiaddr" 5 \
  is_dialer=true test_timeout_seconds=10
rcli del listenerAddr >/dev/null

# 4. The peer id in the address is not the listener's.
is_dialer=false test_timeout_seconds=30 "$BIN" >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
LPID=$!
PIDS+=($LPID)
ADDR=
for _ in $(seq 100); do ADDR=$(rcli lpop listenerAddr); [[ -n $ADDR ]] && break; sleep 0.1; done
if [[ -z $ADDR ]]; then
  failc "wrong peer id: the listener published nothing"
else
  OTHER=12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA # peer-ids.md example
  rcli rpush listenerAddr "${ADDR%/p2p/*}/p2p/$OTHER" >/dev/null
  run "dialer, listener is another peer" "but the peer is" 5 is_dialer=true test_timeout_seconds=20
  kill -0 $LPID 2>/dev/null || failc "wrong peer id: the listener died"
  # The listener still serves the right address.
  rcli rpush listenerAddr "$ADDR" >/dev/null
  if is_dialer=true test_timeout_seconds=10 "$BIN" >"$WORK/out" 2>"$WORK/err" </dev/null &&
     grep -q handshakePlusOneRTTMillis "$WORK/out"; then
    pass "the same listener then serves an honest dialer"
  else
    failc "the listener no longer serves an honest dialer"
  fi
  # 6 (part): tcp/noise never opens the GnuTLS module.
  rcli rpush listenerAddr "$ADDR" >/dev/null
  if LP2P_GNUTLS_MODULE=$WORK/no-such-module.so is_dialer=true test_timeout_seconds=10 \
       "$BIN" >"$WORK/out" 2>"$WORK/err" </dev/null && grep -q handshakePlusOneRTTMillis "$WORK/out"; then
    pass "a tcp/noise dialer without the GnuTLS module"
  else
    failc "a tcp/noise dialer needs the GnuTLS module"
  fi
fi

# 5. A listener that offers no /noise: header, then "na" to every proposal.
FPORT=$(free_port)
cat >"$WORK/fake.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30)
c.sendall(b"\x13/multistream/1.0.0\n")
buf = b""
while True:
    d = c.recv(4096)
    if not d: break
    buf += d
    while buf:  # "na" to every complete message after the header
        n = buf[0]
        if len(buf) < 1 + n: break
        msg, buf = buf[1:1 + n], buf[1 + n:]
        if msg != b"/multistream/1.0.0\n": c.sendall(b"\x03na\n")
PY
python3 "$WORK/fake.py" "$FPORT" >"$WORK/fake.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ss -ltnH "sport = :$FPORT" | grep -q . && break; sleep 0.1; done
rcli rpush listenerAddr "/ip4/127.0.0.1/tcp/$FPORT" >/dev/null
run "dialer, listener offers no /noise" "peer does not support /noise" 3 \
  is_dialer=true test_timeout_seconds=60

# 6. The GnuTLS module missing, or a shared object that is not it.
NOMOD=$WORK/no-such-module.so
run "dialer tcp/tls, GnuTLS module missing" "tls: cannot load the GnuTLS module: $NOMOD" 3 \
  LP2P_GNUTLS_MODULE=$NOMOD security=tls is_dialer=true test_timeout_seconds=30
run "listener quic-v1, GnuTLS module missing" "quic-v1: cannot load the GnuTLS module" 3 \
  LP2P_GNUTLS_MODULE=$NOMOD transport=quic-v1 is_dialer=false test_timeout_seconds=30
run "dialer wss, GnuTLS module missing" "wss: cannot load the GnuTLS module" 3 \
  LP2P_GNUTLS_MODULE=$NOMOD transport=wss is_dialer=true test_timeout_seconds=30
run "listener ws, GnuTLS module missing" "ws: cannot load the GnuTLS module" 3 \
  LP2P_GNUTLS_MODULE=$NOMOD transport=ws is_dialer=false test_timeout_seconds=30
# The test-plans perf server, told no transport, serves quic-v1 beside tcp
# as a bonus: without the module it says so in one line and serves tcp.
PPORT=$(free_port)
LP2P_GNUTLS_MODULE=$NOMOD "$BIN" perf --run-server --server-address "127.0.0.1:$PPORT" \
  >"$WORK/perf-server.out" 2>"$WORK/perf-server.err" </dev/null &
PPID_=$!
PIDS+=($PPID_)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PPORT") 2>/dev/null && break; sleep 0.05; done
if timeout 20 "$BIN" perf --server-address "127.0.0.1:$PPORT" --transport tcp --upload-bytes 1000 \
     --download-bytes 1000 >"$WORK/out" 2>"$WORK/err" </dev/null &&
   grep -q '"final"' "$WORK/out" &&
   grep -q 'quic-v1 not served: cannot load the GnuTLS module' "$WORK/perf-server.err"; then
  pass "perf server without the GnuTLS module: serves tcp, says quic-v1 is not served"
else
  cat "$WORK/perf-server.err" >>"$WORK/err"
  failc "perf server without the GnuTLS module"
fi
kill -TERM $PPID_ 2>/dev/null
wait $PPID_ 2>/dev/null
# A module of another build of the tree: our own with its build identity
# (the 32 hex digits of lp2p_build_id.h, in its read-only data) changed.
MOD=$BIN-gnutls.so
ID=$(grep -ao 'LP2P__BUILD_ID "[0-9a-f]*"' "$(dirname "$BIN")/generated/lp2p_build_id.h" 2>/dev/null |
  grep -o '[0-9a-f]\{32\}')
if [[ -f $MOD && -n $ID ]] && grep -qa "$ID" "$MOD"; then
  LC_ALL=C sed "s/$ID/$(printf '%032d' 0)/" "$MOD" >"$WORK/other-build.so"
  run "dialer tcp/tls, a module of another build" "from another build" 3 \
    LP2P_GNUTLS_MODULE=$WORK/other-build.so security=tls is_dialer=true test_timeout_seconds=30
else
  failc "no build identity found in $MOD (generated/lp2p_build_id.h beside the binary)"
fi
OTHER_SO=$(ldconfig -p | awk '$1 == "libwslay.so.1" && $NF ~ /^\// {print $NF; exit}')
if [[ -n $OTHER_SO ]]; then
  run "dialer tcp/tls, another library as the module" "no lp2p_gnutls_module" 3 \
    LP2P_GNUTLS_MODULE=$OTHER_SO security=tls is_dialer=true test_timeout_seconds=30
fi

if ((FAILS)); then echo "$FAILS case(s) failed"; exit 1; fi
echo "all process-level hostile cases passed"
