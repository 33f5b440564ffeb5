/* The libuv UDP driver of quic-v1 (transport.h lp2p__driver): one socket
 * per listener or dialer, the QUIC engine (quic.h) on it, lp2p_conn as the
 * session over QUIC streams, one timer per connection set to the earliest
 * of the QUIC and session deadlines. Datagrams go out batched for GSO
 * (udp_tx.h) once the loop's callbacks of the turn have run (an idle
 * handle): one that cannot be sent now is lost, as on any network, and
 * QUIC recovers it. */
#include "udp.h"

#include "udp_tx.h"

#include "lp2p/quic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Concurrent handshakes one listener takes; further Initials are dropped
 * until one completes or times out. */
#define MAX_HANDSHAKES 64
#define MAX_CONNECTIONS 1024

typedef struct endpoint endpoint;

/* One QUIC connection: what the app holds as a link. */
typedef struct qlink {
  endpoint *ep;
  lp2p_quic_conn *q; /* NULL once the engine is gone */
  lp2p_conn *conn;   /* the session, once the handshake is done */
  uv_timer_t timer;
  uint64_t quic_deadline;
  int closed_reported;
  int busy;               /* inside an engine call: teardown waits (close_due) */
  int close_due;          /* the app closed the link from inside a handler */
  struct qlink *next_due; /* listener: the endpoint's close_due list */
} qlink;

struct endpoint {
  uv_loop_t *loop;
  lp2p_env *env;
  uv_udp_t sock;
  uv_idle_t flush_idle; /* sends tx's batch, then stops */
  lp2p__udp_tx *tx;
  int handles; /* open libuv handles: freed when it drops to 0 */
  int closing;
  lp2p_conn_config cc;
  const lp2p__link_handlers *h;
  lp2p_quic_shared *shared;
  lp2p_quic_addr local;
  lp2p_quic_listener *ql; /* listener */
  qlink *dial;            /* dialer */
  lp2p_peerid expected;
  /* listener: inside a listener engine call, whose connection's handlers
   * may close links; those closes wait on close_due until it returns. */
  int in_engine;
  qlink *close_due;
};

/* Datagrams are consumed synchronously, so one receive buffer serves the
 * loop. It takes RX_BATCH datagrams of up to 64 KiB per recvmmsg (libuv's
 * UV_UDP_RECVMMSG, which sizes the batch by the buffer): a peer sending in
 * bursts (quinn with GSO) fills the socket faster than one recvmsg per
 * datagram drains it, and what overflows is lost. */
#define RX_BATCH 16
static uint8_t rx_buf[RX_BATCH * 65536];

/* What one refill may hand to the session's perf streams. Each stream
 * takes no more than its send buffer has room for (lp2p_quic_muxer's
 * writable), which is the real bound; this only caps one call. */
#define PUMP_BUDGET (4u * 1024 * 1024)
/* SO_RCVBUF and SO_SNDBUF we ask for (see ep_new). */
#define SOCKET_BUFFER (2 * 1024 * 1024)

static void tick(endpoint *ep) {
  uv_update_time(ep->loop);
  ep->env->now_ms = uv_now(ep->loop);
  ep->env->unix_s = (int64_t)time(NULL); /* certificate validity */
}

static lp2p__link *as_link(qlink *k) { return (lp2p__link *)k; }

/* ---- teardown ---- */

static void ep_release(endpoint *ep) {
  if (--ep->handles == 0) {
    lp2p_quic_shared_free(ep->shared);
    free(ep->tx);
    free(ep);
  }
}

static void ep_handle_closed(uv_handle_t *h) { ep_release(h->data); }

static void link_timer_closed(uv_handle_t *h) {
  qlink *k = h->data;
  endpoint *ep = k->ep;
  free(k);
  ep_release(ep);
}

static void report_closed(qlink *k, int err) {
  if (k->closed_reported) return;
  k->closed_reported = 1;
  if (k->ep->h->closed) k->ep->h->closed(k->ep->h->ud, as_link(k), err);
}

