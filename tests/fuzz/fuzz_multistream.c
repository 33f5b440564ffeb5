/* Fuzz target: multistream-select (mss.h), initiator or responder, fed
 * arbitrary bytes as the peer's side of the negotiation.
 *
 * Input: [flags][split] peer bytes...
 *   flags bit 0: initiator; bits 1-2: protocols offered (1..3, of
 *   /noise, /yamux/1.0.0, /mplex/6.7.0); bit 3: debug logging; bits 4-7:
 *   when non-zero, io.write fails from that write on (and io.event from
 *   the same count of events), to exercise the error paths.
 *   split: the peer bytes are fed in pieces drawn from this seed.
 *
 * Checked: everything we write is well-formed multistream messages; READY
 * comes at most once, before any DATA, naming a protocol of ours; DATA
 * carries exactly the tail of the input that followed the agreement. */
#include "fuzz.h"

#include <string.h>

#include "lp2p/codec.h"
#include "lp2p/mss.h"

static const char *const protos[] = {"/noise", "/yamux/1.0.0", "/mplex/6.7.0"};

typedef struct ctx {
  lp2p_mss mss;
  size_t n_protos;
  unsigned fail_at; /* 0: never */
  unsigned writes, events;
  int ready;
  lp2p_buf out;  /* what we wrote */
  lp2p_buf data; /* DATA handed up */
} ctx;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  if (c->fail_at && ++c->writes >= c->fail_at) return -5; /* -EIO */
  FZ_CHECK(len > 0);
  return lp2p_buf_append(&c->out, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (c->fail_at && ++c->events >= c->fail_at) return -5;
  switch (ev->type) {
  case LP2P_EV_READY: {
    FZ_CHECK(!c->ready && c->data.len == 0);
    c->ready = 1;
    int found = 0;
    for (size_t i = 0; i < c->n_protos; i++)
      found |= ev->protocol == protos[i];
    FZ_CHECK(found);
    FZ_CHECK(lp2p_mss_selected(&c->mss) == ev->protocol);
    return 0;
  }
  case LP2P_EV_DATA:
    FZ_CHECK(c->ready && ev->len > 0);
    return lp2p_buf_append(&c->data, ev->data, ev->len);
  default: FZ_CHECK(0);
  }
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  return lp2p_mss_recv(&c->mss, p, n);
}

/* Splits p into multistream messages; returns how many bytes they cover
 * (all of p when well-formed). */
static size_t parse_msgs(const uint8_t *p, size_t len, size_t *count) {
  size_t off = 0;
  *count = 0;
  while (off < len) {
    uint64_t mlen;
    int hl = lp2p_varint_decode(&mlen, p + off, len - off);
    if (hl <= 0 || mlen == 0 || mlen > LP2P_MSS_MAX_MSG || mlen > len - off - (size_t)hl)
      break;
    if (p[off + (size_t)hl + mlen - 1] != '\n') break;
    off += (size_t)hl + mlen;
    (*count)++;
  }
  return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t flags = fz_u8(&in);
  uint8_t split = fz_u8(&in);
  size_t len;
  const uint8_t *p = fz_rest(&in, &len);

  ctx c;
  memset(&c, 0, sizeof c);
  c.n_protos = 1 + (flags >> 1 & 3) % 3;
  c.fail_at = flags >> 4;
  fz_log_begin(flags & 8);
  lp2p_io io = {.write = on_write, .event = on_event, .ud = &c};
  lp2p_mss_init(&c.mss, flags & 1, protos, c.n_protos, io);
  int rc = lp2p_mss_start(&c.mss);
  if (rc == 0) rc = fz_feed_split(split, p, len, feed, &c);
  fz_log_end();

  size_t nmsg;
  FZ_CHECK(parse_msgs(c.out.data, c.out.len, &nmsg) == c.out.len);
  if (rc == 0) {
    if (c.ready) {
      /* DATA is exactly what followed the agreement, and the part before
       * it is whole messages. */
      FZ_CHECK(c.data.len <= len);
      FZ_CHECK(c.data.len == 0 ||
               memcmp(c.data.data, p + len - c.data.len, c.data.len) == 0);
      FZ_CHECK(parse_msgs(p, len - c.data.len, &nmsg) == len - c.data.len);
    } else {
      FZ_CHECK(c.data.len == 0 && lp2p_mss_selected(&c.mss) == NULL);
    }
  }
  lp2p_buf_free(&c.out);
  lp2p_buf_free(&c.data);
  return 0;
}
