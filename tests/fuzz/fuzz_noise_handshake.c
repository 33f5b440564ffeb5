/* Fuzz target: the libp2p Noise engine (noise.h) during the XX handshake.
 *
 * Input: [mode][sel][split] ...
 *   sel: the engine's identity and muxers (fz_noise_new); sel bit 4:
 *   debug logging; sel bit 5: the DATA callback echoes through
 *   lp2p_noise_send; sel bits 6-7: when non-zero io.write fails from that
 *   write on.
 *   mode % 4:
 *     0 responder fed arbitrary bytes (message 1, then 3, then frames)
 *     1 initiator, started, fed arbitrary bytes (message 2, then frames)
 *     2 initiator against a harness responder (the XX core with fixed
 *       keys) that reads the real message 1 and answers with a message 2
 *       whose payload comes from the input (see payload()), then
 *       transport ops
 *     3 responder against a harness initiator: a real message 1, a real
 *       read of message 2, then a message 3 whose payload comes from the
 *       input, then transport ops
 *   payload: [kind][peer sel] ...: kind % 3: 0 [len hi][len lo] bytes as
 *   the whole payload (zero-padded to len); 1 [len] bytes: a valid signed
 *   payload (identity and muxers from peer sel) with the bytes appended
 *   (protobuf merges repeated and later fields); 2 [len] bytes: the same
 *   signed over the wrong static key.
 *   transport ops: [op][len] bytes: op & 1 a frame the peer encrypts, else
 *   raw bytes; all fed split.
 *
 * Checked: the engine's own handshake messages and payload are valid for
 * a real peer; a valid payload completes the handshake with the right
 * peer key and the inlined muxer both lists agree on; the wrong key is
 * refused with LP2P_ESIG; transport data round-trips both ways. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lp2p/noise.h"
#include "noise.pb-c.h"

typedef struct ctx {
  lp2p_noise *n;
  unsigned sel;
  int echo;
  unsigned fail_at, writes;
  lp2p_buf out;   /* everything the engine wrote */
  size_t out_off; /* read up to here by the harness peer */
  int ready;
  const lp2p_pubkey *peer;
  const char *muxer;
  int in_sync;
  lp2p_buf want; /* plaintext the next DATA must carry, when in sync */
  size_t data_events;
  lp2p_buf sent; /* plaintext the engine sent (echoes) */
} ctx;

static int on_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  if (c->fail_at && ++c->writes >= c->fail_at) return -5;
  return lp2p_buf_append(&c->out, p, len);
}

static int on_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (ev->type == LP2P_EV_READY) {
    FZ_CHECK(!c->ready);
    FZ_CHECK(ev->peer != NULL);
    FZ_CHECK(lp2p_noise_handshake_done(c->n));
    c->ready = 1;
    c->peer = ev->peer;
    c->muxer = ev->protocol;
    FZ_CHECK(lp2p_noise_remote_key(c->n) == ev->peer);
    FZ_CHECK(lp2p_noise_muxer(c->n) == ev->protocol);
    return 0;
  }
  FZ_CHECK(ev->type == LP2P_EV_DATA && c->ready && ev->len > 0);
  c->data_events++;
  if (c->in_sync) {
    FZ_CHECK(ev->len == c->want.len && memcmp(ev->data, c->want.data, ev->len) == 0);
  }
  if (c->echo) {
    int rc = lp2p_noise_send(c->n, ev->data, ev->len);
    if (rc == 0) FZ_CHECK(lp2p_buf_append(&c->sent, ev->data, ev->len) == 0);
    return rc;
  }
  return 0;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  return lp2p_noise_recv(c->n, p, n);
}

/* Next whole frame the engine wrote, or NULL. */
static const uint8_t *next_out(ctx *c, size_t *len) {
  if (c->out.len - c->out_off < 2) return NULL;
  const uint8_t *p = c->out.data + c->out_off;
  size_t flen = (size_t)p[0] << 8 | p[1];
  FZ_CHECK(c->out.len - c->out_off >= 2 + flen); /* writes are whole frames */
  c->out_off += 2 + flen;
  *len = flen;
  return p + 2;
}

