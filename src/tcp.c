#include "tcp.h"

#include "lp2p/codec.h"
#include "lp2p/multiaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One read buffer for the whole loop: read_cb hands it to the connection
 * engine, which consumes or copies every byte before returning. 256 KiB
 * holds several whole 64 KiB Noise frames, so bulk data is rarely split
 * (and copied) across reads and takes 4x fewer read calls (bench/perf.sh). */
#define READ_BUF_SIZE (256 * 1024)
static char read_buf[READ_BUF_SIZE];
static int read_buf_busy;

/* Output the peer has not taken yet, beyond which we stop reading from it:
 * a peer that sends without reading (a flood of yamux pings, each one
 * answered) cannot make us queue replies without bound. Once paused, the
 * write in flight must finish within a step or the connection is closed. */
#define QUEUED_HIGH (1024 * 1024)
/* Bulk senders (perf) refill our output up to this, below QUEUED_HIGH so
 * that sending never pauses our own reads (the peer's window updates). */
#define PUMP_TARGET (QUEUED_HIGH / 2)

/* A close the peer can read. When we end a connection because the peer
 * broke the protocol, our last frame (yamux GoAway, TLS alert, ws close)
 * is in the kernel's send queue; closing a socket with unread input makes
 * the kernel send a reset, which may reach the peer before it has read
 * that frame and makes it see ECONNRESET instead (RFC 9112 section 9.6,
 * "the TCP reset problem"). So, after the last write: shut down writing
 * (FIN after the frame), read and discard input until the peer closes
 * too, then close. Bounded, since a hostile peer may never stop writing:
 * LINGER_MS is a few round trips even on a slow network yet small next to
 * the harness timeouts; LINGER_BYTES is what a peer already in flight may
 * still send (a few receive windows), not a flood we keep paying for. */
#define LINGER_MS 2000
#define LINGER_BYTES (256 * 1024)

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

struct lp2p__tcp_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect_req;
  uv_write_t write_req;
  uv_shutdown_t shutdown_req;
  lp2p_env *env;
  lp2p_chain *chain;
  lp2p__tcp_listener *listener;
  struct lp2p__tcp_conn *lnext, *lprev; /* in listener->conns */
  lp2p__tcp_handlers h;
  lp2p_buf pending;
  lp2p_buf inflight;
  int writing;
  int read_paused;      /* backpressure: the peer is not taking our output */
  uint64_t write_since; /* start of the write in flight (loop time) */
  uint32_t step_ms;
  const char *addr_suffix; /* static: the transport's */
  int depth;               /* driver calls on the stack */
  int close_after_flush;
  int linger;       /* listener side, closing on an error: drain first */
  int lingering;    /* writing shut down, discarding input until the peer ends */
  size_t linger_in; /* bytes discarded so far */
  int peer_gone;    /* EOF or an error on read: nothing left to drain */
  int closed_reported;
  int handles_open;
  int torn_down;
};

static void teardown(lp2p__tcp_conn *tc);
static void close_flushed(lp2p__tcp_conn *tc);

static void unlink_listener(lp2p__tcp_conn *tc) {
  lp2p__tcp_listener *l = tc->listener;
  if (!l) return;
  if (tc->lprev)
    tc->lprev->lnext = tc->lnext;
  else
    l->conns = tc->lnext;
  if (tc->lnext) tc->lnext->lprev = tc->lprev;
  tc->listener = NULL;
  l->open--;
  if (tc->lingering) l->lingering--;
}

static void report_closed(lp2p__tcp_conn *tc, int err) {
  if (tc->closed_reported) return;
  tc->closed_reported = 1;
  if (tc->h.closed) tc->h.closed(tc->h.ud, tc, err);
}

/* ---- bytes down ---- */

static void write_cb(uv_write_t *req, int status);

