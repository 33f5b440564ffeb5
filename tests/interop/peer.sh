#!/usr/bin/env bash
# Run one interop peer by name, with the harness environment untouched:
#   tests/interop/peer.sh IMPL          (IMPL: ours js py go rust, or any
#                                        tests/interop/<IMPL>/ with run.sh)
# e.g. is_dialer=true transport=tcp security=noise muxer=yamux \
#        redis_addr=127.0.0.1:6379 tests/interop/peer.sh go
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
if [[ $# -lt 1 || ! $1 =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "usage: $0 IMPL   (one of: $(cd "$HERE" && ls -d */ 2>/dev/null | tr -d / | tr '\n' ' '))" >&2
  exit 2
fi
IMPL=$1; shift
RUN=$HERE/$IMPL/run.sh
if [[ ! -f $RUN ]]; then
  echo "peer.sh: no peer '$IMPL' ($RUN missing)" >&2
  exit 2
fi
exec bash "$RUN" "$@"
