#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz, one after the other.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Configures a clang build with -DLP2P_FUZZ=ON in build-fuzz/ (override
# with LP2P_FUZZ_BUILD), builds the targets asked for (all by default) and
# runs each for SECONDS_PER_TARGET (default 60) on a scratch copy of its
# committed corpus tests/fuzz/corpus/<name>, so the committed corpus stays
# as it is. One process at a time, under nice.
#
# Environment:
#   LP2P_FUZZ_MERGE=1   afterwards, merge inputs that add edge coverage into
#                       the committed corpus (libFuzzer -merge=1), as long as
#                       it stays within LP2P_FUZZ_MAX_CORPUS files (default
#                       100)
#   LP2P_FUZZ_ARGS      extra libFuzzer flags, e.g. "-max_len=8192"
#   LP2P_FUZZ_WORK      scratch directory (default build-fuzz/fuzz-work)
#
# Prints one summary line per target (seconds, execs, corpus size) and
# exits 1 when any target found something (crash, leak, timeout, OOM),
# naming the file that reproduces it:
#   build-fuzz/fuzz_<name> FILE        (or fuzz_replay_<name> FILE)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
all_targets=(conn noise_handshake yamux mplex multistream noise_transport
             keys multiaddr varint tls_cert tls plaintext ws_http ws quic perf der)

secs=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
case $secs in
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS_PER_TARGET must be a number" >&2; exit 2 ;;
esac
for t in "${targets[@]}"; do
  if [ ! -f "$root/tests/fuzz/fuzz_$t.c" ]; then
    echo "fuzz.sh: no target '$t' (have: ${all_targets[*]})" >&2
    exit 2
  fi
done

build=${LP2P_FUZZ_BUILD:-$root/build-fuzz}
work=${LP2P_FUZZ_WORK:-$build/fuzz-work}
max_corpus=${LP2P_FUZZ_MAX_CORPUS:-100}
cc=${CC:-clang}

echo "fuzz.sh: configuring $build ($cc, LP2P_FUZZ=ON)"
mkdir -p "$build"
CC=$cc cmake -S "$root" -B "$build" -DLP2P_FUZZ=ON -DLP2P_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/fuzz-configure.log" 2>&1 || {
  cat "$build/fuzz-configure.log" >&2
  exit 2
}
bins=()
for t in "${targets[@]}"; do bins+=("fuzz_$t"); done
nice -n 10 cmake --build "$build" -j1 --target "${bins[@]}" >"$build/fuzz-build.log" 2>&1 || {
  tail -50 "$build/fuzz-build.log" >&2
  exit 2
}

findings=0
summary="$work/summary.txt"
mkdir -p "$work"
: >"$summary"
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/tests/fuzz/corpus/$t/"* "$dir/corpus/" 2>/dev/null || true
  dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  log="$dir/fuzz.log"
  echo "fuzz.sh: $t for ${secs}s (log: $log)"
  set +e
  # shellcheck disable=SC2086
  nice -n 10 "$build/fuzz_$t" -max_total_time="$secs" -timeout=30 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "${dict[@]}" ${LP2P_FUZZ_ARGS:-} \
    "$dir/corpus" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  ran=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  files=$(find "$dir/corpus" -type f | wc -l)
  found=$(find "$dir/artifacts" -type f | sort)
  status=ok
  if [ $rc -ne 0 ] || [ -n "$found" ]; then
    status=FINDING
    findings=$((findings + 1))
    grep -E "^(==[0-9]+==ERROR|SUMMARY|FZ_CHECK)" "$log" | head -5 >&2 || true
    for f in $found; do echo "fuzz.sh: FINDING in $t: $f" >&2; done
    [ -z "$found" ] && echo "fuzz.sh: FINDING in $t: exit $rc, see $log" >&2
  fi
  line="$t seconds=${ran:-?} execs=${execs:-?} corpus=$files status=$status"
  echo "fuzz.sh: $line"
  echo "$line" >>"$summary"

  if [ "${LP2P_FUZZ_MERGE:-0}" = 1 ] && [ $status = ok ]; then
    committed="$root/tests/fuzz/corpus/$t"
    trial="$dir/merge"
    rm -rf "$trial"
    mkdir -p "$trial"
    cp "$committed/"* "$trial/"
    # Edge coverage only (no hit counts): keeps the additions few.
    nice -n 10 "$build/fuzz_$t" -merge=1 -use_counters=0 "$trial" \
      "$dir/corpus" >"$dir/merge.log" 2>&1 || true
    n=$(find "$trial" -type f | wc -l)
    if [ "$n" -le "$max_corpus" ]; then
      cp -n "$trial/"* "$committed/"
      echo "fuzz.sh: $t corpus merged: $n files"
    else
      echo "fuzz.sh: $t merge skipped: $n files would exceed $max_corpus"
    fi
  fi
done

echo "fuzz.sh: summary in $summary"
if [ $findings -ne 0 ]; then
  echo "fuzz.sh: $findings target(s) with findings" >&2
  exit 1
fi
