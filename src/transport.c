/* The transport table and the stream transports' shared listen and dial
 * (see transport.h). */
#include "transport.h"

#include "gnutls_module.h"
#include "lp2p/ws.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the addresses each transport dials ---- */

static int tcp_dialable(const lp2p_ma_part *after, size_t n, lp2p__dial_plan *plan) {
  (void)after;
  (void)plan;
  return n == 0 ? 0 : LP2P_EADDR;
}

static const lp2p__transport tcp = {
    .name = "tcp", .suffix = "", .dialable = tcp_dialable};

/* ws: /ws right after the tcp port. */
static int ws_dialable(const lp2p_ma_part *after, size_t n, lp2p__dial_plan *plan) {
  (void)plan;
  return n == 1 && after[0].code == LP2P_MA_WS ? 0 : LP2P_EADDR;
}

static const lp2p_layer_ops *const ws_layers[] = {&lp2p_ws_layer};
static const lp2p__transport ws = {.name = "ws",
                                   .layers = ws_layers,
                                   .n_layers = 1,
                                   .gnutls = 1,
                                   .suffix = "/ws",
                                   .dialable = ws_dialable};

/* wss: TLS under WebSocket, in every form the multiaddr table has for it:
 * /wss (deprecated there), /tls/ws and /tls/sni/<host>/ws. */
static int wss_dialable(const lp2p_ma_part *after, size_t n, lp2p__dial_plan *plan) {
  if (n == 1 && after[0].code == LP2P_MA_WSS) return 0;
  if (n == 2 && after[0].code == LP2P_MA_TLS && after[1].code == LP2P_MA_WS) return 0;
  if (n == 3 && after[0].code == LP2P_MA_TLS && after[1].code == LP2P_MA_SNI &&
      after[2].code == LP2P_MA_WS && after[1].len < sizeof plan->sni) {
    memcpy(plan->sni, after[1].value, after[1].len);
    plan->sni[after[1].len] = 0;
    return 0;
  }
  return LP2P_EADDR;
}

static const lp2p_layer_ops *const wss_layers[] = {&lp2p__tls_layer, &lp2p_ws_layer};
/* Publishes /tls/ws: go-libp2p publishes and dials that form, js and py
 * dialers rewrite it to /wss themselves, rust dials both (README.md). */
static const lp2p__transport wss = {.name = "wss",
                                    .layers = wss_layers,
                                    .n_layers = 2,
                                    .gnutls = 1,
                                    .tls_cert = 1,
                                    .suffix = "/tls/ws",
                                    .dialable = wss_dialable};

/* quic-v1 (quic/README.md): /udp/<port>/quic-v1; TLS and streams are
 * QUIC's own, so no security or muxer is chosen. */
static int quic_dialable(const lp2p_ma_part *after, size_t n, lp2p__dial_plan *plan) {
  (void)plan;
  return n == 1 && after[0].code == LP2P_MA_QUIC_V1 ? 0 : LP2P_EADDR;
}

static const lp2p__transport quic_v1 = {.name = "quic-v1",
                                        .gnutls = 1,
                                        .udp = 1,
                                        .secure_muxed = 1,
                                        .suffix = "/quic-v1",
                                        .dialable = quic_dialable};

static const lp2p__transport *const transports[] = {&tcp, &ws, &wss, &quic_v1};
#define N_TRANSPORTS (sizeof transports / sizeof *transports)

const lp2p__transport *lp2p__transport_find(const char *name) {
  for (size_t i = 0; i < N_TRANSPORTS; i++)
    if (strcmp(transports[i]->name, name) == 0) return transports[i];
  return NULL;
}

int lp2p__transport_needs_gnutls(const lp2p__transport *t, const lp2p_security_ops *s) {
  return t->gnutls || s == &lp2p__tls_security;
}

const char *lp2p__transport_names(void) {
  static char buf[LP2P__NAMES_MAX];
  const char *names[N_TRANSPORTS];
  for (size_t i = 0; i < N_TRANSPORTS; i++)
    names[i] = transports[i]->name;
  return lp2p__join_names(buf, names, N_TRANSPORTS);
}

/* ---- the stream driver (tcp.c over stream.c) ---- */

/* wss only: the module is loaded (stream_listen made the credentials). */
static void free_creds(void *creds) { lp2p__gnutls()->creds_free(creds); }

static lp2p_chain_config chain_of(const lp2p__transport *t, const lp2p_conn_config *cc,
                                  const lp2p_layer_params *p) {
  lp2p_chain_config c = {
      .conn = cc, .layers = t->layers, .n_layers = t->n_layers, .addr_suffix = t->suffix};
  if (p) c.params = *p;
  c.params.step_timeout_ms = cc->step_timeout_ms;
  return c;
}

/* tcp.c reports its own connection type; the app holds it as a link. The
 * handlers (ud) outlive the connection by the transport contract. */
static void glue_ready(void *ud, lp2p__tcp_conn *tc, const lp2p_peerid *peer) {
  const lp2p__link_handlers *h = ud;
  if (h->ready) h->ready(h->ud, (lp2p__link *)tc, peer);
}

