#!/usr/bin/env bash
# The release build, the one the Dockerfile's build stage runs (and
# tests/packaging/image.sh runs in a clean Debian 12 chroot): Release,
# -Werror, libuv/libsodium/hiredis/secp256k1/protobuf-c linked from their
# static archives so only glibc stays dynamic; unit and in-memory
# integration tests (everything but the process-level tests, which need
# redis-server and node); then the binary is stripped.
#
#   scripts/build-release.sh            # builds in build-release/
#   BUILD_DIR=/build scripts/build-release.sh
#
# Needs the packages listed in scripts/build-packages.txt. Prints the path of
# the stripped binary as its last line.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build-release}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

step() { printf '==== build-release: %s\n' "$*" >&2; }

step "configure ($BUILD_DIR)"
cmake -S "$SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
  -DLP2P_WERROR=ON -DLP2P_STATIC_DEPS=ON -DLP2P_TESTS=ON >&2

step "build"
cmake --build "$BUILD_DIR" -j"$JOBS" >&2

step "unit tests (ctest -LE process)"
(cd "$BUILD_DIR" && ctest -LE process --output-on-failure -j"$JOBS") >&2

BIN=$BUILD_DIR/lp2p-interop
step "strip"
strip --strip-all "$BIN"

# Only glibc may remain dynamic: the runtime image has nothing else.
NEEDED=$(LC_ALL=C readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
for lib in $NEEDED; do
  case $lib in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*.so.*) ;;
    *) echo "build-release: $BIN needs $lib, which is not part of glibc" >&2; exit 1 ;;
  esac
done
"$BIN" --help >/dev/null
step "ok: $(stat -c %s "$BIN") bytes, needs: $(echo $NEEDED)"
echo "$BIN"
