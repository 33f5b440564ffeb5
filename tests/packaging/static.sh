#!/usr/bin/env bash
# Static checks of the packaging files, no network, no root:
# - Dockerfile: the build stage installs scripts/build-packages.txt and runs
#   scripts/build-release.sh then scripts/make-rootfs.sh /rootfs (what
#   image.sh replays), the runtime stage is FROM scratch, copies only that
#   /rootfs and has the binary as ENTRYPOINT;
# - compose.yml: the harness's wiring (redis:7-alpine, listener with init,
#   dialer, lowercase env, working defaults), through `docker compose
#   config` / `docker-compose config` too when one is installed;
# - .github/workflows/interop.yml: the matrix covers the registered muxers;
# - interop/: the registration entries list exactly tcp / noise / yamux,mplex,
#   and the binary accepts each listed capability and refuses others.
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
stages = re.split(r"(?m)^FROM ", df)[1:]
if len(stages) != 3:
    fail("Dockerfile: want three stages (build, perf, runtime last), got %d" % len(stages))
build, perf, runtime = stages
if not re.match(r"scratch AS perf\n", perf) or \
        re.findall(r"(?m)^COPY .*", perf) != ["COPY --from=build /rootfs /"] or \
        'ENTRYPOINT ["/usr/local/bin/lp2p-interop", "perf"]' not in perf:
    fail("Dockerfile: the perf stage must be the runtime root with `lp2p-interop perf` as entrypoint")
if not build.startswith("debian:12 AS build"):
    fail("Dockerfile: build stage must be FROM debian:12 AS build")
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
          "libprotobuf-c-dev", "libgnutls28-dev", "protobuf-c-compiler", "cmake", "gcc"):
    if p not in pkgs:
        fail("scripts/build-packages.txt lacks %s" % p)

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

# ---- registration
CAPS = {"transports": ["tcp"], "secureChannels": ["noise"], "muxers": ["yamux", "mplex"]}
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
if m.get("transport") != CAPS["transports"] or m.get("security") != CAPS["secureChannels"] \
        or sorted(m.get("muxer", [])) != sorted(CAPS["muxers"]):
    fail("interop.yml matrix %r does not match the capabilities %r" % (m, CAPS))
if "bash .ci/run" not in json.dumps(w["jobs"]):
    fail("interop.yml: no job runs bash .ci/run")
print("static: Dockerfile, compose.yml, workflow, registration ok")
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
  say "${DC[*]} config: ok"
else
  say "no docker compose here: YAML checks only"
fi

# The binary agrees with the capabilities listed: config is checked before
# anything touches the network, so a bad is_dialer shows the stack passed.
pick_binary
probe() {
  env -i transport="$1" security="$2" muxer="$3" is_dialer=probe "$BIN" 2>&1 >/dev/null || true
}
for m in yamux mplex; do
  msg=$(probe tcp noise "$m")
  [[ $msg == *"is_dialer must be true or false"* ]] || die "binary refuses tcp/noise/$m: $msg"
done
for bad in "ws noise yamux" "tcp tls yamux" "tcp noise quic"; do
  # shellcheck disable=SC2086
  msg=$(probe $bad)
  [[ $msg == *unsupported* ]] || die "binary accepts $bad, which is not registered: $msg"
done
say "binary capabilities match the registration: ok"