/* Frees the session and the timer; the engine is freed by its owner. */
static void link_free(qlink *k) {
  lp2p_conn_free(k->conn);
  k->conn = NULL;
  if (k->q) lp2p_quic_conn_set_user(k->q, NULL);
  k->q = NULL;
  uv_close((uv_handle_t *)&k->timer, link_timer_closed);
}

/* The last datagrams (a CONNECTION_CLOSE) go out before the socket
 * closes. */
static void ep_close(endpoint *ep) {
  if (ep->closing) return;
  ep->closing = 1;
  lp2p__udp_tx_flush(ep->tx);
  uv_close((uv_handle_t *)&ep->flush_idle, ep_handle_closed);
  uv_close((uv_handle_t *)&ep->sock, ep_handle_closed);
}

/* ---- datagrams out ---- */

static void flush_cb(uv_idle_t *i) {
  endpoint *ep = i->data;
  lp2p__udp_tx_flush(ep->tx);
  uv_idle_stop(i);
}

static int send_to(endpoint *ep, const lp2p_quic_addr *to, const uint8_t *p, size_t len) {
  if (ep->closing) return 0;
  lp2p__udp_tx_add(ep->tx, (const struct sockaddr *)&to->sa, to->len, p, len);
  if (lp2p__udp_tx_pending(ep->tx) && !uv_is_active((uv_handle_t *)&ep->flush_idle))
    uv_idle_start(&ep->flush_idle, flush_cb);
  return 0;
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

static void rearm(qlink *k) {
  uint64_t d = k->quic_deadline;
  if (k->conn) {
    uint64_t c = lp2p_conn_deadline(k->conn);
    if (c < d) d = c;
  }
  if (d == LP2P_NO_DEADLINE) {
    uv_timer_stop(&k->timer);
    return;
  }
  uint64_t now = k->ep->env->now_ms;
  uv_timer_start(&k->timer, on_timer, d > now ? d - now : 0, 0);
}

static qlink *link_new(endpoint *ep, lp2p_quic_conn *q) {
  qlink *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  k->ep = ep;
  k->q = q;
  k->quic_deadline = LP2P_NO_DEADLINE;
  uv_timer_init(ep->loop, &k->timer);
  k->timer.data = k;
  ep->handles++;
  lp2p_quic_conn_set_user(q, k);
  return k;
}

/* ---- the session ---- */

static int session_write(void *ud, const uint8_t *p, size_t len) {
  (void)ud, (void)p, (void)len;
  return LP2P_EINVAL; /* a QUIC session writes on streams only */
}

static int session_event(void *ud, const lp2p_event *ev) {
  qlink *k = ud;
  if (ev->type == LP2P_EV_PONG && k->ep->h->pong)
    k->ep->h->pong(k->ep->h->ud, as_link(k));
  else if (ev->type == LP2P_EV_PERF_DONE && k->ep->h->perf_done)
    k->ep->h->perf_done(k->ep->h->ud, as_link(k));
  return 0;
}

/* After every outermost engine call (a datagram, a timer, the app's
 * perf): lets perf streams refill their output as acknowledgements free
 * their send buffers, the same pull the stream driver makes as its socket
 * drains (lp2p_conn_pump). The bytes go out at once, as far as flow
 * control and the congestion window let them. Negative: the session
 * failed. */
static int refill(qlink *k) {
  if (!k->conn || !k->q || !lp2p_conn_wants_output(k->conn)) return 0;
  int rc = lp2p_conn_pump(k->conn, PUMP_BUDGET);
  return rc < 0 ? rc : 0;
}

static void set_observed(lp2p_conn *c, const lp2p_quic_addr *a) {
  char ip[64], text[128];
  const struct sockaddr *sa = (const struct sockaddr *)&a->sa;
  int port;
  if (sa->sa_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  } else {
    uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  }
  snprintf(text, sizeof text, "/%s/%s/udp/%d/quic-v1",
           sa->sa_family == AF_INET ? "ip4" : "ip6", ip, port);
  lp2p_multiaddr ma;
  if (lp2p_multiaddr_parse(&ma, text) == 0) lp2p_conn_set_observed(c, &ma);
}

/* READY of the QUIC engine: the session starts muxed on its streams. */
static int on_quic_ready(qlink *k, const lp2p_event *ev) {
  endpoint *ep = k->ep;
  lp2p_io io = {.write = session_write, .event = session_event, .ud = k};
  k->conn = lp2p_conn_new(ep->env, &ep->cc, io);
  if (!k->conn) return LP2P_ENOMEM;
  set_observed(k->conn, lp2p_quic_conn_remote(k->q));
  int rc = lp2p_conn_start_secured(k->conn, ev->peer, &lp2p_quic_muxer, k->q);
  if (rc) return rc;
  if (ep->h->ready) ep->h->ready(ep->h->ud, as_link(k), lp2p_conn_peer(k->conn));
  return 0;
}

/* ---- listener ---- */

static int l_send(void *ud, const lp2p_quic_addr *to, const uint8_t *p, size_t len) {
  return send_to(ud, to, p, len);
}

static qlink *link_of(endpoint *ep, lp2p_quic_conn *q) {
  qlink *k = lp2p_quic_conn_user(q);
  return k ? k : link_new(ep, q);
}

static int l_event(void *ud, lp2p_quic_conn *q, const lp2p_event *ev) {
  qlink *k = link_of(ud, q);
  if (!k) return LP2P_ENOMEM;
  return ev->type == LP2P_EV_READY ? on_quic_ready(k, ev) : 0;
}

static int l_ran(void *ud, lp2p_quic_conn *q) {
  (void)ud;
  qlink *k = lp2p_quic_conn_user(q);
  return k ? refill(k) : 0;
}

static void l_timer(void *ud, lp2p_quic_conn *q, uint64_t deadline) {
  qlink *k = link_of(ud, q);
  if (!k) return;
  k->quic_deadline = deadline;
  rearm(k);
}

static void l_gone(void *ud, lp2p_quic_conn *q, int err) {
  (void)ud;
  qlink *k = lp2p_quic_conn_user(q);
  if (!k) return;
  if (k->conn) report_closed(k, err);
  k->q = NULL;
  link_free(k);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h, (void)suggested;
  *b = uv_buf_init((char *)rx_buf, sizeof rx_buf);
}

static void dialer_recv(endpoint *ep, const lp2p_quic_addr *from, const uint8_t *p,
                        size_t n);

/* After a listener engine call: the links its handlers closed close now,
 * each through the listener (which frees its engine and calls l_gone). A
 * link already gone keeps its memory until its timer's close callback, a
 * later loop turn, so reading k->q here is safe. */
static void listener_after(endpoint *ep) {
  ep->in_engine = 0;
  while (ep->close_due) {
    qlink *k = ep->close_due;
    ep->close_due = k->next_due;
    if (k->q && ep->ql) lp2p_quic_listener_close_conn(ep->ql, k->q);
  }
}

/* One datagram, in b (with recvmmsg, one of several in rx_buf; a last call
 * with n 0 and UV_UDP_MMSG_FREE ends the batch: nothing to free). */
static void on_recv(uv_udp_t *s, ssize_t n, const uv_buf_t *b,
                    const struct sockaddr *addr, unsigned flags) {
  endpoint *ep = s->data;
  const uint8_t *p = (const uint8_t *)b->base;
  if (n < 0) LP2P_DEBUG("udp", "receive: %s", uv_strerror((int)n));
  if (n <= 0 || !addr || ep->closing || (flags & UV_UDP_PARTIAL)) return;
  lp2p_quic_addr from = {.len = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                            : sizeof(struct sockaddr_in)};
  memcpy(&from.sa, addr, from.len);
  tick(ep);
  if (ep->ql) {
    ep->in_engine = 1;
    lp2p_quic_listener_recv(ep->ql, &from, p, (size_t)n);
    listener_after(ep);
  } else {
    dialer_recv(ep, &from, p, (size_t)n);
  }
}

/* NULL on failure, with the reason in *err (the caller reports it: a
 * port in use says so, once). */
static endpoint *ep_new(uv_loop_t *loop, lp2p_env *env, const lp2p_conn_config *cc,
                        const lp2p__link_handlers *h, const struct sockaddr *bind_addr,
                        int *err) {
  endpoint *ep = calloc(1, sizeof *ep);
  *err = LP2P_ENOMEM;
  if (ep && !(ep->tx = calloc(1, sizeof *ep->tx))) {
    free(ep);
    return NULL;
  }
  if (!ep) return NULL;
  ep->loop = loop;
  ep->env = env;
  ep->cc = *cc;
  ep->h = h;
  ep->sock.data = ep;
  tick(ep);
  ep->shared = lp2p_quic_shared_new(env, cc->identity);
  int rc = ep->shared ? uv_udp_init_ex(loop, &ep->sock, AF_UNSPEC | UV_UDP_RECVMMSG)
                      : LP2P_ENOMEM;
  if (rc) {
    lp2p_quic_shared_free(ep->shared);
    free(ep->tx);
    free(ep);
    *err = rc;
    return NULL;
  }
  uv_idle_init(loop, &ep->flush_idle);
  ep->flush_idle.data = ep;
  ep->handles = 2;
  int len = sizeof ep->local.sa;
  uv_os_fd_t fd;
  rc = uv_udp_bind(&ep->sock, bind_addr, 0);
  if (rc == 0) rc = uv_udp_getsockname(&ep->sock, (struct sockaddr *)&ep->local.sa, &len);
  if (rc == 0) rc = uv_fileno((uv_handle_t *)&ep->sock, &fd);
  if (rc == 0) lp2p__udp_tx_init(ep->tx, fd);
  if (rc == 0) {
    /* Room for a burst of datagrams while we are busy: what arrives with
     * the socket's buffer full is lost and costs a retransmission. The
     * kernel caps it (net.core.rmem_max); a smaller buffer still works. */
    int size = SOCKET_BUFFER;
    uv_recv_buffer_size((uv_handle_t *)&ep->sock, &size);
    size = SOCKET_BUFFER;
    uv_send_buffer_size((uv_handle_t *)&ep->sock, &size);
    rc = uv_udp_recv_start(&ep->sock, alloc_cb, on_recv);
  }
  if (rc) {
    LP2P_DEBUG("udp", "socket: %s", uv_strerror(rc));
    ep_close(ep);
    *err = rc;
    return NULL;
  }
  ep->local.len = (socklen_t)len;
  return ep;
}

static int udp_listen(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                      const char *ip, uint16_t port, const lp2p_conn_config *cc,
                      const lp2p__link_handlers *h, lp2p__link_listener **out) {
  (void)t;
  struct sockaddr_storage ss;
  int rc = strchr(ip, ':') ? uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss)
                           : uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
  if (rc) return rc;
  endpoint *ep = ep_new(loop, env, cc, h, (struct sockaddr *)&ss, &rc);
  if (!ep) return rc;
  lp2p_quic_listener_config lc = {
      .conn = {.shared = ep->shared, .handshake_timeout_ms = cc->step_timeout_ms},
      .max_handshakes = MAX_HANDSHAKES,
      .max_connections = MAX_CONNECTIONS};
  lp2p_quic_listener_cbs cbs = {.send = l_send,
                                .event = l_event,
                                .ran = l_ran,
                                .timer = l_timer,
                                .gone = l_gone,
                                .ud = ep};
  ep->ql = lp2p_quic_listener_new(env, &lc, &ep->local, cbs);
  if (!ep->ql) {
    ep_close(ep);
    return LP2P_ENOMEM;
  }
  *out = (lp2p__link_listener *)ep;
  return 0;
}

