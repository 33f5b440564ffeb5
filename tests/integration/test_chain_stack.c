/* Two full connection stacks under byte layers, wired in memory, as
 * test_stack.c does for bare tcp: none (the sides lend room at the tail of
 * their output, which Noise seals into; under a byte layer it must not),
 * ws (RFC 6455 handshake and frames) and wss (TLS then ws) below mss,
 * noise, yamux|mplex and ping; the bytes
 * delivered whole, one byte at a time and in 7-byte pieces; then an
 * orderly close (muxer goodbye, ws close frame, TLS close_notify) that the
 * other side sees as EOF. */
#include "testutil.h"

#include "lp2p/chain.h"
#include "lp2p/multiaddr.h"
#include "lp2p/tls_layer.h"
#include "lp2p/tls_session.h"
#include "lp2p/ws.h"

#include <stdio.h>
#include <string.h>

typedef struct side {
  /* First, so the io's ud serves tu_lent_* and side_event alike. The
   * sides lend room at the tail of their output as the stream driver
   * does: the chain passes it to Noise only when no byte layer frames the
   * bytes on their way down. */
  tu_lent lent;
  lp2p_chain *chain;
  int ready, pongs, eofs;
} side;

static int side_event(void *ud, const lp2p_event *ev) {
  side *s = ud;
  if (ev->type == LP2P_EV_READY) s->ready++;
  if (ev->type == LP2P_EV_PONG) s->pongs++;
  if (ev->type == LP2P_EV_EOF) s->eofs++;
  return 0;
}

static int deliver(side *from, side *to, size_t chunk) {
  lp2p_buf b = from->lent.out;
  from->lent.out = (lp2p_buf){0};
  int rc = 0;
  for (size_t off = 0; off < b.len && rc == 0;) {
    size_t n = chunk && chunk < b.len - off ? chunk : b.len - off;
    rc = lp2p_chain_recv(to->chain, b.data + off, n);
    off += n;
  }
  lp2p_buf_free(&b);
  return rc;
}

static int pump(side *a, side *b, size_t chunk) {
  for (int i = 0; i < 1000 && (a->lent.out.len || b->lent.out.len); i++) {
    int rc = deliver(a, b, chunk);
    if (rc) return rc;
    if ((rc = deliver(b, a, chunk))) return rc;
  }
  return 0;
}

static const lp2p_layer_ops *const ws_only[] = {&lp2p_ws_layer};
static const lp2p_layer_ops *const tls_ws[] = {&lp2p_tls_layer, &lp2p_ws_layer};

static lp2p_env env;
static uint64_t seed = 11;

static void run(const lp2p_layer_ops *const *layers, size_t n, const char *muxer,
                size_t chunk) {
  env.random = tu_random;
  env.random_ud = &seed;
  env.unix_s = 1767225600; /* 2026-01-01 */
  lp2p_identity di, li;
  assert_int_equal(lp2p_identity_generate(&di, LP2P_KEY_ED25519, &env), 0);
  assert_int_equal(lp2p_identity_generate(&li, LP2P_KEY_ED25519, &env), 0);
  lp2p_tls_creds *creds = NULL;
  if (layers == tls_ws)
    assert_int_equal(lp2p_tls_selfsigned_credentials(&creds, &env), 0);
  lp2p_conn_config dc = {.initiator = 1,
                         .identity = &di,
                         .security = lp2p_security_find("noise"),
                         .muxer = lp2p_muxer_find(muxer),
                         .step_timeout_ms = 1000};
  lp2p_conn_config lc = dc;
  lc.initiator = 0;
  lc.identity = &li;
  lc.identify_peer = 1;
  lp2p_chain_config dcc = {.conn = &dc, .layers = layers, .n_layers = n};
  dcc.params =
      (lp2p_layer_params){.host = "127.0.0.1", .port = 4001, .step_timeout_ms = 1000};
  lp2p_chain_config lcc = {.conn = &lc, .layers = layers, .n_layers = n};
  lcc.params = (lp2p_layer_params){.step_timeout_ms = 1000, .tls_creds = creds};
  side d = {0}, l = {0};
  d.chain = lp2p_chain_new(&env, &dcc,
                           (lp2p_io){.write = tu_lent_write,
                                     .event = side_event,
                                     .ud = &d,
                                     .reserve = tu_lent_reserve});
  l.chain = lp2p_chain_new(&env, &lcc,
                           (lp2p_io){.write = tu_lent_write,
                                     .event = side_event,
                                     .ud = &l,
                                     .reserve = tu_lent_reserve});
  assert_non_null(d.chain);
  assert_non_null(l.chain);
  assert_int_equal(lp2p_chain_start(d.chain), 0);
  assert_int_equal(lp2p_chain_start(l.chain), 0);
  assert_int_equal(pump(&d, &l, chunk), 0);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(lp2p_chain_ping(d.chain), 0);
    assert_int_equal(pump(&d, &l, chunk), 0);
  }
  assert_int_equal(d.ready, 1);
  assert_int_equal(l.ready, 1);
  assert_int_equal(d.pongs, 3);
  assert_non_null(lp2p_conn_identified(lp2p_chain_conn(l.chain)));
  assert_int_equal(lp2p_chain_deadline(d.chain), LP2P_NO_DEADLINE);
  if (n)
    assert_int_equal(d.lent.in_place + l.lent.in_place, 0);
  else
    assert_true(d.lent.in_place > 0 && l.lent.in_place > 0);
  /* The dialer ends: the listener sees the peer end the stream (a byte
   * layer's close; with none the muxer's goodbye is all there is). */
  assert_int_equal(lp2p_chain_close(d.chain), 0);
  assert_int_equal(pump(&d, &l, chunk), 0);
  assert_int_equal(l.eofs, n ? 1 : 0);
  lp2p_chain_free(d.chain);
  lp2p_chain_free(l.chain);
  lp2p_buf_free(&d.lent.out);
  lp2p_buf_free(&l.lent.out);
  lp2p_tls_creds_free(creds);
  lp2p_identity_clear(&di);
  lp2p_identity_clear(&li);
}

