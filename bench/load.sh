#!/usr/bin/env bash
# Load benchmark: one real listener process (our binary, published through
# a private redis-server as run-pair.sh does) and lp2p-load's in-process
# dialers against it: SEQ sequential and CONC concurrent connections per
# round, each handshaking and pinging, with the listener's VmRSS/VmHWM after
# each phase. Exit non-zero when any connection failed.
#
#   bench/load.sh [BUILD_DIR]        (default: build)
#   env: SEQ (1000) CONC (200) CONC_TOTAL (3000: connections per concurrent
#        phase, CONC always in flight) ROUNDS (3) muxer (yamux) security (noise)
#        LISTENER_ADDR (skip the local listener and load this address instead)
#        GOAL (3000: handshakes+pings/s the concurrent phases should reach)
# Ends with a summary: the concurrent rate and its ratio to GOAL, the
# listener's RSS after each round (flat means no growth with the count) and
# the CPU seconds the listener and the generator each used (they share the
# machine's cores).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=$BUILD/lp2p-interop
LOAD=$BUILD/lp2p-load
SEQ=${SEQ:-1000} CONC=${CONC:-200} CONC_TOTAL=${CONC_TOTAL:-3000} ROUNDS=${ROUNDS:-3}
GOAL=${GOAL:-3000}
export muxer=${muxer:-yamux} security=${security:-noise}
[[ -x $LOAD ]] || { echo "no $LOAD: build first" >&2; exit 2; }

if [[ -n ${LISTENER_ADDR:-} ]]; then
  exec "$LOAD" --seq "$SEQ" --conc "$CONC" --conc-total "$CONC_TOTAL" --rounds "$ROUNDS" --muxer "$muxer" \
    --security "$security" "$LISTENER_ADDR"
fi

source "$ROOT/scripts/lib/procs.sh"
work_dir load

start_redis || { echo "redis-server did not answer" >&2; exit 1; }
PORT=$REDIS_PORT

transport=tcp is_dialer=false ip=127.0.0.1 redis_addr=127.0.0.1:$PORT \
  test_timeout_seconds=3600 "$BIN" >"$WORK/listener.out" 2>"$WORK/listener.err" &
LPID=$!
PIDS+=($LPID)
ADDR=
for _ in $(seq 100); do ADDR=$(redis-cli -p "$PORT" lpop listenerAddr); [[ -n $ADDR ]] && break; sleep 0.1; done
[[ -n $ADDR ]] || { echo "listener did not publish" >&2; cat "$WORK/listener.err" >&2; exit 1; }

cpu_s() { # pid -> utime+stime in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
L_CPU0=$(cpu_s "$LPID")
set +e
/usr/bin/time -f '%U %S' -o "$WORK/gen.time" \
  "$LOAD" --pid "$LPID" --seq "$SEQ" --conc "$CONC" --conc-total "$CONC_TOTAL" --rounds "$ROUNDS" --muxer "$muxer" \
  --security "$security" "$ADDR" | tee "$WORK/load.out"
RC=${PIPESTATUS[0]}
set -e
if kill -0 "$LPID" 2>/dev/null; then
  L_CPU=$(awk -v a="$(cpu_s "$LPID")" -v b="$L_CPU0" 'BEGIN { printf "%.2f", a - b }')
  RATE=$(sed -n 's/^concurrent rate: \([0-9]*\).*/\1/p' "$WORK/load.out")
  echo "==== summary (tcp/$security/$muxer, $CONC concurrent dialers, $ROUNDS rounds)"
  echo "listener rate: ${RATE:-?} handshakes+pings/s; goal $GOAL; ratio $(awk -v r="${RATE:-0}" -v g="$GOAL" 'BEGIN { printf "%.2f", r / g }')"
  echo "failures: $(sed -n 's/^total: .* \([0-9]*\) failed/\1/p' "$WORK/load.out")"
  echo "listener VmRSS after each concurrent round (KiB): $(awk '/after round .* concurrent/ { printf "%s ", $(NF-4) }' "$WORK/load.out")"
  TOTAL=$(sed -n 's/^total: \([0-9]*\) ok.*/\1/p' "$WORK/load.out")
  echo "cpu seconds: listener $L_CPU, generator $(awk '{ printf "%.2f", $1 + $2 }' "$WORK/gen.time") (user+sys)"
  # The rate above depends on what else runs on the machine; the
  # listener's own CPU per connection does not: its rate on one free core.
  awk -v c="$L_CPU" -v n="${TOTAL:-0}" -v g="$GOAL" 'BEGIN { if (n > 0 && c > 0)
    printf "listener cpu per connection: %.0f us, i.e. %.0f handshakes+pings/s on one free core (%.2f of goal)\n",
      c * 1e6 / n, n / c, n / c / g }'
fi
kill -0 "$LPID" 2>/dev/null || { echo "the listener died" >&2; RC=1; }
if [[ $RC != 0 ]]; then echo "--- listener stderr (tail)"; tail -n 20 "$WORK/listener.err"; fi
exit $RC
