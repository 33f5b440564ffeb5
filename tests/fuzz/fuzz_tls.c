/* Fuzz target: the /tls/1.0.0 engine (tls.h) and the generic session under
 * it (tls_session.h) on their input path.
 *
 * Input: [mode][sel][split] ...
 *   sel: identity fz_identity(sel), muxers fz_muxers(sel >> 2); sel bit 4:
 *   debug logging; sel bit 5: the DATA callback echoes through
 *   lp2p_tls_send.
 *   split: the seed of the piece sizes input is fed in (fz_feed_split).
 *   mode % 3:
 *     0 listener fed arbitrary bytes (a ClientHello, then anything)
 *     1 dialer, started, fed arbitrary bytes (the server's flight...)
 *     2 an honest dialer/listener pair completes the handshake in memory,
 *       then ops [op][len] bytes: op & 1: the dialer sends the bytes as
 *       data (real records), else the bytes go raw onto the wire to the
 *       listener; op & 2: the listener sends its close_notify first.
 * GnuTLS draws its own handshake randomness, so mode 2 ciphertext differs
 * between runs; what is checked does not depend on it.
 * Checked: READY comes once, with the peer key and an agreed muxer from
 * our own list (or none); in mode 2 every byte the dialer sends arrives
 * unchanged and in order until raw bytes break the stream, and then the
 * listener fails with an error instead of delivering them. */
#include "fuzz.h"

#include <string.h>

#include "lp2p/tls.h"

#define NOW_S 1790000000

typedef struct side {
  lp2p_tls *t;
  int ready, eof, echo;
  const char *const *muxers;
  size_t n_muxers;
  lp2p_buf wire; /* written, not yet delivered */
  lp2p_buf data; /* received */
} side;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((side *)ud)->wire, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  side *s = ud;
  switch (ev->type) {
  case LP2P_EV_READY:
    FZ_CHECK(!s->ready);
    FZ_CHECK(ev->peer != NULL);
    FZ_CHECK(lp2p_tls_remote_key(s->t) == ev->peer);
    if (ev->protocol) {
      int ours = 0;
      for (size_t i = 0; i < s->n_muxers; i++)
        ours |= strcmp(ev->protocol, s->muxers[i]) == 0;
      FZ_CHECK(ours);
    }
    s->ready = 1;
    return 0;
  case LP2P_EV_DATA:
    FZ_CHECK(s->ready && ev->len > 0 && ev->len <= LP2P_TLS_RECORD_MAX);
    if (s->echo) return lp2p_tls_send(s->t, ev->data, ev->len);
    return lp2p_buf_append(&s->data, ev->data, ev->len);
  case LP2P_EV_EOF: s->eof++; return 0;
  default: FZ_CHECK(0); return 0;
  }
}

static int feed(void *ud, const uint8_t *p, size_t len) {
  return lp2p_tls_recv(((side *)ud)->t, p, len);
}

static void side_new(side *s, lp2p_env *env, int initiator, unsigned sel) {
  memset(s, 0, sizeof *s);
  s->n_muxers = fz_muxers(sel >> 2, &s->muxers);
  s->echo = (sel & 0x20) != 0;
  lp2p_tls_sec_config cfg = {.initiator = initiator,
                             .identity = fz_identity((int)sel),
                             .muxers = s->muxers,
                             .n_muxers = s->n_muxers};
  s->t =
      lp2p_tls_new(env, &cfg, (lp2p_io){.write = on_write, .event = on_event, .ud = s});
  FZ_CHECK(s->t != NULL);
}

static void side_free(side *s) {
  lp2p_tls_free(s->t);
  lp2p_buf_free(&s->wire);
  lp2p_buf_free(&s->data);
}

/* Delivers from's output to `to`; returns to's error. */
static int deliver(side *from, side *to, uint64_t split) {
  lp2p_buf b = from->wire;
  from->wire = (lp2p_buf){0};
  int rc = b.len ? fz_feed_split(split, b.data, b.len, feed, to) : 0;
  lp2p_buf_free(&b);
  return rc;
}

static void pair(fz_in *in, lp2p_env *env, unsigned sel, uint64_t split) {
  side d, l;
  side_new(&d, env, 1, sel);
  side_new(&l, env, 0, sel ^ 1);
  l.echo = 0;
  FZ_CHECK(lp2p_tls_start(d.t) == 0);
  int rc = 0;
  for (int i = 0; i < 8 && rc == 0 && (d.wire.len || l.wire.len); i++) {
    rc = deliver(&d, &l, split);
    if (rc == 0) rc = deliver(&l, &d, split);
  }
  FZ_CHECK(rc == 0 && d.ready && l.ready);
  lp2p_buf sent = {0};
  int broken = 0, lrc = 0;
  while (fz_left(in) > 0 && lrc == 0) {
    unsigned op = fz_u8(in);
    size_t len;
    const uint8_t *p = fz_take(in, fz_u8(in), &len);
    if (op & 2 && !l.eof) FZ_CHECK(lp2p_tls_close(l.t) == 0);
    if (op & 1) {
      if (len && lp2p_tls_send(d.t, p, len) == 0 && !broken)
        FZ_CHECK(lp2p_buf_append(&sent, p, len) == 0);
    } else if (len) {
      FZ_CHECK(lp2p_buf_append(&d.wire, p, len) == 0);
      broken = 1;
    }
    lrc = deliver(&d, &l, split);
    if (!broken) FZ_CHECK(lrc == 0);
    (void)deliver(&l, &d, split);
  }
  /* Until the stream broke, all that was sent came out, in order. */
  FZ_CHECK(l.data.len >= (broken ? 0 : sent.len));
  size_t n = l.data.len < sent.len ? l.data.len : sent.len;
  FZ_CHECK(n == 0 || memcmp(l.data.data, sent.data, n) == 0);
  lp2p_buf_free(&sent);
  side_free(&d);
  side_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  unsigned mode = fz_u8(&in) % 3, sel = fz_u8(&in);
  uint64_t split = fz_u8(&in);
  lp2p_env env;
  uint64_t state;
  fz_env_init(&env, &state, 0x7150000u + sel);
  env.unix_s = NOW_S;
  fz_log_begin(sel & 0x10);
  if (mode == 2) {
    pair(&in, &env, sel, split);
  } else {
    side s;
    side_new(&s, &env, mode == 1, sel);
    int rc = lp2p_tls_start(s.t);
    FZ_CHECK(rc == 0);
    size_t len;
    const uint8_t *p = fz_rest(&in, &len);
    rc = fz_feed_split(split, p, len, feed, &s);
    /* A failed engine stays failed. */
    if (rc) FZ_CHECK(lp2p_tls_recv(s.t, (const uint8_t *)"\x16", 1) == rc);
    (void)lp2p_take_reason();
    side_free(&s);
  }
  fz_log_end();
  return 0;
}
