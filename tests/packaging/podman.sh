#!/usr/bin/env bash
# The image and both harness topologies in a real container engine (podman,
# run as root, configured only by tests/packaging/containers.conf through
# CONTAINERS_CONF; /etc is never changed):
#
# 1. Base images, made locally (no registry is reachable): debian:12 is the
#    cached debootstrapped Debian 12 root (lib.sh ensure_debian_root) with
#    this machine's mirrors in its sources.list, `podman import`ed (again
#    only when the root or the sources change); redis:7-alpine is the
#    stand-in built FROM it (tests/packaging/redis-standin: Debian's
#    redis-server, protected mode off).
# 2. Every image the unchanged Dockerfile makes, built with `podman build`:
#    the default (last) stage as lp2p-interop, which compose.yml names, and
#    every other stage nothing else builds FROM or copies from (e.g. a perf
#    target) as lp2p-interop-<stage>. Each one's size, from `podman image
#    inspect`, is printed and must stay under 25 MiB. Then the build
#    stage's test_keys (RSA/ECDSA verification through GnuTLS, which no
#    container run below exercises) runs inside the runtime image, and the
#    image's binary and its GnuTLS module are copied to build-packaging/
#    for static.sh and unified.sh.
# 3. test-plans topology: the unchanged compose.yml (per-test redis,
#    listener with init, dialer; `up --exit-code-from dialer`) for every
#    transport/security/muxer combination interop/test-plans/
#    versionsInput.entry.json registers. The dialer must exit 0, the
#    listener must still be up, the compose-style log must give the result
#    by test-plans' rule (compose-stdout-helper.ts: dialer lines with "|",
#    the first {...} holding both keys), the dialer's stdout must be exactly
#    that one JSON line, and the listener must exit 0 on `podman stop`.
# 4. unified-testing topology: one shared redis on one network, and
#    compose.unified.yml run for every combination
#    interop/unified-testing/images.entry.yaml registers, twice each, all at
#    once, one project and TEST_KEY (8 hex of sha256 of the test name, as
#    the harness does) per test. Checks as above, with unified-testing's
#    rule (run-single-test.sh: dialer lines matching `latency:` and its
#    three fields, which must then be the YAML block), and every key taken.
#    The second copy of each runs with DEBUG=true: its listener must have
#    published its own container address (/ip4/<ip>/.../p2p/<id>).
# 5. Redis late: redis's container is up but listens only 3 s after the
#    listener and dialer containers start (compose's depends_on does not
#    wait for redis to listen); both must retry and pass.
#
# Everything it creates is named lp2ppkg<pid>...; a trap removes those
# containers and networks (and stops the podman-compose process groups it
# started) on any exit, and the test fails if any is left. Images stay, as
# a build cache.
# Needs root, podman, podman-compose, runc, netavark/aardvark-dns and
# catatonit (scripts/install-deps.sh). Without them: skip (exit 77), or fail
# under CI=true.
set -euo pipefail
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
for tool in podman podman-compose runc python3; do
  command -v "$tool" >/dev/null || need "$tool not installed (scripts/install-deps.sh)"
done
python3 -c 'import yaml' 2>/dev/null || need "python3-yaml not installed (scripts/install-deps.sh)"
export CONTAINERS_CONF=$PKG_ROOT/tests/packaging/containers.conf
[[ -x /usr/libexec/podman/catatonit ]] || need "catatonit not installed (init: true; scripts/install-deps.sh)"
command -v netavark >/dev/null || [[ -x /usr/lib/podman/netavark ]] || need "netavark not installed (scripts/install-deps.sh)"

MAX_IMAGE_BYTES=$((25 * 1024 * 1024))
TAG=lp2ppkg$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lp2p-podman.XXXXXX")
PROJECTS=() NETWORKS=() CONTAINERS=()
# Process groups of the podman-compose runs (appended from subshells too).
PGID_FILE=$WORK/pgids
: >"$PGID_FILE"

