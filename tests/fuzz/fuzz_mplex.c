/* Fuzz target: the mplex engine (mplex.h), either role, fed arbitrary bytes
 * and driven through its API, with the event callback calling back into
 * the engine as the input says.
 *
 * Input: [cfg][cb] ops...
 *   cfg bit 0: initiator; bits 1-3: max_streams (0: default); bits 4-5:
 *   max_frame default (1 MiB) / 1 / 64 / 4096; bit 7: debug logging.
 *   cb bits 0-3: when non-zero io.write fails from that write on;
 *   bit 4: the event callback takes an action byte from the input for each
 *   event (send / close / reset / open / goaway / recv, which must be
 *   refused).
 *   op % 10:
 *     0 [len] bytes          fed to recv
 *     1 [len][split] bytes   fed to recv in pieces
 *     2 [len hi][len lo][b]  that many bytes b fed (bulk payload)
 *     3                      open
 *     4 [s][len hi][len lo]  send pattern bytes on stream s
 *     5 [s]                  close
 *     6 [s]                  reset
 *     7                      goaway
 *     8 [s]                  send one byte from the input on stream s
 *     9 [flag][s][len hi][len lo] a frame header (flag 7 is invalid) for
 *       the stream of handle s, then the body from the input
 *   s: an index into the handles seen so far, or (past their count) a
 *   handle made up from the byte.
 *
 * Checked: every byte written parses as mplex frames (minimal varints,
 * flags 0..6, bodies within max_frame); events name handles that were
 * opened, the peer's with even handles; errors are sticky; a re-entrant
 * recv is refused with LP2P_EINVAL. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/codec.h"
#include "lp2p/mplex.h"

#define MAX_IDS 512

typedef struct ctx {
  lp2p_mplex *m;
  fz_in *in;
  int cb_actions;
  size_t max_frame;
  unsigned fail_at, writes;
  /* Output parser: two varints, then the body. */
  uint8_t v[LP2P_VARINT_MAX];
  size_t vlen;
  int want_len; /* the next varint is a length */
  uint64_t skip;
  uint32_t ids[MAX_IDS];
  size_t nids;
  size_t opened;
} ctx;

static uint8_t pattern[64 * 1024];

static int on_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  if (++c->writes >= c->fail_at && c->fail_at) return -5;
  FZ_CHECK(len > 0);
  for (size_t off = 0; off < len;) {
    if (c->skip) {
      size_t n = len - off < c->skip ? len - off : (size_t)c->skip;
      c->skip -= n;
      off += n;
      continue;
    }
    c->v[c->vlen++] = p[off++];
    uint64_t val;
    int rc = lp2p_varint_decode(&val, c->v, c->vlen);
    FZ_CHECK(rc >= 0);
    if (rc == 0) {
      FZ_CHECK(c->vlen < LP2P_VARINT_MAX);
      continue;
    }
    c->vlen = 0;
    if (!c->want_len) {
      FZ_CHECK((val & 7) <= 6 && (val >> 3) <= LP2P_MPLEX_MAX_ID);
      c->want_len = 1;
    } else {
      FZ_CHECK(val <= c->max_frame);
      c->skip = val;
      c->want_len = 0;
    }
  }
  return 0;
}

static int seen(const ctx *c, uint32_t h) {
  if (c->nids == MAX_IDS) return 1;
  for (size_t i = 0; i < c->nids; i++)
    if (c->ids[i] == h) return 1;
  return 0;
}

static void remember(ctx *c, uint32_t h) {
  if (c->nids < MAX_IDS && !seen(c, h)) c->ids[c->nids++] = h;
}

static uint32_t pick(ctx *c, uint8_t s) {
  if (s < c->nids) return c->ids[s];
  return (uint32_t)(s - c->nids);
}

static int do_open(ctx *c) {
  uint32_t h = 0;
  int rc = lp2p_mplex_open(c->m, &h);
  if (rc == 0) {
    FZ_CHECK(h & 1);
    remember(c, h);
    c->opened++;
  }
  return rc;
}

static int cb_action(ctx *c, const lp2p_event *ev) {
  uint8_t a = fz_u8(c->in);
  int rc = 0;
  switch (a % 7) {
  case 0: break;
  case 1:
    rc = lp2p_mplex_send(c->m, ev->stream, ev->len ? ev->data : pattern,
                         ev->len ? ev->len : (size_t)(a >> 3) * 64);
    break;
  case 2: rc = lp2p_mplex_close(c->m, ev->stream); break;
  case 3: rc = lp2p_mplex_reset(c->m, ev->stream); break;
  case 4: rc = do_open(c); break;
  case 5: rc = lp2p_mplex_goaway(c->m, 0); break;
  default: FZ_CHECK(lp2p_mplex_recv(c->m, pattern, 4) == LP2P_EINVAL); break;
  }
  if (rc == LP2P_ECLOSED || rc == LP2P_ELIMIT || rc == LP2P_EINVAL) rc = 0;
  return rc;
}

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  switch (ev->type) {
  case LP2P_EV_STREAM_OPEN:
    FZ_CHECK((ev->stream & 1) == 0);
    remember(c, ev->stream);
    c->opened++;
    break;
  case LP2P_EV_STREAM_DATA:
    FZ_CHECK(ev->len > 0 && ev->data);
    FZ_CHECK(seen(c, ev->stream));
    break;
  case LP2P_EV_STREAM_FIN:
  case LP2P_EV_STREAM_RESET: FZ_CHECK(seen(c, ev->stream)); break;
  default: FZ_CHECK(0);
  }
  return c->cb_actions ? cb_action(c, ev) : 0;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  return lp2p_mplex_recv(c->m, p, n);
}

