#!/usr/bin/env bash
# Proves the Docker image without Docker.
#
# 1. Build stage: a clean Debian 12 root (debootstrap, cached under
#    $LP2P_DEBOOTSTRAP_CACHE, default /var/cache/lp2p-debootstrap; the cache
#    itself is never modified: each run works on an overlay of it), the
#    packages of scripts/build-packages.txt, then exactly
#    scripts/build-release.sh and scripts/make-rootfs.sh /rootfs on the
#    source tree mounted read-only — the Dockerfile's build stage step for
#    step.
# 2. Runtime stage: that /rootfs, copied out: the runtime stage is FROM
#    scratch plus that directory, so this is the image's whole filesystem
#    (its size is checked against 25 MiB). Only /etc/hosts is added, as the
#    container runtime does.
# 3. A listener and a dialer, both chroot'ed into that root with only the
#    harness environment (env -i), ping through a redis-server on a free
#    loopback port, found by name (localhost) through the root's /etc/hosts;
#    the dialer's JSON is checked, for both muxers.
# 4. GnuTLS in that root (no trust store, no p11-kit or GnuTLS config): the
#    build's test_keys (RSA and ECDSA vectors verified through GnuTLS) runs
#    chroot'ed into a scratch copy of the root plus the test, its vectors
#    and libcmocka.
#
# Leaves build-packaging/lp2p-interop and build-packaging/rootfs/ (override
# with LP2P_PACKAGING_OUT) for netns.sh and unified.sh.
# Needs root. Without root or tools: skip (exit 77), or fail under CI=true.
set -euo pipefail
# shellcheck source=tests/packaging/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
command -v chroot >/dev/null || need "chroot not found"
command -v python3 >/dev/null || need "python3 not found"
find_redis
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
    || need "debootstrap not installed and apt-get install failed"
fi

mkdir -p "$PKG_OUT"
# The clean Debian 12 root (debootstrapped once, cached) and the mirror of
# this machine's apt sources; leaves the cache lock (fd 9) held.
ensure_debian_root

# ---- a throwaway root on top of it
WORK=$(mktemp -d /var/tmp/lp2p-image.XXXXXX)
R=$WORK/root
MOUNTS=()
REDIS_PID= LISTENER_PID=
cleanup() {
  local rc=$? m i
  stop_pids $LISTENER_PID $REDIS_PID
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${MOUNTS[i]}
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
  done
  if ! findmnt -rn -o TARGET | grep -q "^$WORK"; then rm -rf "$WORK"; else say "left $WORK (still mounted)"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mnt() { mount "$@"; MOUNTS+=("${@: -1}"); }

mkdir -p "$WORK"/{upper,ovlwork} "$R"
if mnt -t overlay overlay -o "lowerdir=$BASE,upperdir=$WORK/upper,workdir=$WORK/ovlwork" "$R" 2>/dev/null; then
  say "work root: overlay on the cache"
else
  say "overlayfs unavailable: copying the cached root"
  cp -a "$BASE/." "$R/"
fi
flock -u 9

# What the debian:12 image's apt uses: main, updates, security.
debian_sources >"$R/etc/apt/sources.list"
rm -f "$R"/etc/apt/sources.list.d/*
[[ -z ${APT_PROXY:-} ]] || echo "Acquire::http::Proxy \"$APT_PROXY\";" >"$R/etc/apt/apt.conf.d/01proxy"
cp -L /etc/resolv.conf "$R/etc/resolv.conf"

mkdir -p "$R/src" "$R/var/cache/apt/archives"
mnt -t proc proc "$R/proc"
mnt --bind /dev "$R/dev"
mnt --bind "$DEB_CACHE/apt-archives" "$R/var/cache/apt/archives"
mnt --bind "$PKG_ROOT" "$R/src"
mount -o remount,bind,ro "$R/src"

in_root() {
  chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# ---- build stage, as in the Dockerfile
PKGS=$(sed 's/#.*//' "$PKG_ROOT/scripts/build-packages.txt" | xargs)
say "chroot: apt-get install $PKGS"
in_root apt-get update -qq >"$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get update in the chroot failed"; }
# shellcheck disable=SC2086
in_root apt-get install -y -qq --no-install-recommends $PKGS >>"$WORK/apt.log" 2>&1 \
  || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get install in the chroot failed"; }
say "chroot: BUILD_DIR=/build scripts/build-release.sh && scripts/make-rootfs.sh /rootfs /build/lp2p-interop"
in_root /bin/sh -c 'cd /src && BUILD_DIR=/build scripts/build-release.sh && scripts/make-rootfs.sh /rootfs /build/lp2p-interop' \
  >"$WORK/build.log" 2>&1 \
  || { tail -n 40 "$WORK/build.log" >&2; die "scripts/build-release.sh or scripts/make-rootfs.sh failed in the chroot"; }
