/* Fuzz target: the Noise engine in transport mode (lp2p__noise_new_transport
 * in noise.h), fed frames a real peer CipherState encrypts, raw bytes and
 * tampered frames, and asked to send.
 *
 * Input: [flags][nonce] ops...
 *   flags bit 0: both nonces start near 2^64-1 (nonce % 4 below it), to
 *   reach nonce exhaustion; bit 1: the DATA callback echoes through
 *   lp2p_noise_send (re-entrant); bit 2: debug logging; bits 4-7: when
 *   non-zero io.write fails from that write on.
 *   op % 6:
 *     0 [len][split] len bytes: a valid frame from the peer, fed split
 *     1 [len] len bytes: raw wire bytes (the stream is then out of sync)
 *     2 [len hi][len lo]: we send that many pattern bytes
 *     3 [len][pos] len bytes: a valid frame with bit pos flipped
 *     4 [len hi][len lo][split]: a valid frame of pattern bytes (up to the
 *       65519-byte cap), fed split
 *     5 [len]: we send len bytes of input
 * Checked: a valid frame comes up as exactly its plaintext; a tampered one
 * is LP2P_EDECRYPT; what we send decrypts on the peer's side to what was
 * sent; errors are sticky. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/noise.h"

static const uint8_t key_in[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t key_out[32] = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

typedef struct ctx {
  lp2p_noise *n;
  lp2p_noise_cs peer_tx, peer_rx; /* the peer's half */
  int echo;
  unsigned fail_at, writes;
  int in_sync;   /* no raw bytes sent: frames line up */
  lp2p_buf want; /* plaintext the next DATA events must carry */
  size_t events;
  lp2p_buf out;  /* what the engine wrote */
  lp2p_buf sent; /* plaintext we asked it to send (and echoes) */
  int sent_failed;
} ctx;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  if (c->fail_at && ++c->writes >= c->fail_at) return -5;
  return lp2p_buf_append(&c->out, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  FZ_CHECK(ev->type == LP2P_EV_DATA);
  FZ_CHECK(ev->len > 0 && ev->len <= LP2P_NOISE_PLAINTEXT_MAX);
  c->events++;
  if (c->in_sync) {
    FZ_CHECK(ev->len == c->want.len);
    FZ_CHECK(memcmp(ev->data, c->want.data, ev->len) == 0);
  }
  if (c->echo) {
    int rc = lp2p_noise_send(c->n, ev->data, ev->len);
    if (rc == 0)
      rc = lp2p_buf_append(&c->sent, ev->data, ev->len);
    else
      c->sent_failed = 1;
    return rc;
  }
  return 0;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  return lp2p_noise_recv(c->n, p, n);
}

/* Pseudo-random bytes for big frames and sends, made once; an op picks
 * where in them to start. */
static uint8_t patbuf[2 * LP2P_NOISE_MSG_MAX + 256];

static const uint8_t *pattern(uint8_t op) {
  static int made;
  if (!made) {
    uint64_t seed = 44;
    fz_random(&seed, patbuf, sizeof patbuf);
    made = 1;
  }
  return patbuf + op;
}

/* Encrypts pt as the peer into a frame; returns its length or 0 when the
 * peer's nonce is spent. */
static size_t peer_frame(ctx *c, uint8_t *frame, const uint8_t *pt, size_t len) {
  int m = lp2p_noise_cs_encrypt(&c->peer_tx, frame + 2, NULL, 0, pt, len);
  if (m < 0) return 0;
  frame[0] = (uint8_t)(m >> 8);
  frame[1] = (uint8_t)m;
  return 2 + (size_t)m;
}

/* Feeds one frame carrying pt (flip: bit to flip, or -1). Returns rc. */
static int send_frame(ctx *c, const uint8_t *pt, size_t len, long flip, uint8_t split) {
  static uint8_t frame[2 + LP2P_NOISE_MSG_MAX];
  size_t flen = peer_frame(c, frame, pt, len);
  if (!flen) return 0;
  if (flip >= 0) {
    size_t bit = (size_t)flip % ((flen - 2) * 8);
    frame[2 + bit / 8] ^= (uint8_t)(1u << (bit & 7));
  }
  c->want.len = 0;
  FZ_CHECK(lp2p_buf_append(&c->want, pt, len) == 0);
  size_t before = c->events;
  int rc = fz_feed_split(split, frame, flen, feed, c);
  if (c->in_sync) {
    if (flip >= 0) {
      FZ_CHECK(rc == LP2P_EDECRYPT);
      FZ_CHECK(c->events == before);
    } else if (rc == 0) {
      FZ_CHECK(c->events == before + (len ? 1 : 0));
    }
  }
  return rc;
}

/* Decrypts everything the engine wrote as the peer and compares it with
 * what was sent. */
