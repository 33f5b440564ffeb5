#!/usr/bin/env bash
# Static checks of the packaging files, no network, no root:
# - Dockerfile: the build stage installs scripts/build-packages.txt and runs
#   scripts/build-release.sh then scripts/make-rootfs.sh /rootfs, the
#   runtime stage is FROM scratch, copies only that
#   /rootfs and has the binary as ENTRYPOINT;
# - compose.yml: the harness's wiring (redis:7-alpine, listener with init,
#   dialer, lowercase env, working defaults), through `docker compose
#   config` / `docker-compose config` too when one is installed;
# - compose.unified.yml: unified-testing's per-test wiring (listener and
#   dialer with init, the dialer after the listener, the shared external
#   network and redis, UPPERCASE env, TEST_KEY required);
# - lib.sh's harness_json / harness_yaml (the harnesses' rules podman.sh
#   reads results with) accept and refuse what those harnesses do;
# - .github/workflows/interop.yml: the matrix covers the registered muxers
#   (quic-v1, which has its own TLS and streams, as one include cell);
# - interop/: the registration entries list exactly tcp / noise,tls,plaintext /
#   yamux,mplex,
#   and the binary accepts each listed capability and refuses others;
# - the GnuTLS module (src/gnutls_module.h): build-release.sh and
#   make-rootfs.sh ship it beside the binary; the binary names neither
#   GnuTLS nor ngtcp2, its module (the binary's path plus -gnutls.so) is
#   there and exports exactly lp2p_gnutls_module.
set -euo pipefail
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$PKG_ROOT"

command -v python3 >/dev/null || need "python3 not found"
if ! python3 -c 'import yaml' 2>/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null || true
  fi
  python3 -c 'import yaml' 2>/dev/null || need "python3-yaml not installed"
fi

python3 - <<'EOF'
import json, re, sys, yaml

def fail(msg):
    sys.exit("static: " + msg)

# ---- Dockerfile
df = open("Dockerfile").read()
# Stages by name: "build" and "runtime" must be there; other final stages
# (a perf target) may follow, tests/packaging/podman.sh builds each.
stages = {}
for st in re.split(r"(?m)^FROM ", df)[1:]:
    m = re.match(r"(\S+) AS (\S+)\n", st)
    if not m:
        fail("Dockerfile: every stage needs a name (FROM <image> AS <name>)")
    stages[m.group(2)] = (m.group(1), st)
if "build" not in stages or "runtime" not in stages:
    fail("Dockerfile: want stages build and runtime, got %r" % sorted(stages))
if stages["build"][0] != "debian:12":
    fail("Dockerfile: build stage must be FROM debian:12 AS build")
build, runtime = stages["build"][1], stages["runtime"][1]
perf = stages.get("perf")
if not perf or not re.match(r"scratch AS perf\n", perf[1]) or \
        re.findall(r"(?m)^COPY .*", perf[1]) != ["COPY --from=build /rootfs /"] or \
        'ENTRYPOINT ["/usr/local/bin/lp2p-interop", "perf"]' not in perf[1]:
    fail("Dockerfile: the perf stage must be the runtime root with `lp2p-interop perf` as entrypoint")
if list(stages)[-1] != "runtime":
    fail("Dockerfile: the last stage must be runtime: it is what `docker build .` and compose build")
for need in ("scripts/build-packages.txt", "--no-install-recommends", "scripts/build-release.sh",
             "scripts/make-rootfs.sh /rootfs /build/lp2p-interop"):
    if need not in build:
        fail("Dockerfile: build stage lacks %s" % need)
if not re.match(r"scratch AS runtime\n", runtime):
    fail("Dockerfile: runtime stage must be FROM scratch AS runtime")
copies = re.findall(r"(?m)^COPY .*", runtime)
if copies != ["COPY --from=build /rootfs /"]:
    fail("Dockerfile: runtime stage must copy only the root make-rootfs.sh made, got %r" % copies)
if 'ENTRYPOINT ["/usr/local/bin/lp2p-interop"]' not in runtime:
    fail("Dockerfile: ENTRYPOINT must be the binary")
if re.search(r"(?m)^RUN ", runtime):
    fail("Dockerfile: the scratch runtime stage has no shell to RUN anything")
pkgs = [l.split("#")[0].strip() for l in open("scripts/build-packages.txt")]
pkgs = [p for p in pkgs if p]
for p in ("libuv1-dev", "libsodium-dev", "libhiredis-dev", "libsecp256k1-dev",
          "libprotobuf-c-dev", "libgnutls28-dev", "libwslay-dev", "protobuf-c-compiler", "cmake",
          "gcc"):
    if p not in pkgs:
        fail("scripts/build-packages.txt lacks %s" % p)

