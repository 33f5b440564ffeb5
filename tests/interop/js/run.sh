#!/usr/bin/env bash
# The js-libp2p interop peer, configured only by the harness environment
# (see peer.mjs). Install it first: tests/interop/js/install.sh
exec node "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/peer.mjs" "$@"
