#include "lp2p/node.h"

#include "lp2p/codec.h"
#include "lp2p/multiaddr.h"
#include "perf_app.h"
#include "redis.h"
#include "gnutls_module.h"
#include "transport.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Each upgrade step and each ping gets this long, inside the test bound
 * (HARNESS.md pitfall 7). */
#define STEP_TIMEOUT_MS 10000

typedef struct node {
  uv_loop_t loop;
  const lp2p_config *cfg;
  lp2p_env env;
  lp2p_identity id;
  char id_text[128];
  lp2p_conn_config conn_cfg;
  uv_signal_t sigint, sigterm;
  uv_timer_t deadline;
  uv_getaddrinfo_t gai;
  lp2p__redis *redis;
  const lp2p__transport *t;
  lp2p__link_listener *listener;
  lp2p__link_listener *also; /* cfg->also_transport's, at the same port */
  lp2p__link *dial;
  lp2p__link_handlers dial_h; /* outlives the dialed link */
  lp2p_peerid expected;
  lp2p_multiaddr listen_ma; /* for identify: the address we publish */
  lp2p_multiaddr also_ma;   /* the same for the second transport */
  lp2p__dial_plan plan;
  uint64_t t_start, t_ping;
  int stopped;
  int rc;
  lp2p_result *res;
} node;

static int env_random(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  randombytes_buf(out, len);
  return 0;
}

