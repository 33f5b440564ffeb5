/* The TCP side of the stream driver: listen, bind, accept, connect with
 * its timeout, TCP_NODELAY, the peer address for identify and the
 * listener's connections. Everything that works on any uv_stream_t
 * (buffers, backpressure, the timer, the orderly close) is stream.c's. */
#include "tcp.h"

#include "lp2p/multiaddr.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lp2p__tcp_listener {
  uv_tcp_t tcp;
  uv_loop_t *loop;
  lp2p_env *env;
  lp2p_conn_config conn_cfg;
  lp2p_chain_config chain_cfg; /* .conn points at conn_cfg */
  lp2p__tcp_handlers h;
  unsigned open;
  unsigned lingering;           /* of open: closing, only draining the peer */
  struct lp2p__tcp_conn *conns; /* open connections, torn down with us */
  int closing;
  void (*on_free)(void *arg); /* what the transport made for the listener */
  void *on_free_arg;
};

/* The stream and the handle it drives live and die together: stream.c
 * closes tcp at teardown and conn_freed frees both. */
struct lp2p__tcp_conn {
  lp2p__stream s;
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  lp2p__tcp_listener *listener;
  struct lp2p__tcp_conn *lnext, *lprev; /* in listener->conns */
  lp2p__tcp_handlers h;
  const char *addr_suffix; /* static: the transport's */
};

static void unlink_listener(lp2p__tcp_conn *tc) {
  lp2p__tcp_listener *l = tc->listener;
  if (!l) return;
  if (tc->lprev)
    tc->lprev->lnext = tc->lnext;
  else
    l->conns = tc->lnext;
  if (tc->lnext) tc->lnext->lprev = tc->lprev;
  tc->listener = NULL;
  lp2p__stream_set_linger_on_error(&tc->s, 0);
  l->open--;
  if (lp2p__stream_is_lingering(&tc->s)) l->lingering--;
}

/* ---- what the stream tells us ---- */

static void conn_ready(void *ud, const lp2p_peerid *peer) {
  lp2p__tcp_conn *tc = ud;
  if (tc->h.ready) tc->h.ready(tc->h.ud, tc, peer);
}

static void conn_pong(void *ud) {
  lp2p__tcp_conn *tc = ud;
  if (tc->h.pong) tc->h.pong(tc->h.ud, tc);
}

static void conn_perf_done(void *ud) {
  lp2p__tcp_conn *tc = ud;
  if (tc->h.perf_done) tc->h.perf_done(tc->h.ud, tc);
}

static void conn_closed(void *ud, int err) {
  lp2p__tcp_conn *tc = ud;
  if (tc->h.closed) tc->h.closed(tc->h.ud, tc, err);
}

/* A draining connection is over: the listener no longer counts it. */
static void conn_lingering(void *ud) {
  lp2p__tcp_conn *tc = ud;
  if (tc->listener) tc->listener->lingering++;
}

static void conn_torn_down(void *ud) { unlink_listener(ud); }

static void conn_freed(void *ud) { free(ud); }

static const lp2p__stream_ops conn_ops = {
    .ready = conn_ready,
    .pong = conn_pong,
    .perf_done = conn_perf_done,
    .closed = conn_closed,
    .lingering = conn_lingering,
    .torn_down = conn_torn_down,
    .freed = conn_freed,
};

static lp2p__tcp_conn *conn_new(uv_loop_t *loop, lp2p_env *env,
                                const lp2p_chain_config *cfg,
                                const lp2p__tcp_handlers *h) {
  lp2p__tcp_conn *tc = calloc(1, sizeof *tc);
  if (!tc) return NULL;
  tc->h = *h;
  tc->addr_suffix = cfg->addr_suffix ? cfg->addr_suffix : "";
  if (lp2p__stream_init(&tc->s, env, cfg, "tcp", &conn_ops, tc)) {
    free(tc);
    return NULL;
  }
  uv_tcp_init(loop, &tc->tcp);
  lp2p__stream_attach(&tc->s, loop, (uv_stream_t *)&tc->tcp);
  tc->connect_req.data = tc;
  return tc;
}

/* identify's observedAddr: /ip4|ip6/<peer address>/tcp/<port>, then what
 * the byte layers add (/ws, /tls/ws). */
static void set_observed(lp2p__tcp_conn *tc) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char ip[64], text[128];
  if (uv_tcp_getpeername(&tc->tcp, (struct sockaddr *)&ss, &len)) return;
  int v6 = ss.ss_family == AF_INET6;
  uint16_t port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                           : ((struct sockaddr_in *)&ss)->sin_port);
  if (uv_ip_name((struct sockaddr *)&ss, ip, sizeof ip)) return;
  snprintf(text, sizeof text, "/%s/%s/tcp/%u%s", v6 ? "ip6" : "ip4", ip, port,
           tc->addr_suffix);
  lp2p_multiaddr ma;
  if (lp2p_multiaddr_parse(&ma, text) == 0)
    lp2p_conn_set_observed(lp2p_chain_conn(lp2p__stream_chain(&tc->s)), &ma);
}

static void start_conn(lp2p__tcp_conn *tc) {
  /* HARNESS.md pitfall 9: small handshake and ping writes must not wait
   * for Nagle. */
  uv_tcp_nodelay(&tc->tcp, 1);
  set_observed(tc);
  lp2p__stream_start(&tc->s);
}

/* ---- listener ---- */