# ---- cleanup: everything named $TAG*, whatever happened
remove_project() {  # PROJECT: its containers (short stop) and its network
  local p=$1 ids
  ids=$(podman ps -a -q --filter "label=io.podman.compose.project=$p" 2>/dev/null || true)
  # shellcheck disable=SC2086
  [[ -z $ids ]] || podman rm -f -t 2 $ids >/dev/null 2>&1 || true
  podman network rm -f "${p}_default" >/dev/null 2>&1 || true
}
cleanup() {
  local rc=$? p n left
  trap - EXIT INT TERM
  for p in "${PROJECTS[@]}"; do remove_project "$p"; done
  for n in "${CONTAINERS[@]}"; do podman rm -f -t 2 "$n" >/dev/null 2>&1 || true; done
  for n in "${NETWORKS[@]}"; do podman network rm -f "$n" >/dev/null 2>&1 || true; done
  # podman-compose leaves `podman start -a` children behind: their process
  # groups are ours (each run got its own), ended by group id, and only
  # while the group still holds those commands.
  while read -r p; do
    if ps -eo pgid=,comm= | awk -v g="$p" '$1 == g {print $2}' | grep -qE '^(timeout|podman|podman-compose|python3)$'; then
      kill -TERM -- "-$p" 2>/dev/null || true
    fi
  done <"$PGID_FILE"
  left=$(podman ps -a --format '{{.Names}}' | grep "^$TAG" || true)
  left+=$(podman network ls --format '{{.Name}}' | grep "^$TAG" || true)
  if [[ -n $left ]]; then
    say "FAIL: left behind: $(echo $left)"
    rc=1
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

podman_info=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.NetworkBackend}}') \
  || need "podman does not work here (podman info failed)"
say "podman $(podman version --format '{{.Client.Version}}'): runtime/cgroups/network: $podman_info"

# ---- 1. base images
ensure_debian_root
# The imported root is labelled with what it was made from, so a warm run
# reuses it (and with it podman's build cache).
mkdir -p "$WORK/over/etc/apt/apt.conf.d"
debian_sources >"$WORK/over/etc/apt/sources.list"
[[ -z $APT_PROXY ]] || echo "Acquire::http::Proxy \"$APT_PROXY\";" >"$WORK/over/etc/apt/apt.conf.d/01proxy"
ROOT_ID=$({ cat "$BASE/var/lib/dpkg/status" "$WORK/over/etc/apt/sources.list"; echo "$APT_PROXY"; } \
  | sha256sum | cut -c1-16)
have=$(podman image inspect -f '{{index .Config.Labels "org.lp2p.debootstrap"}}' \
  docker.io/library/debian:12 2>/dev/null || true)
if [[ $have == "$ROOT_ID" ]]; then
  say "debian:12: the imported cached root ($ROOT_ID)"
else
  say "debian:12: podman import of $BASE ($ROOT_ID)"
  # The root as a tar, with this machine's sources.list (and apt proxy) and
  # without the .debs debootstrap left in apt's cache.
  python3 - "$BASE" "$WORK/over" <<'PYEOF' | podman import -q \
      --change "LABEL org.lp2p.debootstrap=$ROOT_ID" --change 'CMD ["bash"]' \
      - docker.io/library/debian:12 >/dev/null
import os, sys, tarfile
base, over = sys.argv[1:]
replaced = set()
for d, _, files in os.walk(over):
    replaced |= {os.path.relpath(os.path.join(d, f), over) for f in files}
def keep(ti):
    name = os.path.normpath(ti.name)
    if name in replaced:
        return None
    if name.startswith("var/cache/apt/archives/") and name.endswith(".deb"):
        return None
    return ti
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as t:
    t.add(base, arcname=".", filter=keep)
    for name in sorted(replaced):
        t.add(os.path.join(over, name), arcname=name)
PYEOF
fi
flock -u 9
CONTAINERS+=("$TAG-check")
podman run --rm --name "$TAG-check" docker.io/library/debian:12 grep -q "^deb .* $SUITE main" /etc/apt/sources.list \
  || die "the imported debian:12 does not start or lacks its sources.list"

say "redis:7-alpine: stand-in from tests/packaging/redis-standin"
podman build --force-rm -t docker.io/library/redis:7-alpine "$PKG_ROOT/tests/packaging/redis-standin" \
  >"$WORK/redis-build.log" 2>&1 || { dump "$WORK/redis-build.log"; die "building the redis stand-in failed"; }

