#!/usr/bin/env bash
# Latency benchmark (not a test: no thresholds) of the transport-interop ping
# exchange on loopback, all measured in one run, the runs interleaved
# (floor, then each of ours, then the baseline, RUNS times) so that load on
# the machine falls on every side alike:
#   floor: build/lp2p-floor, a minimal blocking client and server doing the
#          same real work over tcp/noise/yamux in the fewest round trips
#          (bench/floor.c), a fresh client process per run. It exists for
#          tcp/noise/yamux only: the tls and quic-v1 rows have no floor.
#   ours:  our listener + our fresh dialer (tests/interop/run-pair.sh) over
#          tcp/noise/$muxer, tcp/tls/$muxer and quic-v1
#   baseline (BASELINE=js: js-libp2p both sides; noinline: ours with the
#          muxer negotiated by multistream; none, the default: no baseline)
# and prints the medians and the ours/floor ratios.
#
#   bench/latency.sh [RUNS]     (RUNS default 20)
#
# pingRTT: our dialer times its one ping from the moment the connection is
# secured (Noise message 2 read) to the pong, so it holds the listener's
# completion of the handshake; the floor's "ping" column is timed the same
# way, its "ping2" column is a second ping on the established stream.
# Env: LP2P_BIN (default build/lp2p-interop), FLOOR_BIN, JS_CMD, muxer
# (default yamux), SIDES (default "noise tls quic").
# Fresh machine for BASELINE=js: npm ci --prefix tests/interop/js
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNS=${1:-20}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
LP2P_BIN=${LP2P_BIN:-build/lp2p-interop}
JS_CMD=${JS_CMD:-node tests/interop/js/peer.mjs}
MUXER=${muxer:-yamux}
SIDES=${SIDES:-noise tls quic}
export PAIR_QUIET=${PAIR_QUIET:-1}
PAIR=tests/interop/run-pair.sh
case ${BASELINE:-none} in
  none) BASE_CMD= ;;
  js) BASE_CMD=$JS_CMD
    [[ -d tests/interop/js/node_modules ]] || { echo "js: run 'npm ci --prefix tests/interop/js'" >&2; exit 1; } ;;
  noinline) BASE_CMD="env LP2P_NO_INLINE_MUXER=1 $LP2P_BIN" ;;
  *) echo "BASELINE must be none, js or noinline" >&2; exit 2 ;;
esac
[[ -x $LP2P_BIN ]] || { echo "$LP2P_BIN not found: build it or set LP2P_BIN" >&2; exit 1; }

FLOOR_BIN=${FLOOR_BIN:-$(dirname "$LP2P_BIN")/lp2p-floor}
RES=$(mktemp -d "${TMPDIR:-/tmp}/bench-latency.XXXXXX")
FLOOR_PID=
trap '[[ -n $FLOOR_PID ]] && kill "$FLOOR_PID" 2>/dev/null; rm -rf "$RES"' EXIT

HAVE_FLOOR=0 FLOOR_PORT=
if [[ -x $FLOOR_BIN && $MUXER == yamux ]]; then
  "$FLOOR_BIN" server >"$RES/floor.port" 2>"$RES/floor.err" &
  FLOOR_PID=$!
  for _ in $(seq 50); do [[ -s $RES/floor.port ]] && break; sleep 0.05; done
  FLOOR_PORT=$(head -n1 "$RES/floor.port")
  HAVE_FLOOR=1
fi

floor_once() {
  local out
  if out=$("$FLOOR_BIN" client "$FLOOR_PORT" 2>>"$RES/floor.err"); then
    read -r hs p1 p2 <<<"$out"
    echo "$hs" >>"$RES/floor.hs"; echo "$p1" >>"$RES/floor.ping"; echo "$p2" >>"$RES/floor.ping2"
  else
    echo "  floor run failed" >&2
  fi
}

# pair_once NAME CMD TRANSPORT SECURITY MUXER: one run-pair; samples to $RES/NAME.{hs,ping}
pair_once() {
  local name=${1//\//_} cmd=$2 out
  if out=$(transport=$3 security=$4 muxer=$5 "$PAIR" "$cmd" "$cmd" 2>/dev/null); then
    sed -n 's/.*handshakePlusOneRTTMillis=\([^ ]*\).*/\1/p' <<<"$out" >>"$RES/$name.hs"
    sed -n 's/.*pingRTTMilllis=\([^ ]*\).*/\1/p' <<<"$out" >>"$RES/$name.ping"
  else
    echo "  $name run failed: $out" >&2
  fi
}

echo "bench/latency: $RUNS interleaved runs of: floor, ours ($SIDES)${BASE_CMD:+, ${BASELINE}}; loopback, muxer $MUXER" >&2
for i in $(seq 1 "$RUNS"); do
  [[ $HAVE_FLOOR == 1 ]] && floor_once
  for s in $SIDES; do
    case $s in
      noise) pair_once tcp/noise/$MUXER "$LP2P_BIN" tcp noise "$MUXER" ;;
      tls) pair_once tcp/tls/$MUXER "$LP2P_BIN" tcp tls "$MUXER" ;;
      quic) pair_once quic-v1 "$LP2P_BIN" quic-v1 - - ;;
    esac
  done
  [[ -n $BASE_CMD ]] && pair_once "$BASELINE" "$BASE_CMD" tcp noise "$MUXER"
done

median() { # file -> median or empty
  [[ -s $1 ]] || return 0
  sort -g "$1" | awk '{a[NR]=$1} END { if (NR % 2) printf "%.3f", a[(NR+1)/2]; else printf "%.3f", (a[NR/2]+a[NR/2+1])/2 }'
}
ratio() { awk -v o="$1" -v f="$2" 'BEGIN { if (o == "" || f == "" || f + 0 == 0) print "-"; else printf "%.2f", o / f }'; }
count() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }

F_HS= F_PING=
if [[ $HAVE_FLOOR == 1 ]]; then
  F_HS=$(median "$RES/floor.hs"); F_PING=$(median "$RES/floor.ping")
fi
printf "%-18s %5s %12s %12s %12s %12s\n" side runs "hs+1rtt ms" "hs/floor" "ping ms" "ping/floor"
if [[ $HAVE_FLOOR == 1 ]]; then
  printf '%-18s %5s %12s %12s %12s %12s   (ping2, established stream: %s ms)\n' floor "$(count "$RES/floor.hs")/$RUNS" \
    "$F_HS" 1.00 "$F_PING" 1.00 "$(median "$RES/floor.ping2")"
fi
names=()
for s in $SIDES; do
  case $s in noise) names+=(tcp/noise/$MUXER) ;; tls) names+=(tcp/tls/$MUXER) ;; quic) names+=(quic-v1) ;; esac
done
[[ -n $BASE_CMD ]] && names+=("$BASELINE")
for n in "${names[@]}"; do
  f=${n//\//_}; hs=$(median "$RES/$f.hs"); p=$(median "$RES/$f.ping")
  if [[ $n == tcp/noise/* || $n == "${BASELINE:-}" ]]; then rh=$(ratio "$hs" "$F_HS"); rp=$(ratio "$p" "$F_PING"); else rh="(no floor)"; rp="(no floor)"; fi
  printf '%-18s %5s %12s %12s %12s %12s\n' "$n" "$(count "$RES/$f.hs")/$RUNS" "${hs:--}" "$rh" "${p:--}" "$rp"
done