# ---- the GnuTLS module ships beside the binary
rootfs = open("scripts/make-rootfs.sh").read()
if 'MOD=$BIN-gnutls.so' not in rootfs or \
        '"$DEST/usr/local/bin/lp2p-interop-gnutls.so"' not in rootfs or 'ldd "$MOD"' not in rootfs:
    fail("scripts/make-rootfs.sh must install BINARY-gnutls.so as /usr/local/bin/lp2p-interop-gnutls.so with the libraries ldd lists for it")
release = open("scripts/build-release.sh").read()
if 'MOD=$BIN-gnutls.so' not in release or 'MOD_NEEDED' not in release:
    fail("scripts/build-release.sh must check the GnuTLS module's libraries")

# ---- compose.yml
c = yaml.safe_load(open("compose.yml"))
s = c.get("services", {})
if set(s) != {"redis", "listener", "dialer"}:
    fail("compose.yml: services must be redis, listener, dialer: %r" % sorted(s))
if s["redis"].get("image") != "redis:7-alpine":
    fail("compose.yml: redis must be redis:7-alpine")
if s["listener"].get("init") is not True:
    fail("compose.yml: listener needs init: true")
defaults = {"transport": "tcp", "security": "noise", "muxer": "yamux"}
for role, dialer in (("listener", "false"), ("dialer", "true")):
    svc = s[role]
    if svc.get("build") != ".":
        fail("compose.yml: %s must build: ." % role)
    if "redis" not in svc.get("depends_on", []):
        fail("compose.yml: %s must depend on redis" % role)
    env = svc.get("environment", {})
    want = {"is_dialer": dialer, "redis_addr": "redis:6379", "ip": "0.0.0.0"}
    for k, v in want.items():
        if str(env.get(k)) != v:
            fail("compose.yml: %s %s=%r, want %r" % (role, k, env.get(k), v))
    for k, v in defaults.items():
        if env.get(k) != "${%s:-%s}" % (k, v):
            fail("compose.yml: %s %s=%r, want ${%s:-%s}" % (role, k, env.get(k), k, v))

# ---- compose.unified.yml: unified-testing's per-test compose file
# (transport/lib/run-single-test.sh): listener and dialer only, both with
# init, the dialer after the listener, on an external shared network where
# one redis serves every test; UPPERCASE env, TEST_KEY required.
u = yaml.safe_load(open("compose.unified.yml"))
s = u.get("services", {})
if set(s) != {"listener", "dialer"}:
    fail("compose.unified.yml: services must be listener and dialer (the redis is shared): %r" % sorted(s))
net = u.get("networks", {}).get("default", {})
if net.get("external") is not True or net.get("name") != "${TRANSPORT_NETWORK:-transport-network}":
    fail("compose.unified.yml: the default network must be the external shared one, got %r" % net)
if "listener" not in s["dialer"].get("depends_on", []):
    fail("compose.unified.yml: the dialer must depend on the listener")
if s["listener"].get("depends_on"):
    fail("compose.unified.yml: the listener depends on nothing")
for role, dialer in (("listener", "false"), ("dialer", "true")):
    svc = s[role]
    if svc.get("init") is not True:
        fail("compose.unified.yml: %s needs init: true" % role)
    if svc.get("build") != "." or svc.get("image") != "lp2p-interop":
        fail("compose.unified.yml: %s must be build: . / image: lp2p-interop" % role)
    env = svc.get("environment", {})
    want = {"IS_DIALER": dialer, "REDIS_ADDR": "${REDIS_ADDR:-transport-redis:6379}",
            "TRANSPORT": "${TRANSPORT:-tcp}", "LISTENER_IP": "0.0.0.0", "DEBUG": "${DEBUG:-false}",
            "SECURE_CHANNEL": None, "MUXER": None, "TEST_TIMEOUT_SECS": None}
    for k, v in want.items():
        if k not in env or env[k] != v:
            fail("compose.unified.yml: %s %s=%r, want %r" % (role, k, env.get(k, "(missing)"), v))
    if not str(env.get("TEST_KEY", "")).startswith("${TEST_KEY:?"):
        fail("compose.unified.yml: %s TEST_KEY must be required from the shell" % role)
    if set(env) != set(want) | {"TEST_KEY"}:
        fail("compose.unified.yml: %s has unexpected variables %r" % (role, sorted(set(env) - set(want))))

# ---- registration
CAPS = {"transports": ["tcp", "ws", "wss", "quic-v1"], "secureChannels": ["noise", "tls", "plaintext"],
        "muxers": ["yamux", "mplex"]}
v = json.load(open("interop/test-plans/versionsInput.entry.json"))
if v != dict(id="c-lp2p-v0.1", **CAPS):
    fail("versionsInput.entry.json: %r" % v)
u = yaml.safe_load(open("interop/unified-testing/images.entry.yaml"))
impl = u["implementations"]
if len(impl) != 1 or impl[0]["id"] != "c-lp2p-v0.1":
    fail("images.entry.yaml: want one implementation c-lp2p-v0.1")