# ---- 2. the Dockerfile's images
# Final images: the last stage (what `docker build .` and compose build),
# and every named stage no other stage uses.
mapfile -t EXTRA_TARGETS < <(python3 - "$PKG_ROOT/Dockerfile" <<'PYEOF'
import re, sys
df = open(sys.argv[1]).read()
stages = re.findall(r"(?im)^FROM\s+\S+(?:\s+AS\s+(\S+))?", df)
used = set(re.findall(r"(?im)^FROM\s+(\S+)", df)) | set(re.findall(r"--from=(\S+)", df))
for name in stages[:-1]:
    if name and name not in used:
        print(name)
PYEOF
)
IMAGES=(lp2p-interop)
build_image() {  # TAG [TARGET]
  local tag=$1 target=${2:-} args=(--force-rm -t "$1" -f "$PKG_ROOT/Dockerfile")
  [[ -z $target ]] || args+=(--target "$target")
  say "podman build ${target:+--target $target }-t $tag . (first build: apt and the release build, minutes)"
  local start=$SECONDS
  podman build "${args[@]}" "$PKG_ROOT" >"$WORK/build-$tag.log" 2>&1 \
    || { tail -n 40 "$WORK/build-$tag.log" >&2; die "podman build of $tag failed"; }
  grep -E 'tests passed|build-release: ok|make-rootfs: size' "$WORK/build-$tag.log" | sed 's/^/  /' >&2 || true
  say "built $tag in $((SECONDS - start)) s"
}
build_image lp2p-interop
for t in "${EXTRA_TARGETS[@]}"; do
  build_image "lp2p-interop-$t" "$t"
  IMAGES+=("lp2p-interop-$t")
done
for img in "${IMAGES[@]}"; do
  size=$(podman image inspect -f '{{.Size}}' "$img")
  echo "image size: $img $size bytes ($(python3 -c "print('%.1f' % ($size / 1048576))") MiB; limit $MAX_IMAGE_BYTES)"
  ((size < MAX_IMAGE_BYTES)) || die "image $img is $size bytes, not under 25 MiB"
done

# ---- 2b. GnuTLS in the runtime image: no container run verifies RSA or
# ECDSA signatures (our peers here use secp256k1 and ed25519 keys), so the
# build stage's test_keys (RSA/ECDSA vectors checked through GnuTLS) runs
# in the runtime image, which has no trust store and no GnuTLS or p11-kit
# configuration. It may bring only what the image lacks and GnuTLS is not.
BUILD_STAGE=$(podman build -q --force-rm --target build -f "$PKG_ROOT/Dockerfile" "$PKG_ROOT" 2>"$WORK/build-stage.log") \
  || { dump "$WORK/build-stage.log"; die "podman build --target build failed"; }
CONTAINERS+=("$TAG-stage" "$TAG-rt" "$TAG-ldd" "$TAG-keys")
podman create -q --name "$TAG-stage" "$BUILD_STAGE" >/dev/null
podman create -q --name "$TAG-rt" lp2p-interop >/dev/null
mkdir -p "$WORK/keys" "$PKG_OUT"
podman cp "$TAG-stage:/build/test_keys" "$WORK/keys/test_keys"
# The image's own binary and its GnuTLS module beside it (the binary opens
# its own path plus -gnutls.so), for the loopback tests (unified.sh,
# static.sh).
podman cp "$TAG-rt:/usr/local/bin/lp2p-interop" "$PKG_OUT/lp2p-interop.new"
podman cp "$TAG-rt:/usr/local/bin/lp2p-interop-gnutls.so" "$PKG_OUT/lp2p-interop-gnutls.so.new"
mv "$PKG_OUT/lp2p-interop-gnutls.so.new" "$PKG_OUT/lp2p-interop-gnutls.so"
mv "$PKG_OUT/lp2p-interop.new" "$PKG_OUT/lp2p-interop"
RT_FILES=$(podman export "$TAG-rt" | tar -t | sed 's|^\./||; s|^|/|')
podman rm "$TAG-rt" >/dev/null
mounts=() added=()
while read -r lib real; do
  grep -qxF "$lib" <<<"$RT_FILES" && continue
  podman cp "$TAG-stage:$real" "$WORK/keys/$(basename "$lib")"
  mounts+=(-v "$WORK/keys/$(basename "$lib"):$lib:ro")
  added+=("$(basename "$lib")")