static size_t frame_of(uint8_t *frame, int m) {
  frame[0] = (uint8_t)(m >> 8);
  frame[1] = (uint8_t)m;
  return 2 + (size_t)m;
}

/* Largest payload that still fits a Noise message 2 (e, s, two tags). */
#define PAYLOAD_CAP (LP2P_NOISE_MSG_MAX - 32 - 32 - 2 * LP2P_NOISE_TAGLEN)

/* What the harness peer expects once the engine is done. */
typedef struct expect {
  int complete; /* the handshake must complete */
  int bad_sig;  /* must fail with LP2P_ESIG */
  unsigned peer_sel;
} expect;

/* Builds the harness peer's payload from the input; see the header. */
static size_t payload(fz_in *in, uint8_t *out, size_t cap, const lp2p_noise_hs *peer,
                      expect *ex) {
  uint8_t kind = fz_u8(in) % 3;
  unsigned psel = fz_u8(in);
  size_t len;
  memset(ex, 0, sizeof *ex);
  ex->peer_sel = psel;
  if (kind == 0) {
    /* [len hi][len lo]: past the input's end the payload is zero-padded,
     * so the 8 KiB payload cap is reachable from small inputs. */
    size_t want = fz_u16(in);
    if (want > cap) want = cap;
    const uint8_t *p = fz_take(in, want, &len);
    memcpy(out, p, len);
    memset(out + len, 0, want - len);
    return want;
  }
  const uint8_t *p = fz_take(in, fz_u8(in), &len);
  const char *const *mux;
  size_t nmux = fz_muxers(psel >> 2, &mux);
  uint8_t wrong[32];
  const uint8_t *spk = lp2p_noise_hs_local_static(peer);
  if (kind == 2) {
    memcpy(wrong, spk, 32);
    wrong[0] ^= 1;
    spk = wrong;
  }
  int n = fz_noise_payload(out, cap, fz_identity((int)psel), spk, mux, nmux);
  FZ_CHECK(n > 0);
  if ((size_t)n + len > cap) len = cap - (size_t)n;
  memcpy(out + n, p, len);
  ex->complete = kind == 1 && len == 0;
  ex->bad_sig = kind == 2 && len == 0;
  return (size_t)n + len;
}

/* The engine's payload as the harness peer decrypted it: signed by the
 * engine's identity over the engine's static key. */
static void check_engine_payload(const ctx *c, const uint8_t *p, size_t len,
                                 const lp2p_noise_hs *peer) {
  Pb__NoiseHandshakePayload *pb = pb__noise_handshake_payload__unpack(NULL, len, p);
  FZ_CHECK(pb && pb->has_identity_key && pb->has_identity_sig);
  lp2p_pubkey pk;
  FZ_CHECK(lp2p_pubkey_unmarshal(&pk, pb->identity_key.data, pb->identity_key.len) == 0);
  const lp2p_identity *id = fz_identity((int)c->sel);
  FZ_CHECK(pk.type == id->pub.type && pk.len == id->pub.len &&
           memcmp(pk.key, id->pub.key, pk.len) == 0);
  uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + 32];
  memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
  const uint8_t *rs = lp2p_noise_hs_remote_static(peer);
  FZ_CHECK(rs);
  memcpy(msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, rs, 32);
  FZ_CHECK(lp2p_pubkey_verify(&pk, msg, sizeof msg, pb->identity_sig.data,
                              pb->identity_sig.len) == 0);
  const char *const *mux;
  size_t nmux = fz_muxers(c->sel >> 2, &mux);
  size_t got = pb->extensions ? pb->extensions->n_stream_muxers : 0;
  FZ_CHECK(got == nmux);
  for (size_t i = 0; i < got; i++)
    FZ_CHECK(strcmp(pb->extensions->stream_muxers[i], mux[i]) == 0);
  pb__noise_handshake_payload__free_unpacked(pb, NULL);
}

/* The muxer inlined negotiation must agree on: the initiator's first that
 * the responder lists. */
