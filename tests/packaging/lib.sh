# Shared helpers for tests/packaging/*.sh (sourced, not run).
# shellcheck shell=bash

PKG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Where podman.sh leaves the binary it copied out of the image; static.sh
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

# The binary to test: the one podman.sh copied out of the image, else build/.
pick_binary() {
  if [[ -n ${LP2P_BIN:-} ]]; then BIN=$LP2P_BIN
  elif [[ -x $PKG_OUT/lp2p-interop ]]; then BIN=$PKG_OUT/lp2p-interop
  elif [[ -x $PKG_ROOT/build/lp2p-interop ]]; then BIN=$PKG_ROOT/build/lp2p-interop
  else die "no binary: run tests/packaging/podman.sh (copies the image's binary out) or build build/lp2p-interop"
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

# ---- the harnesses' own rules for reading a dialer's result out of the
# compose output ("<container> | <line>" for every container's lines)

# harness_json LOG: test-plans transport-interop's rule
# (compose-stdout-helper.ts): lines with "dialer" and "|" but not "exited
# with code", each cut after its first "|", joined; the first {...} that
# parses as JSON with both keys is the result.
harness_json() {
  python3 - "$1" <<'PYEOF'
import json, math, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n")
         if "dialer" in l and "exited with code" not in l and "|" in l]
out = "\n".join(l.split("|", 1)[1] for l in lines)
i = out.find("{")
while i != -1:
    j = out.find("}", i)
    if j == -1:
        sys.exit("no closing } after the first {")
    try:
        r = json.loads(out[i:j + 1])
        if r.get("handshakePlusOneRTTMillis") is not None and r.get("pingRTTMilllis") is not None:
            break
    except ValueError:
        pass
    i = out.find("{", i + 1)
else:
    sys.exit("no JSON object with handshakePlusOneRTTMillis and pingRTTMilllis in the dialer's lines")
if any(isinstance(v, (dict, list)) for v in r.values()):
    sys.exit("not a flat object: %r" % r)
for k in ("handshakePlusOneRTTMillis", "pingRTTMilllis"):
    v = r[k]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        sys.exit("%s is not a non-negative number: %r" % (k, v))
print("handshakePlusOneRTTMillis=%s pingRTTMilllis=%s" % (r["handshakePlusOneRTTMillis"], r["pingRTTMilllis"]))
PYEOF
}

# harness_yaml LOG: unified-testing's rule (transport/lib/run-single-test.sh):
# the dialer's lines matching `latency:` or its three indented fields, cut
# after the last "| ", must not start with "-" and must be a YAML mapping
# with latency.handshake_plus_one_rtt, latency.ping_rtt (numbers) and
# latency.unit = ms.
harness_yaml() {
  python3 - "$1" <<'PYEOF'
import math, re, sys, yaml
sel = re.compile(r"dialer.*\| (latency:|  (handshake_plus_one_rtt|ping_rtt|unit):)")
lines = [re.sub(r"^.*\| ", "", l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if sel.search(l)]
if not lines:
    sys.exit("no latency lines among the dialer's")
if lines[0].startswith("-"):
    sys.exit("measurements start with a list item: %r" % lines[0])
doc = yaml.safe_load("\n".join(lines))
lat = doc.get("latency") if isinstance(doc, dict) else None
if not isinstance(lat, dict):
    sys.exit("no latency mapping in %r" % lines)
for k in ("handshake_plus_one_rtt", "ping_rtt"):
    v = lat.get(k)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        sys.exit("latency.%s is not a non-negative number: %r" % (k, v))
if lat.get("unit") != "ms":
    sys.exit("latency.unit is %r, want ms" % lat.get("unit"))
print("handshake_plus_one_rtt=%s ping_rtt=%s unit=ms" % (lat["handshake_plus_one_rtt"], lat["ping_rtt"]))
PYEOF
}

# ---- the clean Debian 12 root (podman.sh imports it as debian:12)

SUITE=bookworm
DEB_CACHE=${LP2P_DEBOOTSTRAP_CACHE:-/var/cache/lp2p-debootstrap}

# apt_mirrors SUITE: "MIRROR SECURITY_MIRROR" as this machine's apt sources
# name them (/etc/apt/sources.list, sources.list.d/*.list and deb822
# *.sources); the mirror of SUITE itself first, else any Debian archive the
# machine uses (a mirror serves every suite). "-" where there is none. No
# host is ever assumed: the repository names none.
apt_mirrors() {
  python3 - "$1" <<'PYEOF'
import glob, re, sys
suite = sys.argv[1]
entries = []  # (uri, suite) for every enabled deb line, in apt's order
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        f = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(f) >= 3 and f[0] == "deb":
            entries.append((f[1], f[2]))
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        f = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            k, v = line.split(":", 1)
            f[k.strip().lower()] = v.split()
        if f.get("enabled", ["yes"])[0].lower() == "no" or "deb" not in f.get("types", []):
            continue
        entries += [(u, s) for u in f.get("uris", []) for s in f.get("suites", [])]
def first(pred):
    return next((u for u, s in entries if pred(s)), None)
main = first(lambda s: s == suite) or first(lambda s: not s.endswith("-security") and "/" not in s)
sec = first(lambda s: s == suite + "-security") or first(lambda s: s.endswith("-security"))
print(main or "-", sec or "-")
PYEOF
}

# debian_sources: the sources.list of the debian:12 image (main, updates,
# security) on this machine's mirrors; needs MIRROR/SECURITY_MIRROR.
debian_sources() {
  echo "deb $MIRROR $SUITE main"
  echo "deb $MIRROR $SUITE-updates main"
  [[ $SECURITY_MIRROR == - ]] || echo "deb $SECURITY_MIRROR $SUITE-security main"
}

# ensure_debian_root: sets MIRROR, SECURITY_MIRROR, APT_PROXY, ARCH and BASE
# (the debootstrapped minbase root, made once under $DEB_CACHE and never
# modified afterwards) and returns holding the cache lock on fd 9 (release
# with `flock -u 9` once done reading BASE). Fails with a clear message when
# the machine's apt sources name no Debian mirror.
ensure_debian_root() {
  command -v python3 >/dev/null || need "python3 not found"
  ARCH=$(dpkg --print-architecture)
  BASE=$DEB_CACHE/$SUITE-$ARCH
  mkdir -p "$DEB_CACHE" "$DEB_CACHE/apt-archives/partial"
  read -r MIRROR SECURITY_MIRROR < <(apt_mirrors "$SUITE")
  [[ $MIRROR != - ]] || die "no Debian mirror in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list or *.sources): add the mirror apt should use, e.g. a 'deb <mirror> $SUITE main' line, and run again"
  say "mirror: $MIRROR (security: $SECURITY_MIRROR)"
  # An apt proxy configured here applies to debootstrap and the chroot too.
  APT_PROXY=
  eval "$(apt-config shell APT_PROXY Acquire::http::Proxy)"
  if [[ -n ${APT_PROXY:-} ]]; then export http_proxy=$APT_PROXY; fi
  exec 9>"$DEB_CACHE/.lock"
  flock 9
  if [[ ! -x $BASE/usr/bin/apt-get ]]; then
    command -v debootstrap >/dev/null || need "debootstrap not installed (scripts/install-deps.sh)"
    say "debootstrap $SUITE ($ARCH) into $BASE (once; cached)"
    rm -rf "$BASE.partial"
    debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$BASE.partial" "$MIRROR" \
      >"$DEB_CACHE/debootstrap.log" 2>&1 || { tail -n 30 "$DEB_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
    mv "$BASE.partial" "$BASE"
  else
    say "using cached root $BASE"
  fi
}
