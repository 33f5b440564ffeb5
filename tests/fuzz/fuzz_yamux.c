/* Fuzz target: the yamux engine (yamux.h), either role, fed arbitrary
 * bytes and driven through its API, with the event callback calling back
 * into the engine as the input says.
 *
 * Input: [cfg][cb] ops...
 *   cfg bit 0: initiator; bits 1-2: window 0 (default) / 256 KiB / 1 MiB /
 *   256 KiB - 1 (invalid: lp2p_yamux_new must refuse it); bits 3-5:
 *   max_streams (0: default); bit 6: max_pending_pongs 2; bit 7: debug
 *   logging.
 *   cb bits 0-3: when non-zero io.write fails from that write on;
 *   bit 4: the event callback takes an action byte from the input for each
 *   event (send / close / reset / open / goaway / ping / recv, which must
 *   be refused).
 *   op % 10:
 *     0 [len] bytes          fed to recv
 *     1 [len][split] bytes   fed to recv in pieces
 *     2 [len hi][len lo][b]  that many bytes b fed (bulk payload)
 *     3                      open
 *     4 [s][len hi][len lo]  send pattern bytes on stream s
 *     5 [s]                  close
 *     6 [s]                  reset
 *     7 [code]               goaway
 *     8 [4 bytes]            ping
 *     9 [type][flags][s][len hi][len lo] a frame header for stream s,
 *       then its data frame payload from the input
 *   s: an index into the streams seen so far, or (past their count) a
 *   stream id made up from the byte.
 *
 * Checked: every byte written parses as yamux frames (version 0, known
 * type, data frames at most LP2P_YAMUX_MAX_FRAME); events name streams
 * that were opened, a peer's SYN has the peer's parity; errors are sticky;
 * a re-entrant recv is refused with LP2P_EINVAL. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/yamux.h"

#define MAX_IDS 512

typedef struct ctx {
  lp2p_yamux *y;
  fz_in *in;
  int initiator;
  int cb_actions;
  unsigned fail_at, writes;
  /* Output parser. */
  uint8_t hdr[12];
  size_t hlen;
  uint32_t skip;
  /* Streams seen: opened by us or by the peer. */
  uint32_t ids[MAX_IDS];
  size_t nids;
  size_t opened; /* streams opened either way, ever */
} ctx;

static uint8_t pattern[256 * 1024 + 16];

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int on_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  if (++c->writes >= c->fail_at && c->fail_at) return -5;
  FZ_CHECK(len > 0);
  for (size_t off = 0; off < len;) {
    if (c->skip) {
      size_t n = len - off < c->skip ? len - off : c->skip;
      c->skip -= (uint32_t)n;
      off += n;
      continue;
    }
    c->hdr[c->hlen++] = p[off++];
    if (c->hlen < 12) continue;
    c->hlen = 0;
    FZ_CHECK(c->hdr[0] == 0 && c->hdr[1] <= 3);
    uint16_t flags = (uint16_t)(c->hdr[2] << 8 | c->hdr[3]);
    FZ_CHECK((flags & ~0xfu) == 0);
    uint32_t id = get32(c->hdr + 4), flen = get32(c->hdr + 8);
    if (c->hdr[1] == 0) {
      FZ_CHECK(flen <= LP2P_YAMUX_MAX_FRAME);
      c->skip = flen;
    }
    if (c->hdr[1] >= 2) FZ_CHECK(id == 0);
    if ((c->hdr[1] <= 1) && (flags & 1)) /* SYN: ours, our parity */
      FZ_CHECK(id != 0 && (id & 1) == (c->initiator ? 1u : 0u));
  }
  return 0;
}

static int seen(const ctx *c, uint32_t id) {
  if (c->nids == MAX_IDS) return 1; /* stopped tracking */
  for (size_t i = 0; i < c->nids; i++)
    if (c->ids[i] == id) return 1;
  return 0;
}

static void remember(ctx *c, uint32_t id) {
  if (c->nids < MAX_IDS && !seen(c, id)) c->ids[c->nids++] = id;
}