static void glue_pong(void *ud, lp2p__tcp_conn *tc) {
  const lp2p__link_handlers *h = ud;
  if (h->pong) h->pong(h->ud, (lp2p__link *)tc);
}

static void glue_closed(void *ud, lp2p__tcp_conn *tc, int err) {
  const lp2p__link_handlers *h = ud;
  if (h->closed) h->closed(h->ud, (lp2p__link *)tc, err);
}

static void glue_perf_done(void *ud, lp2p__tcp_conn *tc) {
  const lp2p__link_handlers *h = ud;
  if (h->perf_done) h->perf_done(h->ud, (lp2p__link *)tc);
}

static lp2p__tcp_handlers glue(const lp2p__link_handlers *h) {
  lp2p__tcp_handlers g = {.ready = glue_ready,
                          .pong = glue_pong,
                          .perf_done = glue_perf_done,
                          .closed = glue_closed,
                          .ud = (void *)h};
  return g;
}

static int stream_listen(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                         const char *ip, uint16_t port, const lp2p_conn_config *cc,
                         const lp2p__link_handlers *h, lp2p__link_listener **out) {
  lp2p_layer_params p = {0};
  void *creds = NULL;
  if (t->tls_cert) {
    const lp2p__gnutls_ops *m = lp2p__gnutls();
    if (!m) return LP2P_ENOTSUP;
    env->unix_s = (int64_t)time(NULL);
    int rc = m->wss_creds(&creds, env);
    if (rc) return rc;
    p.tls_creds = creds;
  }
  lp2p_chain_config c = chain_of(t, cc, &p);
  lp2p__tcp_handlers g = glue(h);
  lp2p__tcp_listener *l;
  int rc = lp2p__tcp_listen_chain(loop, env, ip, port, &c, &g, &l);
  if (rc && creds)
    free_creds(creds);
  else if (creds)
    lp2p__tcp_listener_on_free(l, free_creds, creds);
  if (rc == 0) *out = (lp2p__link_listener *)l;
  return rc;
}

static int stream_port(lp2p__link_listener *l, uint16_t *port) {
  return lp2p__tcp_listener_port((lp2p__tcp_listener *)l, port);
}

static void stream_set_addrs(lp2p__link_listener *l, const lp2p_multiaddr *addrs,
                             size_t n) {
  lp2p__tcp_listener_set_addrs((lp2p__tcp_listener *)l, addrs, n);
}

static void stream_listener_close(lp2p__link_listener *l) {
  lp2p__tcp_listener_close((lp2p__tcp_listener *)l);
}

static int stream_dial(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                       const lp2p__dial_plan *plan, const struct sockaddr *addr,
                       const lp2p_conn_config *cc, const lp2p__link_handlers *h,
                       lp2p__link **out) {
  lp2p_chain_config c = chain_of(t, cc, &plan->params);
  lp2p__tcp_handlers g = glue(h);
  lp2p__tcp_conn *tc;
  int rc = lp2p__tcp_dial_chain(loop, env, addr, &c, &g, &tc);
  if (rc == 0) *out = (lp2p__link *)tc;
  return rc;
}

static int stream_ping(lp2p__link *c) { return lp2p__tcp_ping((lp2p__tcp_conn *)c); }

static int stream_perf(lp2p__link *c, uint64_t upload, uint64_t download) {
  return lp2p__tcp_perf((lp2p__tcp_conn *)c, upload, download);
}

static void stream_perf_progress(const lp2p__link *c, uint64_t *up, uint64_t *down) {
  lp2p__tcp_perf_progress((const lp2p__tcp_conn *)c, up, down);
}

static void stream_close(lp2p__link *c) { lp2p__tcp_close((lp2p__tcp_conn *)c); }

static const lp2p__driver stream_driver = {.listen = stream_listen,
                                           .port = stream_port,
                                           .set_addrs = stream_set_addrs,
                                           .listener_close = stream_listener_close,
                                           .dial = stream_dial,
                                           .ping = stream_ping,
                                           .perf = stream_perf,
                                           .perf_progress = stream_perf_progress,
                                           .close = stream_close};

/* Where the module cannot be loaded: nothing starts (the app has said why
 * at start; lp2p__transport_needs_gnutls). */
static int absent_listen(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                         const char *ip, uint16_t port, const lp2p_conn_config *cc,
                         const lp2p__link_handlers *h, lp2p__link_listener **out) {
  (void)t, (void)loop, (void)env, (void)ip, (void)port, (void)cc, (void)h, (void)out;
  return LP2P_ENOTSUP;
}

static int absent_dial(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                       const lp2p__dial_plan *plan, const struct sockaddr *addr,
                       const lp2p_conn_config *cc, const lp2p__link_handlers *h,
                       lp2p__link **out) {
  (void)t, (void)loop, (void)env, (void)plan, (void)addr, (void)cc, (void)h, (void)out;
  return LP2P_ENOTSUP;
}