static int udp_port(lp2p__link_listener *l, uint16_t *port) {
  endpoint *ep = (endpoint *)l;
  const struct sockaddr *sa = (const struct sockaddr *)&ep->local.sa;
  *port = ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
                                          : ((const struct sockaddr_in *)sa)->sin_port);
  return 0;
}

static void udp_set_addrs(lp2p__link_listener *l, const lp2p_multiaddr *addrs, size_t n) {
  endpoint *ep = (endpoint *)l;
  ep->cc.listen_addrs = addrs;
  ep->cc.n_listen_addrs = n;
}

static void udp_listener_close(lp2p__link_listener *l) {
  endpoint *ep = (endpoint *)l;
  tick(ep);
  lp2p_quic_listener_free(ep->ql); /* goodbyes to every peer, then gone */
  ep->ql = NULL;
  ep_close(ep);
}

/* ---- dialer ---- */

static void dialer_end(qlink *k, int err) {
  endpoint *ep = k->ep;
  report_closed(k, err);
  lp2p_quic_conn_free(k->q);
  k->q = NULL;
  ep->dial = NULL;
  link_free(k);
  ep_close(ep);
}

static void dialer_settle(qlink *k, int rc) {
  if (rc) {
    const char *why = lp2p_take_reason();
    if (rc != LP2P_EEOF)
      LP2P_ERROR("quic", "connection failed: %s", why ? why : lp2p_strerror(rc));
    return dialer_end(k, rc == LP2P_EEOF ? 0 : rc);
  }
  k->quic_deadline = lp2p_quic_conn_deadline(k->q);
  rearm(k);
}

