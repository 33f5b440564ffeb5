/* /mplex/6.7.0 engine. See include/lp2p/mplex.h for the contract and
 * libp2p/specs mplex/README.md for the wire format:
 *
 *   | header: uvarint (id << 3 | flag) | length: uvarint | length bytes |
 *
 * Inbound payload is handed up as it arrives, straight from the caller's
 * input, so the engine never buffers or allocates for frame bodies; the
 * only per-peer memory is one small struct per live stream, and the peer's
 * share of those is capped by max_streams. */
#include "lp2p/mplex.h"

#include "lp2p/streamtab.h"

#include "lp2p/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flag values, spec "Flag Values". "Initiator"/"Receiver" name the role of
 * the frame's sender for that stream (who sent NewStream), not the session
 * roles. */
enum {
  F_NEW_STREAM = 0,
  F_MSG_RECEIVER = 1,
  F_MSG_INITIATOR = 2,
  F_CLOSE_RECEIVER = 3,
  F_CLOSE_INITIATOR = 4,
  F_RESET_RECEIVER = 5,
  F_RESET_INITIATOR = 6
};

/* Both header and length are unsigned-varints: at most 9 bytes, minimal. */
#define VARINT_MAX LP2P_VARINT_MAX

typedef enum { ST_HEADER, ST_LENGTH, ST_BODY } parse_state;

typedef struct mplex_stream {
  lp2p_stream_node node; /* keyed by handle */
  uint8_t lclosed;       /* we sent Close */
  uint8_t rclosed;       /* the peer sent Close */
} mplex_stream;

struct lp2p_mplex {
  lp2p_env *env;
  lp2p_io io;
  int initiator;
  uint32_t max_streams;
  size_t max_frame;

  int err;       /* sticky: once set, every call returns it */
  int in_recv;   /* guards against recv from inside a callback */
  int gone_away; /* goaway() was called: no new streams either way */

  lp2p_stream_table streams; /* live streams by handle */
  uint32_t inbound;          /* live streams the peer opened */
  uint64_t next_id;          /* our next stream id (ids count from 0 per side) */

  /* Frame parser. */
  parse_state st;
  uint8_t vbuf[VARINT_MAX];
  size_t vlen;
  uint64_t fid; /* stream id of the frame being read */
  unsigned fflag;
  uint64_t remain; /* body bytes still to come */
  int deliver;     /* body goes up as STREAM_DATA to dhandle, else skipped */
  uint32_t dhandle;
};

/* ---- stream table ---- */

static mplex_stream *find(const lp2p_mplex *m, uint32_t handle) {
  lp2p_stream_node *n = lp2p_stream_table_find(&m->streams, handle);
  return n ? LP2P_STREAM_OF(n, mplex_stream, node) : NULL;
}

static int add(lp2p_mplex *m, uint32_t handle) {
  mplex_stream *s = calloc(1, sizeof *s);
  if (!s) return LP2P_ENOMEM;
  s->node.id = handle;
  if (lp2p_stream_table_insert(&m->streams, &s->node)) {
    free(s);
    return LP2P_ENOMEM;
  }
  if (!(handle & 1)) m->inbound++;
  return 0;
}

static void drop(lp2p_mplex *m, uint32_t handle) {
  mplex_stream *s = find(m, handle);
  if (!s) return;
  lp2p_stream_table_remove(&m->streams, &s->node);
  free(s);
  if (!(handle & 1)) m->inbound--;
}

/* ---- output ---- */

static int die(lp2p_mplex *m, int err) {
  if (!m->err) m->err = err;
  return err;
}

/* Writes one frame. A failed write leaves a partial frame on the wire, so
 * it kills the engine. */
