/* lp2p-load: many in-process dialers (lp2p__tcp_dial on one loop) against
 * one listener process. Each connection does the whole upgrade and one
 * ping, then closes. Phases: N sequential connections, then T connections
 * with M always in flight (T defaults to M: one wave), R rounds; after each, the
 * listener's VmRSS / VmHWM from /proc/<pid>/status, so that memory growing with the count
 * shows.
 *
 *   lp2p-load [--pid PID] [--seq N] [--conc M] [--conc-total T] [--rounds R]
 *             [--muxer yamux|mplex]
 *             [--security noise|tls|plaintext] /ip4/127.0.0.1/tcp/PORT/p2p/PEERID
 *
 * The dialers are configured as our interop dialer is (optimistic
 * security, one ping) and share one identity and the security protocol's
 * per-process state (lp2p_conn_shared_new: Noise's static key and signed
 * payload, TLS's certificate), so the generator spends its CPU on the
 * handshakes themselves and leaves more of a small machine to the
 * listener under test. Each phase prints its rate; the last line is the
 * rate of the concurrent phases over all rounds.
 *
 * A benchmark, not a test: no thresholds, but the exit status is 1 when
 * any connection failed. */
#include "lp2p/codec.h"
#include "lp2p/multiaddr.h"
#include "tcp.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct load {
  uv_loop_t loop;
  lp2p_env env;
  lp2p_conn_config cfg;
  struct sockaddr_storage addr;
  unsigned running, ok, failed;
  int last_err;
  double conc_s;      /* time spent in concurrent phases */
  unsigned conc_done; /* connections finished in them */
} load;

typedef struct dial {
  load *L;
} dial;

static int env_random(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  randombytes_buf(out, len);
  return 0;
}

static void finish(dial *d, int err) {
  load *L = d->L;
  L->running--;
  if (err) {
    L->failed++;
    L->last_err = err;
  } else {
    L->ok++;
  }
  free(d);
}

static void on_ready(void *ud, lp2p__tcp_conn *tc, const lp2p_peerid *peer) {
  (void)peer;
  int rc = lp2p__tcp_ping(tc);
  if (rc) {
    lp2p__tcp_close(tc);
    finish(ud, rc);
  }
}

static void on_pong(void *ud, lp2p__tcp_conn *tc) {
  lp2p__tcp_close(tc); /* no handler runs after */
  finish(ud, 0);
}

static void on_closed(void *ud, lp2p__tcp_conn *tc, int err) {
  (void)tc;
  finish(ud, err ? err : LP2P_EEOF);
}

static int start_one(load *L) {
  static const lp2p__tcp_handlers h0 = {
      .ready = on_ready, .pong = on_pong, .closed = on_closed};
  dial *d = calloc(1, sizeof *d);
  if (!d) return LP2P_ENOMEM;
  d->L = L;
  lp2p__tcp_handlers h = h0;
  h.ud = d;
  lp2p__tcp_conn *tc;
  L->running++;
  int rc =
      lp2p__tcp_dial(&L->loop, &L->env, (struct sockaddr *)&L->addr, &L->cfg, &h, &tc);
  if (rc) finish(d, rc);
  return rc;
}

static double now_s(void) { return (double)uv_hrtime() / 1e9; }

static void rss(int pid, const char *when) {
  if (pid <= 0) return;
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("  listener %d: gone (%s)\n", pid, when);
    return;
  }
  long hwm = -1, cur = -1;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "VmHWM:", 6)) hwm = strtol(line + 6, NULL, 10);
    if (!strncmp(line, "VmRSS:", 6)) cur = strtol(line + 6, NULL, 10);
  }
  fclose(f);
  printf("  listener rss %-28s VmRSS %6ld KiB  VmHWM %6ld KiB\n", when, cur, hwm);
  fflush(stdout);
}

static double phase(load *L, const char *name, unsigned total, unsigned width) {
  unsigned ok0 = L->ok, failed0 = L->failed, started = 0;
  double t0 = now_s();
  while (started < total || L->running) {
    while (started < total && L->running < width) {
      start_one(L);
      started++;
    }
    uv_run(&L->loop, UV_RUN_ONCE);
  }
  double dt = now_s() - t0;
  unsigned ok = L->ok - ok0, failed = L->failed - failed0;
  printf("%-26s %5u connections, %u failed, %.2f s, %6.0f handshakes+pings/s\n", name,
         ok + failed, failed, dt, (double)ok / dt);
  if (failed) printf("  last error: %s\n", lp2p_strerror(L->last_err));
  fflush(stdout);
  return dt;
}