static void close_now(qlink *k);

/* After an engine call: perf output is refilled, still inside it (a
 * handler the pump reaches may ask for a close, which must wait; a failed
 * session ends the connection); then a close asked for runs. */
static void dialer_after(qlink *k, int rc) {
  if (rc == 0 && !k->close_due && refill(k)) {
    lp2p_quic_conn_close(k->q);
    rc = LP2P_ECLOSED;
  }
  k->busy = 0;
  if (k->close_due) return close_now(k);
  dialer_settle(k, rc);
}

static void dialer_recv(endpoint *ep, const lp2p_quic_addr *from, const uint8_t *p,
                        size_t n) {
  qlink *k = ep->dial;
  if (!k || !k->q) return;
  lp2p_clear_reason();
  k->busy = 1;
  int rc = lp2p_quic_conn_recv(k->q, from, p, n);
  dialer_after(k, rc);
}

static int d_write(void *ud, const uint8_t *p, size_t len) {
  qlink *k = ud;
  return send_to(k->ep, lp2p_quic_conn_remote(k->q), p, len);
}

static int d_event(void *ud, const lp2p_event *ev) {
  qlink *k = ud;
  return ev->type == LP2P_EV_READY ? on_quic_ready(k, ev) : 0;
}

static int udp_dial(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                    const lp2p__dial_plan *plan, const struct sockaddr *addr,
                    const lp2p_conn_config *cc, const lp2p__link_handlers *h,
                    lp2p__link **out) {
  (void)t, (void)plan;
  struct sockaddr_storage any;
  int rc = addr->sa_family == AF_INET6
               ? uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any)
               : uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
  if (rc) return rc;
  endpoint *ep = ep_new(loop, env, cc, h, (struct sockaddr *)&any, &rc);
  if (!ep) return rc;
  lp2p_quic_addr remote = {.len = addr->sa_family == AF_INET6
                                      ? sizeof(struct sockaddr_in6)
                                      : sizeof(struct sockaddr_in)};
  memcpy(&remote.sa, addr, remote.len);
  qlink *k = calloc(1, sizeof *k);
  if (!k) {
    ep_close(ep);
    return LP2P_ENOMEM;
  }
  k->ep = ep;
  k->quic_deadline = LP2P_NO_DEADLINE;
  uv_timer_init(loop, &k->timer);
  k->timer.data = k;
  ep->handles++;
  ep->dial = k;
  lp2p_quic_config qc = {.shared = ep->shared,
                         .expected_peer = cc->expected_peer,
                         .handshake_timeout_ms = cc->step_timeout_ms};
  lp2p_io io = {.write = d_write, .event = d_event, .ud = k};
  /* The socket is bound to the wildcard: the path's local address is only
   * ngtcp2's label for it. */
  k->q = lp2p_quic_dial(env, &qc, &ep->local, &remote, io);
  if (!k->q) {
    ep->dial = NULL;
    link_free(k);
    ep_close(ep);
    return LP2P_EINVAL;
  }
  lp2p_quic_conn_set_user(k->q, k);
  lp2p_clear_reason();
  rc = lp2p_quic_conn_start(k->q);
  if (rc) {
    dialer_end(k, rc);
    return rc;
  }
  *out = as_link(k);
  k->quic_deadline = lp2p_quic_conn_deadline(k->q);
  rearm(k);
  return 0;
}

