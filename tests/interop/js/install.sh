#!/usr/bin/env bash
# Installs the pinned js-libp2p peer (package-lock.json) for peer.mjs.
#   tests/interop/js/install.sh        (idempotent; root on a fresh Debian 12)
# The node_modules tree is built once per lock file into
#   /var/cache/lp2p-interop/js-<first 16 hex of sha256(package-lock.json)>/
# ($LP2P_INTEROP_CACHE overrides the root) and tests/interop/js/node_modules
# becomes a symlink to it, so a warm run does no npm work at all. Without a
# writable cache root it runs `npm ci` in place instead.
# Needs Node >= 20.18.1 (js-libp2p 3; see shims.mjs) and npm.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "js/install.sh: $*" >&2; exit 1; }

command -v node >/dev/null && command -v npm >/dev/null ||
  die "node and npm are required (Node >= 20.18.1; Debian 12's nodejs 18 is too old)"
node -e 'const [a,b,c]=process.versions.node.split(".").map(Number);
  process.exit(a>20||(a===20&&(b>18||(b===18&&c>=1)))?0:1)' ||
  die "Node $(node --version) is too old: js-libp2p 3 needs >= 20.18.1"

KEY=$(sha256sum "$HERE/package-lock.json" | cut -c1-16)
STAMP=.lp2p-lock-key
NM=$HERE/node_modules
if [[ -f $NM/$STAMP && $(cat "$NM/$STAMP") == "$KEY" ]]; then
  echo "js/install.sh: js peer ready ($KEY)" >&2; exit 0
fi

CACHE_ROOT=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}
DIR=$CACHE_ROOT/js-$KEY
# `npm ci` refuses this lock: it records only the linux-x64-gnu build of
# @chainsafe/libp2p-quic's native module (the only one the registry here
# serves), and ci wants every optional platform package listed. So: a plain
# install that follows the lock (--no-save: nothing rewritten), then a
# strict check that every installed package has exactly its locked version.
npm_ci() {
  local log
  log=$(mktemp)
  if ! npm install --prefix "$1" --no-save --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"; die "npm install failed in $1"
  fi
  rm -f "$log"
  node - "$1" <<'JS' || die "installed tree differs from package-lock.json"
const fs = require('fs'); const dir = process.argv[2]
const want = JSON.parse(fs.readFileSync(dir + '/package-lock.json', 'utf8')).packages
const got = JSON.parse(fs.readFileSync(dir + '/node_modules/.package-lock.json', 'utf8')).packages
let bad = 0
for (const [k, v] of Object.entries(got)) {
  if (want[k]?.version !== v.version) { console.error(`unlocked: ${k} ${v.version} (lock: ${want[k]?.version})`); bad++ }
}
for (const [k, v] of Object.entries(want)) {
  if (k !== '' && !v.optional && !got[k]) { console.error(`missing: ${k}`); bad++ }
}
process.exit(bad ? 1 : 0)
JS
}

if mkdir -p "$CACHE_ROOT" 2>/dev/null && [[ -w $CACHE_ROOT ]]; then
  if [[ ! -f $DIR/node_modules/$STAMP ]]; then
    # Build beside the final place, then rename: a crash never leaves a
    # half-filled cache entry that would look complete.
    tmp=$(mktemp -d "$CACHE_ROOT/js-$KEY.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    cp "$HERE/package.json" "$HERE/package-lock.json" "$tmp/"
    echo "js/install.sh: npm install (locked) into $DIR" >&2
    npm_ci "$tmp"
    echo "$KEY" >"$tmp/node_modules/$STAMP"
    rm -rf "$DIR"
    mv "$tmp" "$DIR"
    trap - EXIT
  fi
  rm -rf "$NM"
  ln -s "$DIR/node_modules" "$NM"
else
  echo "js/install.sh: $CACHE_ROOT not writable, installing in place" >&2
  [[ -L $NM ]] && rm -f "$NM"
  npm_ci "$HERE"
  echo "$KEY" >"$NM/$STAMP"
fi
[[ -f $NM/libp2p/package.json ]] || die "node_modules incomplete after install"
echo "js/install.sh: js peer ready ($KEY)" >&2
