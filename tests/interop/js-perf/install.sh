#!/usr/bin/env bash
# The js perf peer needs nothing but the js peer's node_modules (js-libp2p
# 3, tests/interop/js/package-lock.json): build that one (cached under
# /var/cache/lp2p-interop/js-<hash of its lock>/) unless it is there, link
# it here as node_modules (perf.mjs imports resolve from its own
# directory), and check that perf.mjs loads. Idempotent.
#
#   tests/interop/js-perf/install.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$HERE/../js/install.sh" || { echo "js-perf/install.sh: tests/interop/js/install.sh failed" >&2; exit 1; }
ln -sfn ../js/node_modules "$HERE/node_modules"
# A bad argument makes it exit 2 only after every import has loaded.
rc=0
node "$HERE/perf.mjs" --probe >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] || { echo "js-perf/install.sh: perf.mjs does not load (exit $rc): node $HERE/perf.mjs" >&2; exit 1; }
echo "js-perf/install.sh: js perf peer ready" >&2