/* ---- either role ---- */

static void on_timer(uv_timer_t *t) {
  qlink *k = t->data;
  endpoint *ep = k->ep;
  tick(ep);
  lp2p_clear_reason();
  k->busy = 1;
  if (ep->ql) ep->in_engine = 1; /* the session's handlers may close links */
  int failed = 0;
  if (k->conn && lp2p_conn_deadline(k->conn) <= ep->env->now_ms &&
      lp2p_conn_expire(k->conn)) {
    /* The session failed (said why): the connection ends with it. */
    failed = 1;
    if (k->q) lp2p_quic_conn_close(k->q);
  }
  if (ep->ql) {
    k->busy = 0;
    if (k->q && (failed || k->quic_deadline <= ep->env->now_ms))
      lp2p_quic_listener_expire(ep->ql, k->q); /* re-arms, or gone */
    else if (k->q)
      rearm(k);
    listener_after(ep);
    return;
  }
  int rc = failed ? LP2P_ECLOSED : 0;
  if (rc == 0 && k->quic_deadline <= ep->env->now_ms) rc = lp2p_quic_conn_expire(k->q);
  dialer_after(k, rc);
}

static int udp_ping(lp2p__link *c) {
  qlink *k = (qlink *)c;
  if (!k->conn) return LP2P_EINVAL;
  tick(k->ep);
  int rc = lp2p_conn_ping(k->conn);
  if (rc == 0) rearm(k);
  return rc;
}