/* Claimed, so that a perf app asking first hears the real reason (the
 * module) from lp2p_node_run, not "no perf over this transport". */
static int absent_perf(lp2p__link *c, uint64_t upload, uint64_t download) {
  (void)c, (void)upload, (void)download;
  return LP2P_ENOTSUP;
}

static const lp2p__driver absent_driver = {
    .listen = absent_listen, .dial = absent_dial, .perf = absent_perf};

static const lp2p__driver *driver(const lp2p__transport *t) {
  if (!t->gnutls || !t->udp) return &stream_driver;
  const lp2p__gnutls_ops *m = lp2p__gnutls();
  return m ? m->quic : &absent_driver;
}

/* ---- listen ---- */

int lp2p__transport_listen(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                           const char *ip, uint16_t port, const lp2p_conn_config *cc,
                           const lp2p__link_handlers *h, lp2p__link_listener **out) {
  return driver(t)->listen(t, loop, env, ip, port, cc, h, out);
}

int lp2p__transport_port(const lp2p__transport *t, lp2p__link_listener *l,
                         uint16_t *port) {
  return driver(t)->port(l, port);
}

int lp2p__transport_published(const lp2p__transport *t, lp2p__link_listener *l,
                              const char *host_ip, char *out, size_t cap) {
  uint16_t port;
  int rc = driver(t)->port(l, &port);
  if (rc) return rc;
  int n = snprintf(out, cap, "/%s/%s/%s/%u%s", strchr(host_ip, ':') ? "ip6" : "ip4",
                   host_ip, t->udp ? "udp" : "tcp", port, t->suffix);
  return n < 0 || (size_t)n >= cap ? LP2P_ETOOBIG : 0;
}

void lp2p__transport_listener_set_addrs(const lp2p__transport *t, lp2p__link_listener *l,
                                        const lp2p_multiaddr *addrs, size_t n) {
  driver(t)->set_addrs(l, addrs, n);
}

void lp2p__transport_listener_close(const lp2p__transport *t, lp2p__link_listener *l) {
  driver(t)->listener_close(l);
}

/* ---- dial ---- */

/* The components after the host's /tcp|udp/<port>, without /p2p/. */
#define MAX_AFTER 8

int lp2p__transport_plan(const lp2p__transport *t, const char *text,
                         lp2p__dial_plan *plan) {
  memset(plan, 0, sizeof *plan);
  lp2p_multiaddr ma;
  int rc = lp2p_multiaddr_parse(&ma, text);
  if (rc == 0) rc = lp2p_multiaddr_dial_target(&plan->target, &ma);
  lp2p_ma_part after[MAX_AFTER], p;
  size_t n = 0, off = 0;
  int seen_port = 0;
  uint64_t port_code = t->udp ? LP2P_MA_UDP : LP2P_MA_TCP;
  while (rc == 0 && (rc = lp2p_multiaddr_next(&ma, &off, &p)) == 1) {
    rc = 0;
    if (p.code == port_code && !seen_port)
      seen_port = 1;
    else if (!seen_port && (p.code == LP2P_MA_TCP || p.code == LP2P_MA_UDP))
      rc = LP2P_EADDR; /* the other kind of port */
    else if (seen_port && p.code != LP2P_MA_P2P)
      rc = n < MAX_AFTER ? (after[n++] = p, 0) : LP2P_EADDR;
  }
  if (rc == 0) rc = t->dialable(after, n, plan);
  if (rc) {
    fprintf(stderr,
            "lp2p-interop: listener address '%s' is not a dialable multiaddr for %s\n",
            text, t->name);
    return LP2P_EADDR;
  }
  plan->params.host = plan->sni[0] ? plan->sni : plan->target.host;
  plan->params.port = plan->target.port;
  return 0;
}

int lp2p__transport_dial(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                         const lp2p__dial_plan *plan, const struct sockaddr *addr,
                         const lp2p_conn_config *cc, const lp2p__link_handlers *h,
                         lp2p__link **out) {
  return driver(t)->dial(t, loop, env, plan, addr, cc, h, out);
}

int lp2p__transport_ping(const lp2p__transport *t, lp2p__link *c) {
  return driver(t)->ping(c);
}

int lp2p__transport_has_perf(const lp2p__transport *t) { return driver(t)->perf != NULL; }

const char *lp2p__transport_name(const lp2p__transport *t) { return t->name; }

int lp2p__transport_perf(const lp2p__transport *t, lp2p__link *c, uint64_t upload,
                         uint64_t download) {
  return driver(t)->perf ? driver(t)->perf(c, upload, download) : LP2P_ENOTSUP;
}

void lp2p__transport_perf_progress(const lp2p__transport *t, const lp2p__link *c,
                                   uint64_t *up, uint64_t *down) {
  *up = *down = 0;
  if (driver(t)->perf_progress) driver(t)->perf_progress(c, up, down);
}

void lp2p__transport_close(const lp2p__transport *t, lp2p__link *c) {
  driver(t)->close(c);
}