static const char *expected_muxer(unsigned init_sel, unsigned resp_sel) {
  const char *const *a, *const *b;
  size_t na = fz_muxers(init_sel >> 2, &a), nb = fz_muxers(resp_sel >> 2, &b);
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++)
      if (strcmp(a[i], b[j]) == 0) return a[i];
  return NULL;
}

static void check_done(ctx *c, int rc, const expect *ex, int initiator) {
  if (c->fail_at) return;
  if (ex->complete) {
    FZ_CHECK(rc == 0 && c->ready);
    const lp2p_identity *pid = fz_identity((int)ex->peer_sel);
    FZ_CHECK(c->peer->type == pid->pub.type && c->peer->len == pid->pub.len &&
             memcmp(c->peer->key, pid->pub.key, pid->pub.len) == 0);
    const char *want = initiator ? expected_muxer(c->sel, ex->peer_sel)
                                 : expected_muxer(ex->peer_sel, c->sel);
    if (!want)
      FZ_CHECK(c->muxer == NULL);
    else
      FZ_CHECK(c->muxer && strcmp(c->muxer, want) == 0);
  }
  if (ex->bad_sig) FZ_CHECK(rc == LP2P_ESIG && !c->ready);
}

/* Transport: frames from the harness peer (encrypted with its tx) and raw
 * bytes; then what the engine wrote must decrypt with the peer's rx. */
static void transport(ctx *c, fz_in *in, uint8_t split, lp2p_noise_cs *ptx,
                      lp2p_noise_cs *prx) {
  static uint8_t frame[2 + LP2P_NOISE_MSG_MAX];
  int rc = 0;
  c->in_sync = 1;
  while (fz_left(in) && rc == 0) {
    uint8_t op = fz_u8(in);
    size_t len;
    const uint8_t *p = fz_take(in, fz_u8(in), &len);
    if (op & 1) {
      int m = lp2p_noise_cs_encrypt(ptx, frame + 2, NULL, 0, p, len);
      FZ_CHECK(m >= 0);
      c->want.len = 0;
      FZ_CHECK(lp2p_buf_append(&c->want, p, len) == 0);
      size_t before = c->data_events;
      rc = fz_feed_split(split, frame, frame_of(frame, m), feed, c);
      if (rc == 0 && c->in_sync) FZ_CHECK(c->data_events == before + (len ? 1 : 0));
    } else {
      c->in_sync = 0;
      rc = fz_feed_split(split, p, len, feed, c);
    }
  }
  if (c->fail_at) return;
  static uint8_t plain[LP2P_NOISE_MSG_MAX];
  lp2p_buf got = {0};
  const uint8_t *f;
  size_t flen;
  while ((f = next_out(c, &flen)) != NULL) {
    int m = lp2p_noise_cs_decrypt(prx, plain, NULL, 0, f, flen);
    FZ_CHECK(m >= 0);
    FZ_CHECK(lp2p_buf_append(&got, plain, (size_t)m) == 0);
  }
  FZ_CHECK(c->out_off == c->out.len);
  FZ_CHECK(got.len == c->sent.len &&
           (got.len == 0 || memcmp(got.data, c->sent.data, got.len) == 0));
  lp2p_buf_free(&got);
}

static void against_responder(ctx *c, fz_in *in, uint8_t split) {
  static uint8_t msg[2 + LP2P_NOISE_MSG_MAX], pl[LP2P_NOISE_MSG_MAX];
  lp2p_noise_hs peer;
  FZ_CHECK(lp2p_noise_hs_init(&peer, 0, NULL, 0, fz_static_sk[1], fz_static_sk[2]) == 0);
  if (lp2p_noise_start(c->n) != 0) goto out;
  size_t len;
  const uint8_t *m1 = next_out(c, &len);
  FZ_CHECK(m1 && len == 32); /* -> e, no payload */
  FZ_CHECK(lp2p_noise_hs_read(&peer, pl, sizeof pl, m1, len) == 0);

  expect ex;
  size_t plen = payload(in, pl, PAYLOAD_CAP, &peer, &ex);
  int m = lp2p_noise_hs_write(&peer, msg + 2, sizeof msg - 2, pl, plen);
  FZ_CHECK(m > 0);
  int rc = fz_feed_split(split, msg, frame_of(msg, m), feed, c);
  check_done(c, rc, &ex, 1);
  if (rc || !c->ready) goto out;

  /* Message 3 must be valid for a real responder. */
  const uint8_t *m3 = next_out(c, &len);
  FZ_CHECK(m3);
  int r = lp2p_noise_hs_read(&peer, pl, sizeof pl, m3, len);
  FZ_CHECK(r > 0);
  check_engine_payload(c, pl, (size_t)r, &peer);
  lp2p_noise_cs ptx, prx;
  FZ_CHECK(lp2p_noise_hs_split(&peer, &ptx, &prx) == 0);
  transport(c, in, split, &ptx, &prx);
out:
  lp2p_noise_hs_clear(&peer);
}