static void check_output(ctx *c) {
  static uint8_t plain[LP2P_NOISE_MSG_MAX];
  lp2p_buf got = {0};
  size_t off = 0;
  while (off + 2 <= c->out.len) {
    size_t flen = (size_t)c->out.data[off] << 8 | c->out.data[off + 1];
    FZ_CHECK(flen >= LP2P_NOISE_TAGLEN && off + 2 + flen <= c->out.len);
    int m =
        lp2p_noise_cs_decrypt(&c->peer_rx, plain, NULL, 0, c->out.data + off + 2, flen);
    FZ_CHECK(m >= 0);
    FZ_CHECK(lp2p_buf_append(&got, plain, (size_t)m) == 0);
    off += 2 + flen;
  }
  FZ_CHECK(off == c->out.len);
  FZ_CHECK(got.len == c->sent.len);
  FZ_CHECK(got.len == 0 || memcmp(got.data, c->sent.data, got.len) == 0);
  lp2p_buf_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t flags = fz_u8(&in);
  uint8_t nonce = fz_u8(&in);
  uint64_t n0 = flags & 1 ? UINT64_MAX - 1 - nonce % 4 : 0;

  ctx c;
  memset(&c, 0, sizeof c);
  c.echo = flags & 2;
  c.fail_at = flags >> 4;
  c.in_sync = 1;
  lp2p_noise_cs tx, rx;
  lp2p_noise_cs_init(&tx, key_out);
  lp2p_noise_cs_init(&rx, key_in);
  tx.n = rx.n = n0;
  lp2p_noise_cs_init(&c.peer_tx, key_in);
  lp2p_noise_cs_init(&c.peer_rx, key_out);
  c.peer_tx.n = c.peer_rx.n = n0;

  lp2p_env env;
  uint64_t seed;
  fz_env_init(&env, &seed, 1);
  fz_log_begin(flags & 4);
  lp2p_io io = {.write = on_write, .event = on_event, .ud = &c};
  c.n = lp2p__noise_new_transport(&env, io, &tx, &rx);
  FZ_CHECK(c.n);
  FZ_CHECK(lp2p_noise_handshake_done(c.n));
  FZ_CHECK(lp2p_noise_remote_key(c.n) == NULL && lp2p_noise_muxer(c.n) == NULL);

  /* Bounds the work per input: big sends and frames are cheap to ask for. */
  size_t budget = 1u << 20;
  int dead = 0;
  while (fz_left(&in) && !dead) {
    uint8_t op = fz_u8(&in);
    size_t len;
    const uint8_t *p;
    int rc = 0;
    switch (op % 6) {
    case 0: {
      p = fz_take(&in, fz_u8(&in), &len);
      uint8_t split = fz_u8(&in);
      rc = send_frame(&c, p, len, -1, split);
      break;
    }
    case 1:
      p = fz_take(&in, fz_u8(&in), &len);
      c.in_sync = 0;
      rc = lp2p_noise_recv(c.n, p, len);
      break;
    case 2:
    case 5: {
      if (op % 6 == 2) {
        len = fz_u16(&in) + (size_t)(op >> 7) * LP2P_NOISE_MSG_MAX;
        if (len > budget) break;
        budget -= len;
        p = pattern(op);
      } else {
        p = fz_take(&in, fz_u8(&in), &len);
      }
      rc = lp2p_noise_send(c.n, p, len);
      if (rc == 0)
        FZ_CHECK(lp2p_buf_append(&c.sent, p, len) == 0);
      else
        c.sent_failed = 1;
      break;
    }
    case 3: {
      p = fz_take(&in, fz_u8(&in), &len);
      long flip = fz_u8(&in) * 8 + (op >> 3);
      rc = send_frame(&c, p, len, flip, 0);
      break;
    }
    default: {
      len = fz_u16(&in) % (LP2P_NOISE_PLAINTEXT_MAX + 1);
      uint8_t split = fz_u8(&in);
      if (len > budget) break;
      budget -= len;
      rc = send_frame(&c, pattern(op), len, -1, split);
      break;
    }
    }
    if (rc) {
      /* Sticky: the same error from then on, nothing more written. */
      size_t out_len = c.out.len;
      FZ_CHECK(lp2p_noise_recv(c.n, (const uint8_t *)"\0\0", 2) == rc);
      FZ_CHECK(lp2p_noise_send(c.n, (const uint8_t *)"x", 1) == rc);
      FZ_CHECK(c.out.len == out_len);
      dead = 1;
    }
  }
  fz_log_end();
  if (!c.sent_failed && !c.fail_at) check_output(&c);
  lp2p_noise_free(c.n);
  lp2p_buf_free(&c.want);
  lp2p_buf_free(&c.out);
  lp2p_buf_free(&c.sent);
  return 0;
}
