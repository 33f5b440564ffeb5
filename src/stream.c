#include "stream.h"

#include "lp2p/codec.h"

#include <stdlib.h>
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

static void teardown(lp2p__stream *s);
static void close_flushed(lp2p__stream *s);

static void report_closed(lp2p__stream *s, int err) {
  if (s->closed_reported) return;
  s->closed_reported = 1;
  if (s->ops.closed) s->ops.closed(s->ud, err);
}

/* ---- bytes down ---- */

static void write_cb(uv_write_t *req, int status);

static void flush(lp2p__stream *s) {
  if (s->writing || s->torn_down || s->pending.len == 0) return;
  lp2p_buf t = s->inflight;
  s->inflight = s->pending;
  s->pending = t;
  s->pending.len = 0;
  uv_buf_t b = uv_buf_init((char *)s->inflight.data, (unsigned)s->inflight.len);
  int rc = uv_write(&s->write_req, s->handle, &b, 1, write_cb);
  if (rc) {
    LP2P_ERROR(s->tag, "write: %s", uv_strerror(rc));
    report_closed(s, rc);
    teardown(s);
    return;
  }
  s->writing = 1;
  s->write_since = uv_now(s->handle->loop);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void read_cb(uv_stream_t *h, ssize_t n, const uv_buf_t *buf);

/* Pauses reading while QUEUED_HIGH bytes of ours wait for the peer, and
 * resumes once it has taken them. */
static void backpressure(lp2p__stream *s) {
  size_t queued = s->pending.len + s->inflight.len;
  if (!s->read_paused && queued >= QUEUED_HIGH) {
    LP2P_DEBUG(s->tag, "peer is slow to read (%zu bytes queued): pausing reads", queued);
    uv_read_stop(s->handle);
    s->read_paused = 1;
  } else if (s->read_paused && queued < QUEUED_HIGH) {
    LP2P_DEBUG(s->tag, "peer caught up: reading again");
    s->read_paused = 0;
    int rc = uv_read_start(s->handle, alloc_cb, read_cb);
    if (rc) {
      report_closed(s, rc);
      s->close_after_flush = 1;
    }
  }
}

static void timer_cb(uv_timer_t *t);

/* One timer: the connection's earliest deadline, or the end of the step
 * the peer has to take our output while reads are paused. */
static void arm_timer(lp2p__stream *s) {
  uint64_t d = lp2p_chain_deadline(s->chain), now = uv_now(s->handle->loop);
  if (s->read_paused && s->writing && s->write_since + s->step_ms < d)
    d = s->write_since + s->step_ms;
  if (d == LP2P_NO_DEADLINE)
    uv_timer_stop(&s->timer);
  else
    uv_timer_start(&s->timer, timer_cb, d > now ? d - now : 0, 0);
}

static void begin(lp2p__stream *s);
static void end(lp2p__stream *s, int rc);

static void release(lp2p__stream *s) {
  if (--s->handles_open == 0 && s->ops.freed) s->ops.freed(s->ud);
}

static void write_cb(uv_write_t *req, int status) {
  lp2p__stream *s = req->data;
  s->writing = 0;
  s->inflight.len = 0;
  if (s->torn_down) {
    lp2p_buf_free(&s->inflight);
    release(s);
    return;
  }
  if (status) {
    LP2P_DEBUG(s->tag, "write: %s", uv_strerror(status));
    report_closed(s, status);
    teardown(s);
    return;
  }
  /* The socket took our output: what end() does after an engine call. */
  begin(s);
  end(s, 0);
}

/* Lends the tail of the pending buffer: Noise encrypts its frame there,
 * and chain_write below then only counts it in (common.h, io.reserve). The
 * bytes count toward QUEUED_HIGH once written, like any other. */
static uint8_t *chain_reserve(void *ud, size_t len) {
  return lp2p_buf_lend(&((lp2p__stream *)ud)->pending, len);
}

static int chain_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_take(&((lp2p__stream *)ud)->pending, p, len, NULL);
}

