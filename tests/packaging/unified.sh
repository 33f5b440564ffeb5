#!/usr/bin/env bash
# unified-testing mode: UPPERCASE environment, TEST_KEY-namespaced Redis key,
# YAML latency block on the dialer's stdout.
#
# 1. Two listener+dialer pairs at the same time through ONE redis-server
#    (free loopback port): TEST_KEY=aaaa1111 (yamux) and TEST_KEY=bbbb2222
#    (mplex). Each listener must publish under <TEST_KEY>_listener_multiaddr
#    (and nothing under the legacy listenerAddr); both dialers must exit 0
#    and print a `latency:` block with numeric handshake_plus_one_rtt and
#    ping_rtt and `unit: ms`.
# 2. A dialer that finds a plain string under its key (SET, as some perf
#    images do, instead of RPUSH) reads it: a listener publishes under a
#    key of its own, the test moves the address to the dialer's key with
#    SET, and only then starts the dialer.
# 3. The same with the dialer already blocked on its key when the test SETs
#    it (a blocked BLPOP is not woken by SET).
# Only the unified variables are passed (env -i). Binary: the image's
# (copied out by podman.sh) if there, else build/lp2p-interop; LP2P_BIN
# overrides.
set -euo pipefail
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || need "python3 not found"
find_redis
pick_binary

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lp2p-unified.XXXXXX")
PIDS=()
REDIS_PID=
cleanup() {
  local rc=$?
  stop_pids "${PIDS[@]}" $REDIS_PID
  if [[ $rc != 0 ]]; then dump "$WORK"/*.err; fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in 1 2 3 4 5; do
  PORT=$(free_port)
  "$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 50); do
    [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break 2
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  stop_pids "$REDIS_PID"; REDIS_PID=
done
[[ -n $REDIS_PID ]] || die "could not start redis-server"
rcli() { redis-cli -p "$PORT" "$@"; }

# unified KEY ROLE MUXER: the unified-testing environment only. Execs: run
# it in the background or in a subshell.
unified() {
  exec timeout -k 5 40 env -i TRANSPORT=tcp SECURE_CHANNEL=noise MUXER="$3" \
    IS_DIALER="$2" LISTENER_IP=127.0.0.1 REDIS_ADDR="127.0.0.1:$PORT" \
    TEST_KEY="$1" TEST_TIMEOUT_SECS=30 DEBUG=false "$BIN"
}

wait_key() {  # KEY PID -> the address the listener pushed (left in place)
  local v
  for _ in $(seq 1 100); do
    v=$(rcli lindex "$1" 0 2>/dev/null || true)
    [[ -n $v ]] && { echo "$v"; return 0; }
    kill -0 "$2" 2>/dev/null || die "listener for $1 exited before publishing"
    sleep 0.1
  done
  die "nothing published under $1"
}

# ---- 1. two pairs at once, one redis
declare -A MUX=([aaaa1111]=yamux [bbbb2222]=mplex) LPID=() DPID=()
for key in aaaa1111 bbbb2222; do
  unified "$key" false "${MUX[$key]}" >"$WORK/$key-listener.out" 2>"$WORK/$key-listener.err" </dev/null &
  LPID[$key]=$!; PIDS+=("$!")
done
for key in aaaa1111 bbbb2222; do
  addr=$(wait_key "${key}_listener_multiaddr" "${LPID[$key]}")
  [[ $addr =~ ^/ip4/127\.0\.0\.1/tcp/[0-9]+/p2p/ ]] || die "$key: listener published '$addr'"
  say "$key: listener published $addr"
done
[[ $(rcli exists listenerAddr) == 0 ]] || die "a unified-mode listener wrote the legacy key listenerAddr"
for key in aaaa1111 bbbb2222; do
  (unified "$key" true "${MUX[$key]}") >"$WORK/$key-dialer.out" 2>"$WORK/$key-dialer.err" </dev/null &
  DPID[$key]=$!; PIDS+=("$!")
done
for key in aaaa1111 bbbb2222; do
  rc=0; wait "${DPID[$key]}" || rc=$?
  [[ $rc == 0 ]] || die "$key: dialer exited $rc"
  RES=$(check_yaml "$WORK/$key-dialer.out" 2>&1) || die "$key: bad dialer output: $RES"
  kill -0 "${LPID[$key]}" 2>/dev/null || die "$key: listener exited before its dialer was done"
  echo "PASS unified TEST_KEY=$key tcp/noise/${MUX[$key]} $RES"
done
for key in aaaa1111 bbbb2222; do
  [[ $(rcli exists "${key}_listener_multiaddr") == 0 ]] || die "$key: address left in redis (each dialer must take its own)"
done
stop_pids "${LPID[@]}"

# ---- 2. the key holds a plain string (SET), not a list
unified eeee5555 false yamux >"$WORK/set-listener.out" 2>"$WORK/set-listener.err" </dev/null &
LISTENER=$!; PIDS+=("$!")
addr=$(wait_key eeee5555_listener_multiaddr "$LISTENER")
rcli del eeee5555_listener_multiaddr >/dev/null
[[ $(rcli set cccc3333_listener_multiaddr "$addr") == OK ]] || die "SET failed"
[[ $(rcli type cccc3333_listener_multiaddr) == string ]] || die "key is not a string"
rc=0
(unified cccc3333 true yamux) >"$WORK/set-dialer.out" 2>"$WORK/set-dialer.err" </dev/null || rc=$?
[[ $rc == 0 ]] || die "SET key: dialer exited $rc"
RES=$(check_yaml "$WORK/set-dialer.out" 2>&1) || die "SET key: bad dialer output: $RES"
echo "PASS unified SET-string key TEST_KEY=cccc3333 tcp/noise/yamux $RES"

# ---- 3. the same, but the dialer is already waiting when the key is SET
# (a blocked BLPOP is not woken by SET: the dialer must look again).
unified ffff6666 false yamux >"$WORK/lateset-listener.out" 2>"$WORK/lateset-listener.err" </dev/null &
LISTENER=$!; PIDS+=("$!")
addr=$(wait_key ffff6666_listener_multiaddr "$LISTENER")
rcli del ffff6666_listener_multiaddr >/dev/null
(unified dddd4444 true yamux) >"$WORK/lateset-dialer.out" 2>"$WORK/lateset-dialer.err" </dev/null &
DIALER=$!; PIDS+=("$!")
sleep 1.5
kill -0 "$DIALER" 2>/dev/null || die "late SET: dialer exited before the key was set"
[[ $(rcli set dddd4444_listener_multiaddr "$addr") == OK ]] || die "SET failed"
start=$SECONDS
rc=0; wait "$DIALER" || rc=$?
[[ $rc == 0 ]] || die "late SET: dialer exited $rc (took $((SECONDS - start)) s after the SET)"
RES=$(check_yaml "$WORK/lateset-dialer.out" 2>&1) || die "late SET: bad dialer output: $RES"
echo "PASS unified SET-after-wait key TEST_KEY=dddd4444 tcp/noise/yamux $RES"
say "ok"