static void on_connection(uv_stream_t *server, int status) {
  lp2p__tcp_listener *l = server->data;
  if (status < 0) {
    LP2P_ERROR("tcp", "accept: %s", uv_strerror(status));
    return;
  }
  lp2p__tcp_conn *tc = conn_new(l->loop, l->env, &l->chain_cfg, &l->h);
  if (!tc) return;
  tc->listener = l;
  tc->lnext = l->conns;
  if (l->conns) l->conns->lprev = tc;
  l->conns = tc;
  l->open++;
  /* Only a listener's connections drain on an error: a dialer that fails
   * ends its role (node_stop), and its owner expects the connection gone. */
  lp2p__stream_set_linger_on_error(&tc->s, 1);
  if (uv_accept(server, (uv_stream_t *)&tc->tcp) != 0) {
    lp2p__stream_abort(&tc->s);
    return;
  }
  LP2P_DEBUG("tcp", "accepted a connection (%u open)", l->open);
  start_conn(tc);
}

int lp2p__tcp_listen_chain(uv_loop_t *loop, lp2p_env *env, const char *ip, uint16_t port,
                           const lp2p_chain_config *cc, const lp2p__tcp_handlers *h,
                           lp2p__tcp_listener **out) {
  struct sockaddr_storage ss;
  int rc = strchr(ip, ':') ? uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss)
                           : uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
  if (rc) return rc;
  lp2p__tcp_listener *l = calloc(1, sizeof *l);
  if (!l) return LP2P_ENOMEM;
  l->loop = loop;
  l->env = env;
  l->conn_cfg = *cc->conn;
  l->chain_cfg = *cc;
  l->chain_cfg.conn = &l->conn_cfg;
  l->h = *h;
  uv_tcp_init(loop, &l->tcp);
  l->tcp.data = l;
  rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection);
  if (rc) {
    lp2p__tcp_listener_close(l);
    return rc;
  }
  *out = l;
  return 0;
}

int lp2p__tcp_listener_port(lp2p__tcp_listener *l, uint16_t *port) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
  if (rc) return rc;
  *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
  return 0;
}

void lp2p__tcp_listener_set_addrs(lp2p__tcp_listener *l, const lp2p_multiaddr *addrs,
                                  size_t n) {
  l->conn_cfg.listen_addrs = addrs;
  l->conn_cfg.n_listen_addrs = n;
}

/* Lingering connections are over: they are not counted. */
unsigned lp2p__tcp_listener_count(const lp2p__tcp_listener *l) {
  return l->open - l->lingering;
}

/* Runs once the loop is past every connection's teardown: nothing still
 * uses what on_free releases. */
static void listener_closed(uv_handle_t *h) {
  lp2p__tcp_listener *l = h->data;
  if (l->on_free) l->on_free(l->on_free_arg);
  free(l);
}

void lp2p__tcp_listener_on_free(lp2p__tcp_listener *l, void (*fn)(void *), void *arg) {
  l->on_free = fn;
  l->on_free_arg = arg;
}

/* The listener's connections end with it: they point at it, and it is
 * freed once its handle has closed. */
void lp2p__tcp_listener_close(lp2p__tcp_listener *l) {
  if (!l || l->closing) return;
  l->closing = 1;
  while (l->conns) {
    lp2p__tcp_conn *tc = l->conns;
    unlink_listener(tc);
    lp2p__stream_abort(&tc->s);
  }
  uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

/* ---- dialer ---- */

static void connect_cb(uv_connect_t *req, int status) {
  lp2p__tcp_conn *tc = req->data;
  if (lp2p__stream_is_torn_down(&tc->s)) return;
  if (status < 0) {
    LP2P_ERROR("tcp", "connect: %s", uv_strerror(status));
    lp2p__stream_fail(&tc->s, status);
    return;
  }
  start_conn(tc); /* stops the connect timeout */
}

int lp2p__tcp_dial_chain(uv_loop_t *loop, lp2p_env *env, const struct sockaddr *addr,
                         const lp2p_chain_config *cc, const lp2p__tcp_handlers *h,
                         lp2p__tcp_conn **out) {
  lp2p__tcp_conn *tc = conn_new(loop, env, cc, h);
  if (!tc) return LP2P_ENOMEM;
  int rc = uv_tcp_connect(&tc->connect_req, &tc->tcp, addr, connect_cb);
  if (rc) {
    lp2p__stream_drop(&tc->s);
    return rc;
  }
  lp2p__stream_open_timeout(&tc->s, cc->conn->step_timeout_ms);
  *out = tc;
  return 0;
}

int lp2p__tcp_ping(lp2p__tcp_conn *tc) { return lp2p__stream_ping(&tc->s); }

int lp2p__tcp_perf(lp2p__tcp_conn *tc, uint64_t upload, uint64_t download) {
  return lp2p__stream_perf(&tc->s, upload, download);
}

void lp2p__tcp_perf_progress(const lp2p__tcp_conn *tc, uint64_t *up, uint64_t *down) {
  lp2p__stream_perf_progress(&tc->s, up, down);
}

void lp2p__tcp_close(lp2p__tcp_conn *tc) { lp2p__stream_close(&tc->s); }

int lp2p__tcp_listen(uv_loop_t *loop, lp2p_env *env, const char *ip, uint16_t port,
                     const lp2p_conn_config *conn_cfg, const lp2p__tcp_handlers *h,
                     lp2p__tcp_listener **out) {
  lp2p_chain_config cc = {.conn = conn_cfg};
  return lp2p__tcp_listen_chain(loop, env, ip, port, &cc, h, out);
}

int lp2p__tcp_dial(uv_loop_t *loop, lp2p_env *env, const struct sockaddr *addr,
                   const lp2p_conn_config *conn_cfg, const lp2p__tcp_handlers *h,
                   lp2p__tcp_conn **out) {
  lp2p_chain_config cc = {.conn = conn_cfg};
  return lp2p__tcp_dial_chain(loop, env, addr, &cc, h, out);
}