static int frame_op(ctx *c) {
  unsigned flag = fz_u8(c->in) & 7;
  uint64_t id = pick(c, fz_u8(c->in)) >> 1;
  uint16_t len = fz_u16(c->in);
  uint8_t h[2 * LP2P_VARINT_MAX];
  size_t n = lp2p_varint_encode(h, id << 3 | flag);
  n += lp2p_varint_encode(h + n, len);
  int rc = lp2p_mplex_recv(c->m, h, n);
  if (rc) return rc;
  const uint8_t *p = fz_take(c->in, len, &n);
  return n ? lp2p_mplex_recv(c->m, p, n) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    uint64_t s = 43;
    fz_random(&s, pattern, sizeof pattern);
    init = 1;
  }
  fz_in in = fz_in_make(data, size);
  uint8_t cfgb = fz_u8(&in), cb = fz_u8(&in);
  static const size_t frames[] = {0, 1, 64, 4096};
  lp2p_mplex_config cfg = {.initiator = cfgb & 1,
                           .max_streams = cfgb >> 1 & 7,
                           .max_frame = frames[cfgb >> 4 & 3]};
  ctx c;
  memset(&c, 0, sizeof c);
  c.in = &in;
  c.fail_at = cb & 15;
  c.cb_actions = cb & 16;
  c.max_frame = cfg.max_frame ? cfg.max_frame : LP2P_MPLEX_MAX_FRAME_DEFAULT;
  lp2p_env env;
  uint64_t seed;
  fz_env_init(&env, &seed, 9);
  fz_log_begin(cfgb & 128);
  lp2p_io io = {.write = on_write, .event = on_event, .ud = &c};
  /* cfg NULL (defaults) now and then. */
  c.m = lp2p_mplex_new(&env, (cfgb & 0x4f) == 0x40 ? NULL : &cfg, io);
  if ((cfgb & 0x4f) == 0x40) c.max_frame = LP2P_MPLEX_MAX_FRAME_DEFAULT;
  FZ_CHECK(c.m);
  FZ_CHECK(lp2p_mplex_deadline(c.m) == LP2P_NO_DEADLINE);

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
      rc = lp2p_mplex_recv(c.m, p, len);
      break;
    case 1:
      p = fz_take(&in, fz_u8(&in), &len);
      rc = fz_feed_split(fz_u8(&in), p, len, feed, &c);
      break;
    case 2: {
      size_t n = fz_u16(&in);
      uint8_t *buf = malloc(n ? n : 1);
      FZ_CHECK(buf);
      memset(buf, fz_u8(&in), n);
      rc = lp2p_mplex_recv(c.m, buf, n);
      free(buf);
      break;
    }
    case 3: rc = do_open(&c); break;
    case 4: {
      uint32_t h = pick(&c, fz_u8(&in));
      size_t n = fz_u16(&in);
      if (n > sizeof pattern) n = sizeof pattern;
      /* max_frame 1 makes a frame per byte: cheap to ask, slow to do. */
      if (n * (c.max_frame < 64 ? 8 : 1) > budget) n = 0;
      budget -= n * (c.max_frame < 64 ? 8 : 1);
      rc = lp2p_mplex_send(c.m, h, pattern, n);
      break;
    }
    case 5: rc = lp2p_mplex_close(c.m, pick(&c, fz_u8(&in))); break;
    case 6: rc = lp2p_mplex_reset(c.m, pick(&c, fz_u8(&in))); break;
    case 7: rc = lp2p_mplex_goaway(c.m, 0); break;
    case 8: {
      uint32_t h = pick(&c, fz_u8(&in));
      p = fz_take(&in, 1, &len);
      rc = lp2p_mplex_send(c.m, h, len ? p : NULL, len);
      break;
    }
    default: rc = frame_op(&c); break;
    }
    if (rc == LP2P_ECLOSED || rc == LP2P_ELIMIT || rc == LP2P_EINVAL) continue;
    if (rc) {
      unsigned w = c.writes;
      uint32_t h;
      FZ_CHECK(lp2p_mplex_recv(c.m, pattern, 4) == rc);
      FZ_CHECK(lp2p_mplex_open(c.m, &h) == rc);
      FZ_CHECK(lp2p_mplex_send(c.m, 1, pattern, 1) == rc);
      FZ_CHECK(lp2p_mplex_close(c.m, 1) == rc);
      FZ_CHECK(lp2p_mplex_reset(c.m, 1) == rc);
      FZ_CHECK(lp2p_mplex_goaway(c.m, 0) == rc);
      FZ_CHECK(lp2p_mplex_expire(c.m) == rc);
      FZ_CHECK(c.writes == w);
      dead = 1;
    }
    /* Live streams are ones opened, unless a failed write killed the
     * engine half way through an open. */
    if (!dead) FZ_CHECK(lp2p_mplex_stream_count(c.m) <= c.opened);
  }
  fz_log_end();
  lp2p_mplex_free(c.m);
  return 0;
}
