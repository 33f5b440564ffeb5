/* Fuzz target: a whole listener connection (conn.h: mss, noise, mss, yamux
 * or mplex, per-stream mss and ping) fed bytes from a dialer.
 *
 * Input: [mode][sel][split] ...
 *   sel: the listener (fz_conn_new: muxer, inlined negotiation off, key
 *   type); sel bits 3-6: the harness dialer's Noise identity and muxer
 *   list (fz_noise_new sel); sel bit 7: debug logging.
 *   mode bit 0 == 0: raw: the rest is the dialer's wire bytes, fed split.
 *     (A recorded real dialer replays through the whole upgrade, since
 *     every key comes from the fixed PRNG.)
 *   mode bit 0 == 1: secured: a harness dialer (multistream initiator for
 *     /noise, then a real Noise initiator engine) completes the handshake;
 *     the rest is ops, so the fuzzer writes the plaintext above Noise:
 *       op % 7: 0 [len] bytes: sent as plaintext
 *               1 [len hi][len lo] bytes: the same, longer
 *               2 [len] bytes: raw wire bytes (breaks the channel)
 *               3 [t hi][t lo]: time advances t * 8 ms; expire if due
 *               4 listener pings; 5 listener closes
 *               6 [n hi][n lo][x]: the last n bytes of the plaintext the
 *                 listener sent (all when n is 0 or more than there is)
 *                 go back to it, the first one xored with x: an echo
 *                 answers the listener's own streams (its multistream
 *                 proposal and ping) without knowing its random bytes
 *   mode bit 1: the listener's READY callback pings at once (re-entrant).
 *   split: wire bytes reach the listener in pieces from this seed; in raw
 *   mode, split bit 1 lets a second pass before each piece and bit 0
 *   the step timeout after the last.
 *
 * Checked: the harness dialer always completes the handshake against the
 * listener and decrypts everything it sends; the listener reports READY
 * once, with the agreed muxer and the dialer's identity; PONG only after a
 * ping; errors are sticky. */
#include "fuzz.h"

#include <string.h>

#include "lp2p/conn.h"
#include "lp2p/mss.h"
#include "lp2p/noise.h"

static const char *const sec_protos[] = {"/noise"};

typedef struct ctx {
  lp2p_env env, denv;
  uint64_t state, dstate;
  unsigned sel, dsel;
  lp2p_conn *l;
  lp2p_buf to_l, to_d;
  uint8_t split;
  int ping_on_ready;
  int l_ready, pings, pongs;
  int l_err;
  /* Harness dialer. */
  lp2p_mss dmss;
  lp2p_noise *dn;
  int d_secured;
  int d_err;
  lp2p_buf got; /* plaintext from the listener, the last ECHO_KEEP bytes */
} ctx;

#define ECHO_KEEP 65536

static int l_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  FZ_CHECK(len > 0);
  return lp2p_buf_append(&c->to_d, p, len);
}

static int l_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (ev->type == LP2P_EV_READY) {
    FZ_CHECK(!c->l_ready);
    c->l_ready = 1;
    FZ_CHECK(ev->peer && ev->protocol);
    FZ_CHECK(strcmp(ev->protocol, c->sel & 1 ? "/mplex/6.7.0" : "/yamux/1.0.0") == 0);
    const lp2p_pubkey *pk = ev->peer;
    const lp2p_identity *did = fz_identity((int)c->dsel);
    if (c->d_secured) {
      FZ_CHECK(pk->type == did->pub.type && pk->len == did->pub.len &&
               memcmp(pk->key, did->pub.key, pk->len) == 0);
      lp2p_peerid want;
      FZ_CHECK(lp2p_peerid_from_pubkey(&want, &did->pub) == 0);
      const lp2p_peerid *got = lp2p_conn_peer(c->l);
      FZ_CHECK(got && lp2p_peerid_equal(got, &want));
    }
    FZ_CHECK(lp2p_conn_is_ready(c->l));
    if (c->ping_on_ready) {
      c->pings++;
      return lp2p_conn_ping(c->l);
    }
    return 0;
  }
  FZ_CHECK(ev->type == LP2P_EV_PONG);
  FZ_CHECK(c->l_ready && c->pings > c->pongs);
  c->pongs++;
  LP2P_DEBUG("fuzz", "listener got pong %d", c->pongs);
  return 0;
}

static int d_write(void *ud, const uint8_t *p, size_t len) {
  ctx *c = ud;
  return lp2p_buf_append(&c->to_l, p, len);
}

static int dn_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (ev->type == LP2P_EV_READY) {
    c->d_secured = 1;
    return 0;
  }
  FZ_CHECK(ev->type == LP2P_EV_DATA);
  if (c->got.len + ev->len > ECHO_KEEP)
    lp2p_buf_consume(&c->got, c->got.len + ev->len > 2 * ECHO_KEEP
                                  ? c->got.len
                                  : c->got.len + ev->len - ECHO_KEEP);
  return lp2p_buf_append(&c->got, ev->data, ev->len);
}

static int dmss_event(void *ud, const lp2p_event *ev) {
  ctx *c = ud;
  if (ev->type == LP2P_EV_READY) return lp2p_noise_start(c->dn);
  FZ_CHECK(ev->type == LP2P_EV_DATA);
  return lp2p_noise_recv(c->dn, ev->data, ev->len);
}

static int feed_l(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  return lp2p_conn_recv(c->l, p, n);
}

static void advance(ctx *c, uint64_t ms) {
  c->env.now_ms += ms;
  if (c->l_err) return;
  if (c->env.now_ms >= lp2p_conn_deadline(c->l)) {
    int rc = lp2p_conn_expire(c->l);
    if (rc) c->l_err = rc;
  }
}