static void walk_close(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* Ends the role: every handle closes and the loop runs dry. */
static void node_stop(node *n, int rc) {
  if (n->stopped) return;
  n->stopped = 1;
  n->rc = rc;
  if (n->redis) lp2p__redis_close(n->redis);
  n->redis = NULL;
  if (n->dial) lp2p__transport_close(n->t, n->dial);
  n->dial = NULL;
  if (n->listener) lp2p__transport_listener_close(n->t, n->listener);
  n->listener = NULL;
  if (n->also) lp2p__transport_listener_close(n->cfg->also_transport, n->also);
  n->also = NULL;
  if (n->cfg->perf) lp2p__perf_app_stop(n->cfg->perf);
  uv_close((uv_handle_t *)&n->sigint, NULL);
  uv_close((uv_handle_t *)&n->sigterm, NULL);
  uv_close((uv_handle_t *)&n->deadline, NULL);
}

static void fail(node *n, int rc, const char *what) {
  fprintf(stderr, "lp2p-interop: %s: %s\n", what, lp2p_strerror(rc));
  node_stop(n, rc ? rc : LP2P_EINVAL);
}

static void on_signal(uv_signal_t *s, int signum) {
  node *n = s->data;
  LP2P_INFO("node", "signal %d: stopping", signum);
  /* HARNESS.md pitfall 10: a listener killed by the harness ends cleanly;
   * a dialer interrupted has not produced its result. */
  if (n->cfg->is_dialer)
    fail(n, LP2P_ECLOSED, "interrupted");
  else
    node_stop(n, 0);
}

static void on_deadline(uv_timer_t *t) {
  node *n = t->data;
  if (n->cfg->is_dialer && !n->t_start)
    fprintf(stderr, "lp2p-interop: no listener address under %s within %u s\n",
            n->cfg->redis_key, n->cfg->timeout_s);
  else
    fprintf(stderr, "lp2p-interop: test timeout of %u s reached\n", n->cfg->timeout_s);
  node_stop(n, LP2P_ETIMEDOUT);
}

static uint64_t ms_left(node *n) {
  uint64_t end = uv_timer_get_due_in(&n->deadline);
  return end;
}

/* ---- listener ---- */

static void listener_ready(void *ud, lp2p__link *tc, const lp2p_peerid *peer) {
  (void)ud;
  (void)tc;
  char text[128] = "?";
  lp2p_peerid_to_text(text, sizeof text, peer);
  LP2P_INFO("node", "connection from %s is up", text);
}

static void listener_closed(void *ud, lp2p__link *tc, int err) {
  (void)ud;
  (void)tc;
  if (err) LP2P_INFO("node", "a connection ended: %s", lp2p_strerror(err));
}

/* HARNESS.md pitfall 4: publish an address the dialer can route to, found
 * from the interfaces: for a wildcard listen IP the first non-loopback
 * address of that family (IPv6: not link-local, which needs a zone), else
 * loopback. */
static void published_ip(const char *listen_ip, char *out, size_t cap) {
  int v6 = strcmp(listen_ip, "::") == 0;
  if (!v6 && strcmp(listen_ip, "0.0.0.0") != 0) {
    snprintf(out, cap, "%s", listen_ip);
    return;
  }
  snprintf(out, cap, v6 ? "::1" : "127.0.0.1");
  uv_interface_address_t *ifs;
  int count;
  if (uv_interface_addresses(&ifs, &count) != 0) return;
  for (int i = 0; i < count; i++) {
    const struct sockaddr_in6 *a6 = &ifs[i].address.address6;
    if (ifs[i].is_internal) continue;
    if (!v6 && ifs[i].address.address4.sin_family == AF_INET) {
      uv_ip4_name(&ifs[i].address.address4, out, cap);
      break;
    }
    if (v6 && a6->sin6_family == AF_INET6 && !IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) {
      uv_ip6_name(a6, out, cap);
      break;
    }
  }
  uv_free_interface_addresses(ifs, count);
}

static char listen_addr[512];

static void published(void *ud, int err, const char *value) {
  node *n = ud;
  (void)value;
  if (err) return fail(n, err, "publishing the listen address");
  LP2P_INFO("node", "published %s under %s", listen_addr, n->cfg->redis_key);
  lp2p__redis_close(n->redis);
  n->redis = NULL;
}

static void listener_redis_ready(void *ud, int err) {
  node *n = ud;
  if (err) return fail(n, err, "redis");
  /* The unified-testing perf images SET the key and their dialers GET it
   * (perf/images/{go,js,rust}), where a list would answer WRONGTYPE. The
   * legacy names keep listenerAddr a list (the harness's redis proxy
   * rewrites RPUSH/BLPOP on it). */
  int rc =
      n->cfg->perf && n->cfg->mode == LP2P_MODE_UNIFIED
          ? lp2p__redis_set(n->redis, n->cfg->redis_key, listen_addr, published, n)
          : lp2p__redis_rpush(n->redis, n->cfg->redis_key, listen_addr, published, n);
  if (rc) fail(n, rc, "redis publish");
}

static const lp2p__link_handlers listener_h = {.ready = listener_ready,
                                               .closed = listener_closed};

/* The second transport at the first one's port (no Redis: the test-plans
 * perf server only), announced on stderr like the first. It is a bonus
 * beside the transport asked for: without the GnuTLS module (quic-v1) the
 * server says so and serves the first alone. */
static int start_also(node *n, const char *ip) {
  const lp2p__transport *t = n->cfg->also_transport;
  if (lp2p__transport_needs_gnutls(t, NULL) && !lp2p__gnutls()) {
    fprintf(stderr, "lp2p-interop: %s not served: %s\n", lp2p__transport_name(t),
            lp2p__gnutls_error());
    return 0;
  }
  char text[512];
  uint16_t port;
  int rc = lp2p__transport_port(n->t, n->listener, &port);
  if (rc == 0)
    rc = lp2p__transport_listen(t, &n->loop, &n->env, n->cfg->ip, port, &n->conn_cfg,
                                &listener_h, &n->also);
  if (rc == 0) rc = lp2p__transport_published(t, n->also, ip, text, sizeof text);
  if (rc) {
    fprintf(stderr, "lp2p-interop: listen on %s (%s): %s\n", n->cfg->ip,
            lp2p__transport_name(t), lp2p_strerror(rc));
    return rc;
  }
  if (lp2p_multiaddr_parse(&n->also_ma, text) == 0)
    lp2p__transport_listener_set_addrs(t, n->also, &n->also_ma, 1);
  fprintf(stderr, "lp2p-interop: listening on %s/p2p/%s\n", text, n->id_text);
  return 0;
}

static int start_listener(node *n) {
  char ip[64];
  published_ip(n->cfg->ip, ip, sizeof ip);
  int rc =
      lp2p__transport_listen(n->t, &n->loop, &n->env, n->cfg->ip, n->cfg->listen_port,
                             &n->conn_cfg, &listener_h, &n->listener);
  if (rc == 0)
    rc =
        lp2p__transport_published(n->t, n->listener, ip, listen_addr, sizeof listen_addr);
  if (rc) {
    fprintf(stderr, "lp2p-interop: listen on %s: %s\n", n->cfg->ip, lp2p_strerror(rc));
    return rc;
  }
  if (n->cfg->also_transport && (rc = start_also(n, ip))) return rc;
  if (lp2p_multiaddr_parse(&n->listen_ma, listen_addr) == 0)
    lp2p__transport_listener_set_addrs(n->t, n->listener, &n->listen_ma, 1);
  size_t used = strlen(listen_addr);
  snprintf(listen_addr + used, sizeof listen_addr - used, "/p2p/%s", n->id_text);
  LP2P_INFO("node", "listening on %s", listen_addr);
  if (n->cfg->no_redis) {
    fprintf(stderr, "lp2p-interop: listening on %s\n", listen_addr);
    return 0;
  }
  n->redis = lp2p__redis_connect(&n->loop, n->cfg->redis_host, n->cfg->redis_port,
                                 ms_left(n), listener_redis_ready, n);
  return n->redis ? 0 : LP2P_ENOMEM;
}

/* ---- dialer ---- */

static double ms_since(uint64_t t0_ns) { return (double)(uv_hrtime() - t0_ns) / 1e6; }

static void dialer_ready(void *ud, lp2p__link *tc, const lp2p_peerid *peer) {
  node *n = ud;
  (void)peer;
  LP2P_DEBUG("node", "connected after %.3f ms", ms_since(n->t_start));
  n->t_ping = uv_hrtime();
  int rc = n->cfg->perf ? lp2p__perf_app_next(n->cfg->perf, n->t, tc)
                        : lp2p__transport_ping(n->t, tc);
  if (rc == 1) return node_stop(n, 0);
  if (rc) fail(n, rc, n->cfg->perf ? "perf" : "ping");
}

/* One ping, as every harness app does (and as some listeners expect: the
 * py app answers one ping per stream): the handshake plus one round trip
 * ends at its echo, and the ping RTT is that ping's own round trip, from
 * its stream's opening to the echo. */
static void dialer_pong(void *ud, lp2p__link *tc) {
  node *n = ud;
  (void)tc;
  n->res->handshake_plus_one_rtt_ms = ms_since(n->t_start);
  n->res->ping_rtt_ms = ms_since(n->t_ping);
  node_stop(n, 0);
}

/* One perf exchange done: the next one, or the end. */
static void dialer_perf_done(void *ud, lp2p__link *tc) {
  node *n = ud;
  int rc = lp2p__perf_app_next(n->cfg->perf, n->t, tc);
  if (rc == 1) return node_stop(n, 0);
  if (rc) fail(n, rc, "perf");
}

/* The connection or the driver already said why in its error line. */
static void dialer_closed(void *ud, lp2p__link *tc, int err) {
  node *n = ud;
  (void)tc;
  n->dial = NULL;
  if (n->stopped) return;
  if (!err) fprintf(stderr, "lp2p-interop: the listener closed the connection\n");
  node_stop(n, err ? err : LP2P_EEOF);
}

static void dial_addr(node *n, const struct sockaddr *sa) {
  n->dial_h = (lp2p__link_handlers){.ready = dialer_ready,
                                    .pong = dialer_pong,
                                    .perf_done = dialer_perf_done,
                                    .closed = dialer_closed,
                                    .ud = n};
  int rc = lp2p__transport_dial(n->t, &n->loop, &n->env, &n->plan, sa, &n->conn_cfg,
                                &n->dial_h, &n->dial);
  if (rc) fail(n, rc, "dial");
}

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  node *n = req->data;
  if (status || !res) {
    fprintf(stderr, "lp2p-interop: cannot resolve %s: %s\n", n->plan.target.host,
            uv_strerror(status));
    node_stop(n, status ? status : LP2P_EADDR);
  } else if (!n->stopped) {
    if (res->ai_family == AF_INET6)
      ((struct sockaddr_in6 *)res->ai_addr)->sin6_port = htons(n->plan.target.port);
    else
      ((struct sockaddr_in *)res->ai_addr)->sin_port = htons(n->plan.target.port);
    dial_addr(n, res->ai_addr);
  }
  uv_freeaddrinfo(res);
}

