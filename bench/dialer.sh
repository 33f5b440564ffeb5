#!/usr/bin/env bash
# The cost of one fresh dialer process (not a test: no thresholds): peak RSS
# and wall time from exec to exit, RUNS times against one of our listeners
# on loopback, through a private redis-server as the harness does. The
# listener address is pushed before each dialer starts, so its Redis wait is
# one round trip to a local server (included in the wall time: an upper
# bound of the time without it).
#
#   bench/dialer.sh [RUNS] [BIN]     (RUNS 50, BIN build-release/lp2p-interop)
#   env: transport security muxer (tcp noise yamux)
#
# Prints the medians: wall ms (exec to exit, perf stat), the Redis wait,
# handshakePlusOneRTT, CPU ms, peak RSS KiB (ru_maxrss via /usr/bin/time),
# page faults. Needs perf (linux-perf).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-50}
BIN=${2:-build-release/lp2p-interop}
export transport=${transport:-tcp} security=${security:-noise} muxer=${muxer:-yamux}
[[ -x $BIN ]] || { echo "no $BIN: run scripts/build-release.sh (or pass BIN)" >&2; exit 2; }
source "$ROOT/scripts/lib/procs.sh"
work_dir dialer
start_redis || { echo "redis-server did not answer" >&2; exit 1; }
PORT=$REDIS_PORT
export ip=127.0.0.1 redis_addr=127.0.0.1:$PORT test_timeout_seconds=30
is_dialer=false "$BIN" >"$WORK/listener.out" 2>"$WORK/listener.err" &
PIDS+=($!)
ADDR=
for _ in $(seq 100); do ADDR=$(redis-cli -p "$PORT" lpop listenerAddr); [[ -n $ADDR ]] && break; sleep 0.1; done
[[ -n $ADDR ]] || { echo "listener did not publish" >&2; cat "$WORK/listener.err" >&2; exit 1; }
: >"$WORK/samples"
for _ in $(seq "$RUNS"); do
  redis-cli -p "$PORT" rpush listenerAddr "$ADDR" >/dev/null
  # perf stat: the dialer's wall time exec->exit, CPU time and faults.
  out=$(is_dialer=true perf stat -e task-clock,page-faults -o "$WORK/stat" -- \
    "$BIN" 2>"$WORK/dialer.err") || {
    echo "dialer failed: $(tail -n1 "$WORK/dialer.err")" >&2; continue; }
  # time(1), another fresh dialer: its peak RSS (ru_maxrss).
  redis-cli -p "$PORT" rpush listenerAddr "$ADDR" >/dev/null
  is_dialer=true /usr/bin/time -f '%M' -o "$WORK/time" "$BIN" >/dev/null 2>&1 || true
  hs=$(sed -n 's/.*"handshakePlusOneRTTMillis":\([0-9.]*\).*/\1/p' <<<"$out")
  wall=$(awk '/seconds time elapsed/ { printf "%.3f", $1 * 1000 }' "$WORK/stat")
  cpu=$(awk '/task-clock/ { gsub(",", "", $1); print $1 }' "$WORK/stat")
  faults=$(awk '/page-faults/ { gsub(",", "", $1); print $1 }' "$WORK/stat")
  echo "$wall $hs $(cat "$WORK/time") $faults $cpu" >>"$WORK/samples"
done
med() { sort -g | awk '{a[NR]=$1} END { if (NR == 0) exit; if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/samples" | med; }
echo "dialer $BIN, $transport/$security/$muxer, $(wc -l <"$WORK/samples")/$RUNS runs, medians:"
echo "  wall exec->exit       $(col 1) ms (perf stat; includes the Redis wait)"
echo "  handshakePlusOneRTT   $(col 2) ms"
echo "  cpu (task-clock)      $(col 5) ms"
echo "  peak RSS              $(col 3) KiB"
echo "  page faults           $(col 4)"