static void flush(lp2p__tcp_conn *tc) {
  if (tc->writing || tc->torn_down || tc->pending.len == 0) return;
  lp2p_buf t = tc->inflight;
  tc->inflight = tc->pending;
  tc->pending = t;
  tc->pending.len = 0;
  uv_buf_t b = uv_buf_init((char *)tc->inflight.data, (unsigned)tc->inflight.len);
  int rc = uv_write(&tc->write_req, (uv_stream_t *)&tc->tcp, &b, 1, write_cb);
  if (rc) {
    LP2P_ERROR("tcp", "write: %s", uv_strerror(rc));
    report_closed(tc, rc);
    teardown(tc);
    return;
  }
  tc->writing = 1;
  tc->write_since = uv_now(tc->tcp.loop);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Pauses reading while QUEUED_HIGH bytes of ours wait for the peer, and
 * resumes once it has taken them. */
static void backpressure(lp2p__tcp_conn *tc) {
  size_t queued = tc->pending.len + tc->inflight.len;
  if (!tc->read_paused && queued >= QUEUED_HIGH) {
    LP2P_DEBUG("tcp", "peer is slow to read (%zu bytes queued): pausing reads", queued);
    uv_read_stop((uv_stream_t *)&tc->tcp);
    tc->read_paused = 1;
  } else if (tc->read_paused && queued < QUEUED_HIGH) {
    LP2P_DEBUG("tcp", "peer caught up: reading again");
    tc->read_paused = 0;
    int rc = uv_read_start((uv_stream_t *)&tc->tcp, alloc_cb, read_cb);
    if (rc) {
      report_closed(tc, rc);
      tc->close_after_flush = 1;
    }
  }
}

static void timer_cb(uv_timer_t *t);

/* One timer: the connection's earliest deadline, or the end of the step
 * the peer has to take our output while reads are paused. */
static void arm_timer(lp2p__tcp_conn *tc) {
  uint64_t d = lp2p_chain_deadline(tc->chain), now = uv_now(tc->tcp.loop);
  if (tc->read_paused && tc->writing && tc->write_since + tc->step_ms < d)
    d = tc->write_since + tc->step_ms;
  if (d == LP2P_NO_DEADLINE)
    uv_timer_stop(&tc->timer);
  else
    uv_timer_start(&tc->timer, timer_cb, d > now ? d - now : 0, 0);
}

static void begin(lp2p__tcp_conn *tc);
static void end(lp2p__tcp_conn *tc, int rc);

static void write_cb(uv_write_t *req, int status) {
  lp2p__tcp_conn *tc = req->data;
  tc->writing = 0;
  tc->inflight.len = 0;
  if (tc->torn_down) {
    lp2p_buf_free(&tc->inflight);
    if (--tc->handles_open == 0) free(tc);
    return;
  }
  if (status) {
    LP2P_DEBUG("tcp", "write: %s", uv_strerror(status));
    report_closed(tc, status);
    teardown(tc);
    return;
  }
  /* The socket took our output: what end() does after an engine call. */
  begin(tc);
  end(tc, 0);
}

static int conn_write(void *ud, const uint8_t *p, size_t len) {
  lp2p__tcp_conn *tc = ud;
  return lp2p_buf_append(&tc->pending, p, len);
}

/* ---- events up ---- */

static int conn_event(void *ud, const lp2p_event *ev) {
  lp2p__tcp_conn *tc = ud;
  if (ev->type == LP2P_EV_READY && tc->h.ready)
    tc->h.ready(tc->h.ud, tc, lp2p_conn_peer(lp2p_chain_conn(tc->chain)));
  else if (ev->type == LP2P_EV_PONG && tc->h.pong)
    tc->h.pong(tc->h.ud, tc);
  else if (ev->type == LP2P_EV_EOF && !tc->close_after_flush) {
    /* A byte layer saw the peer end the stream (WebSocket close): clean
     * once the connection was up, else it ended a step early. */
    int up = lp2p_chain_is_ready(tc->chain);
    LP2P_DEBUG("tcp", "peer ended the stream");
    if (!up) LP2P_ERROR("tcp", "the peer closed the connection before it was up");
    tc->close_after_flush = 1;
    report_closed(tc, up ? 0 : LP2P_EEOF);
  } else if (ev->type == LP2P_EV_PERF_DONE && tc->h.perf_done)
    tc->h.perf_done(tc->h.ud, tc);
  return 0;
}

/* ---- driver calls ---- */

static void begin(lp2p__tcp_conn *tc) {
  tc->depth++;
  tc->env->now_ms = uv_now(tc->tcp.loop);
  tc->env->unix_s = (int64_t)time(NULL); /* certificate validity (TLS) */
}

/* Lets perf streams refill our output as the socket takes it. Runs at the
 * outermost driver level only, like flush. */
static void pump(lp2p__tcp_conn *tc) {
  size_t queued = tc->pending.len + tc->inflight.len;
  if (tc->close_after_flush || queued >= PUMP_TARGET || !tc->chain ||
      !lp2p_chain_wants_output(tc->chain))
    return;
  tc->depth++;
  int rc = lp2p_chain_pump(tc->chain, PUMP_TARGET - queued);
  tc->depth--;
  if (rc < 0) {
    report_closed(tc, rc);
    tc->close_after_flush = 1;
  }
}

/* After every call into the engine: report a failure, flush what it wrote,
 * re-arm the timer to its earliest deadline, and run a deferred close. */
static void end(lp2p__tcp_conn *tc, int rc) {
  if (rc && !tc->close_after_flush) {
    report_closed(tc, rc);
    tc->close_after_flush = 1;
    /* Only a listener's connections drain: a dialer that fails ends its
     * role (node_stop), and its owner expects the connection gone. */
    tc->linger = tc->listener != NULL;
  }
  if (--tc->depth > 0 || tc->torn_down) return;
  pump(tc);
  flush(tc);
  if (!tc->torn_down && !tc->close_after_flush) backpressure(tc);
  if (tc->torn_down) return;
  if (tc->close_after_flush) {
    if (!tc->writing) close_flushed(tc);
    return;
  }
  arm_timer(tc);
}

static void timer_cb(uv_timer_t *t) {
  lp2p__tcp_conn *tc = t->data;
  uint64_t now = uv_now(tc->tcp.loop);
  if (tc->read_paused && tc->writing && now >= tc->write_since + tc->step_ms) {
    LP2P_ERROR("tcp", "peer is not reading: %zu bytes unsent after %u ms",
               tc->pending.len + tc->inflight.len, tc->step_ms);
    report_closed(tc, LP2P_ETIMEDOUT);
    teardown(tc);
    return;
  }
  begin(tc);
  int rc = lp2p_chain_expire(tc->chain);
  /* A deadline still due after expire() would re-arm a 0 ms timer, which
   * libuv runs again in the same loop turn, forever: end it instead. */
  if (rc == 0 && lp2p_chain_deadline(tc->chain) <= tc->env->now_ms) {
    LP2P_ERROR("tcp", "a deadline stayed due after it expired; closing");
    rc = LP2P_ETIMEDOUT;
  }
  end(tc, rc);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  /* read_cb consumes synchronously, so the buffer is free again by the
   * next allocation; the flag guards that assumption. */
  if (read_buf_busy) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  read_buf_busy = 1;
  *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lp2p__tcp_conn *tc = s->data;
  if (buf->base == read_buf) read_buf_busy = 0;
  if (n == 0 || tc->torn_down) return;
  if (tc->lingering) {
    tc->linger_in += n > 0 ? (size_t)n : 0;
    if (n < 0 || tc->linger_in > LINGER_BYTES) {
      LP2P_DEBUG("tcp", "drained %zu bytes after our last frame: %s", tc->linger_in,
                 n < 0 ? uv_strerror((int)n) : "cap reached");
      teardown(tc);
    }
    return;
  }
  if (n < 0) tc->peer_gone = 1;
  /* Closing: only our last output still goes out. Input after our own
   * goodbye (a close frame, close_notify) would make the layers answer
   * through a layer that has already closed. */
  if (n > 0 && tc->close_after_flush) return;
  begin(tc);
  int rc = 0;
  if (n == UV_EOF && lp2p_chain_is_ready(tc->chain)) {
    /* A peer closing a finished connection is a clean end. */
    LP2P_DEBUG("tcp", "peer closed");
    tc->close_after_flush = 1;
    report_closed(tc, 0);
  } else if (n < 0 && lp2p_chain_is_ready(tc->chain)) {
    /* A reset of a connection that was up (go's dialer resets after its
     * ping): the peer is gone, which is not our failure. */
    LP2P_INFO("tcp", "peer ended the connection: %s", uv_strerror((int)n));
    tc->close_after_flush = 1;
    report_closed(tc, (int)n);
  } else if (n < 0) {
    rc = n == UV_EOF ? LP2P_EEOF : (int)n;
    LP2P_ERROR("tcp", "%s",
               n == UV_EOF ? "the peer closed the connection before it was up"
                           : uv_strerror((int)n));
  } else {
    rc = lp2p_chain_recv(tc->chain, (const uint8_t *)buf->base, (size_t)n);
  }
  end(tc, rc);
}

/* ---- lifetime ---- */

static void handle_closed(uv_handle_t *h) {
  lp2p__tcp_conn *tc = h->data;
  if (--tc->handles_open == 0) free(tc);
}

static void teardown(lp2p__tcp_conn *tc) {
  if (tc->torn_down) return;
  tc->torn_down = 1;
  report_closed(tc, 0);
  unlink_listener(tc);
  lp2p_chain_free(tc->chain);
  tc->chain = NULL;
  lp2p_buf_free(&tc->pending);
  /* The in-flight buffer must live until its write callback. */
  if (tc->writing)
    tc->handles_open++;
  else
    lp2p_buf_free(&tc->inflight);
  uv_close((uv_handle_t *)&tc->timer, handle_closed);
  uv_close((uv_handle_t *)&tc->tcp, handle_closed);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status; /* ECANCELED when the handle closes first; nothing to do */
}

static void linger_timeout_cb(uv_timer_t *t) {
  lp2p__tcp_conn *tc = t->data;
  LP2P_DEBUG("tcp", "the peer did not close within %d ms of our last frame", LINGER_MS);
  teardown(tc);
}

/* Our last frame is written: FIN after it, then discard input until the
 * peer closes, LINGER_BYTES or LINGER_MS (see LINGER_MS). The engines are
 * done: freed now, so a lingering connection costs only its socket. */
static void start_linger(lp2p__tcp_conn *tc) {
  lp2p_chain_free(tc->chain);
  tc->chain = NULL;
  lp2p_buf_free(&tc->pending);
  lp2p_buf_free(&tc->inflight);
  tc->lingering = 1;
  if (tc->listener) tc->listener->lingering++;
  int rc = uv_shutdown(&tc->shutdown_req, (uv_stream_t *)&tc->tcp, shutdown_cb);
  if (rc == 0 && tc->read_paused)
    rc = uv_read_start((uv_stream_t *)&tc->tcp, alloc_cb, read_cb);
  if (rc) {
    teardown(tc);
    return;
  }
  tc->read_paused = 0;
  uv_timer_start(&tc->timer, linger_timeout_cb, LINGER_MS, 0);
}

/* Everything we had to say is written: close, draining first when we are
 * closing on an error (the peer may still be writing). */
static void close_flushed(lp2p__tcp_conn *tc) {
  if (tc->linger && !tc->lingering && !tc->peer_gone)
    start_linger(tc);
  else
    teardown(tc);
}

static lp2p__tcp_conn *conn_new(uv_loop_t *loop, lp2p_env *env,
                                const lp2p_chain_config *cfg,
                                const lp2p__tcp_handlers *h) {
  lp2p__tcp_conn *tc = calloc(1, sizeof *tc);
  if (!tc) return NULL;
  tc->env = env;
  tc->h = *h;
  tc->step_ms = cfg->conn->step_timeout_ms ? cfg->conn->step_timeout_ms : 10000;
  tc->addr_suffix = cfg->addr_suffix ? cfg->addr_suffix : "";
  lp2p_io io = {.write = conn_write, .event = conn_event, .ud = tc};
  if (!(tc->chain = lp2p_chain_new(env, cfg, io))) {
    free(tc);
    return NULL;
  }
  uv_tcp_init(loop, &tc->tcp);
  uv_timer_init(loop, &tc->timer);
  tc->tcp.data = tc->timer.data = tc->write_req.data = tc->connect_req.data =
      tc->shutdown_req.data = tc;
  tc->handles_open = 2;
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
    lp2p_conn_set_observed(lp2p_chain_conn(tc->chain), &ma);
}

static void start_conn(lp2p__tcp_conn *tc) {
  /* HARNESS.md pitfall 9: small handshake and ping writes must not wait
   * for Nagle. */
  uv_tcp_nodelay(&tc->tcp, 1);
  set_observed(tc);
  begin(tc);
  int rc = uv_read_start((uv_stream_t *)&tc->tcp, alloc_cb, read_cb);
  if (rc == 0) rc = lp2p_chain_start(tc->chain);
  end(tc, rc);
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
  if (uv_accept(server, (uv_stream_t *)&tc->tcp) != 0) {
    teardown(tc);
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
    if (tc->depth)
      tc->close_after_flush = 1; /* its driver call tears it down */
    else
      teardown(tc);
  }
  uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

/* ---- dialer ---- */

static void connect_cb(uv_connect_t *req, int status) {
  lp2p__tcp_conn *tc = req->data;
  if (tc->torn_down) return;
  if (status < 0) {
    LP2P_ERROR("tcp", "connect: %s", uv_strerror(status));
    report_closed(tc, status);
    teardown(tc);
    return;
  }
  uv_timer_stop(&tc->timer);
  start_conn(tc);
}

static void connect_timeout_cb(uv_timer_t *t) {
  lp2p__tcp_conn *tc = t->data;
  LP2P_ERROR("tcp", "connect: timed out");
  report_closed(tc, LP2P_ETIMEDOUT);
  teardown(tc);
}

int lp2p__tcp_dial_chain(uv_loop_t *loop, lp2p_env *env, const struct sockaddr *addr,
                         const lp2p_chain_config *cc, const lp2p__tcp_handlers *h,
                         lp2p__tcp_conn **out) {
  lp2p__tcp_conn *tc = conn_new(loop, env, cc, h);
  if (!tc) return LP2P_ENOMEM;
  int rc = uv_tcp_connect(&tc->connect_req, &tc->tcp, addr, connect_cb);
  if (rc) {
    tc->closed_reported = 1;
    teardown(tc);
    return rc;
  }
  uv_timer_start(&tc->timer, connect_timeout_cb, cc->conn->step_timeout_ms, 0);
  *out = tc;
  return 0;
}

int lp2p__tcp_ping(lp2p__tcp_conn *tc) {
  if (tc->torn_down || tc->close_after_flush) return LP2P_ECLOSED;
  begin(tc);
  int rc = lp2p_chain_ping(tc->chain);
  end(tc, rc);
  return rc;
}

int lp2p__tcp_perf(lp2p__tcp_conn *tc, uint64_t upload, uint64_t download) {
  if (tc->torn_down || tc->close_after_flush) return LP2P_ECLOSED;
  begin(tc);
  int rc = lp2p_chain_perf(tc->chain, upload, download);
  end(tc, rc);
  return rc;
}

void lp2p__tcp_perf_progress(const lp2p__tcp_conn *tc, uint64_t *up, uint64_t *down) {
  *up = *down = 0;
  if (tc->chain) lp2p_conn_perf_progress(lp2p_chain_conn(tc->chain), up, down);
}

void lp2p__tcp_close(lp2p__tcp_conn *tc) {
  if (tc->torn_down || tc->close_after_flush) return;
  tc->closed_reported = 1;
  begin(tc);
  lp2p_chain_close(tc->chain);
  tc->close_after_flush = 1;
  end(tc, 0);
}

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
