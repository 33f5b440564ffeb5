#!/usr/bin/env bash
# Every combination in combos.txt between two peers through run-pair.sh:
#
#   tests/interop/go/matrix.sh [RUNS] [LISTENER_CMD] [DIALER_CMD]
#
# RUNS per combination (default 1); both commands default to the go peer.
# Prints run-pair's PASS/FAIL lines and a summary; non-zero if any failed.
# PAIR_LOG_DIR=dir keeps each run's logs in dir/<transport>-<security>-<n>.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNS=${1:-1}
L=${2:-tests/interop/go/run.sh}
D=${3:-tests/interop/go/run.sh}
LOGS=${PAIR_LOG_DIR:-}
pass=0 fail=0
while read -r t s m; do
  [[ -z $t || $t == \#* ]] && continue
  [[ $s == - ]] && s=
  [[ $m == - ]] && m=
  for ((i = 1; i <= RUNS; i++)); do
    if [[ -n $LOGS ]]; then export PAIR_LOG_DIR=$LOGS/$t-${s:-none}-$i; fi
    if transport=$t security=$s muxer=$m "$HERE/../run-pair.sh" "$L" "$D"; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1))
    fi
  done
done <"$HERE/combos.txt"
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