/* ---- events up ---- */

static int chain_event(void *ud, const lp2p_event *ev) {
  lp2p__stream *s = ud;
  if (ev->type == LP2P_EV_READY && s->ops.ready)
    s->ops.ready(s->ud, lp2p_conn_peer(lp2p_chain_conn(s->chain)));
  else if (ev->type == LP2P_EV_PONG && s->ops.pong)
    s->ops.pong(s->ud);
  else if (ev->type == LP2P_EV_EOF && !s->close_after_flush) {
    /* A byte layer saw the peer end the stream (WebSocket close): clean
     * once the connection was up, else it ended a step early. */
    int up = lp2p_chain_is_ready(s->chain);
    LP2P_DEBUG(s->tag, "peer ended the stream");
    if (!up) LP2P_ERROR(s->tag, "the peer closed the connection before it was up");
    s->close_after_flush = 1;
    report_closed(s, up ? 0 : LP2P_EEOF);
  } else if (ev->type == LP2P_EV_PERF_DONE && s->ops.perf_done)
    s->ops.perf_done(s->ud);
  return 0;
}

/* ---- driver calls ---- */

static void begin(lp2p__stream *s) {
  s->depth++;
  s->env->now_ms = uv_now(s->handle->loop);
  s->env->unix_s = (int64_t)time(NULL); /* certificate validity (TLS) */
}

/* An engine call failed: say so once, and close once its last frame is
 * out (draining first where the owner asked for it). */
static void call_failed(lp2p__stream *s, int rc) {
  if (s->close_after_flush) return;
  report_closed(s, rc);
  s->close_after_flush = 1;
  s->linger = s->linger_on_error;
}

/* Lets perf streams refill our output as the socket takes it. Runs at the
 * outermost driver level only, like flush. */
static void pump(lp2p__stream *s) {
  size_t queued = s->pending.len + s->inflight.len;
  if (s->close_after_flush || queued >= PUMP_TARGET || !s->chain ||
      !lp2p_chain_wants_output(s->chain))
    return;
  s->depth++;
  int rc = lp2p_chain_pump(s->chain, PUMP_TARGET - queued);
  s->depth--;
  if (rc < 0) call_failed(s, rc);
}

static void flush_timeout_cb(uv_timer_t *t) {
  lp2p__stream *s = t->data;
  LP2P_DEBUG(s->tag, "our last frames were not taken within %u ms", s->step_ms);
  teardown(s);
}

/* After every call into the engine: report a failure, flush what it wrote,
 * re-arm the timer to its earliest deadline, and run a deferred close. */
static void end(lp2p__stream *s, int rc) {
  if (rc) call_failed(s, rc);
  if (--s->depth > 0 || s->torn_down) return;
  pump(s);
  flush(s);
  if (!s->torn_down && !s->close_after_flush) backpressure(s);
  if (s->torn_down) return;
  if (s->close_after_flush) {
    if (!s->writing) {
      close_flushed(s);
    } else if (!s->flush_armed) {
      /* A peer that stops reading must not keep the socket and our
       * buffers forever: the last flush gets one step. */
      s->flush_armed = 1;
      uv_timer_start(&s->timer, flush_timeout_cb, s->step_ms, 0);
    }
    return;
  }
  arm_timer(s);
}