static int dial_target(node *n, const char *text) {
  int rc = lp2p__transport_plan(n->t, text, &n->plan);
  if (rc) return rc;
  if (n->plan.target.peer_len) {
    memcpy(n->expected.bytes, n->plan.target.peer, n->plan.target.peer_len);
    n->expected.len = n->plan.target.peer_len;
    n->conn_cfg.expected_peer = &n->expected;
  }
  if (n->cfg->perf) lp2p__perf_app_dialing(n->cfg->perf, &n->loop);
  struct sockaddr_storage ss;
  if (n->plan.target.family == 4 || n->plan.target.family == 6) {
    rc = n->plan.target.family == 4
             ? uv_ip4_addr(n->plan.target.host, n->plan.target.port,
                           (struct sockaddr_in *)&ss)
             : uv_ip6_addr(n->plan.target.host, n->plan.target.port,
                           (struct sockaddr_in6 *)&ss);
    if (rc) return rc;
    dial_addr(n, (struct sockaddr *)&ss);
    return 0;
  }
  /* dns4 resolves to IPv4 only, dns6 to IPv6 only (multiaddr protocols). */
  struct addrinfo hints = {.ai_family =
                               n->plan.target.dns_family == 6 ? AF_INET6 : AF_INET,
                           .ai_socktype = SOCK_STREAM};
  n->gai.data = n;
  return uv_getaddrinfo(&n->loop, &n->gai, resolved, n->plan.target.host, NULL, &hints);
}

