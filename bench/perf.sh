#!/usr/bin/env bash
# Throughput benchmark (not a test: no thresholds): our perf client and
# server (lp2p-interop perf, the test-plans CLI) over loopback, upload and
# download, tcp/noise/yamux and tcp/noise/mplex, beside iperf3 over the same
# loopback in the same run, each run RUNS times (best kept, as the machine
# is shared), printed as Gbps and as the ratio ours / iperf3.
#
#   bench/perf.sh [BYTES] [RUNS]     (default 2147483648 bytes, 3 runs)
#   env: LP2P_BIN (default build/lp2p-interop), MUXERS (yamux mplex),
#        PERF_RECORD=dir: also `perf record -g` each of our processes there
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BYTES=${1:-2147483648}
RUNS=${2:-3}
[[ $BYTES =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [BYTES] [RUNS]" >&2; exit 2; }
BIN=${LP2P_BIN:-build/lp2p-interop}
[[ -x $BIN ]] || { echo "no $BIN: build first" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "iperf3 not installed" >&2; exit 2; }
MUXERS=${MUXERS:-yamux mplex}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-perf.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
best() { sort -g | tail -n 1; }

rec() { # NAME CMD...: execs CMD, under perf record when PERF_RECORD is set
  local name=$1; shift
  if [[ -n ${PERF_RECORD:-} ]]; then
    mkdir -p "$PERF_RECORD"
    exec perf record -q -g -o "$PERF_RECORD/$name.data" -- "$@"
  fi
  exec "$@"
}

# ours MUXER DIR -> Gbps of the best run (DIR: up | down)
ours() {
  local mux=$1 dir=$2 port up=0 down=0 out
  [[ $dir == up ]] && up=$BYTES || down=$BYTES
  port=$(free_port)
  (rec "server-$mux-$dir" "$BIN" perf --run-server --server-address "127.0.0.1:$port" --muxer "$mux" \
    2>"$WORK/server.err") &
  local spid=$!
  PIDS+=($spid)
  wait_port "$port" || { echo "server did not start" >&2; cat "$WORK/server.err" >&2; exit 1; }
  for _ in $(seq "$RUNS"); do
    out=$( (rec "client-$mux-$dir" "$BIN" perf --server-address "127.0.0.1:$port" --transport tcp \
      --muxer "$mux" --upload-bytes $up --download-bytes $down 2>"$WORK/client.err") | grep '"final"') ||
      { echo "client failed:" >&2; cat "$WORK/client.err" >&2; exit 1; }
    python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print("%.3f" % ((o["uploadBytes"]+o["downloadBytes"])*8/o["timeSeconds"]/1e9))' "$out"
  done | best
  kill -TERM $spid 2>/dev/null || true
  wait $spid 2>/dev/null || true
}

# iperf DIR -> Gbps of the best run, same bytes, one stream
iperf() {
  local dir=$1 port rev=
  [[ $dir == down ]] && rev=-R
  port=$(free_port)
  iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
  local spid=$!
  PIDS+=($spid)
  for _ in $(seq "$RUNS"); do
    sleep 0.3 # iperf3 -s -1 serves one connection: no probing it
    iperf3 -c 127.0.0.1 -p "$port" -n "$BYTES" $rev -J 2>/dev/null |
      python3 -c 'import json,sys; o=json.load(sys.stdin); print("%.3f" % (o["end"]["sum_received"]["bits_per_second"]/1e9))'
    wait $spid 2>/dev/null || true
    iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
    spid=$!
    PIDS+=($spid)
  done | best
  kill $spid 2>/dev/null || true
}

printf 'bytes per run: %s, runs: %s (best of), machine: %s cores, load %s\n' \
  "$BYTES" "$RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
IP_UP=$(iperf up)
IP_DOWN=$(iperf down)
printf '%-22s %8s %8s\n' stack "up Gbps" "down Gbps"
printf '%-22s %8s %8s\n' "iperf3 (tcp)" "$IP_UP" "$IP_DOWN"
for m in $MUXERS; do
  up=$(ours "$m" up)
  down=$(ours "$m" down)
  printf '%-22s %8s %8s   ratio to iperf3: up %s, down %s\n' "tcp/noise/$m" "$up" "$down" \
    "$(awk -v a="$up" -v b="$IP_UP" 'BEGIN{printf "%.2f", a/b}')" \
    "$(awk -v a="$down" -v b="$IP_DOWN" 'BEGIN{printf "%.2f", a/b}')"
done