static uint32_t pick(ctx *c, uint8_t s) {
  if (s < c->nids) return c->ids[s];
  return (uint32_t)(s - c->nids); /* made up: 0, 1, 2, ... */
}

static int do_open(ctx *c) {
  uint32_t id = 0;
  int rc = lp2p_yamux_open(c->y, &id);
  if (rc == 0) {
    FZ_CHECK(id && (id & 1) == (c->initiator ? 1u : 0u));
    remember(c, id);
    c->opened++;
  }
  return rc;
}

static int do_send(ctx *c, uint32_t id, size_t len) {
  if (len > sizeof pattern) len = sizeof pattern;
  return lp2p_yamux_send(c->y, id, pattern, len);
}

/* An action from inside the event callback. */
static int cb_action(ctx *c, const lp2p_event *ev) {
  uint8_t a = fz_u8(c->in);
  int rc = 0;
  switch (a % 8) {
  case 0: break;
  case 1:
    rc = lp2p_yamux_send(c->y, ev->stream, ev->len ? ev->data : pattern,
                         ev->len ? ev->len : (size_t)(a >> 3) * 1024);
    break;
  case 2: rc = lp2p_yamux_close(c->y, ev->stream); break;
  case 3: rc = lp2p_yamux_reset(c->y, ev->stream); break;
  case 4: rc = do_open(c); break;
  case 5: rc = lp2p_yamux_goaway(c->y, a >> 6); break;
  case 6: rc = lp2p_yamux_ping(c->y, a); break;
  default: FZ_CHECK(lp2p_yamux_recv(c->y, pattern, 12) == LP2P_EINVAL); break;
  }
  /* Local misuse is not the peer's fault: keep going. */
  if (rc == LP2P_ECLOSED || rc == LP2P_ELIMIT || rc == LP2P_EINVAL) rc = 0;
  return rc;
}

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  switch (ev->type) {
  case LP2P_EV_STREAM_OPEN:
    FZ_CHECK(ev->stream != 0 && (ev->stream & 1) != (c->initiator ? 1u : 0u));
    remember(c, ev->stream);
    c->opened++;
    break;
  case LP2P_EV_STREAM_DATA:
    FZ_CHECK(ev->len > 0 && ev->data);
    FZ_CHECK(seen(c, ev->stream));
    break;
  case LP2P_EV_STREAM_FIN:
  case LP2P_EV_STREAM_RESET: FZ_CHECK(seen(c, ev->stream)); break;
  case LP2P_EV_EOF: break;
  default: FZ_CHECK(0);
  }
  return c->cb_actions ? cb_action(c, ev) : 0;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  return lp2p_yamux_recv(c->y, p, n);
}