/* BLPOP in short slices: a listener that SETs the key instead of pushing
 * to a list (some unified-testing images do) never wakes a long BLPOP, but
 * the next slice finds the string and reads it with GET. */
#define TAKE_SLICE_S 1

static void take_listener_addr(node *n);

static void got_listener_addr(void *ud, int err, const char *value) {
  node *n = ud;
  if (err) return fail(n, err, "waiting for the listener address");
  if (!value) {
    if (ms_left(n) > 0) return take_listener_addr(n);
    fprintf(stderr, "lp2p-interop: no listener address under %s in time\n",
            n->cfg->redis_key);
    return node_stop(n, LP2P_ETIMEDOUT);
  }
  n->t_start = uv_hrtime();
  LP2P_INFO("node", "dialing %s", value);
  lp2p__redis_close(n->redis);
  n->redis = NULL;
  int rc = dial_target(n, value);
  if (rc) node_stop(n, rc);
}

static void take_listener_addr(node *n) {
  int rc =
      lp2p__redis_take(n->redis, n->cfg->redis_key, TAKE_SLICE_S, got_listener_addr, n);
  if (rc) fail(n, rc, "redis BLPOP");
}

static void dialer_redis_ready(void *ud, int err) {
  node *n = ud;
  if (err) return fail(n, err, "redis");
  take_listener_addr(n);
}

static int start_dialer(node *n) {
  if (n->cfg->dial_addr[0]) {
    n->t_start = uv_hrtime();
    return dial_target(n, n->cfg->dial_addr);
  }
  n->redis = lp2p__redis_connect(&n->loop, n->cfg->redis_host, n->cfg->redis_port,
                                 ms_left(n), dialer_redis_ready, n);
  return n->redis ? 0 : LP2P_ENOMEM;
}

/* ---- setup ---- */

