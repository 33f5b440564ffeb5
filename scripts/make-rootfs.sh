#!/usr/bin/env bash
# Assembles the runtime image's whole root filesystem: the Dockerfile's build
# stage runs it into /rootfs and the runtime stage is `FROM scratch` plus that
# directory; tests/packaging/image.sh runs the same script (in its Debian 12
# chroot) to get the exact root it then pings from.
#
#   scripts/make-rootfs.sh DEST BINARY
#
# DEST (created; must not exist or be empty) gets:
# - BINARY at /usr/local/bin/lp2p-interop and its GnuTLS module (BINARY
#   plus -gnutls.so, which the binary opens on first tls, wss or quic-v1
#   use: src/gnutls_module.h) beside it, at
#   /usr/local/bin/lp2p-interop-gnutls.so, where the binary looks;
# - every shared library `ldd` lists for either (glibc and wslay for the
#   binary, GnuTLS's chain and ngtcp2 for the module, see
#   scripts/build-release.sh), symlinks resolved, each copied as a regular
#   file at the path the loader found it under, plus the dynamic loader at
#   the binary's PT_INTERP path. No ld.so.cache: the loader's built-in
#   search path covers the multiarch directories the libraries land in;
# - /etc/nsswitch.conf (hosts: files dns; glibc 2.36 has files and dns built
#   into libc.so.6, no libnss_* needed), a minimal /etc/passwd and
#   /etc/group (root, nobody), and /tmp (1777). /etc/hosts and
#   /etc/resolv.conf come from the container runtime.
# Nothing for GnuTLS beyond its libraries: the module only verifies
# signatures, so no trust store (/etc/ssl), no /etc/gnutls/config (built-in
# priorities apply) and no p11-kit configuration (/etc/pkcs11,
# /usr/share/p11-kit: without them p11-kit loads no modules).
#
# Must run where BINARY was built (ldd resolves against this system). As
# root, it finally runs `BINARY --help` chroot'ed into DEST. Prints DEST's
# contents and size on stderr.
set -euo pipefail
umask 022

say() { printf 'make-rootfs: %s\n' "$*" >&2; }
die() { printf 'make-rootfs: FAIL: %s\n' "$*" >&2; exit 1; }

[[ $# == 2 ]] || die "usage: $0 DEST BINARY"
DEST=$1 BIN=$2
[[ -f $BIN && -x $BIN ]] || die "$BIN is not an executable file"
MOD=$BIN-gnutls.so
[[ -f $MOD ]] || die "$MOD (the GnuTLS module, built beside the binary) is missing"
if [[ -e $DEST ]]; then
  [[ -d $DEST && -z $(ls -A "$DEST") ]] || die "$DEST exists and is not an empty directory"
fi
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)

# ---- the binary
install -d -m 0755 "$DEST/usr/local/bin" "$DEST/etc"
install -m 0755 "$BIN" "$DEST/usr/local/bin/lp2p-interop"
# The binary opens its own path plus -gnutls.so (src/gnutls_load.c).
install -m 0755 "$MOD" "$DEST/usr/local/bin/lp2p-interop-gnutls.so"

# ---- shared libraries and the loader, at the paths the loader uses
LDD=$(LC_ALL=C ldd "$BIN") || die "ldd $BIN failed"
LDD+=$'\n'$(LC_ALL=C ldd "$MOD") || die "ldd $MOD failed"
if grep -q 'not found' <<<"$LDD"; then die "ldd: missing libraries: $(grep 'not found' <<<"$LDD" | xargs)"; fi
INTERP=$(LC_ALL=C readelf -l "$BIN" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
[[ -n $INTERP ]] || die "$BIN has no program interpreter (not dynamically linked?)"
# libcrypto is opened at run time (src/aead.c: when the perf app starts),
# so ldd does not list it; it needs only glibc.
CRYPTO=$(LC_ALL=C ldconfig -p | awk '$1 == "libcrypto.so.3" && $NF ~ /^\// {print $NF; exit}')
[[ -n $CRYPTO ]] || die "libcrypto.so.3 not found (Debian package libssl3)"
LIBS=$( { awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$LDD"; echo "$INTERP"; echo "$CRYPTO"; } | sort -u)
for lib in $LIBS; do
  [[ -e $lib ]] || die "$lib (from ldd) does not exist"
  install -d -m 0755 "$DEST$(dirname "$lib")"
  cp -L "$lib" "$DEST$lib"
  chmod 0755 "$DEST$lib"
done

# ---- name service and users
cat >"$DEST/etc/nsswitch.conf" <<'EOF'
passwd: files
group:  files
hosts:  files dns
EOF
cat >"$DEST/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$DEST/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
install -d -m 1777 "$DEST/tmp"

# ---- it starts there (the full ping is tests/packaging/image.sh's job)
if [[ $(id -u) == 0 ]] && command -v chroot >/dev/null; then
  rc=0
  chroot "$DEST" /usr/local/bin/lp2p-interop --help >/dev/null 2>"$DEST/tmp/.err" || rc=$?
  case $rc in
    0) say "lp2p-interop --help runs chroot'ed into $DEST"
       # The module and its chain load there too: a quic-v1 dialer opens it
       # before it looks for Redis (nothing on port 1: that part fails).
       env -i transport=quic-v1 is_dialer=true redis_addr=127.0.0.1:1 test_timeout_seconds=1 \
         "$(command -v chroot)" "$DEST" /usr/local/bin/lp2p-interop >/dev/null 2>"$DEST/tmp/.err" || true
       if grep -q 'GnuTLS module' "$DEST/tmp/.err"; then
         cat "$DEST/tmp/.err" >&2; rm -f "$DEST/tmp/.err"; die "the GnuTLS module does not load in $DEST"
       fi
       say "the GnuTLS module loads chroot'ed into $DEST" ;;
    125) say "cannot chroot here ($(cat "$DEST/tmp/.err")): start not checked" ;;
    *) cat "$DEST/tmp/.err" >&2; rm -f "$DEST/tmp/.err"; die "lp2p-interop does not start in $DEST (exit $rc)" ;;
  esac
  rm -f "$DEST/tmp/.err"
fi

say "files: $(cd "$DEST" && find . -type f | sort | sed 's/^\.//' | xargs)"
say "size: $(du -sh "$DEST" | cut -f1) ($(du -sb "$DEST" | cut -f1) bytes)"
