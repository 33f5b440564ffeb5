#!/usr/bin/env bash
# The interop matrix: every supported combination (tcp x noise x muxers) x
# our role (listener, dialer) x peer (ourselves, js-libp2p), RUNS times each.
#   tests/interop/matrix.sh [RUNS]      (default 1)
# Prints a table and writes the results as CSV to $RESULTS (default
# build/interop-matrix.csv): transport,security,muxer,listener,dialer,run,
# result,handshakePlusOneRTTMillis,pingRTTMilllis. Exits non-zero when any
# cell fails. Env: LP2P_BIN, JS_CMD, MUXERS (default "yamux mplex").
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RUNS=${1:-1}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
LP2P_BIN=${LP2P_BIN:-build/lp2p-interop}
JS_CMD=${JS_CMD:-node tests/interop/js/peer.mjs}
MUXERS=${MUXERS:-yamux mplex}
RESULTS=${RESULTS:-build/interop-matrix.csv}
mkdir -p "$(dirname "$RESULTS")"
export PAIR_QUIET=${PAIR_QUIET:-0}

echo "transport,security,muxer,listener,dialer,run,result,handshakePlusOneRTTMillis,pingRTTMilllis" >"$RESULTS"
printf '%-22s %-9s %-9s %-4s %-5s %12s %10s\n' combo listener dialer run result "hs+rtt ms" "ping ms"
pass=0 fail=0
for m in $MUXERS; do
  for our_role in listener dialer; do
    for peer in ours js; do
      peer_cmd=$([[ $peer == js ]] && echo "$JS_CMD" || echo "$LP2P_BIN")
      if [[ $our_role == listener ]]; then l=ours d=$peer lc=$LP2P_BIN dc=$peer_cmd
      else l=$peer d=ours lc=$peer_cmd dc=$LP2P_BIN; fi
      for run in $(seq "$RUNS"); do
        line=$(transport=tcp security=noise muxer=$m tests/interop/run-pair.sh "$lc" "$dc" 2>/dev/null || true)
        hs=$(sed -n 's/.*handshakePlusOneRTTMillis=\([0-9.]*\).*/\1/p' <<<"$line")
        pg=$(sed -n 's/.*pingRTTMilllis=\([0-9.]*\).*/\1/p' <<<"$line")
        if [[ $line == PASS* ]]; then r=pass; pass=$((pass + 1)); else r=fail; fail=$((fail + 1)); fi
        printf '%-22s %-9s %-9s %-4s %-5s %12.3f %10.3f\n' "tcp/noise/$m" "$l" "$d" "$run" "$r" "${hs:-0}" "${pg:-0}"
        echo "tcp,noise,$m,$l,$d,$run,$r,${hs:-},${pg:-}" >>"$RESULTS"
        [[ $r == pass ]] || echo "  $line" >&2
      done
    done
  done
done
echo "matrix: $pass passed, $fail failed (results: $RESULTS)"
[[ $fail -eq 0 ]]
