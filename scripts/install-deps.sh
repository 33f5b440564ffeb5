#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12
# machine (as root): the -dev packages, redis-server, the toolchain, and the
# pinned interop peers (tests/interop/*/install.sh: js-libp2p from npm, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
[[ $(id -u) -eq 0 ]] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format \
  libuv1-dev libsodium-dev libhiredis-dev libsecp256k1-dev libgnutls28-dev libssl-dev libwslay-dev \
  libngtcp2-dev libngtcp2-crypto-gnutls-dev \
  libprotobuf-c-dev protobuf-c-compiler libcmocka-dev \
  redis-server python3 ca-certificates >/dev/null
# Packaging tests (tests/packaging): the debootstrapped Debian 12 root the
# local debian:12 image is made from, YAML checks.
$SUDO apt-get install -y -qq --no-install-recommends \
  debootstrap iproute2 python3-yaml >/dev/null
# The image and both harness topologies in a real container engine
# (tests/packaging/podman.sh): podman with runc, compose, netavark +
# aardvark-dns (service names on compose networks), catatonit (init: true).
$SUDO apt-get install -y -qq --no-install-recommends \
  podman buildah podman-compose runc netavark aardvark-dns catatonit >/dev/null
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
# The interop peers (tests/interop/<impl>/install.sh: pinned builds cached in
# /var/cache/lp2p-interop). ours/ only checks our build, which comes later.
interop_failed=()
for inst in tests/interop/*/install.sh; do
  impl=$(basename "$(dirname "$inst")")
  [[ $impl == ours ]] && continue
  echo "install-deps: interop peer $impl" >&2
  bash "$inst" || interop_failed+=("$impl")
done
if ((${#interop_failed[@]})); then
  echo "install-deps: interop peer install failed: ${interop_failed[*]}" >&2
  exit 1
fi
echo "install-deps: done"
