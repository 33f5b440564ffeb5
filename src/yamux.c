/* Yamux engine. See include/lp2p/yamux.h for the contract; section names in
 * comments refer to hashicorp/yamux spec.md (copied in libp2p/specs
 * yamux/README.md). */
#include "lp2p/yamux.h"

#include "lp2p/streamtab.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* spec "Framing": 12-byte header, version 0. */
#define HDR_LEN 12
enum { T_DATA = 0, T_WU = 1, T_PING = 2, T_GOAWAY = 3 };
enum { F_SYN = 1, F_ACK = 2, F_FIN = 4, F_RST = 8 };

/* Largest window we accept in the config: keeps every window sum and
 * window-update delta we compute within 32 bits. */
#define MAX_WINDOW (1u << 30)
/* Upper bound for max_pending_pongs: 4096 * 12 bytes of replies per recv. */
#define MAX_PONGS_CAP 4096u

typedef struct stream {
  lp2p_stream_node node; /* id and hash chain */
  uint32_t send_window;  /* bytes the peer still lets us send */
  uint32_t recv_window;  /* bytes we still let the peer send */
  uint32_t credit;       /* delivered bytes not yet returned to the peer */
  uint32_t max_window;   /* what we grant in all: y->window, grown by autotune */
  uint64_t epoch_ms;     /* our last window update (autotune) */
  unsigned inbound : 1;
  unsigned ack_owed : 1; /* inbound: our first frame carries ACK */
  unsigned unacked : 1;  /* outbound: no ACK from the peer yet */
  unsigned fin_pending : 1;
  unsigned fin_sent : 1;
  unsigned fin_recv : 1;
  lp2p_buf q; /* data waiting for send window, from q.data + qoff */
  size_t qoff;
} stream;

struct lp2p_yamux {
  lp2p_env *env;
  lp2p_io io;
  int initiator;
  uint32_t window;
  uint32_t max_streams;
  uint32_t max_pongs;
  int err; /* sticky: once set, every call returns it */
  int in_recv;
  int goaway_sent;
  int goaway_recv;
  uint64_t next_id;

  lp2p_stream_table streams;
  size_t ninbound, nunacked;
  size_t queued; /* over all streams, capped by LP2P_YAMUX_MAX_QUEUED */

  /* Parser: a header being collected, or rem payload bytes of a data frame
   * for stream cur_id still to come. */
  uint8_t hdr[HDR_LEN];
  size_t hlen;
  uint32_t rem;
  uint32_t cur_id;
  uint16_t cur_flags;

  uint32_t *pongs; /* opaque values of pings to answer at the end of recv */
  uint32_t npongs;

  int autotune;
  int rtt_state; /* 0 not measured, 1 ping out, 2 rtt_ms known */
  uint64_t rtt_sent_ms;
  uint64_t rtt_ms;
};

/* ---- helpers ---------------------------------------------------------- */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void encode_hdr(uint8_t *p, uint8_t type, uint16_t flags, uint32_t id,
                       uint32_t len) {
  p[0] = 0;
  p[1] = type;
  p[2] = (uint8_t)(flags >> 8);
  p[3] = (uint8_t)flags;
  put32(p + 4, id);
  put32(p + 8, len);
}

static const char *type_name(uint8_t t) {
  static const char *names[] = {"data", "window_update", "ping", "go_away"};
  return t < 4 ? names[t] : "?";
}

static const char *flag_str(char *buf, uint16_t f) {
  snprintf(buf, 24, "%s%s%s%s%s", f & F_SYN ? "S" : "", f & F_ACK ? "A" : "",
           f & F_FIN ? "F" : "", f & F_RST ? "R" : "", f ? "" : "-");
  return buf;
}

static int fail(lp2p_yamux *y, int rc) {
  if (!y->err) y->err = rc;
  return y->err;
}

/* Header and payload go down as two pieces of one write: the security
 * layer seals them into one message without copying them together. */
static int write_frame(lp2p_yamux *y, uint8_t type, uint16_t flags, uint32_t id,
                       uint32_t len, const uint8_t *payload) {
  uint8_t hdr[HDR_LEN];
  lp2p_iovec v[2] = {{hdr, HDR_LEN}, {payload, type == T_DATA ? len : 0}};
  char fb[24];
  encode_hdr(hdr, type, flags, id, len);
  LP2P_DEBUG("yamux", "send %s flags=%s id=%u len=%u", type_name(type),
             flag_str(fb, flags), id, len);
  int rc = lp2p_io_writev(&y->io, v, v[1].len ? 2 : 1);
  return rc ? fail(y, rc) : 0;
}

