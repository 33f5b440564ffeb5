#!/usr/bin/env bash
# /perf/1.0.0 against rust-libp2p's perf (tests/interop/rust-perf: the
# libp2p-perf crate behind the test-plans perf CLI), both ways, over
# tcp/tls/yamux (the only tcp stack that binary offers) and quic-v1 (each
# server, told no transport, serves both at one port), small transfers:
#   ours server  <- rust client   (rust prints "intermediate" lines + final)
#   rust server  <- ours client   (ours prints "intermediary" lines + final)
# for a few size pairs (both ways, upload only, download only). Each
# client's JSON lines are checked: every line an object with exactly type,
# timeSeconds, uploadBytes, downloadBytes; the last one "final" with the
# sizes asked for. The server must still be up afterwards; ours must exit 0
# on SIGTERM; each server's log must show the sizes it saw. Ends with "N passed, M failed"; exit 1 if any failed, 77
# (ctest SKIP_RETURN_CODE) when the rust perf peer is not installed.
#
#   tests/perf/interop.sh BIN
#   env: PERF_SIZES="UP:DOWN ..." (default 1048576:1048576 3000000:0
#        0:2000000 100000000:100000000; the last runs a second or two, so
#        that progress lines are usually printed and checked too)
set -euo pipefail
BIN=$(realpath "${1:?usage: $0 BIN}")
HERE=$(cd "$(dirname "$0")" && pwd)
RUST_DIR=$HERE/../interop/rust-perf
source "$RUST_DIR/lib.sh"
if [[ ! -x $RUST_PERF_BIN ]]; then
  echo "SKIP: rust perf peer not installed ($RUST_PERF_BIN; run tests/interop/rust-perf/install.sh)"
  exit 77
fi
SIZES=(${PERF_SIZES:-1048576:1048576 3000000:0 0:2000000 100000000:100000000})

WORK=$(mktemp -d "${TMPDIR:-/tmp}/perf-interop.XXXXXX")
SPID=
cleanup() {
  [[ -n $SPID ]] && { kill -TERM "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

passed=0 failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1: $2"
  local f
  for f in "$WORK"/*.out "$WORK"/*.err; do
    [[ -s $f ]] && { echo "--- ${f##*/}"; tail -n 15 "$f"; }
  done
  failed=$((failed + 1))
}

# check_json FILE UP DOWN INTERMEDIATE_TYPE: the client's stdout
check_json() {
  python3 - "$@" <<'PY'
import json, sys
path, up, down, mid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(path).read().splitlines()
if not lines:
    sys.exit("no output")
objs = []
for l in lines:
    try:
        o = json.loads(l)
    except ValueError:
        sys.exit("not JSON: %r" % l)
    if not isinstance(o, dict) or sorted(o) != ["downloadBytes", "timeSeconds", "type", "uploadBytes"]:
        sys.exit("wrong keys: %r" % l)
    if o["type"] not in (mid, "final"):
        sys.exit("type %r, want %r or 'final'" % (o["type"], mid))
    objs.append(o)
last = objs[-1]
if last["type"] != "final" or any(o["type"] == "final" for o in objs[:-1]):
    sys.exit("'final' is not (only) the last line")
if (last["uploadBytes"], last["downloadBytes"]) != (up, down):
    sys.exit("final moved %d up / %d down, want %d / %d"
             % (last["uploadBytes"], last["downloadBytes"], up, down))
if not last["timeSeconds"] > 0:
    sys.exit("final timeSeconds %r" % last["timeSeconds"])
PY
}

