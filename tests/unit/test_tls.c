/* The /tls/1.0.0 engine (tls.h) in memory: READY carries the peer's host
 * key and the muxer ALPN agreed (NULL for "libp2p" or nothing); a dialer
 * given an expected peer id refuses another one inside the handshake, and
 * the listener learns it from the alert; one certificate per identity for
 * the process. */
#include "testutil.h"

#include "lp2p/tls.h"
#include "lp2p/tls_cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lp2p_env env;
static uint64_t seed = 11;

typedef struct side {
  lp2p_tls *t;
  lp2p_buf out;
  int ready;
  char muxer[32];
  lp2p_pubkey peer;
} side;

static int s_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((side *)ud)->out, p, len);
}

static int s_event(void *ud, const lp2p_event *ev) {
  side *s = ud;
  if (ev->type != LP2P_EV_READY) return 0;
  s->ready++;
  snprintf(s->muxer, sizeof s->muxer, "%s", ev->protocol ? ev->protocol : "-");
  assert_non_null(ev->peer);
  s->peer = *(const lp2p_pubkey *)ev->peer;
  assert_ptr_equal(lp2p_tls_remote_key(s->t), ev->peer);
  return 0;
}

static int deliver(side *from, side *to) {
  lp2p_buf b = from->out;
  from->out = (lp2p_buf){0};
  int rc = b.len ? lp2p_tls_recv(to->t, b.data, b.len) : 0;
  lp2p_buf_free(&b);
  return rc;
}

typedef struct run_cfg {
  const char *const *dmux, *const *lmux;
  size_t n_dmux, n_lmux;
  int wrong_peer;
} run_cfg;

static char dialer_why[256];

/* One handshake; returns the dialer's error, *lrc the listener's. */
static int run(const run_cfg *rc_, side *d, side *l, lp2p_identity *di, lp2p_identity *li,
               int *lrc) {
  lp2p_identity other;
  lp2p_peerid expect;
  assert_int_equal(lp2p_identity_generate(&other, LP2P_KEY_ED25519, &env), 0);
  lp2p_peerid_from_pubkey(&expect, rc_->wrong_peer ? &other.pub : &li->pub);
  lp2p_tls_sec_config dc = {.initiator = 1,
                            .identity = di,
                            .muxers = rc_->dmux,
                            .n_muxers = rc_->n_dmux,
                            .expected_peer = &expect};
  lp2p_tls_sec_config lc = {
      .initiator = 0, .identity = li, .muxers = rc_->lmux, .n_muxers = rc_->n_lmux};
  d->t = lp2p_tls_new(&env, &dc, (lp2p_io){.write = s_write, .event = s_event, .ud = d});
  l->t = lp2p_tls_new(&env, &lc, (lp2p_io){.write = s_write, .event = s_event, .ud = l});
  assert_non_null(d->t);
  assert_non_null(l->t);
  assert_null(lp2p_tls_remote_key(d->t));
  assert_int_equal(lp2p_tls_start(l->t), 0);
  assert_int_equal(lp2p_tls_start(d->t), 0);
  int drc = 0;
  *lrc = 0;
  for (int i = 0; i < 6 && (d->out.len || l->out.len); i++) {
    if (!*lrc)
      *lrc = deliver(d, l);
    else
      d->out.len = 0;
    if (!drc) {
      drc = deliver(l, d);
      /* The reason slot is the process's: keep the dialer's before the
       * listener (same process here) says its own. */
      const char *why = drc ? lp2p_take_reason() : NULL;
      if (why) snprintf(dialer_why, sizeof dialer_why, "%s", why);
    } else {
      l->out.len = 0;
    }
  }
  lp2p_identity_clear(&other);
  return drc;
}

static void side_free(side *s) {
  lp2p_tls_free(s->t);
  lp2p_buf_free(&s->out);
}

static const char *const ym[] = {"/yamux/1.0.0", "/mplex/6.7.0"};
static const char *const my[] = {"/mplex/6.7.0", "/yamux/1.0.0"};
static const char *const m[] = {"/mplex/6.7.0"};

