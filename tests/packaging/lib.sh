# Shared helpers for tests/packaging/*.sh (sourced, not run).
# shellcheck shell=bash

PKG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Where image.sh leaves the release binary and the runtime root; netns.sh
# and unified.sh use that binary when it is there.
PKG_OUT=${LP2P_PACKAGING_OUT:-$PKG_ROOT/build-packaging}

pkg_name=$(basename "$0" .sh)
say() { printf '[%s] %s\n' "$pkg_name" "$*" >&2; }
die() { printf '[%s] FAIL: %s\n' "$pkg_name" "$*" >&2; exit 1; }

# Missing privileges or tools: a hard failure under CI=true, else a skip
# (exit 77, which scripts/test.sh reports as skipped).
need() {
  local why=$1
  if [[ ${CI:-} == true ]]; then die "cannot run here: $why (CI=true: not skipping)"; fi
  say "SKIP: $why"
  exit 77
}

need_root() { [[ $(id -u) == 0 ]] || need "needs root"; }

find_redis() {
  REDIS_BIN=$(command -v redis-server || true)
  [[ -z $REDIS_BIN && -x /usr/sbin/redis-server ]] && REDIS_BIN=/usr/sbin/redis-server
  [[ -n $REDIS_BIN ]] || need "redis-server not installed (scripts/install-deps.sh)"
  command -v redis-cli >/dev/null || need "redis-cli not installed"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The binary to test: the one image.sh built in the chroot, else build/.
pick_binary() {
  if [[ -n ${LP2P_BIN:-} ]]; then BIN=$LP2P_BIN
  elif [[ -x $PKG_OUT/lp2p-interop ]]; then BIN=$PKG_OUT/lp2p-interop
  elif [[ -x $PKG_ROOT/build/lp2p-interop ]]; then BIN=$PKG_ROOT/build/lp2p-interop
  else die "no binary: run tests/packaging/image.sh or build build/lp2p-interop"
  fi
  BIN=$(readlink -f "$BIN")
  say "binary: $BIN"
}

# check_json FILE: exactly one line, a JSON object with both numbers.
check_json() {
  python3 - "$1" <<'EOF'
import json, math, sys
data = open(sys.argv[1], encoding="utf-8").read()
lines = data.splitlines()
if len(lines) != 1 or not data.endswith("\n"):
    sys.exit("stdout must be one newline-terminated line, got %r" % data[:300])
o = json.loads(lines[0])
for k in ("handshakePlusOneRTTMillis", "pingRTTMilllis"):
    v = o.get(k)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        sys.exit("%s missing or not a non-negative number: %r" % (k, v))
print("handshakePlusOneRTTMillis=%s pingRTTMilllis=%s" % (o["handshakePlusOneRTTMillis"], o["pingRTTMilllis"]))
EOF
}

# check_yaml FILE: the unified-testing latency block and nothing else.
check_yaml() {
  python3 - "$1" <<'EOF'
import math, sys
data = open(sys.argv[1], encoding="utf-8").read()
try:
    import yaml
    doc = yaml.safe_load(data)
except ImportError:  # no PyYAML: parse the fixed two-level shape by hand
    doc, cur = {}, None
    for line in data.splitlines():
        if not line.strip():
            continue
        key, _, val = line.strip().partition(":")
        val = val.strip()
        if not line.startswith(" "):
            if val:
                sys.exit("unexpected top-level scalar: %r" % line)
            cur = doc.setdefault(key, {})
        else:
            if cur is None:
                sys.exit("indented line before a block: %r" % line)
            try:
                cur[key] = float(val) if val.replace(".", "", 1).isdigit() else val
            except ValueError:
                cur[key] = val
if not isinstance(doc, dict) or set(doc) != {"latency"}:
    sys.exit("want exactly one top-level key 'latency', got %r in %r" % (doc, data[:300]))
lat = doc["latency"]
for k in ("handshake_plus_one_rtt", "ping_rtt"):
    v = lat.get(k)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        sys.exit("latency.%s missing or not a non-negative number: %r" % (k, v))
if lat.get("unit") != "ms":
    sys.exit("latency.unit must be ms, got %r" % lat.get("unit"))
print("handshake_plus_one_rtt=%s ping_rtt=%s unit=ms" % (lat["handshake_plus_one_rtt"], lat["ping_rtt"]))
EOF
}

# Kill the pids given (TERM, then KILL after ~2 s) and reap them.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

dump() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '----- %s (last 25 lines)\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}