# server_saw MARK UP DOWN LENIENT: the server's log after line MARK (ours
# with DEBUG=true: "request: upload U bytes, download D bytes"; rust with
# RUST_LOG=info: "finished run ... to_send: D, to_receive: U") shows the
# sizes, i.e. the server counted the client's upload itself. Rust logs once
# its own half-close is through, which may come just after the client's
# exit. LENIENT (rust client, nothing to download): the rust client exits
# as soon as its upload is flushed, and the kernel may answer the server's
# window updates with a reset that drops the unread tail of the upload
# (upstream's own server sees the same), or its TCP FIN arrives before its
# yamux half-close; then the connection's end is all there is. LENIENT 2
# (the same over quic-v1): that client reports as soon as its upload is in
# its QUIC send buffer and exits without sending it or closing, so the
# server hears nothing more until its idle timeout (rust's own server logs
# no run for it either).
server_saw() {
  local mark=$1 up=$2 down=$3 lenient=$4 new=
  for _ in $(seq 50); do
    new=$(tail -n +"$((mark + 1))" "$WORK/server.err" | grep -E 'perf.*request: upload|finished run|reset by peer|peer closed|peer ended the connection' || true)
    [[ -n $new ]] && break
    sleep 0.1
  done
  if grep -qF -e "request: upload $up bytes, download $down bytes" -e "to_send: $down, to_receive: $up " <<<"$new"; then
    return 0
  fi
  if [[ $lenient != 0 ]] && grep -qE 'reset by peer|peer closed|peer ended the connection' <<<"$new"; then
    echo "(the client's exit ended the connection before the server read its FIN)"
    return 0
  fi
  if [[ $lenient == 2 && -z $new ]]; then
    echo "(the client exited before its upload and close went out; nothing reached the server)"
    return 0
  fi
  echo "server saw: ${new:-nothing}"
  return 1
}

# start_server NAME CMD...: runs it, waits for "listening" on its stderr
start_server() {
  local name=$1; shift
  "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
  SPID=$!
  for _ in $(seq 100); do
    grep -q listening "$WORK/server.err" 2>/dev/null && return 0
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

stop_server() { # NAME WANT_EXIT0
  local name=$1 want0=$2 rc=0
  kill -TERM "$SPID" 2>/dev/null || true
  wait "$SPID" || rc=$?
  SPID=
  if [[ $want0 == 1 && $rc != 0 ]]; then
    fail "$name" "server exited $rc on SIGTERM"
    return 1
  fi
  return 0
}

# DIRECTION:TRANSPORT cases (PERF_CASES overrides)
CASES=(${PERF_CASES:-ours-server:tcp rust-server:tcp ours-server:quic-v1 rust-server:quic-v1})
for c in "${CASES[@]}"; do
  dir=${c%%:*} tr=${c#*:}
  stack=$([[ $tr == tcp ]] && echo tcp/tls/yamux || echo "$tr")
  port=$(free_port)
  rm -f "$WORK"/*
  if [[ $dir == ours-server ]]; then
    name="ours server <- rust client ($stack)"
    start_server "$name" env DEBUG=true "$BIN" perf --run-server --server-address "127.0.0.1:$port" --security tls ||
      { fail "$name" "server did not start"; stop_server "$name" 0; continue; }
  else
    name="rust server <- ours client ($stack)"
    start_server "$name" env RUST_LOG=info "$RUST_PERF_BIN" --run-server --server-address "127.0.0.1:$port" ||
      { fail "$name" "server did not start"; stop_server "$name" 0; continue; }
  fi
  for s in "${SIZES[@]}"; do
    up=${s%:*} down=${s#*:}
    mark=$(wc -l <"$WORK/server.err")
    lenient=$([[ $dir == ours-server && $down == 0 ]] && { [[ $tr == tcp ]] && echo 1 || echo 2; } || echo 0)
    what="$name, $up up / $down down"
    rc=0
    if [[ $dir == ours-server ]]; then
      mid=intermediate
      timeout 60 "$RUST_PERF_BIN" --server-address "127.0.0.1:$port" --transport "$tr" \
        --upload-bytes "$up" --download-bytes "$down" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
    else
      mid=intermediary
      timeout 60 "$BIN" perf --server-address "127.0.0.1:$port" --transport "$tr" --security tls \
        --upload-bytes "$up" --download-bytes "$down" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
    fi
    if [[ $rc != 0 ]]; then
      fail "$what" "client exited $rc"
    elif ! why=$(check_json "$WORK/client.out" "$up" "$down" "$mid" 2>&1); then
      fail "$what" "$why"
    elif ! note=$(server_saw "$mark" "$up" "$down" "$lenient"); then
      fail "$what" "$note"
    elif ! kill -0 "$SPID" 2>/dev/null; then
      fail "$what" "server died"
    else
      pass "$what: $(tail -n 1 "$WORK/client.out")${note:+ $note}"
    fi
  done
  # Ours must exit 0 on SIGTERM; rust's server simply dies by the signal.
  stop_server "$name" "$([[ $dir == ours-server ]] && echo 1 || echo 0)" || true
  [[ ! -s $WORK/server.out ]] || fail "$name" "the server wrote to stdout: $(head -c 200 "$WORK/server.out")"
done

echo "$passed passed, $failed failed"
((failed == 0))
