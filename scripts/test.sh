#!/usr/bin/env bash
# The whole test suite: a -Werror build and every test (unit, in-memory
# integration, loopback through a real redis-server, js-libp2p interop in
# both roles), then the same suite in an ASan + UBSan build with leak
# checking; then the interop matrix over every installed peer
# (tests/interop/matrix.sh; SKIP_INTEROP=1 leaves it out); then the packaging
# tests (tests/packaging/run.sh; SKIP_PACKAGING=1 leaves them out). Exits
# non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

stage() { printf '\n==== %s\n' "$*"; }

stage "build (-Werror)"
cmake -S . -B build -DLP2P_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"

stage "test suite"
(cd build && ctest --output-on-failure -j"$JOBS")

if [[ ${SKIP_SANITIZE:-0} != 1 ]]; then
  stage "build (ASan + UBSan, -Werror)"
  cmake -S . -B build-asan -DLP2P_WERROR=ON -DLP2P_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build-asan -j"$JOBS"
  stage "test suite under sanitizers"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j"$JOBS")
fi
if [[ ${SKIP_INTEROP:-0} != 1 ]]; then
  # Every installed interop peer (tests/interop/*/: ours, js, py, go, rust)
  # against every other and itself, once per cell; installs nothing (that is
  # scripts/install-deps.sh). Results in build/interop-results/.
  stage "interop matrix (installed peers x combinations, 1 run per cell)"
  rc=0
  MATRIX_INSTALL=0 LP2P_BIN=build/lp2p-interop RESULTS_DIR=build/interop-results \
    bash tests/interop/matrix.sh 1 || rc=$?
  if [[ -n ${GITHUB_STEP_SUMMARY:-} && -f build/interop-results/results.md ]]; then
    cat build/interop-results/results.md >>"$GITHUB_STEP_SUMMARY"
  fi
  [[ $rc == 0 ]] || exit "$rc"
fi
if [[ ${SKIP_PACKAGING:-0} != 1 ]]; then
  # Root + podman (+ debootstrap once): skipped without them locally, a
  # failure under CI=true. The Debian 12 root is cached in
  # /var/cache/lp2p-debootstrap and the images in podman's store after the
  # first run.
  stage "packaging (podman: the Dockerfile's images and their size, compose.yml for every registered combination, compose.unified.yml through one shared redis; static checks; unified mode on loopback)"
  bash tests/packaging/run.sh
fi
stage "all tests passed"