/* One /perf/1.0.0 exchange as client. Inside an engine call (a handler
 * starting the next exchange) the outer call refills; else this one does,
 * as dialer_after would. */
static int udp_perf(lp2p__link *c, uint64_t upload, uint64_t download) {
  qlink *k = (qlink *)c;
  if (!k->conn || !k->q) return LP2P_EINVAL;
  tick(k->ep);
  int rc = lp2p_conn_perf(k->conn, upload, download);
  if (rc || k->busy) return rc;
  k->busy = 1; /* as in an engine call: a close from a handler waits */
  rc = refill(k);
  k->busy = 0;
  if (k->close_due) {
    close_now(k);
    return rc ? rc : LP2P_ECLOSED;
  }
  if (rc == 0 && k->q) {
    k->quic_deadline = lp2p_quic_conn_deadline(k->q);
    rearm(k);
  }
  return rc;
}

static void udp_perf_progress(const lp2p__link *c, uint64_t *up, uint64_t *down) {
  const qlink *k = (const qlink *)c;
  *up = *down = 0;
  if (k->conn) lp2p_conn_perf_progress(k->conn, up, down);
}

static void close_now(qlink *k) {
  k->closed_reported = 1; /* no handler runs after */
  if (k->q) lp2p_quic_conn_close(k->q);
  dialer_end(k, 0);
}

/* A listener's link: the listener owns its engine and the socket, so the
 * connection ends through it, at once or, from inside a listener engine
 * call, once that returns. */
static void listener_link_close(qlink *k) {
  endpoint *ep = k->ep;
  k->closed_reported = 1;       /* no handler runs after */
  if (!k->q || !ep->ql) return; /* already gone */
  if (!ep->in_engine) return lp2p_quic_listener_close_conn(ep->ql, k->q);
  if (k->close_due) return;
  k->close_due = 1;
  k->next_due = ep->close_due;
  ep->close_due = k;
}

static void udp_close(lp2p__link *c) {
  qlink *k = (qlink *)c;
  tick(k->ep);
  if (k->ep->ql) return listener_link_close(k);
  if (k->busy)
    k->close_due = 1;
  else
    close_now(k);
}

const lp2p__driver lp2p__udp_driver = {.listen = udp_listen,
                                       .port = udp_port,
                                       .set_addrs = udp_set_addrs,
                                       .listener_close = udp_listener_close,
                                       .dial = udp_dial,
                                       .ping = udp_ping,
                                       .perf = udp_perf,
                                       .perf_progress = udp_perf_progress,
                                       .close = udp_close};
