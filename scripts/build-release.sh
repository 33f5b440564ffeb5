#!/usr/bin/env bash
# The release build, the one the Dockerfile's build stage runs (and
# tests/packaging/image.sh runs in a clean Debian 12 chroot): Release,
# -Werror, libuv/libsodium/hiredis/secp256k1/protobuf-c linked from their
# static archives so the binary needs only glibc and wslay (Debian ships
# no libwslay.a), and its GnuTLS module (lp2p-interop-gnutls.so beside it,
# opened on the first tls, wss or quic-v1 use: src/gnutls_module.h) only
# GnuTLS's chain and ngtcp2 (checked below; scripts/make-rootfs.sh copies
# both into the image); unit and in-memory integration tests (everything
# but the process-level tests, which need redis-server and node); then the
# binary and the module are stripped.
#
#   scripts/build-release.sh            # builds in build-release/
#   BUILD_DIR=/build scripts/build-release.sh
#
# Needs the packages listed in scripts/build-packages.txt. Prints the path of
# the stripped binary as its last line (the module is that path plus
# -gnutls.so).
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
MOD=$BIN-gnutls.so
step "strip"
strip --strip-all "$BIN"
# The module keeps its dynamic symbols (the one it exports, those it takes
# from the binary): --strip-unneeded.
strip --strip-unneeded "$MOD"

# The binary may name only glibc and libwslay (Debian ships no
# libwslay.a): anything else means a dependency slipped out of
# LP2P_STATIC_DEPS, and GnuTLS or ngtcp2 there means a noise run maps them
# again. The module may name only glibc, libgnutls and ngtcp2, and
# everything the loader then pulls in (ldd) must be glibc or GnuTLS's chain.
is_glibc() {
  case $1 in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*.so.*|linux-vdso.so.*) return 0 ;;
  esac
  return 1
}
GNUTLS_CHAIN="libgnutls.so.30 libp11-kit.so.0 libidn2.so.0 libunistring.so.2 libtasn1.so.6
  libnettle.so.8 libhogweed.so.6 libgmp.so.10 libffi.so.8"
NGTCP2="libngtcp2.so.9 libngtcp2_crypto_gnutls.so.2"
needed() { LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort; }
loaded() { LC_ALL=C ldd "$1" | awk '{print $1}' | xargs -rn1 basename | sort -u; }
in_list() { [[ " $(echo $2) " == *" $1 "* ]]; }
NEEDED=$(needed "$BIN") LOADED=$(loaded "$BIN")
MOD_NEEDED=$(needed "$MOD") MOD_LOADED=$(loaded "$MOD")
bad=()
for lib in $NEEDED $LOADED; do
  is_glibc "$lib" || [[ $lib == libwslay.so.1 ]] || bad+=("$lib (binary)")
done
for lib in $MOD_NEEDED $MOD_LOADED; do
  is_glibc "$lib" || in_list "$lib" "$GNUTLS_CHAIN $NGTCP2" || bad+=("$lib (module)")
done
grep -qx libgnutls.so.30 <<<"$MOD_NEEDED" || bad+=("libgnutls.so.30 missing from the module's NEEDED")
# The module's one export, and the binary's exports it resolves against.
[[ $(LC_ALL=C nm -D --defined-only "$MOD" | awk '{print $3}') == lp2p_gnutls_module ]] ||
  bad+=("the module exports more or less than lp2p_gnutls_module")
# The stripped binary still exports what the module takes from it: a
# quic-v1 dialer opens the module (RTLD_NOW: every symbol resolved) before
# it looks for Redis (nothing listens on port 1; the run fails there).
out=$(env -i transport=quic-v1 is_dialer=true redis_addr=127.0.0.1:1 test_timeout_seconds=1 \
  "$BIN" 2>&1 >/dev/null || true)
[[ $out != *"GnuTLS module"* ]] || bad+=("the module does not load: $out")
for f in "$BIN" "$MOD"; do
  while read -r lib; do bad+=("$lib (not found, $f)"); done < <(LC_ALL=C ldd "$f" | awk '/not found/ {print $1}')
done
if ((${#bad[@]})); then
  echo "build-release: unexpected shared libraries (binary: glibc and wslay; module: glibc, GnuTLS's chain, ngtcp2):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "  binary NEEDED: $(echo $NEEDED); ldd: $(echo $LOADED)" >&2
  echo "  module NEEDED: $(echo $MOD_NEEDED); ldd: $(echo $MOD_LOADED)" >&2
  exit 1
fi
"$BIN" --help >/dev/null
step "ok: binary $(stat -c %s "$BIN") bytes, NEEDED: $(echo $NEEDED); module $(stat -c %s "$MOD") bytes, NEEDED: $(echo $MOD_NEEDED); loads: $(echo $MOD_LOADED)"
echo "$BIN"