static int fire(lp2p_yamux *y, lp2p_event_type type, uint32_t id, const uint8_t *data,
                size_t len) {
  int rc = lp2p_io_emit(&y->io, type, id, data, len);
  if (rc) return fail(y, rc);
  /* A send from inside the callback may have failed: report it here. */
  return y->err;
}

__attribute__((format(printf, 2, 3))) static int proto_error(lp2p_yamux *y,
                                                             const char *fmt, ...) {
  char msg[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  LP2P_REASON("yamux", "protocol error: %s", msg);
  /* spec "Session termination": tell the peer why. Sent even after a
   * normal GoAway of ours; a failing write changes nothing now. */
  y->goaway_sent = 1;
  (void)write_frame(y, T_GOAWAY, 0, 0, LP2P_YAMUX_GOAWAY_PROTO, NULL);
  y->err = LP2P_EPROTO;
  return LP2P_EPROTO;
}

/* ---- stream table: chained hash, stream structs never move ------------ */

static stream *find(const lp2p_yamux *y, uint32_t id) {
  lp2p_stream_node *n = lp2p_stream_table_find(&y->streams, id);
  return n ? LP2P_STREAM_OF(n, stream, node) : NULL;
}

static stream *stream_new(lp2p_yamux *y, uint32_t id, int inbound) {
  stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->node.id = id;
  if (lp2p_stream_table_insert(&y->streams, &s->node)) {
    free(s);
    return NULL;
  }
  s->send_window = LP2P_YAMUX_INITIAL_WINDOW;
  /* What the peer may send before it hears more from us: an inbound stream
   * gets its extra window with our ACK, an outbound one with our SYN. */
  s->recv_window = inbound ? LP2P_YAMUX_INITIAL_WINDOW : y->window;
  s->max_window = y->window;
  s->epoch_ms = y->env ? y->env->now_ms : 0;
  s->inbound = inbound ? 1 : 0;
  if (inbound) y->ninbound++;
  return s;
}

static void stream_free(lp2p_yamux *y, stream *s) {
  lp2p_stream_table_remove(&y->streams, &s->node);
  if (s->inbound) y->ninbound--;
  if (s->unacked) y->nunacked--;
  y->queued -= s->q.len - s->qoff;
  lp2p_buf_free(&s->q);
  free(s);
}

/* ---- frames on a stream ------------------------------------------------ */

/* Window we grant a peer-opened stream beyond the 256 KiB the peer assumes
 * (spec "Flow Control"); announced with our ACK. */
static uint32_t extra_window(const lp2p_yamux *y) {
  return y->window - LP2P_YAMUX_INITIAL_WINDOW;
}

/* Writes a data or window-update frame on s. The first frame we write on a
 * stream the peer opened carries ACK (libp2p yamux "ACK backlog": do not
 * acknowledge before the application writes) and the extra window. A data
 * frame cannot carry a delta, so that grant then goes ahead as its own
 * window update. */
static int stream_frame(lp2p_yamux *y, stream *s, uint8_t type, uint16_t flags,
                        uint32_t len, const uint8_t *p) {
  if (s->ack_owed) {
    uint32_t extra = extra_window(y);
    s->ack_owed = 0;
    s->recv_window += extra;
    if (type == T_WU) {
      flags |= F_ACK;
      len += extra;
    } else if (extra) {
      int rc = write_frame(y, T_WU, F_ACK, s->node.id, extra, NULL);
      if (rc) return rc;
    } else {
      flags |= F_ACK;
    }
  }
  return write_frame(y, type, flags, s->node.id, len, p);
}

/* Half-close; frees s when the peer has closed too. */
static int send_fin(lp2p_yamux *y, stream *s) {
  s->fin_pending = 0;
  s->fin_sent = 1;
  int rc = stream_frame(y, s, T_WU, F_FIN, 0, NULL);
  if (rc) return rc;
  if (s->fin_recv) stream_free(y, s);
  return 0;
}

/* Writes queued data the window allows, then a pending FIN. May free s. */
static int flush_stream(lp2p_yamux *y, stream *s) {
  while (s->send_window && s->q.len > s->qoff) {
    size_t n = s->q.len - s->qoff;
    if (n > s->send_window) n = s->send_window;
    if (n > LP2P_YAMUX_MAX_FRAME) n = LP2P_YAMUX_MAX_FRAME;
    int rc = stream_frame(y, s, T_DATA, 0, (uint32_t)n, s->q.data + s->qoff);
    if (rc) return rc;
    s->send_window -= (uint32_t)n;
    s->qoff += n;
    y->queued -= n;
  }
  if (s->qoff == s->q.len) {
    lp2p_buf_free(&s->q); /* give the memory back once drained */
    s->qoff = 0;
  } else if (s->qoff >= s->q.len / 2) {
    lp2p_buf_consume(&s->q, s->qoff);
    s->qoff = 0;
  }
  if (s->fin_pending && s->q.len == 0) return send_fin(y, s);
  return 0;
}

/* Returns delivered bytes to the peer. Replenishing once the grant due is
 * at least half the window (as go-yamux and rust-yamux do) keeps the peer
 * streaming with one update per half window instead of one per frame. An
 * unacknowledged inbound stream also owes its extra window: with a window of
 * 512 KiB or more that makes the first delivered bytes trigger the ACK, so
 * a peer that only knows 256 KiB never waits on a threshold it cannot
 * reach. */
static int maybe_credit(lp2p_yamux *y, stream *s) {
  uint64_t due = (uint64_t)s->credit + (s->ack_owed ? extra_window(y) : 0);
  if (s->fin_recv || !s->credit || due < s->max_window / 2) return 0;
  uint32_t d = s->credit;
  s->credit = 0;
  /* Autotune (yamux.h): half the window drained within 4 round trips
   * means the peer waits on us, not on the path: double the window. */
  uint64_t now = y->env ? y->env->now_ms : 0;
  if (y->autotune && y->rtt_state == 2 && s->max_window < LP2P_YAMUX_AUTOTUNE_MAX &&
      now - s->epoch_ms < 4 * (y->rtt_ms ? y->rtt_ms : 1)) {
    uint32_t grow = s->max_window;
    if (grow > LP2P_YAMUX_AUTOTUNE_MAX - s->max_window)
      grow = LP2P_YAMUX_AUTOTUNE_MAX - s->max_window;
    s->max_window += grow;
    d += grow;
    LP2P_DEBUG("yamux", "stream %u window grows to %u", s->node.id, s->max_window);
  }
  s->epoch_ms = now;
  s->recv_window += d;
  return stream_frame(y, s, T_WU, 0, d, NULL);
}

/* Autotune: one ping with the first stream measures the round trip. */
static int measure_rtt(lp2p_yamux *y) {
  if (!y->autotune || y->rtt_state) return 0;
  y->rtt_state = 1;
  y->rtt_sent_ms = y->env ? y->env->now_ms : 0;
  return lp2p_yamux_ping(y, LP2P_YAMUX_RTT_OPAQUE);
}

static int remote_reset(lp2p_yamux *y, stream *s) {
  uint32_t id = s->node.id;
  stream_free(y, s);
  return fire(y, LP2P_EV_STREAM_RESET, id, NULL, 0);
}

static int remote_fin(lp2p_yamux *y, stream *s) {
  if (s->fin_recv) return 0;
  uint32_t id = s->node.id;
  s->fin_recv = 1;
  if (s->fin_sent) stream_free(y, s);
  return fire(y, LP2P_EV_STREAM_FIN, id, NULL, 0);
}

/* ---- receiving ---------------------------------------------------------- */

/* The most any stream of ours may be granted. */
static uint32_t session_max_window(const lp2p_yamux *y) {
  return y->autotune && y->window < LP2P_YAMUX_AUTOTUNE_MAX ? LP2P_YAMUX_AUTOTUNE_MAX
                                                            : y->window;
}

static int on_stream_frame(lp2p_yamux *y, uint8_t type, uint16_t flags, uint32_t id,
                           uint32_t len) {
  stream *s = find(y, id);
  int rc;

  /* No window we ever grant exceeds session_max_window: checked before anything
   * of the frame is taken, on live, refused and unknown streams alike. */
  if (type == T_DATA && len > session_max_window(y))
    return proto_error(y,
                       "data frame of %u bytes on stream %u over the "
                       "receive window %u",
                       len, id, session_max_window(y));
  if (type == T_DATA && (flags & F_SYN) && len > LP2P_YAMUX_INITIAL_WINDOW)
    return proto_error(y,
                       "data frame of %u bytes on new stream %u over the "
                       "receive window of a new stream (256 KiB)",
                       len, id);
  if (flags & F_SYN) {
    if (id == 0) return proto_error(y, "SYN on stream 0");
    if ((id & 1) == (y->initiator ? 1u : 0u))
      return proto_error(y, "SYN for stream %u with our id parity", id);
    if (s) return proto_error(y, "duplicate SYN for live stream %u", id);
    if (y->goaway_sent || y->ninbound >= y->max_streams) {
      /* spec "Opening a stream": reject with RST (hashicorp does so when
       * its accept backlog is full). Its data is skipped below. */
      LP2P_DEBUG("yamux", "refusing stream %u (%s)", id,
                 y->goaway_sent ? "go away sent" : "max_streams reached");
      rc = write_frame(y, T_WU, F_RST, id, 0, NULL);
      if (rc) return rc;
    } else {
      s = stream_new(y, id, 1);
      if (!s) return fail(y, LP2P_ENOMEM);
      s->ack_owed = 1;
      if ((rc = measure_rtt(y))) return rc;
      rc = fire(y, LP2P_EV_STREAM_OPEN, id, NULL, 0);
      if (rc) return rc;
      s = find(y, id); /* the callback may have reset it */
    }
  } else if (!s) {
    /* Unknown or already closed stream, e.g. data in flight after our
     * RST: dropped, as hashicorp and go-yamux do. */
    LP2P_DEBUG("yamux", "%s for unknown stream %u ignored", type_name(type), id);
  }

  if (s && (flags & F_ACK) && s->unacked) {
    s->unacked = 0;
    y->nunacked--;
  }

  if (type == T_WU) {
    if (!s) return 0;
    if (flags & F_RST) return remote_reset(y, s);
    if ((uint64_t)s->send_window + len > UINT32_MAX)
      return proto_error(y, "window update of %u overflows stream %u window", len, id);
    s->send_window += len;
    rc = flush_stream(y, s);
    if (rc) return rc;
    if ((flags & F_FIN) && (s = find(y, id)) != NULL) return remote_fin(y, s);
    return 0;
  }

  if (s) {
    if (len > s->recv_window)
      return proto_error(y,
                         "data frame of %u bytes on stream %u over the receive "
                         "window %u",
                         len, id, s->recv_window);
    s->recv_window -= len;
    if (flags & F_RST) {
      rc = remote_reset(y, s);
      if (rc) return rc;
    }
  }
  y->cur_id = id;
  y->cur_flags = flags;
  y->rem = len;
  if (len == 0 && (flags & F_FIN) && (s = find(y, id)) != NULL) return remote_fin(y, s);
  return 0;
}

static int on_payload(lp2p_yamux *y, const uint8_t *p, size_t n) {
  uint32_t id = y->cur_id;
  stream *s = find(y, id);
  /* Gone (reset, refused, unknown) or half-closed by the peer: skip. */
  if (!s || s->fin_recv) return 0;
  int rc = fire(y, LP2P_EV_STREAM_DATA, id, p, n);
  if (rc) return rc;
  if (!(s = find(y, id))) return 0;
  s->credit += (uint32_t)n;
  /* A frame with FIN is the last: its bytes need no credit back. */
  if (y->cur_flags & F_FIN) return 0;
  return maybe_credit(y, s);
}

static int on_header(lp2p_yamux *y) {
  const uint8_t *h = y->hdr;
  uint8_t type = h[1];
  uint16_t flags = get16(h + 2);
  uint32_t id = get32(h + 4), len = get32(h + 8);
  char fb[24];

  LP2P_DEBUG("yamux", "recv %s flags=%s id=%u len=%u", type_name(type),
             flag_str(fb, flags), id, len);
  if (h[0] != 0) return proto_error(y, "bad version %u", h[0]);
  switch (type) {
  case T_DATA:
  case T_WU: return on_stream_frame(y, type, flags, id, len);
  case T_PING:
    if ((flags & F_ACK) && len == LP2P_YAMUX_RTT_OPAQUE && y->rtt_state == 1) {
      uint64_t now = y->env ? y->env->now_ms : 0;
      y->rtt_ms = now > y->rtt_sent_ms ? now - y->rtt_sent_ms : 0;
      y->rtt_state = 2;
      LP2P_DEBUG("yamux", "round trip %llu ms", (unsigned long long)y->rtt_ms);
    }
    if (flags & F_SYN) {
      /* Replies wait for the end of this recv call; beyond the cap they
       * are dropped, as go-yamux drops pongs when its queue is full. */
      if (y->npongs < y->max_pongs)
        y->pongs[y->npongs++] = len;
      else
        LP2P_DEBUG("yamux", "ping %u not answered: %u replies queued", len, y->npongs);
    }
    return 0;
  case T_GOAWAY:
    if (len != LP2P_YAMUX_GOAWAY_NORMAL)
      LP2P_REASON("yamux", "peer went away with error code %u", len);
    if (y->goaway_recv) return 0;
    y->goaway_recv = 1;
    return fire(y, LP2P_EV_EOF, 0, NULL, 0);
  default: return proto_error(y, "bad frame type %u", type);
  }
}

static int flush_pongs(lp2p_yamux *y) {
  uint8_t buf[32 * HDR_LEN];
  uint32_t i = 0;
  while (i < y->npongs) {
    size_t n = 0;
    for (; i < y->npongs && n < sizeof buf; i++, n += HDR_LEN) {
      encode_hdr(buf + n, T_PING, F_ACK, 0, y->pongs[i]);
      LP2P_DEBUG("yamux", "send ping flags=A id=0 len=%u", y->pongs[i]);
    }
    int rc = y->io.write(y->io.ud, buf, n);
    if (rc) return fail(y, rc);
  }
  y->npongs = 0;
  return 0;
}

static int recv_loop(lp2p_yamux *y, const uint8_t *in, size_t len) {
  size_t off = 0;
  int rc = 0;
  while (off < len && !rc) {
    if (y->rem == 0) {
      size_t n = HDR_LEN - y->hlen;
      if (n > len - off) n = len - off;
      memcpy(y->hdr + y->hlen, in + off, n);
      y->hlen += n;
      off += n;
      if (y->hlen < HDR_LEN) break;
      y->hlen = 0;
      rc = on_header(y);
    } else {
      size_t n = y->rem;
      if (n > len - off) n = len - off;
      y->rem -= (uint32_t)n;
      rc = on_payload(y, in + off, n);
      off += n;
      if (!rc && y->rem == 0 && (y->cur_flags & F_FIN)) {
        stream *s = find(y, y->cur_id);
        if (s) rc = remote_fin(y, s);
      }
    }
  }
  return rc;
}

/* ---- public API --------------------------------------------------------- */

lp2p_yamux *lp2p_yamux_new(lp2p_env *env, const lp2p_yamux_config *cfg, lp2p_io io) {
  uint32_t window = cfg->window ? cfg->window : LP2P_YAMUX_INITIAL_WINDOW;
  if (window < LP2P_YAMUX_INITIAL_WINDOW || window > MAX_WINDOW) {
    LP2P_INFO("yamux", "window %u outside [%u, %u]", window, LP2P_YAMUX_INITIAL_WINDOW,
              MAX_WINDOW);
    return NULL;
  }
  if (!io.write || !io.event) return NULL;
  lp2p_yamux *y = calloc(1, sizeof *y);
  if (!y) return NULL;
  y->env = env;
  y->io = io;
  y->initiator = cfg->initiator ? 1 : 0;
  y->window = window;
  y->autotune = cfg->autotune ? 1 : 0;
  y->max_streams = cfg->max_streams ? cfg->max_streams : LP2P_YAMUX_DEFAULT_MAX_STREAMS;
  y->max_pongs =
      cfg->max_pending_pongs ? cfg->max_pending_pongs : LP2P_YAMUX_DEFAULT_MAX_PONGS;
  if (y->max_pongs > MAX_PONGS_CAP) y->max_pongs = MAX_PONGS_CAP;
  /* spec "StreamID Field": the client uses odd ids, the server even. */
  y->next_id = y->initiator ? 1 : 2;
  int trc = lp2p_stream_table_init(&y->streams);
  y->pongs = calloc(y->max_pongs, sizeof *y->pongs);
  if (trc || !y->pongs) {
    lp2p_yamux_free(y);
    return NULL;
  }
  return y;
}

int lp2p_yamux_recv(lp2p_yamux *y, const uint8_t *in, size_t len) {
  if (y->err) return y->err;
  if (y->in_recv) return LP2P_EINVAL;
  y->in_recv = 1;
  int rc = recv_loop(y, in, len);
  if (!rc) rc = flush_pongs(y);
  y->in_recv = 0;
  return rc ? fail(y, rc) : 0;
}

int lp2p_yamux_open(lp2p_yamux *y, uint32_t *id) {
  if (y->err) return y->err;
  if (y->goaway_sent || y->goaway_recv) return LP2P_ECLOSED;
  if (y->nunacked >= LP2P_YAMUX_MAX_ACK_BACKLOG || y->next_id > UINT32_MAX)
    return LP2P_ELIMIT;
  uint32_t sid = (uint32_t)y->next_id;
  stream *s = stream_new(y, sid, 0);
  if (!s) return LP2P_ENOMEM;
  y->next_id += 2;
  s->unacked = 1;
  y->nunacked++;
  /* spec "Opening a stream" + "Flow Control": SYN on a window update that
   * announces our window beyond the initial 256 KiB (as go-yamux does). */
  int rc = write_frame(y, T_WU, F_SYN, sid, y->window - LP2P_YAMUX_INITIAL_WINDOW, NULL);
  if (rc == 0) rc = measure_rtt(y);
  if (rc) return rc;
  *id = sid;
  return 0;
}

int lp2p_yamux_send(lp2p_yamux *y, uint32_t id, const uint8_t *p, size_t len) {
  if (y->err) return y->err;
  stream *s = find(y, id);
  if (!s || s->fin_sent || s->fin_pending) return LP2P_ECLOSED;
  if (len == 0) return 0;
  size_t now = s->q.len > s->qoff ? 0 : len;
  if (now > s->send_window) now = s->send_window;
  size_t rest = len - now;
  if (rest > LP2P_YAMUX_MAX_QUEUED - y->queued) return LP2P_ELIMIT;
  if (rest && lp2p_buf_reserve(&s->q, rest)) return LP2P_ENOMEM;
  while (now) {
    size_t n = now < LP2P_YAMUX_MAX_FRAME ? now : LP2P_YAMUX_MAX_FRAME;
    int rc = stream_frame(y, s, T_DATA, 0, (uint32_t)n, p);
    if (rc) return rc;
    s->send_window -= (uint32_t)n;
    p += n;
    now -= n;
  }
  if (rest) {
    lp2p_buf_append(&s->q, p, rest); /* reserved above: cannot fail */
    y->queued += rest;
  }
  return 0;
}

int lp2p_yamux_close(lp2p_yamux *y, uint32_t id) {
  if (y->err) return y->err;
  stream *s = find(y, id);
  if (!s) return LP2P_ECLOSED;
  if (s->fin_sent || s->fin_pending) return 0;
  if (s->q.len > s->qoff) {
    s->fin_pending = 1;
    return 0;
  }
  return send_fin(y, s);
}

int lp2p_yamux_reset(lp2p_yamux *y, uint32_t id) {
  if (y->err) return y->err;
  stream *s = find(y, id);
  if (!s) return 0;
  s->ack_owed = 0; /* RST alone answers a SYN (spec "Opening a stream") */
  int rc = write_frame(y, T_WU, F_RST, id, 0, NULL);
  stream_free(y, s);
  return rc;
}

int lp2p_yamux_goaway(lp2p_yamux *y, uint32_t code) {
  if (y->err) return y->err;
  if (code > LP2P_YAMUX_GOAWAY_INTERNAL) return LP2P_EINVAL;
  if (y->goaway_sent) return 0;
  y->goaway_sent = 1;
  return write_frame(y, T_GOAWAY, 0, 0, code, NULL);
}

int lp2p_yamux_ping(lp2p_yamux *y, uint32_t opaque) {
  if (y->err) return y->err;
  return write_frame(y, T_PING, F_SYN, 0, opaque, NULL);
}

size_t lp2p_yamux_queued(const lp2p_yamux *y, uint32_t id) {
  const stream *s = find(y, id);
  return s ? s->q.len - s->qoff : 0;
}

size_t lp2p_yamux_num_streams(const lp2p_yamux *y) { return y->streams.count; }

size_t lp2p_yamux_writable(const lp2p_yamux *y, uint32_t id) {
  const stream *s = find(y, id);
  if (!s || s->fin_sent || s->fin_pending || s->q.len > s->qoff) return 0;
  return s->send_window;
}

uint64_t lp2p_yamux_deadline(const lp2p_yamux *y) {
  (void)y;
  return LP2P_NO_DEADLINE;
}

int lp2p_yamux_expire(lp2p_yamux *y) { return y->err; }

void lp2p_yamux_free(lp2p_yamux *y) {
  if (!y) return;
  if (y->streams.slots) {
    for (lp2p_stream_node *n; (n = lp2p_stream_table_any(&y->streams));) {
      stream *s = LP2P_STREAM_OF(n, stream, node);
      lp2p_stream_table_remove(&y->streams, n);
      lp2p_buf_free(&s->q);
      free(s);
    }
  }
  lp2p_stream_table_free(&y->streams);
  free(y->pongs);
  free(y);
}
