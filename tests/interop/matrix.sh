#!/usr/bin/env bash
# The interop matrix: every dialer x listener among the interop peers
# (tests/interop/<impl>/ with run.sh and combos.txt: ours, js, py, go, rust,
# ...) x every combination in the union of their combos.txt, RUNS times
# each, every run through run-pair.sh (private redis-server on loopback,
# bounded by timeouts). Each peer also runs against itself.
#
#   tests/interop/matrix.sh [RUNS]          (default 1)
#
# Output: a table per transport on stdout (rows dialer -> listener, columns
# combinations; a cell is the median handshake+1RTT ms, FAIL with the first
# error line of the failing side's stderr, '-' where a side does not offer
# the combination, 'n/i' where only ours lacks it), and results.csv,
# results.md (job-summary style) and results.html (self-contained, with a
# latency chart) in $RESULTS_DIR. The last line is
# `N passed, N failed[, N skipped]` (skipped: n/i cells) over the cells that
# judge ours (ours on a side, or a peer against itself; two other
# implementations against each other are shown with their own count). Exit
# status 1 when a counted run failed, 2 on usage or setup errors.
#
# Environment:
#   IMPLS          peers to consider (default: every peer directory found);
#                  a peer named here that is not ready is an error, a
#                  discovered one is skipped with a note
#   DIALERS, LISTENERS   restrict the roles to these peers
#   COMBOS         combination labels or globs, e.g. 'tcp/noise/* quic-v1'
#   JOBS           runs in parallel (default 2)
#   RESULTS_DIR    default build/interop-results
#   MATRIX_INSTALL 1 (default): run each peer's install.sh first (idempotent,
#                  cached); 0: install nothing, take what is ready (the
#                  peer's ready.sh, else an existing cache dir
#                  /var/cache/lp2p-interop/<impl>-<16 hex>/)
#   KEEP_LOGS=1    keep the logs of passing runs too (failing runs always
#                  keep theirs in $RESULTS_DIR/logs/)
#   test_timeout_seconds (default 30 here), PAIR_TIMEOUT: per run bounds
#   LP2P_BIN       our binary (default build/lp2p-interop)
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

