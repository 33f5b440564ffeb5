#!/usr/bin/env bash
# Throughput and CPU cost per byte (not a test: no thresholds). On a shared
# machine the wall-clock Gbps of bench/perf.sh swings with the other load
# (both our processes wait on the scheduler), while the CPU each process
# spends per GiB hardly moves: this script measures both, iperf3 and our
# perf client and server interleaved round by round, and prints medians,
# then the ceiling ChaCha20-Poly1305 puts on us (bench/PERF-RESULTS.md,
# "where the time goes now", explains the model).
#
#   bench/perf-cpu.sh [BYTES] [ROUNDS]      (default 1073741824 bytes, 5)
#   env: LP2P_BIN (default build/lp2p-interop), LP2P_BIN_B: a second build
#        measured in the same rounds (e.g. the commit before a change),
#        STACKS (default "noise/yamux noise/mplex tls/yamux"),
#        AEAD_BIN (default lp2p-bench-aead beside LP2P_BIN)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BYTES=${1:-1073741824}
ROUNDS=${2:-5}
[[ $BYTES =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [BYTES] [ROUNDS]" >&2; exit 2; }
BIN=${LP2P_BIN:-build/lp2p-interop}
BIN_B=${LP2P_BIN_B:-}
AEAD_BIN=${AEAD_BIN:-$(dirname "$BIN")/lp2p-bench-aead}
STACKS=${STACKS:-noise/yamux noise/mplex tls/yamux}
for b in "$BIN" ${BIN_B:+"$BIN_B"}; do [[ -x $b ]] || { echo "no $b: build first" >&2; exit 2; }; done
command -v iperf3 >/dev/null || { echo "iperf3 not installed" >&2; exit 2; }

source "$ROOT/scripts/lib/procs.sh"
work_dir bench-perf-cpu

wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# timed OUT CMD...: runs CMD in the background of a subshell that writes the
# CPU seconds (user sys) its child used to OUT once it exits; prints the
# child's pid.
timed() {
  local out=$1
  shift
  (
    "$@" &
    echo $! >"$out.pid"
    wait $! || true
    times >"$out.t" # line 2: the children's (a builtin in a pipe would see none)
    mv "$out.t" "$out"
  ) >/dev/null 2>"$out.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [[ -s $out.pid ]] && break; sleep 0.01; done
  cat "$out.pid"
}

# cpu_ms FILE: "user_ms sys_ms" from the children's line of `times`
# ("0m0.312s 0m0.122s")
cpu_ms() {
  awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t[i] = (a[1] * 60 + a[2]) * 1000 } }
       END { printf "%d %d", t[1], t[2] }' "$1"
}

# record STACK BUILD DIR GBPS CLIENT_TIMES SERVER_TIMES: one line of
# runs.txt, CPU as sender and receiver (the client sends on "up")
record() {
  local c s
  c=$(cpu_ms "$5")
  s=$(cpu_ms "$6")
  if [[ $3 == up ]]; then echo "$1 $2 $3 $4 $c $s"; else echo "$1 $2 $3 $4 $s $c"; fi >>"$WORK/runs.txt"
}

# ours BIN LABEL STACK DIR
ours() {
  local bin=$1 label=$2 sec=${3%/*} mux=${3#*/} dir=$4 port up=0 down=0 spid out
  [[ $dir == up ]] && up=$BYTES || down=$BYTES
  port=$(free_port)
  spid=$(timed "$WORK/srv" "$bin" perf --security "$sec" --muxer "$mux" --run-server \
    --server-address "127.0.0.1:$port")
  wait_port "$port" || { echo "server did not start" >&2; cat "$WORK/srv.err" >&2; exit 1; }
  timed "$WORK/cli" sh -c "exec \"\$@\" >'$WORK/cli.out'" sh "$bin" perf --security "$sec" \
    --muxer "$mux" --server-address "127.0.0.1:$port" --transport tcp --upload-bytes $up \
    --download-bytes $down >/dev/null
  while [[ ! -s $WORK/cli ]]; do sleep 0.05; done
  kill -INT "$spid" 2>/dev/null || true
  while [[ ! -s $WORK/srv ]]; do sleep 0.05; done
  out=$(grep '"final"' "$WORK/cli.out") || { echo "client failed" >&2; cat "$WORK/cli.err" >&2; exit 1; }
  record "$3" "$label" "$dir" "$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print("%.3f" % ((o["uploadBytes"]+o["downloadBytes"])*8/o["timeSeconds"]/1e9))' "$out")" \
    "$WORK/cli" "$WORK/srv"
  rm -f "$WORK"/cli* "$WORK"/srv*
}

