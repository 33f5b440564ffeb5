#!/usr/bin/env bash
# Nothing to install for our own peer: check that the binary is built.
#   cmake -S . -B build && cmake --build build -j2
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
BIN=${LP2P_BIN:-build/lp2p-interop}
[[ $BIN == /* ]] || BIN=$ROOT/$BIN
if [[ ! -x $BIN ]]; then
  echo "ours/install.sh: $BIN is not built (cmake -S . -B build && cmake --build build -j2, or set LP2P_BIN)" >&2
  exit 1
fi
echo "ours/install.sh: using $BIN" >&2