static int write_frame(lp2p_mplex *m, uint64_t id, unsigned flag, const uint8_t *p,
                       size_t len) {
  uint8_t hdr[2 * VARINT_MAX];
  size_t n = lp2p_varint_encode(hdr, id << 3 | flag);
  n += lp2p_varint_encode(hdr + n, len);
  /* One write of two pieces: the security layer seals header and payload
   * together (one message where they fit) without copying them. */
  lp2p_iovec v[2] = {{hdr, n}, {p, len}};
  int rc = lp2p_io_writev(&m->io, v, len ? 2 : 1);
  return rc ? die(m, rc) : 0;
}

/* Message/Close/Reset flag for a frame we send: the Initiator variant (one
 * higher) on our own streams. */
static unsigned out_flag(unsigned receiver_flag, uint32_t handle) {
  return receiver_flag + (handle & 1);
}

static int emit(lp2p_mplex *m, lp2p_event_type type, uint32_t handle, const uint8_t *p,
                size_t len) {
  int rc = lp2p_io_emit(&m->io, type, handle, p, len);
  if (rc) return die(m, rc);
  /* The callback may have killed us through a failed write. */
  return m->err;
}

/* ---- public API ---- */

lp2p_mplex *lp2p_mplex_new(lp2p_env *env, const lp2p_mplex_config *cfg, lp2p_io io) {
  lp2p_mplex *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->env = env;
  m->io = io;
  m->initiator = cfg ? cfg->initiator : 0;
  m->max_streams =
      cfg && cfg->max_streams ? cfg->max_streams : LP2P_MPLEX_MAX_STREAMS_DEFAULT;
  m->max_frame = cfg && cfg->max_frame ? cfg->max_frame : LP2P_MPLEX_MAX_FRAME_DEFAULT;
  /* A frame length must fit a 9-byte varint (63 bits). */
  if ((uint64_t)m->max_frame > UINT64_MAX >> 2) m->max_frame = (size_t)(UINT64_MAX >> 2);
  if (lp2p_stream_table_init(&m->streams)) {
    free(m);
    return NULL;
  }
  return m;
}

void lp2p_mplex_free(lp2p_mplex *m) {
  if (!m) return;
  for (lp2p_stream_node *n; (n = lp2p_stream_table_any(&m->streams));) {
    lp2p_stream_table_remove(&m->streams, n);
    free(LP2P_STREAM_OF(n, mplex_stream, node));
  }
  lp2p_stream_table_free(&m->streams);
  free(m);
}

size_t lp2p_mplex_stream_count(const lp2p_mplex *m) { return m->streams.count; }

uint64_t lp2p_mplex_deadline(const lp2p_mplex *m) {
  (void)m;
  return LP2P_NO_DEADLINE;
}

int lp2p_mplex_expire(lp2p_mplex *m) { return m->err; }

int lp2p_mplex_open(lp2p_mplex *m, uint32_t *id) {
  if (m->err) return m->err;
  if (!id) return LP2P_EINVAL;
  if (m->gone_away) return LP2P_ECLOSED;
  if (m->next_id > LP2P_MPLEX_MAX_ID) return LP2P_ELIMIT;
  uint64_t sid = m->next_id;
  uint32_t handle = (uint32_t)(sid * 2 + 1);
  int rc = add(m, handle);
  if (rc) return rc;
  m->next_id++;
  /* The name is free-form; go-multiplex and js-mplex use the decimal id. */
  char name[16];
  int nl = snprintf(name, sizeof name, "%" PRIu64, sid);
  /* max_frame caps every frame, ours too; past it the name goes empty. */
  if ((size_t)nl > m->max_frame) nl = 0;
  rc = write_frame(m, sid, F_NEW_STREAM, (const uint8_t *)name, (size_t)nl);
  if (rc) return rc;
  LP2P_DEBUG("mplex", "%s: opened stream %" PRIu64 " (handle %" PRIu32 ")",
             m->initiator ? "dialer" : "listener", sid, handle);
  *id = handle;
  return 0;
}