int main(int argc, char **argv) {
  unsigned seq = 1000, conc = 200, conc_total = 0, rounds = 2;
  int pid = 0;
  const char *muxer = "yamux", *security = "noise", *addr = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--pid") && i + 1 < argc)
      pid = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seq") && i + 1 < argc)
      seq = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--conc") && i + 1 < argc)
      conc = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--conc-total") && i + 1 < argc)
      conc_total = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--muxer") && i + 1 < argc)
      muxer = argv[++i];
    else if (!strcmp(argv[i], "--security") && i + 1 < argc)
      security = argv[++i];
    else if (argv[i][0] != '-')
      addr = argv[i];
    else {
      fprintf(stderr, "lp2p-load: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (!conc_total) conc_total = conc;
  if (!addr) {
    fprintf(
        stderr,
        "usage: lp2p-load [--pid PID] [--seq N] [--conc M] [--conc-total T] [--rounds R] "
        "[--muxer yamux|mplex] [--security noise|tls|plaintext] "
        "/ip4/H/tcp/P/p2p/ID\n");
    return 2;
  }
  if (getenv("LP2P_DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  if (sodium_init() < 0) return 1;
  static load L;
  L.env.random = env_random;
  lp2p_multiaddr ma;
  lp2p_dial_target t;
  if (lp2p_multiaddr_parse(&ma, addr) || lp2p_multiaddr_dial_target(&t, &ma) ||
      (t.family != 4 && t.family != 6)) {
    fprintf(stderr, "lp2p-load: '%s' is not an /ip4 or /ip6 tcp multiaddr\n", addr);
    return 2;
  }
  lp2p_peerid expect = {0};
  if (t.peer_len) {
    memcpy(expect.bytes, t.peer, t.peer_len);
    expect.len = t.peer_len;
  }
  if (t.family == 4)
    uv_ip4_addr(t.host, t.port, (struct sockaddr_in *)&L.addr);
  else
    uv_ip6_addr(t.host, t.port, (struct sockaddr_in6 *)&L.addr);
  lp2p_identity id;
  if (lp2p_identity_generate(&id, LP2P_KEY_ED25519, &L.env)) return 1;
  L.cfg = (lp2p_conn_config){.initiator = 1,
                             .identity = &id,
                             .security = lp2p_security_find(security),
                             .muxer = lp2p_muxer_find(muxer),
                             .expected_peer = t.peer_len ? &expect : NULL,
                             .step_timeout_ms = 10000,
                             .optimistic_security = 1};
  if (!L.cfg.muxer || !L.cfg.security) {
    fprintf(stderr, "lp2p-load: unknown muxer %s or security %s\n", muxer, security);
    return 2;
  }
  /* Made once, as the interop binary does (node.c): without it every
   * dialer would sign its own Noise payload / make its own certificate. */
  L.cfg.security_shared = lp2p_conn_shared_new(&L.env, &L.cfg);
  uv_loop_init(&L.loop);
  printf("lp2p-load: %s, %s/%s, %u rounds of %u sequential + %u with %u at once\n", addr,
         security, muxer, rounds, seq, conc_total, conc);
  rss(pid, "before");
  for (unsigned r = 1; r <= rounds; r++) {
    char name[64];
    snprintf(name, sizeof name, "round %u sequential", r);
    phase(&L, name, seq, 1);
    snprintf(name, sizeof name, "after round %u sequential", r);
    rss(pid, name);
    snprintf(name, sizeof name, "round %u concurrent", r);
    L.conc_s += phase(&L, name, conc_total, conc);
    L.conc_done += conc_total;
    snprintf(name, sizeof name, "after round %u concurrent", r);
    rss(pid, name);
  }
  printf("total: %u ok, %u failed\n", L.ok, L.failed);
  if (L.conc_s > 0)
    printf(
        "concurrent rate: %.0f handshakes+pings/s (%u connections, %u at once, %.2f s)\n",
        (double)L.conc_done / L.conc_s, L.conc_done, conc, L.conc_s);
  uv_run(&L.loop, UV_RUN_DEFAULT);
  uv_loop_close(&L.loop);
  lp2p_conn_shared_free(&L.cfg, L.cfg.security_shared);
  lp2p_identity_clear(&id);
  return L.failed ? 1 : 0;
}