impl = impl[0]
for k, want in CAPS.items():
    if impl.get(k) != want:
        fail("images.entry.yaml: %s=%r, want %r" % (k, impl.get(k), want))
if impl.get("legacy"):
    fail("images.entry.yaml: the image speaks the unified convention, no legacy: true")
if impl["source"].get("dockerfile") != "Dockerfile" or impl["source"].get("type") != "github":
    fail("images.entry.yaml: source must be github + Dockerfile")
if {"alias": "c-lp2p", "value": "c-lp2p-v0.1"} not in u.get("test-aliases", []):
    fail("images.entry.yaml: alias c-lp2p missing")
mk = open("interop/test-plans/impl/c-lp2p/v0.1/Makefile").read()
if not re.search(r"(?m)^image_name := c-lp2p-v0\.1$", mk):
    fail("Makefile: image_name must be c-lp2p-v0.1")
# test-plans versions.ts: "<impl>-v<major>.<minor>" -> impl/<impl>/v<major>.<minor>/image.json
impl_name, ver = "c-lp2p-v0.1".split("-v")
if "interop/test-plans/impl/%s/v%s/Makefile" % (impl_name, ver) != "interop/test-plans/impl/c-lp2p/v0.1/Makefile":
    fail("folder does not follow versions.ts's canonical path")

# ---- CI matrix covers the registered stack
w = yaml.safe_load(open(".github/workflows/interop.yml"))
m = w["jobs"]["compose"]["strategy"]["matrix"]
# Secure-muxed transports (quic-v1) are one cell each under include.
SECURE_MUXED = ["quic-v1"]
inc = [c.get("transport") for c in m.get("include", [])]
if m.get("transport", []) + inc != CAPS["transports"] or sorted(inc) != sorted(SECURE_MUXED) \
        or m.get("security") != CAPS["secureChannels"] \
        or sorted(m.get("muxer", [])) != sorted(CAPS["muxers"]):
    fail("interop.yml matrix %r does not match the capabilities %r" % (m, CAPS))
if "bash .ci/run" not in json.dumps(w["jobs"]):
    fail("interop.yml: no job runs bash .ci/run")
print("static: Dockerfile, compose.yml, compose.unified.yml, workflow, registration ok")
EOF