done < <(podman run --rm --name "$TAG-ldd" "$BUILD_STAGE" sh -c \
  'for l in $(ldd /build/test_keys | awk '"'"'$2 == "=>" && $3 ~ /^\// {print $3}'"'"'); do echo "$l $(readlink -f "$l")"; done')
podman rm "$TAG-stage" >/dev/null
[[ " ${added[*]} " != *gnutls* && " ${added[*]} " != *p11-kit* ]] \
  || die "test_keys needed GnuTLS libraries the runtime image lacks: ${added[*]}"
podman run --rm --name "$TAG-keys" --entrypoint /build/test_keys \
  -v "$WORK/keys/test_keys:/build/test_keys:ro" -v "$PKG_ROOT/tests/vectors:/src/tests/vectors:ro" \
  "${mounts[@]}" lp2p-interop >"$WORK/keys.log" 2>&1 \
  || { dump "$WORK/keys.log"; die "test_keys fails in the runtime image (GnuTLS)"; }
echo "PASS podman gnutls: test_keys (RSA/ECDSA verification) in the runtime image (+${added[*]:-nothing})"

# ---- running compose
# combos FILE: "transport security muxer" lines from a registration file
# (test-plans JSON or unified-testing YAML): every transport x security x
# muxer, "- -" for transports that bring their own (quic-v1, webtransport,
# webrtc*), as both harnesses generate their tests.
combos() {
  python3 - "$1" <<'PYEOF'
import json, sys, yaml
path = sys.argv[1]
if path.endswith(".json"):
    e = json.load(open(path))
else:
    e = yaml.safe_load(open(path))["implementations"][0]
standalone = {"quic", "quic-v1", "webtransport", "webrtc", "webrtc-direct"}
for t in e["transports"]:
    if t in standalone:
        print(t, "-", "-")
        continue
    for s in e["secureChannels"]:
        for m in e["muxers"]:
            print(t, s, m)
PYEOF
}

# compose_up PROJECT FILE LOG: `podman-compose up --exit-code-from dialer` in
# a process group of its own (so what it leaves running can be ended by
# group id); stdin from /dev/null and output to LOG (it leaves children
# holding its stdout). Environment from the caller. Sets UP_PID.
compose_up() {
  PROJECTS+=("$1")
  setsid timeout -k 10 300 podman-compose -p "$1" -f "$2" up --no-build --exit-code-from dialer \
    </dev/null >"$3" 2>&1 &
  UP_PID=$!
  echo "$UP_PID" >>"$PGID_FILE"
}

# compose_log PROJECT OUT: every container's output (stdout and stderr) as
# docker compose prints it, "<container> | <line>".
compose_log() {
  local c
  : >"$2"
  for c in $(podman ps -a --filter "label=io.podman.compose.project=$1" --format '{{.Names}}'); do
    podman logs "$c" 2>&1 | sed "s/^/$c  | /" >>"$2"
  done
}

# finish PROJECT UPRC KIND: the checks common to both topologies (the caller
# removes the project). KIND json|yaml picks the harness's parsing rule
# (lib.sh harness_json / harness_yaml).
finish() {
  local p=$1 uprc=$2 kind=$3 d=${1}_dialer_1 l=${1}_listener_1 drc lstate res
  compose_log "$p" "$WORK/$p.log"
  podman logs "$d" >"$WORK/$p.stdout" 2>/dev/null || true
  drc=$(podman inspect -f '{{.State.ExitCode}}' "$d" 2>/dev/null || echo none)
  lstate=$(podman inspect -f '{{.State.Status}}' "$l" 2>/dev/null || echo none)
  if [[ $uprc != 0 || $drc != 0 ]]; then
    dump "$WORK/$p.up.log" "$WORK/$p.log"
    die "$p: podman-compose up exited $uprc, the dialer $drc"
  fi
  [[ $lstate == running ]] || { dump "$WORK/$p.log"; die "$p: the listener is $lstate after the dialer exited (must serve until stopped)"; }
  if [[ $kind == json ]]; then
    res=$(harness_json "$WORK/$p.log" 2>&1) || { dump "$WORK/$p.log"; die "$p: test-plans rule: $res"; }
    local strict
    strict=$(check_json "$WORK/$p.stdout" 2>&1) || die "$p: dialer stdout: $strict"
  else
    res=$(harness_yaml "$WORK/$p.log" 2>&1) || { dump "$WORK/$p.log"; die "$p: unified-testing rule: $res"; }
    local strict
    strict=$(check_yaml "$WORK/$p.stdout" 2>&1) || die "$p: dialer stdout: $strict"
  fi
  # compose stops the listener with SIGTERM (through init): prompt, exit 0.
  podman stop -t 10 "$l" >/dev/null
  local lrc
  lrc=$(podman inspect -f '{{.State.ExitCode}}' "$l")
  [[ $lrc == 0 ]] || { dump "$WORK/$p.log"; die "$p: the listener exited $lrc on SIGTERM (want 0)"; }
  RESULT=$res
}