static void timer_cb(uv_timer_t *t) {
  lp2p__stream *s = t->data;
  uint64_t now = uv_now(s->handle->loop);
  if (s->read_paused && s->writing && now >= s->write_since + s->step_ms) {
    LP2P_ERROR(s->tag, "peer is not reading: %zu bytes unsent after %u ms",
               s->pending.len + s->inflight.len, s->step_ms);
    report_closed(s, LP2P_ETIMEDOUT);
    teardown(s);
    return;
  }
  begin(s);
  int rc = lp2p_chain_expire(s->chain);
  /* A deadline still due after expire() would re-arm a 0 ms timer, which
   * libuv runs again in the same loop turn, forever: end it instead. */
  if (rc == 0 && lp2p_chain_deadline(s->chain) <= s->env->now_ms) {
    LP2P_ERROR(s->tag, "a deadline stayed due after it expired; closing");
    rc = LP2P_ETIMEDOUT;
  }
  end(s, rc);
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

static void read_cb(uv_stream_t *h, ssize_t n, const uv_buf_t *buf) {
  lp2p__stream *s = h->data;
  if (buf->base == read_buf) read_buf_busy = 0;
  if (n == 0 || s->torn_down) return;
  if (s->lingering) {
    s->linger_in += n > 0 ? (size_t)n : 0;
    if (n < 0 || s->linger_in > LINGER_BYTES) {
      LP2P_DEBUG(s->tag, "drained %zu bytes after our last frame: %s", s->linger_in,
                 n < 0 ? uv_strerror((int)n) : "cap reached");
      teardown(s);
    }
    return;
  }
  if (n < 0) s->peer_gone = 1;
  /* Closing: only our last output still goes out. Input after our own
   * goodbye (a close frame, close_notify) would make the layers answer
   * through a layer that has already closed. */
  if (n > 0 && s->close_after_flush) return;
  begin(s);
  int rc = 0;
  if (n == UV_EOF && lp2p_chain_is_ready(s->chain)) {
    /* A peer closing a finished connection is a clean end. */
    LP2P_DEBUG(s->tag, "peer closed");
    s->close_after_flush = 1;
    report_closed(s, 0);
  } else if (n < 0 && lp2p_chain_is_ready(s->chain)) {
    /* A reset of a connection that was up (go's dialer resets after its
     * ping): the peer is gone, which is not our failure. */
    LP2P_INFO(s->tag, "peer ended the connection: %s", uv_strerror((int)n));
    s->close_after_flush = 1;
    report_closed(s, (int)n);
  } else if (n < 0) {
    rc = n == UV_EOF ? LP2P_EEOF : (int)n;
    LP2P_ERROR(s->tag, "%s",
               n == UV_EOF ? "the peer closed the connection before it was up"
                           : uv_strerror((int)n));
  } else {
    rc = lp2p_chain_recv(s->chain, (const uint8_t *)buf->base, (size_t)n);
  }
  end(s, rc);
}

/* ---- lifetime ---- */

static void handle_closed(uv_handle_t *h) { release(h->data); }

static void teardown(lp2p__stream *s) {
  if (s->torn_down) return;
  s->torn_down = 1;
  report_closed(s, 0);
  if (s->ops.torn_down) s->ops.torn_down(s->ud);
  lp2p_chain_free(s->chain);
  s->chain = NULL;
  lp2p_buf_free(&s->pending);
  /* The in-flight buffer must live until its write callback. */
  if (s->writing)
    s->handles_open++;
  else
    lp2p_buf_free(&s->inflight);
  uv_close((uv_handle_t *)&s->timer, handle_closed);
  uv_close((uv_handle_t *)s->handle, handle_closed);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status; /* ECANCELED when the handle closes first; nothing to do */
}

static void linger_timeout_cb(uv_timer_t *t) {
  lp2p__stream *s = t->data;
  LP2P_DEBUG(s->tag, "the peer did not close within %d ms of our last frame", LINGER_MS);
  teardown(s);
}

/* Our last frame is written: FIN after it, then discard input until the
 * peer closes, LINGER_BYTES or LINGER_MS (see LINGER_MS). The engines are
 * done: freed now, so a lingering connection costs only its socket. */
static void start_linger(lp2p__stream *s) {
  lp2p_chain_free(s->chain);
  s->chain = NULL;
  lp2p_buf_free(&s->pending);
  lp2p_buf_free(&s->inflight);
  s->lingering = 1;
  if (s->ops.lingering) s->ops.lingering(s->ud);
  int rc = uv_shutdown(&s->shutdown_req, s->handle, shutdown_cb);
  if (rc == 0 && s->read_paused) rc = uv_read_start(s->handle, alloc_cb, read_cb);
  if (rc) {
    teardown(s);
    return;
  }
  s->read_paused = 0;
  uv_timer_start(&s->timer, linger_timeout_cb, LINGER_MS, 0);
}

/* Everything we had to say is written: close, draining first when we are
 * closing on an error (the peer may still be writing). */
static void close_flushed(lp2p__stream *s) {
  if (s->linger && !s->lingering && !s->peer_gone)
    start_linger(s);
  else
    teardown(s);
}

int lp2p__stream_init(lp2p__stream *s, lp2p_env *env, const lp2p_chain_config *cfg,
                      const char *tag, const lp2p__stream_ops *ops, void *ud) {
  *s = (lp2p__stream){.tag = tag, .env = env, .ops = *ops, .ud = ud};
  s->step_ms = cfg->conn->step_timeout_ms ? cfg->conn->step_timeout_ms : 10000;
  lp2p_io io = {
      .write = chain_write, .event = chain_event, .ud = s, .reserve = chain_reserve};
  return (s->chain = lp2p_chain_new(env, cfg, io)) ? 0 : LP2P_ENOMEM;
}

void lp2p__stream_attach(lp2p__stream *s, uv_loop_t *loop, uv_stream_t *handle) {
  s->handle = handle;
  uv_timer_init(loop, &s->timer);
  handle->data = s->timer.data = s->write_req.data = s->shutdown_req.data = s;
  s->handles_open = 2;
}

static void open_timeout_cb(uv_timer_t *t) {
  lp2p__stream *s = t->data;
  LP2P_ERROR(s->tag, "connect: timed out");
  report_closed(s, LP2P_ETIMEDOUT);
  teardown(s);
}

void lp2p__stream_open_timeout(lp2p__stream *s, uint32_t ms) {
  uv_timer_start(&s->timer, open_timeout_cb, ms, 0);
}

void lp2p__stream_start(lp2p__stream *s) {
  uv_timer_stop(&s->timer);
  begin(s);
  int rc = uv_read_start(s->handle, alloc_cb, read_cb);
  if (rc == 0) rc = lp2p_chain_start(s->chain);
  end(s, rc);
}

void lp2p__stream_fail(lp2p__stream *s, int err) {
  report_closed(s, err);
  teardown(s);
}

void lp2p__stream_drop(lp2p__stream *s) {
  s->closed_reported = 1;
  teardown(s);
}

void lp2p__stream_abort(lp2p__stream *s) {
  if (s->depth)
    s->close_after_flush = 1; /* its driver call tears it down */
  else
    teardown(s);
}

int lp2p__stream_is_torn_down(const lp2p__stream *s) { return s->torn_down; }

int lp2p__stream_is_lingering(const lp2p__stream *s) { return s->lingering; }

lp2p_chain *lp2p__stream_chain(const lp2p__stream *s) { return s->chain; }

void lp2p__stream_set_linger_on_error(lp2p__stream *s, int on) {
  s->linger_on_error = on;
}

int lp2p__stream_ping(lp2p__stream *s) {
  if (s->torn_down || s->close_after_flush) return LP2P_ECLOSED;
  begin(s);
  int rc = lp2p_chain_ping(s->chain);
  end(s, rc);
  return rc;
}

int lp2p__stream_perf(lp2p__stream *s, uint64_t upload, uint64_t download) {
  if (s->torn_down || s->close_after_flush) return LP2P_ECLOSED;
  begin(s);
  int rc = lp2p_chain_perf(s->chain, upload, download);
  end(s, rc);
  return rc;
}

void lp2p__stream_perf_progress(const lp2p__stream *s, uint64_t *up, uint64_t *down) {
  *up = *down = 0;
  if (s->chain) lp2p_conn_perf_progress(lp2p_chain_conn(s->chain), up, down);
}

void lp2p__stream_close(lp2p__stream *s) {
  if (s->torn_down || s->close_after_flush) return;
  s->closed_reported = 1;
  begin(s);
  lp2p_chain_close(s->chain);
  s->close_after_flush = 1;
  end(s, 0);
}
