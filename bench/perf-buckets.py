#!/usr/bin/env python3
# Where one process's CPU went, from a `perf record` file (e.g. what
# PERF_RECORD=dir bench/perf.sh leaves): samples by bucket, AEAD
# (libcrypto; libsodium's chacha/poly), memcpy in user space, the kernel's
# copies to and from user memory, the rest of the kernel (TCP, syscalls,
# scheduling), our code with libuv (linked statically), other libraries.
#
#   bench/perf-buckets.py FILE.data
import collections, re, subprocess, sys
out = subprocess.run(["perf","report","-i",sys.argv[1],"--no-children","--sort","dso,sym","-g","none","--percent-limit","0","--stdio"],capture_output=True,text=True).stdout
b = collections.Counter()
for line in out.splitlines():
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if not m: continue
    pct, dso, kind, sym = float(m[1]), m[2], m[3], m[4].strip()
    if "libcrypto" in dso or re.search(r"chacha|poly1305|aead", sym): k = "AEAD (libcrypto, libsodium)"
    elif "libgnutls" in dso: k = "GnuTLS (record layer, its AES-GCM)"
    elif re.search(r"memmove|memcpy|memset", sym): k = "memcpy (user)"
    elif re.search(r"copy_(to|from)_iter|copy_user|rep_movs|skb_copy", sym): k = "kernel copy to/from user"
    elif kind == "k" or "kernel" in dso: k = "kernel other (TCP, syscalls, scheduling)"
    elif "lp2p" in dso: k = "ours + libuv (static)"
    else: k = "other user (" + dso + ")"
    b[k] += pct
tot = sum(b.values())
for k, v in b.most_common():
    print("  %5.1f%%  %s" % (v*100/tot, k))
