#!/usr/bin/env bash
# js-libp2p identifies our listener: starts a private redis-server on a free
# loopback port and our listener, takes the address it publishes, and runs
# tests/interop/js/identify.mjs against it for each muxer.
#   tests/interop/identify.sh        (LP2P_BIN, MUXERS="yamux mplex")
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
LP2P_BIN=${LP2P_BIN:-build/lp2p-interop}
MUXERS=${MUXERS:-yamux mplex}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/identify.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REDIS_BIN=$(command -v redis-server || echo /usr/bin/redis-server)
"$REDIS_BIN" --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

status=0
for m in $MUXERS; do
  transport=tcp security=noise muxer=$m is_dialer=false ip=127.0.0.1 \
    redis_addr=127.0.0.1:$port test_timeout_seconds=60 \
    timeout 70 "$LP2P_BIN" 2>"$WORK/listener-$m.err" &
  lpid=$!
  pids+=($lpid)
  addr=$(redis-cli -p "$port" BLPOP listenerAddr 20 | tail -n 1)
  if [[ -z $addr ]]; then
    echo "FAIL identify/$m: the listener published nothing"; status=1; continue
  fi
  if out=$(timeout 60 node tests/interop/js/identify.mjs "$addr" "$m" 2>"$WORK/js-$m.err"); then
    echo "$out [$m]"
  else
    echo "FAIL identify/$m"; tail -n 20 "$WORK/js-$m.err" "$WORK/listener-$m.err" >&2; status=1
  fi
  kill "$lpid" 2>/dev/null || true
done
exit $status