static int node_init(node *n, const lp2p_config *cfg, lp2p_result *res) {
  memset(n, 0, sizeof *n);
  n->cfg = cfg;
  n->t = cfg->transport;
  n->res = res;
  n->env.random = env_random;
  if (sodium_init() < 0) return LP2P_EINVAL;
  /* test-plans perf: go's client dials a peer id derived from an all-zero
   * ed25519 seed (perf/impl/go-libp2p main.go); ours takes any. */
  static const uint8_t zero_seed[32];
  int rc = cfg->fixed_identity
               ? lp2p_identity_from_secret(&n->id, LP2P_KEY_ED25519, zero_seed)
               : lp2p_identity_generate(&n->id, cfg->key_type, &n->env);
  /* Before any address is published or taken, so a broken key fails here
   * and no connection pays for the first use of the signature code. */
  if (rc == 0) rc = lp2p_identity_self_check(&n->id);
  n->env.unix_s = (int64_t)time(NULL); /* TLS: certificate validity */
  lp2p_peerid pid;
  if (rc == 0) rc = lp2p_peerid_from_pubkey(&pid, &n->id.pub);
  if (rc == 0 && lp2p_peerid_to_text(n->id_text, sizeof n->id_text, &pid) < 0)
    rc = LP2P_EKEY;
  if (rc) return rc;
  n->conn_cfg = (lp2p_conn_config){
      .initiator = cfg->is_dialer,
      .identity = &n->id,
      .security = cfg->security,
      .muxer = cfg->muxer,
      /* The listener asks each peer who it is; the dialer keeps its
       * measurement free of extra streams. */
      .identify_peer = !cfg->is_dialer,
      .no_inline_muxer = cfg->no_inline_muxer,
      .optimistic_security = cfg->optimistic_security,
      .perf_server = cfg->perf != NULL,
      .perf_max_bytes = cfg->perf ? lp2p__perf_app_max_bytes(cfg->perf) : 0,
      .step_timeout_ms = cfg->timeout_s && cfg->timeout_s * 1000 < STEP_TIMEOUT_MS
                             ? cfg->timeout_s * 1000
                             : STEP_TIMEOUT_MS};
  /* Made before any address is published or taken: no connection pays
   * for our Noise static key and its signature, or our TLS certificate. */
  n->conn_cfg.security_shared = lp2p_conn_shared_new(&n->env, &n->conn_cfg);
  if (cfg->security && cfg->security->shared_new && !n->conn_cfg.security_shared)
    return LP2P_ENOMEM;
  if ((rc = uv_loop_init(&n->loop))) return rc;
  uv_signal_init(&n->loop, &n->sigint);
  uv_signal_init(&n->loop, &n->sigterm);
  uv_timer_init(&n->loop, &n->deadline);
  n->sigint.data = n->sigterm.data = n->deadline.data = n;
  uv_signal_start(&n->sigint, on_signal, SIGINT);
  uv_signal_start(&n->sigterm, on_signal, SIGTERM);
  /* timeout_s 0 (the test-plans perf server): run until killed. */
  if (cfg->timeout_s)
    uv_timer_start(&n->deadline, on_deadline, (uint64_t)cfg->timeout_s * 1000, 0);
  return 0;
}

int lp2p_node_run(const lp2p_config *cfg, lp2p_result *res) {
  /* tls, wss, quic-v1: the GnuTLS module now, before any address is
   * published or taken and outside the timed handshake. */
  if (lp2p__transport_needs_gnutls(cfg->transport, cfg->security) && !lp2p__gnutls()) {
    fprintf(stderr, "lp2p-interop: %s: %s\n",
            cfg->transport->gnutls ? cfg->transport->name : cfg->security->name,
            lp2p__gnutls_error());
    return LP2P_ENOTSUP;
  }
  node n;
  int rc = node_init(&n, cfg, res);
  if (rc) {
    fprintf(stderr, "lp2p-interop: setup: %s\n", lp2p_strerror(rc));
    return rc;
  }
  LP2P_INFO("node", "%s, peer id %s", cfg->is_dialer ? "dialer" : "listener", n.id_text);
  rc = cfg->is_dialer ? start_dialer(&n) : start_listener(&n);
  if (rc) node_stop(&n, rc);
  uv_run(&n.loop, UV_RUN_DEFAULT);
  /* Anything still open (none expected) closes before the loop does. */
  uv_walk(&n.loop, walk_close, NULL);
  uv_run(&n.loop, UV_RUN_DEFAULT);
  uv_loop_close(&n.loop);
  lp2p_conn_shared_free(&n.conn_cfg, n.conn_cfg.security_shared);
  lp2p_identity_clear(&n.id);
  return n.rc;
}