iperf() {
  local dir=$1 port rev=
  [[ $dir == down ]] && rev=-R
  port=$(free_port)
  timed "$WORK/srv" iperf3 -s -1 -p "$port" >/dev/null
  sleep 0.3 # iperf3 -s -1 serves one connection: no probing it
  timed "$WORK/cli" sh -c "exec iperf3 -c 127.0.0.1 -p $port -n $BYTES $rev -J >'$WORK/cli.out'" >/dev/null
  while [[ ! -s $WORK/cli || ! -s $WORK/srv ]]; do sleep 0.05; done
  record iperf3 - "$dir" "$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print("%.3f" % (o["end"]["sum_received"]["bits_per_second"]/1e9))' "$WORK/cli.out")" \
    "$WORK/cli" "$WORK/srv"
  rm -f "$WORK"/cli* "$WORK"/srv*
}

printf 'bytes per run: %s, rounds: %s (medians), machine: %s cores, load %s\n' \
  "$BYTES" "$ROUNDS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
AEAD_LINE=
if [[ -x $AEAD_BIN ]]; then
  AEAD_LINE=$("$AEAD_BIN" 256)
  echo "$AEAD_LINE"
else
  echo "no $AEAD_BIN: the AEAD ceiling is left out (build lp2p-bench-aead)"
fi
: >"$WORK/runs.txt"
for r in $(seq "$ROUNDS"); do
  for dir in up down; do
    iperf "$dir"
    for st in $STACKS; do
      ours "$BIN" A "$st" "$dir"
      [[ -n $BIN_B ]] && ours "$BIN_B" B "$st" "$dir"
    done
  done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg); A = $BIN${BIN_B:+, B = $BIN_B}"

python3 - "$WORK/runs.txt" "$BYTES" "$AEAD_LINE" <<'PY'
import re, statistics as st, sys, collections
runs, nbytes, aead = sys.argv[1], int(sys.argv[2]), sys.argv[3]
per_gib = 1073741824 / nbytes
rows = collections.defaultdict(list)
for line in open(runs):
    stack, build, d, g, su, ss, ru, rs = line.split()
    rows[(stack, build, d)].append((float(g), *(int(x) * per_gib for x in (su, ss, ru, rs))))
med = lambda v, i: st.median(x[i] for x in v)
print("| stack | build | dir | Gbps median (best) | sender ms/GiB user+sys | receiver ms/GiB user+sys | both |")
print("|---|---|---|---|---|---|---|")
order = lambda k: (k[0] != "iperf3", k[0], k[2] != "up", k[1])
for k in sorted(rows, key=order):
    v = rows[k]
    print("| %s | %s | %s | %.1f (%.1f) | %d + %d | %d + %d | %d |" % (
        k[0], k[1], k[2], med(v, 0), max(x[0] for x in v), med(v, 1), med(v, 2), med(v, 3),
        med(v, 4), st.median(sum(x[1:]) for x in v)))
m = re.search(r"seal_ms_per_gib=(\d+) open_ms_per_gib=(\d+)", aead)
if not m:
    sys.exit(0)
seal, opn = int(m[1]), int(m[2])
print()
# On two cores of its own, a pair of processes moves at most one GiB per
# max(CPU of the busier process) seconds, and at most two GiB per (CPU of
# both): iperf3 is bound by the first (its receiver), we by the second at
# best, since every byte is sealed once and opened once on top of the
# kernel work iperf3 also pays.
stage = lambda v: st.median(max(x[1] + x[2], x[3] + x[4]) for x in v)
gbps = lambda ms: 1073741824 * 8 / (ms / 1000) / 1e9
for d in ("up", "down"):
    ip = rows.get(("iperf3", "-", d))
    if not ip:
        continue
    k, ks = st.median(sum(x[1:]) for x in ip), stage(ip)
    floor = k + seal + opn
    print("%s: iperf3 %d ms CPU per GiB, %d in its busier process (free cores: %.1f Gbps); "
          "+ seal %d + open %d = %d ms for us: at most %.1f Gbps, %.2f of iperf3" % (
              d, k, ks, gbps(ks), seal, opn, floor, 2 * gbps(floor), 2 * gbps(floor) / gbps(ks)))
    for key in sorted(rows):
        if key[0] != "iperf3" and key[2] == d:
            os_ = stage(rows[key])
            print("    %s %s: busier process %d ms per GiB -> %.1f Gbps on free cores, "
                  "%.2f of iperf3" % (key[0], key[1], os_, gbps(os_), ks / os_))
PY