static void check(const run_cfg *c, const char *want, lp2p_key_type dk,
                  lp2p_key_type lk) {
  lp2p_identity di, li;
  assert_int_equal(lp2p_identity_generate(&di, dk, &env), 0);
  assert_int_equal(lp2p_identity_generate(&li, lk, &env), 0);
  side d = {0}, l = {0};
  int lrc;
  assert_int_equal(run(c, &d, &l, &di, &li, &lrc), 0);
  assert_int_equal(lrc, 0);
  assert_int_equal(d.ready + l.ready, 2);
  assert_string_equal(d.muxer, want);
  assert_string_equal(l.muxer, want);
  assert_int_equal(d.peer.len, li.pub.len);
  assert_memory_equal(d.peer.key, li.pub.key, li.pub.len);
  assert_int_equal(l.peer.len, di.pub.len);
  assert_memory_equal(l.peer.key, di.pub.key, di.pub.len);
  /* Data both ways after READY. */
  assert_int_equal(lp2p_tls_send(d.t, (const uint8_t *)"ping", 4), 0);
  assert_int_equal(deliver(&d, &l), 0);
  assert_int_equal(lp2p_tls_close(d.t), 0);
  assert_int_equal(deliver(&d, &l), 0);
  side_free(&d);
  side_free(&l);
  lp2p_identity_clear(&di);
  lp2p_identity_clear(&li);
}

static void test_alpn_muxers(void **state) {
  (void)state;
  /* The dialer's order wins (the listener picks in the client's order). */
  run_cfg a = {ym, my, 2, 2, 0};
  check(&a, "/yamux/1.0.0", LP2P_KEY_ED25519, LP2P_KEY_SECP256K1);
  run_cfg b = {my, ym, 2, 2, 0};
  check(&b, "/mplex/6.7.0", LP2P_KEY_SECP256K1, LP2P_KEY_ED25519);
  run_cfg c = {ym, m, 2, 1, 0};
  check(&c, "/mplex/6.7.0", LP2P_KEY_SECP256K1, LP2P_KEY_SECP256K1);
  /* Only "libp2p" in common: the muxer is left to multistream-select. */
  run_cfg d = {NULL, ym, 0, 2, 0};
  check(&d, "-", LP2P_KEY_ED25519, LP2P_KEY_ED25519);
  run_cfg e = {ym, NULL, 2, 0, 0};
  check(&e, "-", LP2P_KEY_ED25519, LP2P_KEY_ED25519);
}

static void test_expected_peer(void **state) {
  (void)state;
  lp2p_identity di, li;
  assert_int_equal(lp2p_identity_generate(&di, LP2P_KEY_ED25519, &env), 0);
  assert_int_equal(lp2p_identity_generate(&li, LP2P_KEY_ED25519, &env), 0);
  side d = {0}, l = {0};
  int lrc;
  run_cfg c = {ym, ym, 2, 2, 1};
  lp2p_clear_reason();
  assert_int_equal(run(&c, &d, &l, &di, &li, &lrc), LP2P_EPEERID);
  assert_non_null(strstr(dialer_why, "but the peer is"));
  /* Refused inside the handshake: no READY, and the listener gets the
   * bad_certificate alert instead of a Finished. */
  assert_int_equal(d.ready + l.ready, 0);
  assert_int_equal(lrc, LP2P_EEOF);
  side_free(&d);
  side_free(&l);
  lp2p_identity_clear(&di);
  lp2p_identity_clear(&li);
}

/* Shared credentials serve several connections; without a wall clock no
 * certificate can be made. */
static void test_shared_creds(void **state) {
  (void)state;
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, LP2P_KEY_ED25519, &env), 0);
  lp2p_tls_creds *creds = NULL;
  assert_int_equal(lp2p_tls_cert_credentials(&creds, &id, &env), 0);
  for (int i = 0; i < 2; i++) {
    lp2p_tls_sec_config cfg = {.initiator = i, .identity = &id, .creds = creds};
    lp2p_tls *t = lp2p_tls_new(&env, &cfg,
                               (lp2p_io){.write = s_write, .event = s_event, .ud = NULL});
    assert_non_null(t);
    lp2p_tls_free(t);
  }
  lp2p_tls_creds_free(creds);
  lp2p_env noclock = env;
  noclock.unix_s = 0;
  assert_int_not_equal(lp2p_tls_cert_credentials(&creds, &id, &noclock), 0);
  lp2p_tls_sec_config cfg = {.initiator = 1, .identity = &id};
  assert_null(lp2p_tls_new(&noclock, &cfg,
                           (lp2p_io){.write = s_write, .event = s_event, .ud = NULL}));
  lp2p_identity_clear(&id);
}

int main(void) {
  if (getenv("LP2P_DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  env.random = tu_random;
  env.random_ud = &seed;
  env.unix_s = 1790000000;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shared_creds),
      cmocka_unit_test(test_alpn_muxers),
      cmocka_unit_test(test_expected_peer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