# check_published LISTENER: with debug output on, the listener says what it
# published: it must be /ip4/<its own address on the network>/<transport
# part>/p2p/<id>, never 0.0.0.0 or a loopback address.
check_published() {
  local ip line
  ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{print $1}')
  line=$(podman logs "$1" 2>&1 | grep -o 'published /ip4/[^ ]*' | head -n 1 || true)
  [[ -n $line ]] || die "$1: no 'published' line in the listener's debug output"
  [[ ${line#published } =~ ^/ip4/${ip//./\\.}/.+/p2p/[1-9A-HJ-NP-Za-km-z]+$ ]] \
    || die "$1: $line, want /ip4/$ip/.../p2p/<id> (the container's own address)"
  PUBLISHED=${line#published }
}

# ---- 3. test-plans: compose.yml, unchanged, once per combination
mapfile -t TP < <(combos "$PKG_ROOT/interop/test-plans/versionsInput.entry.json")
((${#TP[@]})) || die "no combinations in interop/test-plans/versionsInput.entry.json"
n=0
for combo in "${TP[@]}"; do
  read -r tr sec mux <<<"$combo"
  n=$((n + 1)); p=${TAG}tp$n
  say "test-plans $tr/$sec/$mux: podman-compose -p $p -f compose.yml up --exit-code-from dialer"
  env_args=(transport="$tr" test_timeout_seconds=120)
  # compose.yml has defaults for security and muxer; standalone transports
  # get them too (the harness itself would leave them out).
  [[ $sec == - ]] || env_args+=(security="$sec")
  [[ $mux == - ]] || env_args+=(muxer="$mux")
  (unset security muxer; export "${env_args[@]}"; compose_up "$p" "$PKG_ROOT/compose.yml" "$WORK/$p.up.log"; wait "$UP_PID") \
    && rc=0 || rc=$?
  PROJECTS+=("$p")
  finish "$p" "$rc" json
  echo "PASS podman test-plans compose.yml $tr/$sec/$mux $RESULT"
  remove_project "$p"
done

# ---- 4. unified-testing: one shared redis, every test at once
NET=${TAG}-transport-network REDIS=${TAG}-transport-redis
NETWORKS+=("$NET"); CONTAINERS+=("$REDIS")
podman network create "$NET" >/dev/null
podman run -d --rm --name "$REDIS" --network "$NET" docker.io/library/redis:7-alpine \
  redis-server --save "" --appendonly no >/dev/null 2>"$WORK/shared-redis.err"
for _ in $(seq 1 50); do
  [[ $(podman exec "$REDIS" redis-cli ping 2>/dev/null) == PONG ]] && break
  sleep 0.2
done
[[ $(podman exec "$REDIS" redis-cli ping 2>/dev/null) == PONG ]] || die "shared redis did not come up"
rcli() { podman exec "$REDIS" redis-cli "$@"; }

mapfile -t UT < <(combos "$PKG_ROOT/interop/unified-testing/images.entry.yaml")
((${#UT[@]})) || die "no combinations in interop/unified-testing/images.entry.yaml"
declare -A UPIDS=() UPRC=() KEYS=() NAMES=()
n=0
for combo in "${UT[@]}"; do
  read -r tr sec mux <<<"$combo"
  for copy in 1 2; do
    n=$((n + 1)); p=${TAG}ut$n
    name="c-lp2p-v0.1 x c-lp2p-v0.1 ($tr, $sec, $mux) #$copy"
    key=$(printf '%s' "$name" | sha256sum | cut -c1-8)
    NAMES[$p]="$tr/$sec/$mux #$copy"; KEYS[$p]=$key
    (
      unset SECURE_CHANNEL MUXER
      # The second copy with DEBUG=true: its listener says what it published,
      # and the dialer's debug lines must stay off the result.
      export TRANSPORT="$tr" TEST_KEY="$key" TRANSPORT_NETWORK="$NET" REDIS_ADDR="$REDIS:6379" \
        DEBUG=$([[ $copy == 2 ]] && echo true || echo false) TEST_TIMEOUT_SECS=120
      [[ $sec == - ]] || export SECURE_CHANNEL="$sec"
      [[ $mux == - ]] || export MUXER="$mux"
      compose_up "$p" "$PKG_ROOT/compose.unified.yml" "$WORK/$p.up.log"
      wait "$UP_PID"
    ) &
    UPIDS[$p]=$!
    PROJECTS+=("$p")
  done
done
say "unified-testing: ${#UPIDS[@]} tests at once through $REDIS on $NET"
for p in $(printf '%s\n' "${!UPIDS[@]}" | sort); do
  rc=0; wait "${UPIDS[$p]}" || rc=$?
  UPRC[$p]=$rc
done
for p in $(printf '%s\n' "${!UPIDS[@]}" | sort); do
  extra=
  if [[ ${NAMES[$p]} == *"#2" ]]; then
    check_published "${p}_listener_1"
    extra=" (DEBUG=true, published $PUBLISHED)"
  fi
  finish "$p" "${UPRC[$p]}" yaml
  echo "PASS podman unified-testing compose.unified.yml ${NAMES[$p]} TEST_KEY=${KEYS[$p]} $RESULT$extra"
done
for p in "${!UPIDS[@]}"; do
  [[ $(rcli exists "${KEYS[$p]}_listener_multiaddr") == 0 ]] || die "$p: ${KEYS[$p]}_listener_multiaddr left in redis (each dialer takes its own)"
  remove_project "$p"
done
[[ $(rcli exists listenerAddr) == 0 ]] || die "a unified-mode listener published under the test-plans key listenerAddr"

# ---- 5. redis not ready yet: compose's depends_on waits for the redis
# container to start, not for redis to listen. Here redis's container (and
# its name) is up but the server listens only 3 s later, while listener and
# dialer start at once: both must retry until it answers.
NET=${TAG}-late-network L=${TAG}-late-listener D=${TAG}-late-dialer R=${TAG}-late-redis
NETWORKS+=("$NET"); CONTAINERS+=("$L" "$D" "$R")
podman network create "$NET" >/dev/null
podman run -d --name "$R" --network "$NET" --network-alias redis docker.io/library/redis:7-alpine \
  sh -c 'sleep 3; exec redis-server --protected-mode no --save "" --appendonly no' >/dev/null 2>"$WORK/late.err"
tp_env=(-e transport=tcp -e security=noise -e muxer=yamux -e ip=0.0.0.0 -e redis_addr=redis:6379
  -e test_timeout_seconds=120 -e LIBP2P_DEBUG=1)
podman run -d --init --name "$L" --network "$NET" "${tp_env[@]}" -e is_dialer=false lp2p-interop >/dev/null 2>>"$WORK/late.err"
podman run -d --name "$D" --network "$NET" "${tp_env[@]}" -e is_dialer=true lp2p-interop >/dev/null 2>>"$WORK/late.err"
rc=$(timeout 150 podman wait "$D" 2>>"$WORK/late.err" || echo timeout)
podman logs "$D" >"$WORK/late.out" 2>"$WORK/late-dialer.err" || true
[[ $rc == 0 ]] || { podman logs "$L" >"$WORK/late-listener.err" 2>&1; dump "$WORK/late-listener.err" "$WORK/late-dialer.err" "$WORK/late.err"; die "redis late: the dialer exited $rc"; }
RES=$(check_json "$WORK/late.out" 2>&1) || die "redis late: dialer stdout: $RES"
[[ $(podman inspect -f '{{.State.Status}}' "$L") == running ]] || die "redis late: the listener exited before the dialer was done"
check_published "$L"
podman stop -t 10 "$L" >/dev/null
[[ $(podman inspect -f '{{.State.ExitCode}}' "$L") == 0 ]] || die "redis late: the listener did not exit 0 on SIGTERM"
echo "PASS podman redis-late (listening 3 s after the peers start) tcp/noise/yamux $RES (LIBP2P_DEBUG=1, published $PUBLISHED)"
say "ok"
