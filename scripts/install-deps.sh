#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12
# machine (as root): the -dev packages, redis-server, the toolchain, and the
# pinned js-libp2p peers from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
[[ $(id -u) -eq 0 ]] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config clang libclang-rt-14-dev \
  libuv1-dev libsodium-dev libhiredis-dev libsecp256k1-dev libgnutls28-dev libssl-dev \
  libprotobuf-c-dev protobuf-c-compiler libcmocka-dev \
  redis-server python3 ca-certificates >/dev/null
# Packaging tests (tests/packaging): Debian 12 chroot build, netns topology,
# YAML checks.
$SUDO apt-get install -y -qq --no-install-recommends \
  debootstrap iproute2 python3-yaml >/dev/null
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
npm ci --prefix tests/interop/js --no-audit --no-fund --loglevel=error
echo "install-deps: done"