# One run of one cell (called in parallel by xargs, see below).
if [[ ${1:-} == __cell ]]; then
  shift
  d=$1 l=$2 t=$3 s=$4 m=$5 run=$6 id=$7
  logdir=$RESULTS_DIR/logs/$id
  lc="tests/interop/peer.sh $l" dc="tests/interop/peer.sh $d"
  if [[ $s == - ]]; then
    # Standalone transports (quic-v1): the harness sets no security/muxer.
    lc="env -u security -u muxer $lc" dc="env -u security -u muxer $dc"
    s_env=noise m_env=yamux
  else
    s_env=$s m_env=$m
  fi
  set +e
  line=$(transport=$t security=$s_env muxer=$m_env PAIR_LOG_DIR=$logdir PAIR_QUIET=1 \
    bash tests/interop/run-pair.sh "$lc" "$dc" 2>/dev/null)
  set -e
  hs='' ping='' reason=''
  if [[ $line == PASS* ]]; then
    res=pass
    hs=$(sed -n 's/.*handshakePlusOneRTTMillis=\([0-9.eE+-]*\).*/\1/p' <<<"$line")
    ping=$(sed -n 's/.*pingRTTMilllis=\([0-9.eE+-]*\).*/\1/p' <<<"$line")
    [[ ${KEEP_LOGS:-0} == 1 ]] || rm -rf "$logdir"
  else
    res=fail
    reason=${line#FAIL *: }
    [[ -n $reason ]] || reason="run-pair.sh gave no result"
  fi
  printf '%s\t' "$d" "$l" "$t" "$s" "$m" "$run" "$res" "$hs" "$ping" "${reason//$'\t'/ }" >"$WORK/rec/$id.tsv"
  printf '%s\n' "$logdir" >>"$WORK/rec/$id.tsv"
  lab=$t; [[ $s == - ]] || lab=$t/$s/$m
  if [[ $res == pass ]]; then
    printf '  %-5s -> %-5s %-20s #%s pass %.1f ms\n' "$d" "$l" "$lab" "$run" "$hs" >&2
  else
    printf '  %-5s -> %-5s %-20s #%s FAIL %s\n' "$d" "$l" "$lab" "$run" "$reason" >&2
  fi
  exit 0
fi

RUNS=${1:-1}
[[ $RUNS =~ ^[1-9][0-9]*$ && $# -le 1 ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
JOBS=${JOBS:-2}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "matrix: JOBS must be a positive integer" >&2; exit 2; }
export RESULTS_DIR=${RESULTS_DIR:-build/interop-results}
[[ $RESULTS_DIR == /* ]] || RESULTS_DIR=$ROOT/$RESULTS_DIR
export test_timeout_seconds=${test_timeout_seconds:-30}
MATRIX_INSTALL=${MATRIX_INSTALL:-1}
CACHE_ROOT=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}
command -v python3 >/dev/null || { echo "matrix: python3 is required" >&2; exit 2; }

mkdir -p "$RESULTS_DIR"
rm -rf "$RESULTS_DIR/logs" "$RESULTS_DIR/.work" "$RESULTS_DIR"/install-*.log \
  "$RESULTS_DIR"/results.{csv,md,html}
export WORK=$RESULTS_DIR/.work
mkdir -p "$WORK/rec" "$RESULTS_DIR/logs"

# Peers: every directory with run.sh and combos.txt, ours first.
found=()
for dir in "$HERE"/*/; do
  n=$(basename "$dir")
  [[ -f $dir/run.sh && -f $dir/combos.txt ]] && found+=("$n")
done
explicit=0
if [[ -n ${IMPLS:-} ]]; then
  explicit=1
  read -r -a want <<<"${IMPLS//,/ }"
else
  want=("${found[@]}")
fi

# Ready = installed (MATRIX_INSTALL=1: its install.sh succeeded) or, with
# MATRIX_INSTALL=0, its ready.sh passes / its cache dir exists.
ready_check() {
  local n=$1 dir=$HERE/$1
  if [[ $MATRIX_INSTALL == 1 && -f $dir/install.sh ]]; then
    echo "matrix: installing $n (log: $RESULTS_DIR/install-$n.log)" >&2
    if bash "$dir/install.sh" >"$RESULTS_DIR/install-$n.log" 2>&1; then return 0; fi
    why="install.sh failed: $(grep -v '^\s*$' "$RESULTS_DIR/install-$n.log" | tail -n 1)"
    return 1
  fi
  if [[ -f $dir/ready.sh ]]; then
    if why=$(bash "$dir/ready.sh" 2>&1 >/dev/null); then return 0; fi
    why="not ready: $(tail -n 1 <<<"$why")"
    return 1
  fi
  # The contract's cache entry: <impl>-<16 hex>, not e.g. go-modcache.
  local c
  for c in "$CACHE_ROOT/$n"-*; do
    [[ -d $c && ${c##*/} =~ ^$n-[0-9a-f]{16}$ ]] && return 0
  done
  why="not installed (no $CACHE_ROOT/$n-<key>/; run tests/interop/$n/install.sh)"
  return 1
}

: >"$WORK/peers.tsv"
bad=0 nready=0
for n in "${want[@]}"; do
  why=''
  if [[ ! -f $HERE/$n/run.sh || ! -f $HERE/$n/combos.txt ]]; then
    why="no tests/interop/$n/run.sh and combos.txt"
    st=skipped
  elif ready_check "$n"; then
    st=ready; nready=$((nready + 1))
  else
    st=skipped
  fi
  printf '%s\t%s\t%s\n' "$n" "$st" "$why" >>"$WORK/peers.tsv"
  if [[ $st != ready ]]; then
    echo "matrix: peer $n skipped: $why" >&2
    [[ $explicit == 1 ]] && bad=1
  fi
done
if [[ $bad == 1 ]]; then echo "matrix: a peer named in IMPLS is not ready" >&2; exit 2; fi
if [[ $nready == 0 ]]; then echo "matrix: no interop peer is ready" >&2; exit 2; fi

python3 "$HERE/results/matrix.py" plan "$WORK"

# The runs: each cell RUNS times, in order, JOBS at a time.
: >"$WORK/tasks"
i=0
while IFS=$'\t' read -r d l t s m st; do
  [[ $st == run ]] || continue
  for run in $(seq "$RUNS"); do
    i=$((i + 1))
    lab=$t; [[ $s == - ]] || lab=$t-$s-$m
    printf '%s %s %s %s %s %s %s\n' "$d" "$l" "$t" "$s" "$m" "$run" \
      "$(printf '%04d' "$i")-$d-$l-$lab-$run" >>"$WORK/tasks"
  done
done <"$WORK/plan.tsv"
echo "matrix: $i run(s), $JOBS at a time, peers: $(awk -F'\t' '$2=="ready"{printf "%s ", $1}' "$WORK/peers.tsv")" >&2
if [[ $i -gt 0 ]]; then
  xargs -P "$JOBS" -L 1 bash "$HERE/matrix.sh" __cell <"$WORK/tasks"
fi

set +e
python3 "$HERE/results/matrix.py" render "$WORK" "$RESULTS_DIR" "$RUNS"
rc=$?
set -e
exit $rc