int lp2p_mplex_send(lp2p_mplex *m, uint32_t id, const uint8_t *p, size_t len) {
  if (m->err) return m->err;
  mplex_stream *s = find(m, id);
  if (!s || s->lclosed) return LP2P_ECLOSED;
  if (len && !p) return LP2P_EINVAL;
  while (len) {
    size_t n = len < m->max_frame ? len : m->max_frame;
    int rc = write_frame(m, id >> 1, out_flag(F_MSG_RECEIVER, id), p, n);
    if (rc) return rc;
    p += n;
    len -= n;
  }
  return 0;
}

int lp2p_mplex_close(lp2p_mplex *m, uint32_t id) {
  if (m->err) return m->err;
  mplex_stream *s = find(m, id);
  if (!s) return LP2P_ECLOSED;
  if (s->lclosed) return 0;
  s->lclosed = 1;
  int both = s->rclosed;
  /* Spec "Closing a stream": a zero length body. */
  int rc = write_frame(m, id >> 1, out_flag(F_CLOSE_RECEIVER, id), NULL, 0);
  if (both) drop(m, id);
  return rc;
}

int lp2p_mplex_reset(lp2p_mplex *m, uint32_t id) {
  if (m->err) return m->err;
  if (!find(m, id)) return LP2P_ECLOSED;
  drop(m, id);
  return write_frame(m, id >> 1, out_flag(F_RESET_RECEIVER, id), NULL, 0);
}

int lp2p_mplex_goaway(lp2p_mplex *m, uint32_t code) {
  (void)code;
  if (m->err) return m->err;
  m->gone_away = 1;
  int rc = 0;
  for (lp2p_stream_node *n; (n = lp2p_stream_table_any(&m->streams));) {
    uint32_t h = n->id;
    drop(m, h);
    /* After a failed write, keep freeing but stop writing. */
    if (!rc) rc = write_frame(m, h >> 1, out_flag(F_RESET_RECEIVER, h), NULL, 0);
  }
  LP2P_DEBUG("mplex", "goaway: all streams reset");
  return rc;
}

/* ---- inbound ---- */

/* Called once header and length are known; sets up how the body is read.
 * Returns 0 or a negative code. */
static int on_frame(lp2p_mplex *m) {
  uint64_t id = m->fid;
  unsigned flag = m->fflag;
  m->deliver = 0;

  if (flag == F_NEW_STREAM) {
    uint32_t h = (uint32_t)(id * 2);
    if (find(m, h)) {
      LP2P_REASON("mplex", "NewStream for stream %" PRIu64 " already open", id);
      return die(m, LP2P_EPROTO);
    }
    if (m->gone_away || m->inbound >= m->max_streams) {
      LP2P_DEBUG("mplex", "NewStream %" PRIu64 " refused (%s): reset", id,
                 m->gone_away ? "going away" : "max_streams");
      return write_frame(m, id, F_RESET_RECEIVER, NULL, 0);
    }
    int rc = add(m, h);
    if (rc) return die(m, rc);
    LP2P_DEBUG("mplex", "peer opened stream %" PRIu64, id);
    /* The name in the body is skipped. */
    return emit(m, LP2P_EV_STREAM_OPEN, h, NULL, 0);
  }

  /* Odd flags come from the stream's receiver, so they are about streams we
   * opened. */
  uint32_t h = (uint32_t)(id * 2 + (flag & 1));
  mplex_stream *s = find(m, h);
  if (!s) {
    LP2P_DEBUG("mplex", "flag %u for unknown stream %" PRIu64 " dropped", flag, id);
    return 0;
  }
  switch (flag) {
  case F_MSG_RECEIVER:
  case F_MSG_INITIATOR:
    if (s->rclosed) {
      /* As go-multiplex does: data after the peer's Close is answered with
       * a Reset rather than killing the connection. */
      LP2P_DEBUG("mplex", "data on stream %" PRIu64 " after its Close: reset", id);
      drop(m, h);
      int rc = write_frame(m, id, out_flag(F_RESET_RECEIVER, h), NULL, 0);
      return rc ? rc : emit(m, LP2P_EV_STREAM_RESET, h, NULL, 0);
    }
    m->deliver = 1;
    m->dhandle = h;
    return 0;
  case F_CLOSE_RECEIVER:
  case F_CLOSE_INITIATOR: {
    if (s->rclosed) {
      LP2P_DEBUG("mplex", "second Close on stream %" PRIu64 " ignored", id);
      return 0;
    }
    s->rclosed = 1;
    int rc = emit(m, LP2P_EV_STREAM_FIN, h, NULL, 0);
    if (rc) return rc;
    /* Looked up again: the callback may have closed, reset or replaced it. */
    s = find(m, h);
    if (s && s->lclosed && s->rclosed) drop(m, h);
    return 0;
  }
  default: /* F_RESET_RECEIVER, F_RESET_INITIATOR */
    drop(m, h);
    LP2P_DEBUG("mplex", "peer reset stream %" PRIu64, id);
    return emit(m, LP2P_EV_STREAM_RESET, h, NULL, 0);
  }
}