/* Raw mode: with split bit 1 set, a second passes before each piece, so
 * the upgrade's step timeout strikes somewhere in the middle. */
static int feed_raw(void *ud, const uint8_t *p, size_t n) {
  ctx *c = ud;
  if (c->split & 2) {
    advance(c, 1000);
    if (c->l_err) return c->l_err;
  }
  return lp2p_conn_recv(c->l, p, n);
}

/* Delivers what each side wrote until both are quiet. */
static void pump(ctx *c) {
  for (int i = 0; i < 64 && (c->to_l.len || c->to_d.len); i++) {
    if (c->to_l.len) {
      lp2p_buf b = c->to_l;
      c->to_l = (lp2p_buf){0};
      if (!c->l_err) {
        int rc = fz_feed_split(c->split, b.data, b.len, feed_l, c);
        if (rc) {
          c->l_err = rc;
          /* Sticky. */
          FZ_CHECK(lp2p_conn_recv(c->l, (const uint8_t *)"x", 1) == rc);
          FZ_CHECK(lp2p_conn_ping(c->l) == rc);
          FZ_CHECK(lp2p_conn_expire(c->l) == rc);
          FZ_CHECK(!lp2p_conn_is_ready(c->l));
        }
      }
      lp2p_buf_free(&b);
    }
    if (c->to_d.len) {
      lp2p_buf b = c->to_d;
      c->to_d = (lp2p_buf){0};
      /* Our listener's bytes must always be good for our dialer. */
      int rc = lp2p_mss_recv(&c->dmss, b.data, b.len);
      FZ_CHECK(rc == 0);
      lp2p_buf_free(&b);
    }
  }
}

static void secured(ctx *c, fz_in *in) {
  lp2p_io dio = {.write = d_write, .event = dmss_event, .ud = c};
  lp2p_mss_init(&c->dmss, 1, sec_protos, 1, dio);
  lp2p_io nio = {.write = d_write, .event = dn_event, .ud = c};
  c->dn = fz_noise_new(&c->denv, &c->dstate, 1, c->dsel, nio);
  FZ_CHECK(c->dn);
  FZ_CHECK(lp2p_mss_start(&c->dmss) == 0);
  pump(c);
  /* Inlined negotiation: the dialer's first muxer the listener lists (its
   * own, unless switched off) starts it at once. */
  const char *mine = c->sel & 1 ? "/mplex/6.7.0" : "/yamux/1.0.0";
  const char *const *dm;
  size_t ndm = fz_muxers(c->dsel >> 2, &dm);
  int inlined = 0;
  for (size_t i = 0; i < ndm && !(c->sel & 2); i++)
    if (strcmp(dm[i], mine) == 0) inlined = 1;
  FZ_CHECK(c->d_secured && !c->l_err);
  FZ_CHECK(c->l_ready == inlined);

  while (fz_left(in) && !c->l_err) {
    uint8_t op = fz_u8(in);
    size_t len;
    const uint8_t *p;
    switch (op % 7) {
    case 0:
    case 1:
      p = fz_take(in, op % 7 == 0 ? fz_u8(in) : fz_u16(in), &len);
      FZ_CHECK(lp2p_noise_send(c->dn, p, len) == 0);
      break;
    case 2:
      p = fz_take(in, fz_u8(in), &len);
      FZ_CHECK(lp2p_buf_append(&c->to_l, p, len) == 0);
      break;
    case 3: advance(c, (uint64_t)fz_u16(in) * 8); break;
    case 4: {
      int rc = lp2p_conn_ping(c->l);
      if (rc == 0)
        c->pings++;
      else if (rc != LP2P_EINVAL)
        c->l_err = rc;
      break;
    }
    case 5: {
      int rc = lp2p_conn_close(c->l);
      if (rc) c->l_err = rc;
      break;
    }
    default: {
      size_t n = fz_u16(in);
      uint8_t x = fz_u8(in);
      if (n == 0 || n > c->got.len) n = c->got.len;
      if (n == 0) break;
      uint8_t echo[ECHO_KEEP];
      memcpy(echo, c->got.data + c->got.len - n, n);
      echo[0] ^= x;
      FZ_CHECK(lp2p_noise_send(c->dn, echo, n) == 0);
      break;
    }
    }
    pump(c);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = fz_in_make(data, size);
  uint8_t mode = fz_u8(&in);
  uint8_t sel = fz_u8(&in);
  ctx c;
  memset(&c, 0, sizeof c);
  c.split = fz_u8(&in);
  c.sel = sel & 7;
  c.dsel = sel >> 3 & 15;
  c.ping_on_ready = mode & 2;
  fz_log_begin(sel & 128);
  lp2p_io io = {.write = l_write, .event = l_event, .ud = &c};
  c.l = fz_conn_new(&c.env, &c.state, 0, c.sel, io);
  FZ_CHECK(c.l);
  FZ_CHECK(lp2p_conn_peer(c.l) == NULL && !lp2p_conn_is_ready(c.l));
  FZ_CHECK(lp2p_conn_start(c.l) == 0);
  if (mode & 1) {
    secured(&c, &in);
  } else {
    size_t len;
    const uint8_t *p = fz_rest(&in, &len);
    if (fz_feed_split(c.split, p, len, feed_raw, &c) == 0 && (c.split & 1))
      advance(&c, FZ_STEP_MS);
  }
  fz_log_end();
  lp2p_conn_free(c.l);
  lp2p_noise_free(c.dn);
  lp2p_buf_free(&c.to_l);
  lp2p_buf_free(&c.to_d);
  lp2p_buf_free(&c.got);
  return 0;
}