static int frame_op(ctx *c) {
  uint8_t h[12] = {0};
  h[1] = fz_u8(c->in) % 5; /* 4: a bad type now and then */
  h[3] = fz_u8(c->in) & 0xf;
  uint32_t id = pick(c, fz_u8(c->in));
  uint16_t len = fz_u16(c->in);
  h[4] = (uint8_t)(id >> 24);
  h[5] = (uint8_t)(id >> 16);
  h[6] = (uint8_t)(id >> 8);
  h[7] = (uint8_t)id;
  h[10] = (uint8_t)(len >> 8);
  h[11] = (uint8_t)len;
  int rc = lp2p_yamux_recv(c->y, h, sizeof h);
  if (rc || h[1] != 0) return rc;
  size_t n;
  const uint8_t *p = fz_take(c->in, len, &n);
  return n ? lp2p_yamux_recv(c->y, p, n) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    uint64_t s = 42;
    fz_random(&s, pattern, sizeof pattern);
    init = 1;
  }
  fz_in in = fz_in_make(data, size);
  uint8_t cfgb = fz_u8(&in), cb = fz_u8(&in);
  static const uint32_t windows[] = {0, 256u * 1024, 1024u * 1024, 256u * 1024 - 1};
  lp2p_yamux_config cfg = {.initiator = cfgb & 1,
                           .window = windows[cfgb >> 1 & 3],
                           .max_streams = cfgb >> 3 & 7,
                           .max_pending_pongs = cfgb & 64 ? 2 : 0};
  ctx c;
  memset(&c, 0, sizeof c);
  c.in = &in;
  c.initiator = cfg.initiator;
  c.fail_at = cb & 15;
  c.cb_actions = cb & 16;
  lp2p_env env;
  uint64_t seed;
  fz_env_init(&env, &seed, 7);
  fz_log_begin(cfgb & 128);
  lp2p_io io = {.write = on_write, .event = on_event, .ud = &c};
  c.y = lp2p_yamux_new(&env, &cfg, io);
  if (cfg.window == windows[3]) {
    FZ_CHECK(c.y == NULL);
    fz_log_end();
    return 0;
  }
  FZ_CHECK(c.y);
  FZ_CHECK(lp2p_yamux_deadline(c.y) == LP2P_NO_DEADLINE);

  /* Bounds the work per input: big sends are cheap to ask for. */
  size_t budget = 8u << 20;
  int dead = 0;
  while (fz_left(&in) && !dead) {
    uint8_t op = fz_u8(&in);
    size_t len;
    const uint8_t *p;
    int rc = 0;
    switch (op % 10) {
    case 0:
      p = fz_take(&in, fz_u8(&in), &len);
      rc = lp2p_yamux_recv(c.y, p, len);
      break;
    case 1: {
      p = fz_take(&in, fz_u8(&in), &len);
      rc = fz_feed_split(fz_u8(&in), p, len, feed, &c);
      break;
    }
    case 2: {
      size_t n = fz_u16(&in);
      uint8_t *buf = malloc(n ? n : 1);
      FZ_CHECK(buf);
      memset(buf, fz_u8(&in), n);
      rc = lp2p_yamux_recv(c.y, buf, n);
      free(buf);
      break;
    }
    case 3: rc = do_open(&c); break;
    case 4: {
      uint32_t id = pick(&c, fz_u8(&in));
      size_t n = (size_t)fz_u16(&in) * 4;
      if (n > budget) n = 0;
      budget -= n;
      rc = do_send(&c, id, n);
      FZ_CHECK(lp2p_yamux_queued(c.y, id) <= LP2P_YAMUX_MAX_QUEUED);
      break;
    }
    case 5: rc = lp2p_yamux_close(c.y, pick(&c, fz_u8(&in))); break;
    case 6: rc = lp2p_yamux_reset(c.y, pick(&c, fz_u8(&in))); break;
    case 7: rc = lp2p_yamux_goaway(c.y, fz_u8(&in) % 4); break;
    case 8: rc = lp2p_yamux_ping(c.y, fz_u32(&in)); break;
    default: rc = frame_op(&c); break;
    }
    if (rc == LP2P_ECLOSED || rc == LP2P_ELIMIT || rc == LP2P_EINVAL) continue;
    if (rc) {
      /* Dead: the same code from every call, nothing more written. */
      unsigned w = c.writes;
      uint32_t id;
      FZ_CHECK(lp2p_yamux_recv(c.y, pattern, 12) == rc);
      FZ_CHECK(lp2p_yamux_open(c.y, &id) == rc);
      FZ_CHECK(lp2p_yamux_send(c.y, 1, pattern, 1) == rc);
      FZ_CHECK(lp2p_yamux_ping(c.y, 0) == rc);
      FZ_CHECK(lp2p_yamux_expire(c.y) == rc);
      FZ_CHECK(c.writes == w);
      dead = 1;
    }
    /* Live streams are ones opened, unless a failed write killed the
     * engine half way through an open. */
    if (!dead) FZ_CHECK(lp2p_yamux_num_streams(c.y) <= c.opened);
  }
  fz_log_end();
  lp2p_yamux_free(c.y);
  return 0;
}
