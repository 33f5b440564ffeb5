#include "lp2p/mss.h"

#include "lp2p/codec.h"

#include <string.h>

void lp2p_mss_init(lp2p_mss *m, int initiator, const char *const *protos, size_t n_protos,
                   lp2p_io io) {
  memset(m, 0, sizeof *m);
  m->io = io;
  m->initiator = initiator;
  m->protos = protos;
  m->n_protos = n_protos;
}

int lp2p_mss_encode(uint8_t *out, size_t cap, const char *text) {
  size_t tlen = strlen(text);
  if (tlen + 1 > LP2P_MSS_MAX_MSG || cap < LP2P_VARINT_MAX + tlen + 1)
    return LP2P_ETOOBIG;
  size_t n = lp2p_varint_encode(out, tlen + 1);
  memcpy(out + n, text, tlen);
  out[n + tlen] = '\n';
  return (int)(n + tlen + 1);
}

static int write_msgs(lp2p_mss *m, const char *a, const char *b) {
  uint8_t out[2 * (LP2P_MSS_MAX_MSG + LP2P_VARINT_MAX)];
  int n = lp2p_mss_encode(out, sizeof out, a);
  if (n < 0) return n;
  if (b) {
    int k = lp2p_mss_encode(out + n, sizeof out - (size_t)n, b);
    if (k < 0) return k;
    n += k;
  }
  return m->io.write(m->io.ud, out, (size_t)n);
}

int lp2p_mss_start(lp2p_mss *m) {
  if (m->n_protos == 0) return LP2P_EINVAL;
  LP2P_DEBUG("mss", "%s start, %s %s", m->initiator ? "initiator" : "responder",
             m->initiator ? "proposing" : "offering", m->protos[0]);
  return write_msgs(m, LP2P_MSS_PROTOCOL, m->initiator ? m->protos[m->proposal] : NULL);
}

const char *lp2p_mss_selected(const lp2p_mss *m) {
  return m->done ? m->protos[m->proposal] : NULL;
}

static int msg_is(const uint8_t *msg, size_t len, const char *text) {
  return strlen(text) == len && memcmp(msg, text, len) == 0;
}

static int fail(lp2p_mss *m, int err, const char *why) {
  LP2P_REASON("mss", "%s", why);
  return m->err = err;
}

/* Initiator: the echo of the proposal in flight ends negotiation; "na"
 * moves to the next proposal. */
static int on_initiator_msg(lp2p_mss *m, const uint8_t *msg, size_t len) {
  if (msg_is(msg, len, m->protos[m->proposal])) {
    m->done = 1;
    return 0;
  }
  if (!msg_is(msg, len, "na")) return fail(m, LP2P_EPROTO, "unexpected reply");
  LP2P_DEBUG("mss", "peer refused %s", m->protos[m->proposal]);
  if (++m->proposal == m->n_protos) {
    m->proposal--;
    LP2P_REASON("mss", "peer does not support %s", m->protos[m->proposal]);
    return m->err = LP2P_ENOTSUP;
  }
  return write_msgs(m, m->protos[m->proposal], NULL);
}

static int on_responder_msg(lp2p_mss *m, const uint8_t *msg, size_t len) {
  for (size_t i = 0; i < m->n_protos; i++) {
    if (msg_is(msg, len, m->protos[i])) {
      m->proposal = i;
      m->done = 1;
      return write_msgs(m, m->protos[i], NULL);
    }
  }
  LP2P_DEBUG("mss", "refusing %.*s", (int)len, (const char *)msg);
  if (++m->na_count > LP2P_MSS_MAX_NA)
    return fail(m, LP2P_ELIMIT, "too many unknown proposals");
  return write_msgs(m, "na", NULL);
}

static int on_msg(lp2p_mss *m, const uint8_t *msg, size_t len) {
  if (!m->header_seen) {
    if (!msg_is(msg, len, LP2P_MSS_PROTOCOL))
      return fail(m, LP2P_EPROTO, "wrong multistream header");
    m->header_seen = 1;
    return 0;
  }
  return m->initiator ? on_initiator_msg(m, msg, len) : on_responder_msg(m, msg, len);
}

/* Parses one complete message at the front of pending: returns its total
 * size, 0 when incomplete, or an error. */
static int take_msg(lp2p_mss *m) {
  uint64_t mlen;
  int hl = lp2p_varint_decode(&mlen, m->pending, m->plen);
  if (hl < 0) return fail(m, hl, "bad length varint");
  if (hl == 0) return 0;
  if (mlen == 0 || mlen > LP2P_MSS_MAX_MSG)
    return fail(m, mlen ? LP2P_ETOOBIG : LP2P_EPROTO, "bad message length");
  if (m->plen < (size_t)hl + mlen) return 0;
  const uint8_t *msg = m->pending + hl;
  if (msg[mlen - 1] != '\n') return fail(m, LP2P_EPROTO, "missing newline");
  int rc = on_msg(m, msg, (size_t)mlen - 1);
  if (rc < 0) return rc;
  return hl + (int)mlen;
}

static int emit_ready(lp2p_mss *m, const uint8_t *rest, size_t rest_len) {
  lp2p_event ev = {.type = LP2P_EV_READY, .protocol = lp2p_mss_selected(m)};
  LP2P_DEBUG("mss", "agreed on %s", ev.protocol);
  int rc = lp2p_io_event(&m->io, &ev);
  if (rc) return rc;
  /* Leftover bytes go up in order: first what we buffered, then the rest. */
  if (m->plen) {
    size_t n = m->plen;
    m->plen = 0;
    if ((rc = lp2p_io_emit(&m->io, LP2P_EV_DATA, 0, m->pending, n))) return rc;
  }
  if (rest_len == 0) return 0;
  return lp2p_io_emit(&m->io, LP2P_EV_DATA, 0, rest, rest_len);
}

int lp2p_mss_recv(lp2p_mss *m, const uint8_t *in, size_t len) {
  if (m->err) return m->err;
  if (m->done) {
    return len ? lp2p_io_emit(&m->io, LP2P_EV_DATA, 0, in, len) : 0;
  }
  while (len > 0) {
    size_t room = sizeof m->pending - m->plen;
    size_t n = len < room ? len : room;
    memcpy(m->pending + m->plen, in, n);
    m->plen += n;
    in += n;
    len -= n;
    int used;
    while ((used = take_msg(m)) > 0) {
      memmove(m->pending, m->pending + used, m->plen - (size_t)used);
      m->plen -= (size_t)used;
      if (m->done) return emit_ready(m, in, len);
    }
    if (used < 0) return used;
  }
  return 0;
}
