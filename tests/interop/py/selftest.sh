#!/usr/bin/env bash
# py against itself through run-pair.sh, for every line of combos.txt.
#
#   tests/interop/py/selftest.sh [RUNS]        # RUNS per combination, default 1
#   OTHER='build/lp2p-interop' ROLE=dialer tests/interop/py/selftest.sh 3
#
# OTHER replaces one side (ROLE says which side py plays: listener|dialer);
# COMBOS='tcp noise yamux;tcp noise mplex' limits the combinations.
# Prints run-pair's PASS/FAIL lines and a summary; exits 1 if any run failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
RUNS=${1:-1}
PY=tests/interop/py/run.sh
LISTENER=$PY DIALER=$PY
if [[ -n ${OTHER:-} ]]; then
  case ${ROLE:-listener} in
    listener) DIALER=$OTHER ;;
    dialer) LISTENER=$OTHER ;;
    *) echo "ROLE must be listener or dialer" >&2; exit 2 ;;
  esac
fi
if [[ -n ${COMBOS:-} ]]; then
  LINES=$(tr ';' '\n' <<<"$COMBOS")
else
  LINES=$(grep -v '^\s*#' "$HERE/combos.txt" | grep -v '^\s*$')
fi
pass=0 fail=0
while read -r t s m; do
  [[ -z $t ]] && continue
  for ((i = 1; i <= RUNS; i++)); do
    if [[ $s == - ]]; then
      line=$(cd "$ROOT" && env -u security -u muxer transport=$t security=- muxer=- \
        tests/interop/run-pair.sh "$LISTENER" "$DIALER" </dev/null)
    else
      line=$(cd "$ROOT" && transport=$t security=$s muxer=$m \
        tests/interop/run-pair.sh "$LISTENER" "$DIALER" </dev/null)
    fi
    echo "$line"
    [[ $line == PASS* ]] && pass=$((pass + 1)) || fail=$((fail + 1))
  done
done <<<"$LINES"
echo "selftest: $pass passed, $fail failed"
[[ $fail == 0 ]]
