#!/usr/bin/env bash
# The perf app as processes on loopback (a ctest case; small transfers):
#  1. unified-testing convention (TEST_KEY, UPPERCASE, key SET in a private
#     redis-server), both muxers; the dialer's YAML checked by check_yaml.py
#  2. the same through the lowercase test-plans names (no TEST_KEY)
#  3. the test-plans perf CLI: --run-server / client, JSON lines, over
#     Noise and over TLS (--security, ours), and over quic-v1 (the server
#     told no transport serves both, as the harness runs it)
#  4. quic-v1 through both conventions (unified and lowercase names), and
#     CLI exchanges both ways, upload only, download only, 100 MB
#  5. bad values: one line on stderr, nothing on stdout, exit 1
#
#   tests/perf/process.sh BIN
set -euo pipefail
BIN=$(realpath "${1:?usage: $0 BIN}")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../scripts/lib/procs.sh"
work_dir perf-process
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.err; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; exit 1; }

RPORT=$(free_port)
REDIS=$(command -v redis-server || echo /usr/sbin/redis-server)
"$REDIS" --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ $(redis-cli -p "$RPORT" ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done

SIZES=(UPLOAD_BYTES=3000000 DOWNLOAD_BYTES=2000000 UPLOAD_ITERATIONS=3 DOWNLOAD_ITERATIONS=2 LATENCY_ITERATIONS=7 DURATION=20)

# unified MUXER [TRANSPORT]: listener and dialer through Redis, YAML
# checked. The listeners are bounded by their own test timeout, not
# timeout(1), whose exit status would hide theirs.
unified() {
  local mux=$1 tr=${2:-tcp} key
  key=$(printf '%08x' $((RANDOM * RANDOM)))
  env TRANSPORT="$tr" SECURE_CHANNEL=noise MUXER="$mux" IS_DIALER=false LISTENER_IP=127.0.0.1 \
    REDIS_ADDR=127.0.0.1:$RPORT TEST_KEY="$key" TEST_TIMEOUT_SECS=60 "$BIN" perf \
    >"$WORK/l.out" 2>"$WORK/l.err" &
  local lpid=$!
  PIDS+=($lpid)
  env TRANSPORT="$tr" SECURE_CHANNEL=noise MUXER="$mux" IS_DIALER=true \
    REDIS_ADDR=127.0.0.1:$RPORT TEST_KEY="$key" "${SIZES[@]}" timeout 60 "$BIN" perf \
    >"$WORK/d.out" 2>"$WORK/d.err" || fail "unified $mux dialer exited $?"
  [[ $(redis-cli -p "$RPORT" type "${key}_listener_multiaddr") == string ]] ||
    fail "unified $mux: the listener did not SET its address"
  python3 "$HERE/check_yaml.py" "$WORK/d.out" --iterations 3,2,7 || fail "unified $mux YAML"
  kill -0 $lpid || fail "unified $mux: listener died"
  kill -TERM $lpid; wait $lpid || fail "unified $mux: listener exit $?"
  [[ ! -s $WORK/l.out ]] || fail "listener wrote to stdout"
  echo "PASS unified $([[ $tr == quic-v1 ]] && echo quic-v1 || echo "$tr/noise/$mux")"
}

legacy() { # [TRANSPORT]
  local tr=${1:-tcp}
  env transport="$tr" security=noise muxer=yamux is_dialer=false ip=127.0.0.1 \
    redis_addr=127.0.0.1:$RPORT test_timeout_seconds=60 "$BIN" perf >"$WORK/l.out" 2>"$WORK/l.err" &
  local lpid=$!
  PIDS+=($lpid)
  env transport="$tr" security=noise muxer=yamux is_dialer=true redis_addr=127.0.0.1:$RPORT \
    "${SIZES[@]}" timeout 60 "$BIN" perf >"$WORK/d.out" 2>"$WORK/d.err" ||
    fail "legacy dialer exited $?"
  python3 "$HERE/check_yaml.py" "$WORK/d.out" --iterations 3,2,7 || fail "legacy YAML"
  [[ $(redis-cli -p "$RPORT" type listenerAddr) == none ]] ||
    fail "legacy: listenerAddr left behind (the dialer BLPOPs the list)"
  kill -TERM $lpid; wait $lpid || fail "legacy listener exit $?"
  echo "PASS legacy-names $([[ $tr == quic-v1 ]] && echo quic-v1 || echo "$tr/noise/yamux")"
}

# cli_server ARGS...: starts a CLI server at a fixed port (sets port, spid)
cli_server() {
  local try
  # The CLI server takes a fixed port: a free one can be taken by another
  # test between free_port and the bind, so a port in use means another.
  for try in 1 2 3 4 5; do
    port=$(free_port)
    # No timeout(1) around servers: it answers our SIGTERM with 143.
    env DEBUG=true "$BIN" perf --run-server --server-address "127.0.0.1:$port" "$@" \
      >"$WORK/s.out" 2>"$WORK/s.err" &
    spid=$!
    PIDS+=($spid)
    for _ in $(seq 50); do
      grep -q -e "lp2p-interop: listening" -e "in use" "$WORK/s.err" 2>/dev/null && break
      sleep 0.1
    done
    grep -q "in use" "$WORK/s.err" || break
  done
  # The server's fixed identity is go-libp2p's perf peer id (zero ed25519 seed).
  grep -q 12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN "$WORK/s.err" ||
    fail "cli server peer id"
}

# cli_client UP DOWN ARGS...: one client exchange, JSON checked, and the
# server's own count of it (its "request:" line)
cli_client() {
  local up=$1 down=$2 mark
  shift 2
  mark=$(wc -l <"$WORK/s.err")
  timeout 60 "$BIN" perf --server-address "127.0.0.1:$port" "$@" \
    --upload-bytes "$up" --download-bytes "$down" >"$WORK/c.out" 2>"$WORK/c.err" ||
    fail "cli client $* ($up/$down) exited $?"
  python3 - "$WORK/c.out" "$up" "$down" <<'PY' || fail "cli JSON $* ($up/$down)"
import json, sys
up, down = int(sys.argv[2]), int(sys.argv[3])
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert objs and objs[-1]["type"] == "final", objs
for o in objs:
    assert sorted(o) == ["downloadBytes", "timeSeconds", "type", "uploadBytes"], o
    assert o["type"] in ("intermediary", "final")
assert objs[-1]["uploadBytes"] == up and objs[-1]["downloadBytes"] == down, objs[-1]
assert objs[-1]["timeSeconds"] > 0
PY
  for _ in $(seq 50); do
    tail -n +"$((mark + 1))" "$WORK/s.err" | grep -qF "request: upload $up bytes, download $down bytes" && return 0
    sleep 0.1
  done
  fail "cli server did not log the request $up/$down"
}

cli() { # SECURITY
  local sec=$1 port spid
  cli_server --security "$sec"
  cli_client 5000000 7000000 --transport tcp --security "$sec"
  kill -TERM $spid; wait $spid || fail "cli server exit $?"
  echo "PASS test-plans perf CLI ($sec)"
}

# quic-v1 through the CLI: a server told no transport (the harness's way)
# serves quic-v1 beside tcp; one told quic-v1 serves it alone. Both ways,
# upload only, download only, and 100 MB each way, so that the refill and
# QUIC's flow control both go round many times.
cli_quic() {
  local port spid
  cli_server
  grep -q "listening on /ip4/127.0.0.1/udp/$port/quic-v1/p2p/" "$WORK/s.err" ||
    fail "cli server: no quic-v1 listen line"
  cli_client 5000000 7000000 --transport quic-v1
  cli_client 3000000 0 --transport quic-v1
  cli_client 0 2000000 --transport quic-v1
  cli_client 1 1 --transport quic-v1
  cli_client 100000000 100000000 --transport quic-v1
  cli_client 1000000 1000000 --transport tcp
  kill -TERM $spid; wait $spid || fail "cli server exit $?"
  cli_server --transport quic-v1
  grep -q "/tcp/" "$WORK/s.err" && fail "cli server told quic-v1 listens on tcp too"
  cli_client 2000000 3000000 --transport quic-v1
  kill -TERM $spid; wait $spid || fail "cli server exit $?"
  echo "PASS test-plans perf CLI (quic-v1)"
}

bad() { # DESCRIPTION ENV... -- ARGS...
  local what=$1; shift
  local envs=() 
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  set +e
  env TRANSPORT=tcp SECURE_CHANNEL=noise MUXER=yamux IS_DIALER=true REDIS_ADDR=127.0.0.1:$RPORT \
    TEST_KEY=deadbeef "${envs[@]}" timeout 10 "$BIN" perf "$@" >"$WORK/b.out" 2>"$WORK/b.err"
  local rc=$?
  set -e
  [[ $rc == 1 ]] || fail "$what: exit $rc, want 1"
  [[ ! -s $WORK/b.out ]] || fail "$what: wrote to stdout"
  [[ $(wc -l <"$WORK/b.err") == 1 ]] || fail "$what: stderr is not one line: $(cat "$WORK/b.err")"
}

unified yamux
unified mplex
legacy
cli noise
cli tls
unified yamux quic-v1
legacy quic-v1
cli_quic
bad "negative size" UPLOAD_BYTES=-1 --
bad "non-numeric size" DOWNLOAD_BYTES=abc --
bad "absurd size" UPLOAD_BYTES=99999999999999999999999 --
bad "absurd iterations" LATENCY_ITERATIONS=100000000 --
bad "negative iterations" UPLOAD_ITERATIONS=-3 --
bad "cli negative" -- --server-address 127.0.0.1:1 --upload-bytes -5
bad "cli non-numeric" -- --server-address 127.0.0.1:1 --download-bytes 1e9
bad "cli no address" -- --upload-bytes 5
bad "cli unknown transport" -- --server-address 127.0.0.1:1 --transport ws
bad "cli plaintext" -- --server-address 127.0.0.1:1 --security plaintext
echo "PASS bad values"
