#!/usr/bin/env bash
# The release build, the one the Dockerfile's build stage runs (and
# tests/packaging/image.sh runs in a clean Debian 12 chroot): Release,
# -Werror, libuv/libsodium/hiredis/secp256k1/protobuf-c/ngtcp2 linked from their
# static archives so only glibc, the GnuTLS chain and wslay (Debian ships
# no libwslay.a) stay dynamic (checked below; scripts/make-rootfs.sh copies
# them into the image); unit and in-memory
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

# Only glibc, GnuTLS (with what it links) and wslay (Debian ships no
# libwslay.a) may remain dynamic: anything else means a dependency slipped
# out of LP2P_STATIC_DEPS. The binary itself must name only glibc, libgnutls
# and libwslay; everything the loader then pulls in
# (ldd) must be glibc or GnuTLS's own chain.
is_glibc() {
  case $1 in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*.so.*|linux-vdso.so.*) return 0 ;;
  esac
  return 1
}
GNUTLS_CHAIN="libgnutls.so.30 libp11-kit.so.0 libidn2.so.0 libunistring.so.2 libtasn1.so.6
  libnettle.so.8 libhogweed.so.6 libgmp.so.10 libffi.so.8 libwslay.so.1"
NEEDED=$(LC_ALL=C readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort)
LOADED=$(LC_ALL=C ldd "$BIN" | awk '{print $1}' | xargs -rn1 basename | sort -u)
bad=()
for lib in $NEEDED; do
  is_glibc "$lib" || [[ $lib == libgnutls.so.30 || $lib == libwslay.so.1 ]] || bad+=("$lib (NEEDED)")
done
for lib in $LOADED; do
  is_glibc "$lib" || [[ " $(echo $GNUTLS_CHAIN) " == *" $lib "* ]] || bad+=("$lib (via ldd)")
done
grep -qx libgnutls.so.30 <<<"$NEEDED" || bad+=("libgnutls.so.30 missing from NEEDED")
# QUIC: ngtcp2 and its GnuTLS helper come from their static archives.
grep -q '^libngtcp2' <<<"$NEEDED$LOADED" && bad+=("libngtcp2* (must be static)")
while read -r lib; do bad+=("$lib (not found)"); done < <(LC_ALL=C ldd "$BIN" | awk '/not found/ {print $1}')
if ((${#bad[@]})); then
  echo "build-release: $BIN: unexpected shared libraries (only glibc and the GnuTLS chain are allowed):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "  NEEDED: $(echo $NEEDED)" >&2
  echo "  ldd:    $(echo $LOADED)" >&2
  exit 1
fi
"$BIN" --help >/dev/null
step "ok: $(stat -c %s "$BIN") bytes, NEEDED: $(echo $NEEDED); loads: $(echo $LOADED)"
echo "$BIN"