/* Moves one byte into the varint being read. Returns 1 when it completed
 * (*v set), 0 for more, or LP2P_EVARINT. */
static int varint_byte(lp2p_mplex *m, uint8_t b, uint64_t *v) {
  m->vbuf[m->vlen++] = b;
  int rc = lp2p_varint_decode(v, m->vbuf, m->vlen);
  if (rc == 0) return 0;
  m->vlen = 0;
  return rc < 0 ? rc : 1;
}

static int recv_loop(lp2p_mplex *m, const uint8_t *in, size_t len) {
  size_t off = 0;
  int rc;
  while (off < len) {
    uint64_t v;
    switch (m->st) {
    case ST_HEADER:
      rc = varint_byte(m, in[off++], &v);
      if (rc < 0) {
        LP2P_REASON("mplex", "bad header varint (over 9 bytes or non-minimal)");
        return die(m, rc);
      }
      if (rc == 0) break;
      m->fflag = (unsigned)(v & 7);
      m->fid = v >> 3;
      if (m->fflag > F_RESET_INITIATOR) {
        LP2P_REASON("mplex", "unknown flag %u", m->fflag);
        return die(m, LP2P_EPROTO);
      }
      if (m->fid > LP2P_MPLEX_MAX_ID) {
        LP2P_REASON("mplex", "stream id %" PRIu64 " over our cap %u", m->fid,
                    LP2P_MPLEX_MAX_ID);
        return die(m, LP2P_EPROTO);
      }
      m->st = ST_LENGTH;
      break;
    case ST_LENGTH:
      rc = varint_byte(m, in[off++], &v);
      if (rc < 0) {
        LP2P_REASON("mplex", "bad length varint (over 9 bytes or non-minimal)");
        return die(m, rc);
      }
      if (rc == 0) break;
      /* Checked before anything is read or kept for the body. */
      if (v > m->max_frame) {
        LP2P_REASON("mplex", "frame of %" PRIu64 " bytes over the %zu cap", v,
                    m->max_frame);
        return die(m, LP2P_ETOOBIG);
      }
      m->remain = v;
      m->st = v ? ST_BODY : ST_HEADER;
      rc = on_frame(m);
      if (rc) return rc;
      break;
    case ST_BODY: {
      size_t n = len - off;
      if (n > m->remain) n = (size_t)m->remain;
      m->remain -= n;
      if (!m->remain) m->st = ST_HEADER;
      /* Checked per piece: a callback may have reset the stream mid-frame. */
      if (m->deliver && find(m, m->dhandle)) {
        rc = emit(m, LP2P_EV_STREAM_DATA, m->dhandle, in + off, n);
        if (rc) return rc;
      }
      off += n;
      break;
    }
    }
  }
  return 0;
}

int lp2p_mplex_recv(lp2p_mplex *m, const uint8_t *in, size_t len) {
  if (m->err) return m->err;
  if (m->in_recv) return LP2P_EINVAL;
  if (len && !in) return LP2P_EINVAL;
  m->in_recv = 1;
  int rc = recv_loop(m, in, len);
  m->in_recv = 0;
  return rc;
}
