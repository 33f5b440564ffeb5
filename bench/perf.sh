#!/usr/bin/env bash
# Throughput benchmark (not a test: no thresholds): our perf client and
# server (lp2p-interop perf, the test-plans CLI) over loopback, upload and
# download, tcp/noise/yamux, tcp/noise/mplex, tcp/tls/yamux and quic-v1,
# beside iperf3 over the same loopback in the same run, each run RUNS times
# (best kept, as the machine is shared), printed as Gbps and as the ratio
# ours / iperf3. Then, for each other implementation's perf peer that is
# installed (tests/interop/{rust,go,py,js}-perf/install.sh), over the first
# tcp stack it offers (its lib.sh: rust tcp/tls/yamux, go tcp/tls/yamux, py
# and js tcp/noise/yamux) and over quic-v1 where it offers it at speed (not py's,
# about 2 MB/s): peer client -> our server, our client -> peer server, and
# peer x peer for reference; a peer that is not installed is skipped with
# a note.
#
#   bench/perf.sh [BYTES] [RUNS]     (default 2147483648 bytes, 3 runs)
#   env: LP2P_BIN (default build/lp2p-interop), MUXERS (yamux mplex),
#        PERF_PEERS (default "rust go py js"; RUST_PERF=0 leaves rust out),
#        RUST_PERF_EXE=path: another build of tests/interop/rust-perf (e.g.
#        at opt-level 3), PERF_RECORD=dir: also `perf record -g` each
#        process there
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

source "$ROOT/scripts/lib/procs.sh"
work_dir bench-perf

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

# measure NAME DIR SERVER... -- CLIENT... -> Gbps of the best run (DIR: up |
# down). The server gets --run-server --server-address; the client
# --server-address and the sizes (the test-plans perf CLI, which ours and
# the peers share; the client commands name their transport). A failed
# run: its stderr is shown, the server stopped, and measure returns 1.
measure() {
  local name=$1 dir=$2 port up=0 down=0 out
  shift 2
  local srv=() cli=()
  while [[ $1 != -- ]]; do srv+=("$1"); shift; done
  shift
  cli=("$@")
  [[ $dir == up ]] && up=$BYTES || down=$BYTES
  port=$(free_port)
  (rec "server-$name-$dir" "${srv[@]}" --run-server --server-address "127.0.0.1:$port" \
    2>"$WORK/server.err") &
  local spid=$!
  PIDS+=($spid)
  local res rc=0
  wait_port "$port" || { echo "server did not start" >&2; cat "$WORK/server.err" >&2; kill -TERM $spid 2>/dev/null; return 1; }
  res=$(for _ in $(seq "$RUNS"); do
    out=$( (rec "client-$name-$dir" "${cli[@]}" --server-address "127.0.0.1:$port" \
      --upload-bytes $up --download-bytes $down 2>"$WORK/client.err") | grep '"final"') ||
      { echo "client failed:" >&2; cat "$WORK/client.err" >&2; exit 1; }
    python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print("%.3f" % ((o["uploadBytes"]+o["downloadBytes"])*8/o["timeSeconds"]/1e9))' "$out"
  done | best) || rc=$?
  kill -TERM $spid 2>/dev/null || true
  wait $spid 2>/dev/null || true
  [[ $rc == 0 && -n $res ]] || return 1
  echo "$res"
}

ratio() {
  [[ $1 == failed ]] && { printf -- -; return; }
  awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'
}

# row LABEL NAME SERVER... -- CLIENT...: up and down, printed with ratios;
# a direction whose run failed shows "failed" (its stderr came before).
row() {
  local label=$1 name=$2 up down
  shift 2
  up=$(measure "$name" up "$@") || up=failed
  down=$(measure "$name" down "$@") || down=failed
  printf '%-30s %8s %8s   ratio to iperf3: up %s, down %s\n' "$label" "$up" "$down" \
    "$(ratio "$up" "$IP_UP")" "$(ratio "$down" "$IP_DOWN")"
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
printf '%-30s %8s %8s\n' stack "up Gbps" "down Gbps"
printf '%-30s %8s %8s\n' "iperf3 (tcp)" "$IP_UP" "$IP_DOWN"
for m in $MUXERS; do
  row "tcp/noise/$m" "$m" "$BIN" perf --muxer "$m" -- "$BIN" perf --transport tcp --muxer "$m"
done
row "tcp/tls/yamux" tls "$BIN" perf --security tls -- "$BIN" perf --transport tcp --security tls
# A CLI server told no transport serves tcp and quic-v1 at its port.
row "quic-v1" quic "$BIN" perf -- "$BIN" perf --transport quic-v1

# The other implementations' perf peers, each over the first tcp stack it
# offers. "A -> B": A is the client, B the server; "up" is always the
# client's upload. Each peer's lib.sh (sourced in a subshell, as they share
# names) gives its commands (tests/perf/README.md).
PEERS=${PERF_PEERS:-rust go py js}
[[ ${RUST_PERF:-1} == 0 ]] && PEERS=${PEERS//rust/}
for peer in $PEERS; do
  (
    source "tests/interop/$peer-perf/lib.sh"
    if [[ $peer == rust && -n ${RUST_PERF_EXE:-} ]]; then
      RUST_PERF_BIN=$RUST_PERF_EXE
      PERF_PEER_READY=$RUST_PERF_EXE
    fi
    if [[ ! -e $PERF_PEER_READY ]]; then
      echo "$peer perf rows skipped: peer not installed ($PERF_PEER_INSTALL)"
      exit 0
    fi
    for c in "${PERF_PEER_CASES[@]}"; do
      read -r tr sec mux <<<"$c"
      [[ $tr == tcp ]] && break
    done
    [[ $tr == tcp ]] || { echo "$peer perf rows skipped: no tcp case"; exit 0; }
    stack=$tr/$sec/$mux
    OURS=("$BIN" perf --security "$sec" --muxer "$mux")
    perf_peer_server "$tr" "$sec" "$mux"
    SRV=("${PERF_CMD[@]}")
    perf_peer_client "$tr" "$sec" "$mux"
    CLI=("${PERF_CMD[@]}")
    row "$stack $peer -> ours" "$peer-ours" "${OURS[@]}" -- "${CLI[@]}"
    row "$stack ours -> $peer" "ours-$peer" "${SRV[@]}" -- "${OURS[@]}" --transport tcp
    row "$stack $peer x $peer" "$peer-$peer" "${SRV[@]}" -- "${CLI[@]}"
    # quic-v1, where the peer offers it at speed (perf_peer_sizes asks for
    # small sizes on a slow transport).
    printf '%s\n' "${PERF_PEER_CASES[@]}" | grep -q '^quic-v1 ' || exit 0
    if declare -F perf_peer_sizes >/dev/null && [[ -n $(perf_peer_sizes quic-v1) ]]; then
      echo "$peer quic-v1 rows skipped: too slow for $BYTES bytes"
      exit 0
    fi
    perf_peer_server quic-v1 - -
    SRV=("${PERF_CMD[@]}")
    perf_peer_client quic-v1 - -
    CLI=("${PERF_CMD[@]}")
    row "quic-v1 $peer -> ours" "quic-$peer-ours" "$BIN" perf -- "${CLI[@]}"
    row "quic-v1 ours -> $peer" "quic-ours-$peer" "${SRV[@]}" -- "$BIN" perf --transport quic-v1
    row "quic-v1 $peer x $peer" "quic-$peer-$peer" "${SRV[@]}" -- "${CLI[@]}"
  )
done
