#!/usr/bin/env bash
# Process-level hostile cases for quic-v1 (ctest: hostile_quic): one real
# listener of ours, on loopback, takes in turn
#   1. junk UDP datagrams from many source ports: empty, random, short
#      long-header packets, 1200-byte Initials of an unknown version and of
#      version 1 with garbage inside (a flood over the handshake cap);
#   2. a dialer that expects another peer id: it fails with a clear reason;
#   3. with FLOOD (build/lp2p-quic-flood) given: a flood of real Initials
#      from hundreds of loopback ports that never complete, renewed every
#      250 ms, so the listener stays over half its handshake cap and answers
#      new Initials with Retry (RFC 9000 section 8.1.2);
#   4. three honest dialers of ours, one after the other (during the flood,
#      if any), then one of each peer in HOSTILE_QUIC_PEERS (e.g. "go rust",
#      tests/interop/peer.sh; default none): each one pings.
# The listener must still be running at the end and exit 0 on SIGTERM.
#
#   tests/hostile/quic.sh path/to/lp2p-interop [path/to/lp2p-quic-flood]
set -uo pipefail

BIN=${1:?usage: $0 path/to/lp2p-interop [path/to/lp2p-quic-flood]}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
FLOOD=${2:-}
PEERS=${HOSTILE_QUIC_PEERS:-}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib/procs.sh"
work_dir hostile-quic
FAILS=0
pass() { echo "PASS $*"; }
failc() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

start_redis || { echo "FAIL: redis-server did not start"; exit 1; }
RPORT=$REDIS_PORT
rcli() { redis-cli -h 127.0.0.1 -p "$RPORT" "$@"; }
export transport=quic-v1 ip=127.0.0.1 redis_addr=127.0.0.1:$RPORT test_timeout_seconds=30

is_dialer=false LIBP2P_DEBUG=1 "$BIN" >"$WORK/l.out" 2>"$WORK/l.err" </dev/null &
LPID=$!
PIDS+=($LPID)
ADDR=
for _ in $(seq 100); do
  ADDR=$(rcli lindex listenerAddr 0 2>/dev/null)
  [[ -n $ADDR ]] && break
  sleep 0.1
done
[[ -n $ADDR ]] || { echo "FAIL: the listener published no address"; exit 1; }
UDP_PORT=$(sed -n 's|.*/udp/\([0-9]*\)/.*|\1|p' <<<"$ADDR")

# 1. Junk, from 200 source ports.
python3 - "$UDP_PORT" <<'PY'
import os, socket, struct, sys
port = int(sys.argv[1])
for i in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    k = i % 5
    if k == 0: p = b''
    elif k == 1: p = os.urandom(1 + i)
    elif k == 2: p = bytes([0xc0, 0, 0, 0, 1, 8]) + os.urandom(30)
    elif k == 3: p = bytes([0xc0]) + os.urandom(4) + bytes([8]) + os.urandom(8) + bytes([8]) + os.urandom(1200)
    else: p = bytes([0xc0, 0, 0, 0, 1, 8]) + os.urandom(8) + bytes([8]) + os.urandom(8) + bytes([0, 0x44, 0xd0]) + os.urandom(1200)
    s.sendto(p, ('127.0.0.1', port))
    s.close()
PY
sleep 0.5
if kill -0 $LPID 2>/dev/null; then pass "junk datagrams: listener still up"; else failc "junk datagrams killed the listener"; fi

dial() { # NAME ADDR [CMD...]: one dialer (ours by default); sets DRC
  rcli del listenerAddr >/dev/null
  rcli rpush listenerAddr "$2" >/dev/null
  local cmd=("${@:3}")
  [[ ${#cmd[@]} -gt 0 ]] || cmd=("$BIN")
  is_dialer=true timeout -k 2 40 "${cmd[@]}" >"$WORK/d.out" 2>"$WORK/d.err" </dev/null
  DRC=$?
}

# 2. Another peer id in the address.
OTHER=/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA
dial wrong "${ADDR%/p2p/*}$OTHER"
if [[ $DRC != 0 && ! -s $WORK/d.out ]] && grep -q "dialed 12D3KooWD3eckifW.* but the peer is" "$WORK/d.err"; then
  pass "wrong peer id refused (exit $DRC): $(grep -m1 'but the peer is' "$WORK/d.err" | cut -c1-160)"
else
  failc "wrong peer id: exit $DRC"; tail -5 "$WORK/d.err"
fi

# 3. A flood of Initials that never complete, for as long as step 4 runs.
FPID=
if [[ -n $FLOOD ]]; then
  "$FLOOD" 127.0.0.1 "$UDP_PORT" 200 120 >"$WORK/flood.out" 2>"$WORK/flood.err" &
  FPID=$!
  PIDS+=($FPID)
  for _ in $(seq 100); do
    grep -q '^sent' "$WORK/flood.out" 2>/dev/null && break
    sleep 0.1
  done
  if grep -q '^sent' "$WORK/flood.out"; then
    pass "flood: $(cat "$WORK/flood.out") Initials from as many ports, more every 250 ms"
  else
    failc "flood did not start"; cat "$WORK/flood.err"
  fi
fi

# 4. Honest dialers.
honest() { # LABEL [CMD...]
  dial honest "$ADDR" "${@:2}"
  if [[ $DRC == 0 ]] && grep -q handshakePlusOneRTTMillis "$WORK/d.out"; then
    pass "honest dialer $1: $(cat "$WORK/d.out")"
  else
    failc "honest dialer $1: exit $DRC"; tail -5 "$WORK/d.err"
  fi
}
for i in 1 2 3; do honest "ours $i"; done
for p in $PEERS; do honest "$p" bash "$ROOT/tests/interop/peer.sh" "$p"; done

if [[ -n $FPID ]]; then
  if kill -0 "$FPID" 2>/dev/null; then
    pass "the flood lasted until the honest dialers were done"
  else
    failc "the flood ended before the honest dialers were done"
  fi
  kill "$FPID" 2>/dev/null
  wait "$FPID" 2>/dev/null
  PIDS=("${PIDS[@]/$FPID}")
  n=$(grep -c "answered an Initial with Retry" "$WORK/l.err")
  if [[ $n -gt 0 ]]; then
    pass "listener under pressure: $n Initials answered with Retry"
  else
    failc "listener sent no Retry under the flood"
  fi
fi

kill -TERM $LPID
wait $LPID
LRC=$?
PIDS=("${PIDS[@]/$LPID}")
if [[ $LRC == 0 ]]; then pass "listener exits 0 on SIGTERM"; else failc "listener exit $LRC"; tail -5 "$WORK/l.err"; fi
echo "listener reasons for dropped datagrams:"
grep -o "datagram dropped: .*\|answered with .*\|connection closed: .*" "$WORK/l.err" | sort | uniq -c | sed "s/^/  /"
exit $((FAILS > 0))