grep -E 'tests passed|build-release: ok|make-rootfs:' "$WORK/build.log" | sed 's/^/  /' >&2
cp "$R/build/lp2p-interop" "$PKG_OUT/lp2p-interop.new"
mv "$PKG_OUT/lp2p-interop.new" "$PKG_OUT/lp2p-interop"

# ---- runtime stage: the root make-rootfs.sh assembled, as is
RT=$PKG_OUT/rootfs
rm -rf "$RT"
cp -a "$R/rootfs" "$RT"
BIN_BYTES=$(stat -c %s "$RT/usr/local/bin/lp2p-interop")
RT_BYTES=$(du -sb "$RT" | cut -f1)
say "runtime root = image: $(du -sh "$RT" | cut -f1) ($RT_BYTES bytes; binary $BIN_BYTES bytes)"
(( RT_BYTES < 25 * 1024 * 1024 )) || die "runtime root is over 25 MiB"
# What the container runtime mounts in (the root itself has no /etc/hosts).
[[ ! -e $RT/etc/hosts ]] || die "make-rootfs.sh put an /etc/hosts in the root"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$RT/etc/hosts"
chroot "$RT" /usr/local/bin/lp2p-interop --help >/dev/null || die "binary does not start in the runtime root"

# ---- GnuTLS works in that root: RSA/ECDSA verification (test_keys)
KR=$WORK/keys-root
cp -a "$RT" "$KR"
mkdir -p "$KR/build" "$KR/src/tests"
cp "$R/build/test_keys" "$KR/build/test_keys"
cp -a "$PKG_ROOT/tests/vectors" "$KR/src/tests/vectors"
added=()
for lib in $(in_root ldd /build/test_keys | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
  [[ -e $KR$lib ]] && continue
  mkdir -p "$KR$(dirname "$lib")"
  cp -L "$R$lib" "$KR$lib"
  added+=("$(basename "$lib")")
done
[[ " ${added[*]} " != *gnutls* && " ${added[*]} " != *p11-kit* ]] || die "test_keys needed GnuTLS libraries the root lacks: ${added[*]}"
env -i PATH=/usr/bin:/bin "$(command -v chroot)" "$KR" /build/test_keys >"$WORK/keys.log" 2>&1 \
  || { tail -n 30 "$WORK/keys.log" >&2; die "test_keys fails in the runtime root (GnuTLS)"; }
rm -rf "$KR"
echo "PASS image gnutls: test_keys (RSA/ECDSA verification) in the runtime root (+${added[*]:-nothing})"

# ---- a ping from the runtime root
for _ in 1 2 3 4 5; do
  PORT=$(free_port)
  "$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
    >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 50); do
    [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break 2
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  stop_pids "$REDIS_PID"; REDIS_PID=
done
[[ -n $REDIS_PID ]] || die "could not start redis-server"

CHROOT=$(command -v chroot)
# run_image ROLE MUXER: the image's entrypoint with only the harness env.
# Run it in a subshell or in the background (it execs).
run_image() {
  exec timeout -k 5 40 env -i transport=tcp security=noise muxer="$2" is_dialer="$1" \
    ip=127.0.0.1 redis_addr="localhost:$PORT" test_timeout_seconds=30 \
    "$CHROOT" "$RT" /usr/local/bin/lp2p-interop
}

for muxer in yamux mplex; do
  redis-cli -p "$PORT" del listenerAddr >/dev/null
  run_image false "$muxer" >"$WORK/listener.out" 2>"$WORK/listener.err" </dev/null &
  LISTENER_PID=$!
  rc=0
  (run_image true "$muxer") >"$WORK/dialer.out" 2>"$WORK/dialer.err" </dev/null || rc=$?
  if [[ $rc != 0 ]]; then
    dump "$WORK/listener.err" "$WORK/dialer.err" "$WORK/dialer.out"
    die "tcp/noise/$muxer: dialer exited $rc"
  fi
  kill -0 "$LISTENER_PID" 2>/dev/null || { dump "$WORK/listener.err"; die "listener exited before the dialer was done"; }
  if ! RES=$(check_json "$WORK/dialer.out" 2>&1); then
    dump "$WORK/dialer.err"; die "tcp/noise/$muxer: bad dialer output: $RES"
  fi
  # PID 1 in the container gets SIGTERM from compose: must exit promptly.
  kill -TERM "$LISTENER_PID"
  for _ in $(seq 1 50); do kill -0 "$LISTENER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$LISTENER_PID" 2>/dev/null; then die "listener still running 5 s after SIGTERM"; fi
  wait "$LISTENER_PID" 2>/dev/null || true
  LISTENER_PID=
  echo "PASS image tcp/noise/$muxer $RES"
done
say "ok"
