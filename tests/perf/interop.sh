#!/usr/bin/env bash
# /perf/1.0.0 against another implementation's perf peer, both ways, small
# transfers, for every case ("transport security muxer") the peer offers:
#   ours server  <- PEER client
#   PEER server  <- ours client
# for a few size pairs (both ways, upload only, download only). Each
# client's JSON lines are checked: every line an object with exactly type,
# timeSeconds, uploadBytes, downloadBytes; the last one "final" with the
# sizes asked for. The server must still be up afterwards and exit 0 on
# SIGTERM (where the peer's does); each server's log must show the sizes it
# saw. Ends with "N passed, M failed"; exit 1 if any failed, 77 (ctest
# SKIP_RETURN_CODE) when the peer is not installed.
#
#   tests/perf/interop.sh BIN [PEER]     PEER: rust (default), go, py, js
#   env: PERF_SIZES="UP:DOWN ..." (default 1048576:1048576 3000000:0
#        0:2000000 100000000:100000000; the last runs a second or more, so
#        that progress lines are usually printed and checked too)
#
# Each peer's tests/interop/<PEER>-perf/lib.sh says what it offers and how
# to run it (the PERF_PEER_* interface, tests/perf/README.md), its quirks
# included (and, optionally, smaller default sizes for a slow transport).
# Cases on a transport our perf CLI does not take yet are listed
# as SKIP, not run.
set -euo pipefail
BIN=$(realpath "${1:?usage: $0 BIN [rust|go|py|js]}")
PEER=${2:-rust}
HERE=$(cd "$(dirname "$0")" && pwd)
case $PEER in
  rust | go | py | js) source "$HERE/../interop/$PEER-perf/lib.sh" ;;
  *) echo "$0: unknown peer '$PEER' (rust, go, py or js)" >&2; exit 2 ;;
esac
if [[ ! -e $PERF_PEER_READY ]]; then
  echo "SKIP: $PEER perf peer not installed ($PERF_PEER_READY; run $PERF_PEER_INSTALL)"
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

passed=0 failed=0 skipped=0 xfailed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1: $2"
  local f
  for f in "$WORK"/*.out "$WORK"/*.err; do
    [[ -s $f ]] && { echo "--- ${f##*/}"; tail -n 15 "$f"; }
  done
  failed=$((failed + 1))
}

