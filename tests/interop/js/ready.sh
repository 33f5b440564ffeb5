#!/usr/bin/env bash
# Exit 0 when the js peer is installed for the current package-lock.json
# (what install.sh leaves behind), without installing anything.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v node >/dev/null || { echo "node not found" >&2; exit 1; }
KEY=$(sha256sum "$HERE/package-lock.json" | cut -c1-16)
f=$HERE/node_modules/.lp2p-lock-key
[[ -f $f && $(cat "$f") == "$KEY" ]] ||
  { echo "js peer not installed for this lock (run tests/interop/js/install.sh)" >&2; exit 1; }
