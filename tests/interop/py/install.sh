#!/usr/bin/env bash
# Build the pinned py-libp2p 0.8.1 interop peer's venv (idempotent).
#
#   tests/interop/py/install.sh            # builds if needed, prints the venv directory
#   tests/interop/py/install.sh --print-dir   # only prints where the venv belongs
#
# The venv lives in /var/cache/lp2p-interop/py-<first 16 hex of sha256 of the
# lock files (build-requirements.txt then requirements.txt)>/
# (LP2P_INTEROP_CACHE overrides the parent directory), so a changed lock
# builds a fresh venv and an unchanged one is reused.  The locks are
# authoritative: every package, build backend included, is installed with
# --require-hashes --no-deps, and sdists build with --no-build-isolation
# against the hashed setuptools/wheel from build-requirements.txt.
#
# Needs (Debian): python3 (>= 3.10) python3-venv python3-dev build-essential
# libgmp-dev (fastecdsa builds from source when no wheel fits).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOCK=$HERE/requirements.txt
BUILD_LOCK=$HERE/build-requirements.txt
CACHE=${LP2P_INTEROP_CACHE:-/var/cache/lp2p-interop}

die() { echo "py install: $*" >&2; exit 1; }

[[ -f $LOCK && -f $BUILD_LOCK ]] || die "missing $LOCK or $BUILD_LOCK"
HASH=$(cat "$BUILD_LOCK" "$LOCK" | sha256sum | cut -c1-16)
VENV=$CACHE/py-$HASH
STAMP=$VENV/.lp2p-complete
if [[ ${1:-} == --print-dir ]]; then
  echo "$VENV"
  exit 0
fi

if [[ -f $STAMP ]]; then
  echo "$VENV"
  exit 0
fi

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || die "python3 not found (apt-get install python3 python3-venv python3-dev)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "py-libp2p 0.8.1 needs Python >= 3.10, $("$PY" --version 2>&1) found"
"$PY" -c 'import venv, ensurepip' 2>/dev/null || die "python venv support missing (apt-get install python3-venv)"
command -v cc >/dev/null || die "no C compiler (apt-get install build-essential)"
[[ -e /usr/include/gmp.h || -n $(find /usr/include -maxdepth 2 -name gmp.h -print -quit 2>/dev/null) ]] ||
  die "gmp.h missing: fastecdsa needs it (apt-get install libgmp-dev)"

mkdir -p "$CACHE" || die "cannot create $CACHE"
TMP=$(mktemp -d "$CACHE/.py-$HASH.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "py install: building venv for $LOCK into $VENV" >&2
# venvs are not relocatable, so build in place; the stamp file written last
# marks it complete, and an unstamped leftover is rebuilt from scratch.
rm -rf "$VENV"
"$PY" -m venv "$VENV" || die "python3 -m venv failed"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
if ! { "${PIP[@]}" install --require-hashes --no-deps -r "$BUILD_LOCK" &&
  "${PIP[@]}" install --require-hashes --no-deps --no-build-isolation -r "$LOCK"; } \
  >"$TMP/pip.log" 2>&1; then
  tail -n 40 "$TMP/pip.log" >&2
  rm -rf "$VENV"
  die "pip install of the hashed lock failed (log above)"
fi
"${PIP[@]}" check >&2 || { rm -rf "$VENV"; die "pip check found inconsistent dependencies"; }
if "$VENV/bin/python" -c 'import pymultihash' 2>/dev/null; then
  rm -rf "$VENV"
  die "pymultihash got into the venv; it clashes with py-multihash"
fi
"$VENV/bin/python" - <<'EOF' || { rm -rf "$VENV"; die "installed libp2p does not import"; }
import importlib.metadata as m
import libp2p, redis, trio, multiaddr, cryptography  # noqa: F401
from libp2p.security.noise.transport import Transport  # noqa: F401
from libp2p.security.tls.transport import TLSTransport  # noqa: F401
v = m.version("libp2p")
assert v == "0.8.1", v
EOF
sha256sum "$BUILD_LOCK" "$LOCK" >"$STAMP"
echo "py install: done ($VENV)" >&2
echo "$VENV"