# compose's own parser, when one is here (no engine needed for `config`).
if docker compose version >/dev/null 2>&1; then DC=(docker compose)
elif command -v docker-compose >/dev/null; then DC=(docker-compose)
else DC=()
fi
if ((${#DC[@]})); then
  out=$(muxer=mplex "${DC[@]}" -f compose.yml config) || die "compose config rejected compose.yml"
  grep -q 'muxer: mplex' <<<"$out" || die "compose config did not take muxer from the environment"
  out=$(env -u transport -u security -u muxer "${DC[@]}" -f compose.yml config)
  for kv in 'transport: tcp' 'security: noise' 'muxer: yamux'; do
    grep -q "$kv" <<<"$out" || die "compose config: default $kv missing"
  done
  out=$(TEST_KEY=0123abcd SECURE_CHANNEL=noise MUXER=mplex "${DC[@]}" -f compose.unified.yml config) \
    || die "compose config rejected compose.unified.yml"
  for kv in 'TEST_KEY: 0123abcd' 'MUXER: mplex' 'SECURE_CHANNEL: noise'; do
    grep -q "$kv" <<<"$out" || die "compose config: compose.unified.yml lacks $kv"
  done
  if env -u TEST_KEY "${DC[@]}" -f compose.unified.yml config >/dev/null 2>&1; then
    die "compose config accepted compose.unified.yml without TEST_KEY"
  fi
  say "${DC[*]} config: ok"
else
  say "no docker compose here: YAML checks only"
fi

# No package mirror is named here: lib.sh takes it from the machine's apt
# sources (and fails when there is none).
if grep -rnE '(https?|ftp)://' tests/packaging compose.yml compose.unified.yml; then
  die "a URL in the packaging files (the mirror must come from the machine's apt sources)"
fi

# The harness rules podman.sh reads results with (lib.sh): what they must
# accept and refuse. The split-JSON case is the shape test-plans'
# compose-stdout-helper.ts keeps as its own test case.
T=$(mktemp -d "${TMPDIR:-/tmp}/lp2p-static.XXXXXX")
trap 'rm -rf "$T"' EXIT
rule() {  # RULE EXPECT(ok|fail) NAME: stdin is the compose log
  cat >"$T/log"
  local rc=0
  "$1" "$T/log" >"$T/out" 2>&1 || rc=$?
  if [[ $2 == ok && $rc != 0 ]]; then die "$1 refused $3: $(cat "$T/out")"; fi
  if [[ $2 == fail && $rc == 0 ]]; then die "$1 accepted $3: $(cat "$T/out")"; fi
}
rule harness_json ok "one JSON line" <<'EOF'
p-redis-1     | Ready to accept connections
p-listener-1  | lp2p: listening
p-dialer-1    | {"handshakePlusOneRTTMillis":1.5,"pingRTTMilllis":0.2}
p-dialer-1 exited with code 0
EOF
rule harness_json ok "JSON split over lines" <<'EOF'
p-dialer-1    | {"handshakePlusOneRTTMillis":
p-dialer-1    | 8.849
p-dialer-1    | , "pingRTTMilllis":
p-dialer-1    | 7.897}
EOF
rule harness_json ok "log lines with braces before the result" <<'EOF'
p-dialer-1    | debug {not json}
p-dialer-1    | {"handshakePlusOneRTTMillis":2,"pingRTTMilllis":1}
EOF
rule harness_json fail "the result on the listener's lines only" <<'EOF'
p-listener-1  | {"handshakePlusOneRTTMillis":1.5,"pingRTTMilllis":0.2}
EOF
rule harness_json fail "pingRTTMillis with two l's" <<'EOF'
p-dialer-1    | {"handshakePlusOneRTTMillis":1.5,"pingRTTMillis":0.2}
EOF
rule harness_json fail "a nested object" <<'EOF'
p-dialer-1    | {"handshakePlusOneRTTMillis":1.5,"pingRTTMilllis":0.2,"x":{"y":1}}
EOF
rule harness_yaml ok "the latency block among debug lines" <<'EOF'
p_dialer_1  | [noise] handshake done
p_dialer_1  | latency:
p_dialer_1  |   handshake_plus_one_rtt: 5.011
p_dialer_1  | [ping] rtt measured
p_dialer_1  |   ping_rtt: 0.599
p_dialer_1  |   unit: ms
EOF
rule harness_yaml fail "no unit" <<'EOF'
p_dialer_1  | latency:
p_dialer_1  |   handshake_plus_one_rtt: 5.011
p_dialer_1  |   ping_rtt: 0.599
EOF
rule harness_yaml fail "fields at the wrong indent" <<'EOF'
p_dialer_1  | latency:
p_dialer_1  | handshake_plus_one_rtt: 5.011
p_dialer_1  |   ping_rtt: 0.599
p_dialer_1  |   unit: ms
EOF
rule harness_yaml fail "the block on the listener's lines" <<'EOF'
p_listener_1  | latency:
p_listener_1  |   handshake_plus_one_rtt: 5.011
p_listener_1  |   ping_rtt: 0.599
p_listener_1  |   unit: ms
EOF
say "harness result rules (test-plans JSON, unified-testing YAML): ok"

# The binary agrees with the capabilities listed: config is checked before
# anything touches the network, so a bad is_dialer shows the stack passed.
pick_binary
probe() {
  env -i transport="$1" security="$2" muxer="$3" is_dialer=probe "$BIN" 2>&1 >/dev/null || true
}
for t in tcp ws wss; do
  for s in noise tls plaintext; do
    for m in yamux mplex; do
      msg=$(probe "$t" "$s" "$m")
      [[ $msg == *"is_dialer must be true or false"* ]] || die "binary refuses $t/$s/$m: $msg"
    done
  done
done
# quic-v1 reads neither security nor muxer.
msg=$(probe quic-v1 - -)
[[ $msg == *"is_dialer must be true or false"* ]] || die "binary refuses quic-v1: $msg"
for bad in "udp noise yamux" "tcp secio yamux" "tcp noise quic"; do
  # shellcheck disable=SC2086
  msg=$(probe $bad)
  [[ $msg == *unsupported* ]] || die "binary accepts $bad, which is not registered: $msg"
done
say "binary capabilities match the registration: ok"

# The binary maps GnuTLS only through its module (src/gnutls_module.h).
MOD=$BIN-gnutls.so
NEEDED=$(LC_ALL=C readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | xargs)
[[ " $NEEDED " != *" libgnutls"* && " $NEEDED " != *" libngtcp2"* ]] \
  || die "$BIN links GnuTLS or ngtcp2 itself (NEEDED: $NEEDED): they belong in its module"
[[ -f $MOD ]] || die "no GnuTLS module beside the binary ($MOD)"
exports=$(LC_ALL=C nm -D --defined-only "$MOD" | awk '{print $3}' | xargs)
[[ $exports == lp2p_gnutls_module ]] || die "$MOD must export only lp2p_gnutls_module, not: $exports"
LC_ALL=C readelf -d "$MOD" | grep -q 'NEEDED.*libgnutls' || die "$MOD does not link GnuTLS"
say "GnuTLS module: binary NEEDED $NEEDED; $(basename "$MOD") exports lp2p_gnutls_module: ok"