static void test_ws(void **state) {
  (void)state;
  const char *muxers[] = {"yamux", "mplex"};
  size_t chunks[] = {0, 1, 7};
  for (int m = 0; m < 2; m++)
    for (int c = 0; c < 3; c++)
      run(ws_only, 1, muxers[m], chunks[c]);
}

static void test_wss(void **state) {
  (void)state;
  const char *muxers[] = {"yamux", "mplex"};
  size_t chunks[] = {0, 1, 7};
  for (int m = 0; m < 2; m++)
    for (int c = 0; c < 3; c++)
      run(tls_ws, 2, muxers[m], chunks[c]);
}

/* No byte layer: Noise seals into the room the driver lends. */
static void test_bare(void **state) {
  (void)state;
  const char *muxers[] = {"yamux", "mplex"};
  size_t chunks[] = {0, 1, 7};
  for (int m = 0; m < 2; m++)
    for (int c = 0; c < 3; c++)
      run(NULL, 0, muxers[m], chunks[c]);
}

/* A layer's handshake that never completes ends at its deadline. */
static void test_ws_deadline(void **state) {
  (void)state;
  lp2p_env e = {.now_ms = 100, .random = tu_random, .random_ud = &seed};
  lp2p_identity id;
  lp2p_identity_generate(&id, LP2P_KEY_ED25519, &e);
  lp2p_conn_config cc = {.initiator = 1,
                         .identity = &id,
                         .security = lp2p_security_find("noise"),
                         .muxer = lp2p_muxer_find("yamux"),
                         .step_timeout_ms = 50};
  lp2p_chain_config ch = {.conn = &cc, .layers = ws_only, .n_layers = 1};
  ch.params.step_timeout_ms = 50;
  side s = {0};
  s.chain = lp2p_chain_new(
      &e, &ch, (lp2p_io){.write = tu_lent_write, .event = side_event, .ud = &s});
  assert_int_equal(lp2p_chain_deadline(s.chain), LP2P_NO_DEADLINE);
  assert_int_equal(lp2p_chain_start(s.chain), 0);
  assert_int_equal(lp2p_chain_deadline(s.chain), 150);
  e.now_ms = 149;
  assert_int_equal(lp2p_chain_expire(s.chain), 0);
  e.now_ms = 150;
  assert_int_equal(lp2p_chain_expire(s.chain), LP2P_ETIMEDOUT);
  lp2p_chain_free(s.chain);
  lp2p_buf_free(&s.lent.out);
  lp2p_identity_clear(&id);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bare),
      cmocka_unit_test(test_ws),
      cmocka_unit_test(test_wss),
      cmocka_unit_test(test_ws_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