# A run the peer's lib.sh declares a known failure (perf_peer_xfail, its
# reason in XFAIL) is reported as XFAIL with the client's last stderr line
# instead of failing; with the server dead it is a failure all the same.
fail_or_xfail() {
  if [[ -n $XFAIL ]] && kill -0 "$SPID" 2>/dev/null; then
    echo "XFAIL $1: $2 ($(tail -n 1 "$WORK/client.err")); known: $XFAIL"
    xfailed=$((xfailed + 1))
  else
    fail "$1" "$2"
  fi
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

# server_saw DIR MARK UP DOWN LENIENT: the server's log after line MARK
# shows the sizes, i.e. the server counted the client's upload itself
# (ours with DEBUG=true: "request: upload U bytes, download D bytes"; the
# peer's line comes from perf_peer_server_saw). A server may log once its
# own half-close is through, which may come just after the client's exit.
# LENIENT (a known quirk of the peer's client, from perf_peer_lenient in
# its lib.sh): 1, the end of the connection is all the server saw; 2, the
# client exited before its upload and close went out, so the server may
# have seen nothing at all (it hears of it at its idle timeout), or only
# the peer's close; 3, the
# peer's server may count less than UP (its stream ended early at its end),
# which its perf_peer_short_ok UP DOWN LINES judges.
END_WORDS='reset by peer|peer closed|peer ended the connection'
server_saw() {
  local dir=$1 mark=$2 up=$3 down=$4 lenient=$5 new= want
  if [[ $dir == ours-server ]]; then
    want="request: upload $up bytes, download $down bytes"
  else
    want=$(perf_peer_server_saw "$up" "$down")
  fi
  for _ in $(seq 50); do
    new=$(tail -n +"$((mark + 1))" "$WORK/server.err" |
      grep -E "perf.*request: upload|finished run|perf: served|perf: stream reset|perf: reading|$END_WORDS" || true)
    [[ -n $new ]] && break
    sleep 0.1
  done
  grep -qF -e "$want" <<<"$new" && return 0
  if [[ $lenient == 1 || $lenient == 2 ]] && grep -qE "$END_WORDS" <<<"$new"; then
    echo "(the client's exit ended the connection before the server read its FIN)"
    return 0
  fi
  if [[ $lenient == 3 ]] && note=$(perf_peer_short_ok "$up" "$down" "$new"); then
    echo "($note)"
    return 0
  fi
  if [[ $lenient == 2 && -z $new ]]; then
    echo "(the client exited before its upload and close went out; nothing reached the server)"
    return 0
  fi
  echo "server saw: ${new:-nothing}"
  return 1
}

# start_server CMD...: runs it, waits for "listening" on its stderr
start_server() {
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

# Our perf CLI's options for a case: --security and --muxer unless the
# transport brings its own ("-").
ours_opts() {
  OURS=(--transport "$1")
  [[ $2 == - ]] || OURS+=(--security "$2")
  [[ $3 == - ]] || OURS+=(--muxer "$3")
}

# Whether our perf CLI takes a transport: it refuses an unknown one at once
# with "--transport (supported: ...): bad value". The bad --muxer makes it
# stop right after (it checks the transport first), else the timeout does.
ours_takes() {
  [[ $1 == tcp ]] && return 0
  local e
  e=$(timeout 5 "$BIN" perf --server-address 127.0.0.1:9 --transport "$1" --muxer probe \
    --upload-bytes 0 --download-bytes 0 2>&1 >/dev/null) || true
  ! grep -q -- '--transport.*bad value' <<<"$e"
}

for c in "${PERF_PEER_CASES[@]}"; do
  read -r tr sec mux <<<"$c"
  stack="$tr/$sec/$mux"
  if ! ours_takes "$tr"; then
    echo "SKIP $PEER $stack: our perf CLI does not take --transport $tr yet"
    skipped=$((skipped + 1))
    continue
  fi
  ours_opts "$tr" "$sec" "$mux"
  # A peer may ask for smaller default sizes on a slow transport.
  case_sizes=("${SIZES[@]}")
  if [[ -z ${PERF_SIZES:-} ]] && declare -F perf_peer_sizes >/dev/null; then
    s=$(perf_peer_sizes "$tr")
    [[ -z $s ]] || read -r -a case_sizes <<<"$s"
  fi
  for dir in ours-server peer-server; do
    port=$(free_port)
    rm -f "$WORK"/*
    if [[ $dir == ours-server ]]; then
      name="ours server <- $PEER client ($stack)"
      start_server env DEBUG=true "$BIN" perf --run-server --server-address "127.0.0.1:$port" "${OURS[@]}" ||
        { fail "$name" "server did not start"; stop_server "$name" 0; continue; }
    else
      name="$PEER server <- ours client ($stack)"
      perf_peer_server "$tr" "$sec" "$mux"
      start_server "${PERF_CMD[@]}" --run-server --server-address "127.0.0.1:$port" ||
        { fail "$name" "server did not start"; stop_server "$name" 0; continue; }
    fi
    for s in "${case_sizes[@]}"; do
      up=${s%:*} down=${s#*:}
      mark=$(wc -l <"$WORK/server.err")
      lenient=$(perf_peer_lenient "$dir" "$tr" "$up" "$down")
      XFAIL=
      ! declare -F perf_peer_xfail >/dev/null || XFAIL=$(perf_peer_xfail "$dir" "$tr" "$up" "$down")
      what="$name, $up up / $down down"
      rc=0
      if [[ $dir == ours-server ]]; then
        mid=$PERF_PEER_MID
        perf_peer_client "$tr" "$sec" "$mux"
      else
        mid=intermediary
        PERF_CMD=("$BIN" perf "${OURS[@]}")
      fi
      timeout 60 "${PERF_CMD[@]}" --server-address "127.0.0.1:$port" \
        --upload-bytes "$up" --download-bytes "$down" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
      if [[ $rc != 0 ]]; then
        fail_or_xfail "$what" "client exited $rc"
      elif ! why=$(check_json "$WORK/client.out" "$up" "$down" "$mid" 2>&1); then
        fail_or_xfail "$what" "$why"
      elif ! note=$(server_saw "$dir" "$mark" "$up" "$down" "$lenient"); then
        fail_or_xfail "$what" "$note"
      elif ! kill -0 "$SPID" 2>/dev/null; then
        fail "$what" "server died"
      else
        pass "$what: $(tail -n 1 "$WORK/client.out")${note:+ $note}${XFAIL:+ (passed, though known to fail: $XFAIL)}"
      fi
    done
    want0=1
    [[ $dir == peer-server ]] && want0=$PERF_PEER_SIGTERM0
    stop_server "$name" "$want0" || true
    [[ ! -s $WORK/server.out ]] || fail "$name" "the server wrote to stdout: $(head -c 200 "$WORK/server.out")"
  done
done

echo "$passed passed, $failed failed${skipped:+, $skipped cases skipped}$( ((xfailed == 0)) || echo ", $xfailed known failures (XFAIL)")"
((failed == 0))