static void against_initiator(ctx *c, fz_in *in, uint8_t split) {
  static uint8_t msg[2 + LP2P_NOISE_MSG_MAX], pl[LP2P_NOISE_MSG_MAX];
  lp2p_noise_hs peer;
  FZ_CHECK(lp2p_noise_hs_init(&peer, 1, NULL, 0, fz_static_sk[3], fz_static_sk[0]) == 0);
  FZ_CHECK(lp2p_noise_start(c->n) == 0);
  /* Message 1 may carry a payload; libp2p ignores it. */
  size_t len;
  const uint8_t *p1 = fz_take(in, fz_u8(in) % 8, &len);
  int m = lp2p_noise_hs_write(&peer, msg + 2, sizeof msg - 2, p1, len);
  FZ_CHECK(m > 0);
  int rc = fz_feed_split(split, msg, frame_of(msg, m), feed, c);
  if (rc) {
    FZ_CHECK(c->fail_at);
    goto out;
  }
  /* Message 2 must be valid for a real initiator. */
  const uint8_t *m2 = next_out(c, &len);
  FZ_CHECK(m2);
  int r = lp2p_noise_hs_read(&peer, pl, sizeof pl, m2, len);
  FZ_CHECK(r > 0);
  check_engine_payload(c, pl, (size_t)r, &peer);

  expect ex;
  size_t plen = payload(in, pl, PAYLOAD_CAP, &peer, &ex);
  m = lp2p_noise_hs_write(&peer, msg + 2, sizeof msg - 2, pl, plen);
  FZ_CHECK(m > 0);
  rc = fz_feed_split(split, msg, frame_of(msg, m), feed, c);
  check_done(c, rc, &ex, 0);
  if (rc || !c->ready) goto out;
  FZ_CHECK(c->out_off == c->out.len); /* the responder writes no message 3 */
  lp2p_noise_cs ptx, prx;
  FZ_CHECK(lp2p_noise_hs_split(&peer, &ptx, &prx) == 0);
  transport(c, in, split, &ptx, &prx);
out:
  lp2p_noise_hs_clear(&peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t mode = fz_u8(&in) % 4;
  uint8_t sel = fz_u8(&in);
  uint8_t split = fz_u8(&in);

  ctx c;
  memset(&c, 0, sizeof c);
  c.sel = sel & 15;
  c.echo = sel & 32;
  c.fail_at = sel >> 6;
  fz_log_begin(sel & 16);
  lp2p_env env;
  uint64_t state;
  int initiator = mode == 1 || mode == 2;
  lp2p_io io = {.write = on_write, .event = on_event, .ud = &c};
  c.n = fz_noise_new(&env, &state, initiator, c.sel, io);
  FZ_CHECK(c.n);
  FZ_CHECK(lp2p_noise_remote_key(c.n) == NULL);
  size_t len;
  const uint8_t *p;
  switch (mode) {
  case 0:
  case 1:
    if (lp2p_noise_start(c.n) == 0) {
      p = fz_rest(&in, &len);
      (void)fz_feed_split(split, p, len, feed, &c);
    }
    break;
  case 2: against_responder(&c, &in, split); break;
  default: against_initiator(&c, &in, split); break;
  }
  fz_log_end();
  lp2p_noise_free(c.n);
  lp2p_buf_free(&c.out);
  lp2p_buf_free(&c.want);
  lp2p_buf_free(&c.sent);
  return 0;
}
