#!/usr/bin/env bash
# Our C interop binary, configured only by the harness environment.
# $LP2P_BIN picks another build (absolute, or relative to the repo root);
# default build/lp2p-interop.
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
BIN=${LP2P_BIN:-build/lp2p-interop}
[[ $BIN == /* ]] || BIN=$ROOT/$BIN
exec "$BIN" "$@"
