#!/usr/bin/env bash
# Latency benchmark (not a test: no thresholds) of the transport-interop ping
# exchange on loopback, tcp/noise/$muxer (default yamux), all measured in one
# run:
#   floor: build/lp2p-floor, a minimal blocking client and server doing the
#          same real work in the fewest round trips (bench/floor.c), a fresh
#          client process per run
#   ours listener + ours dialer   vs   js listener + js dialer
#   (BASELINE=noinline: vs ours without inlined muxer negotiation)
# and prints ours/floor and ours/baseline ratios of the medians.
#
#   bench/latency.sh [RUNS]     (RUNS default 20)
#
# Prints, per side, the median handshakePlusOneRTT and ping RTT over the
# successful runs, and the ratio ours/js, e.g.
#   handshakePlusOneRTT median: ours 1.2 ms, js 8.3 ms, ratio 0.14
# Env: LP2P_BIN (default build/lp2p-interop), JS_CMD (default
# node tests/interop/js/peer.mjs), muxer (default yamux).  If our binary is
# missing only the js side is measured.
# Note: js-libp2p's ping service reports its RTT in whole milliseconds
# (Date.now()), so the js ping median is coarse (often 0-2 ms on loopback).
# Fresh machine: npm ci --prefix tests/interop/js
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNS=${1:-20}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
LP2P_BIN=${LP2P_BIN:-build/lp2p-interop}
JS_CMD=${JS_CMD:-node tests/interop/js/peer.mjs}
export transport=tcp security=noise muxer=${muxer:-yamux}
export PAIR_QUIET=${PAIR_QUIET:-1}
PAIR=tests/interop/run-pair.sh
# The baseline measured in the same run: js-libp2p on both sides, or
# (BASELINE=noinline) our binary negotiating the muxer with multistream
# instead of inside the Noise handshake.
case ${BASELINE:-js} in
  js) BASE_NAME=js BASE_CMD=$JS_CMD ;;
  noinline) BASE_NAME=noinline BASE_CMD="env LP2P_NO_INLINE_MUXER=1 $LP2P_BIN" ;;
  *) echo "BASELINE must be js or noinline" >&2; exit 2 ;;
esac

FLOOR_BIN=${FLOOR_BIN:-$(dirname "$LP2P_BIN")/lp2p-floor}
RES=$(mktemp -d "${TMPDIR:-/tmp}/bench-latency.XXXXXX")
FLOOR_PID=
trap '[[ -n $FLOOR_PID ]] && kill "$FLOOR_PID" 2>/dev/null; rm -rf "$RES"' EXIT

# The floor: one server, a fresh client process per run.
run_floor() {
  : >"$RES/floor.hs"; : >"$RES/floor.ping"
  "$FLOOR_BIN" server >"$RES/floor.port" 2>"$RES/floor.err" &
  FLOOR_PID=$!
  for _ in $(seq 50); do [[ -s $RES/floor.port ]] && break; sleep 0.05; done
  local port out
  port=$(head -n1 "$RES/floor.port")
  for _ in $(seq 1 "$RUNS"); do
    if out=$("$FLOOR_BIN" client "$port" 2>>"$RES/floor.err"); then
      echo "${out% *}" >>"$RES/floor.hs"; echo "${out#* }" >>"$RES/floor.ping"
    fi
  done
  kill "$FLOOR_PID" 2>/dev/null; wait "$FLOOR_PID" 2>/dev/null || true; FLOOR_PID=
  echo "floor: $(wc -l <"$RES/floor.hs")/$RUNS runs ok" >&2
}

# run_side NAME CMD: RUNS pairs with CMD in both roles; samples to $RES/NAME.{hs,ping}
run_side() {
  local name=$1 cmd=$2 ok=0 bad=0 out hs ping
  : >"$RES/$name.hs"; : >"$RES/$name.ping"
  for i in $(seq 1 "$RUNS"); do
    if out=$("$PAIR" "$cmd" "$cmd" 2>/dev/null); then
      hs=$(sed -n 's/.*handshakePlusOneRTTMillis=\([^ ]*\).*/\1/p' <<<"$out")
      ping=$(sed -n 's/.*pingRTTMilllis=\([^ ]*\).*/\1/p' <<<"$out")
      echo "$hs" >>"$RES/$name.hs"; echo "$ping" >>"$RES/$name.ping"
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
      echo "  $name run $i failed: $out" >&2
    fi
  done
  if (( bad > 0 )); then echo "$name: $ok/$RUNS runs ok, $bad failed" >&2
  else echo "$name: $ok/$RUNS runs ok" >&2; fi
}

median() { # file -> median or empty
  sort -g "$1" | awk '{a[NR]=$1} END { if (NR == 0) exit; if (NR % 2) printf "%.3f", a[(NR+1)/2]; else printf "%.3f", (a[NR/2]+a[NR/2+1])/2 }'
}

ratio() { # ours js -> ours/js or n/a
  awk -v o="$1" -v j="$2" 'BEGIN { if (o == "" || j == "" || j + 0 == 0) print "n/a"; else printf "%.2f", o / j }'
}

echo "bench/latency: $RUNS runs per side, loopback $transport/$security/$muxer" >&2
HAVE_OURS=1
if [[ ! -x $LP2P_BIN ]]; then
  HAVE_OURS=0
  echo "ours: $LP2P_BIN not found or not executable -- skipping our side (build it or set LP2P_BIN)" >&2
else
  run_side ours "$LP2P_BIN"
fi
if [[ $BASE_NAME == js && ! -d tests/interop/js/node_modules ]]; then
  echo "js: deps missing -- run 'npm ci --prefix tests/interop/js'" >&2
  exit 1
fi
run_side "$BASE_NAME" "$BASE_CMD"
HAVE_FLOOR=0
if [[ -x $FLOOR_BIN && $transport/$security/$muxer == tcp/noise/yamux ]]; then
  HAVE_FLOOR=1; run_floor
fi

fmt() { [[ -n $1 ]] && echo "$1 ms" || echo "n/a"; }
for metric in hs ping; do
  [[ $metric == hs ]] && label=handshakePlusOneRTT || label="ping RTT"
  js=$(median "$RES/$BASE_NAME.$metric")
  if [[ $HAVE_OURS == 1 ]]; then
    ours=$(median "$RES/ours.$metric")
    echo "$label median: ours $(fmt "$ours"), $BASE_NAME $(fmt "$js"), ratio $(ratio "$ours" "$js")"
    if [[ $HAVE_FLOOR == 1 ]]; then
      fl=$(median "$RES/floor.$metric")
      echo "$label median: ours $(fmt "$ours"), floor $(fmt "$fl"), ratio ours/floor $(ratio "$ours" "$fl")"
    fi
  else
    echo "$label median: ours n/a (binary missing), $BASE_NAME $(fmt "$js"), ratio n/a"
  fi
done
