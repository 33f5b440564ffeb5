#!/usr/bin/env bash
# Interop against real js-libp2p 3 (tests/interop/js/peer.mjs) in both roles:
#
#   tests/interop/run-js.sh [RUNS]        (RUNS default 1)
#
# For each muxer in $MUXERS (default "yamux"; js also does "mplex") it runs,
# RUNS times each, over tcp/noise:
#   js listener   vs ours dialer   ($LP2P_BIN, default build/lp2p-interop)
#   ours listener vs js dialer
# and prints a summary; exit status is non-zero if any run failed.
#
# Overrides:
#   LP2P_BIN   our binary (path relative to the repo root or absolute)
#   JS_CMD     js peer command (default: node tests/interop/js/peer.mjs)
#   OURS_CMD   our peer command (default: $LP2P_BIN); set OURS_CMD="$JS_CMD"
#              to check the harness itself with js on both sides
#   MUXERS     space-separated muxers (default: yamux)
# Anything run-pair.sh reads (test_timeout_seconds, PAIR_TIMEOUT,
# PAIR_LOG_DIR, PAIR_QUIET) is passed through.
#
# Fresh machine: npm ci --prefix tests/interop/js
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

RUNS=${1:-1}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
MUXERS=${MUXERS:-yamux}
LP2P_BIN=${LP2P_BIN:-build/lp2p-interop}
JS_CMD=${JS_CMD:-node tests/interop/js/peer.mjs}
OURS_CMD=${OURS_CMD:-$LP2P_BIN}
PAIR="$ROOT/tests/interop/run-pair.sh"

if [[ ! -d tests/interop/js/node_modules ]]; then
  echo "js deps missing: run 'npm ci --prefix tests/interop/js'" >&2
  exit 1
fi
if [[ -z ${OURS_CMD// /} ]]; then echo "OURS_CMD is empty" >&2; exit 1; fi
ours_exe=${OURS_CMD%% *}
if [[ $ours_exe == */* && ! -x $ours_exe ]]; then
  echo "our binary '$ours_exe' not found or not executable (build it, or set LP2P_BIN)" >&2
  exit 1
fi

export transport=tcp security=noise
pass=0; failn=0
declare -a failures=()
for m in $MUXERS; do
  for dir in js-listener ours-listener; do
    if [[ $dir == js-listener ]]; then L=$JS_CMD; D=$OURS_CMD; name="js listener -> ours dialer"
    else L=$OURS_CMD; D=$JS_CMD; name="ours listener -> js dialer"; fi
    for i in $(seq 1 "$RUNS"); do
      printf '[%s %s #%d] ' "$m" "$name" "$i"
      if out=$(muxer=$m "$PAIR" "$L" "$D"); then
        echo "$out"; pass=$((pass + 1))
      else
        echo "$out"; failn=$((failn + 1)); failures+=("$m: $name #$i")
      fi
    done
  done
done

echo "== run-js summary: $pass passed, $failn failed (muxers: $MUXERS; runs per direction: $RUNS)"
if (( failn > 0 )); then
  printf '   failed: %s\n' "${failures[@]}"
  echo "FAIL"
  exit 1
fi
echo "PASS"
