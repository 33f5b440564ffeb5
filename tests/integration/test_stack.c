/* Two full connection stacks (mss, noise, yamux|mplex, ping) wired together
 * in memory: the whole upgrade and pings, with the bytes delivered in one
 * piece and one byte at a time, both muxer paths (inlined in the Noise
 * handshake, and multistream-select), both key types, identify, and a
 * dialer that expects another peer. */
#include "testutil.h"

#include "lp2p/conn.h"

#include <stdio.h>
#include <string.h>

typedef struct side {
  lp2p_conn *conn;
  lp2p_buf out; /* written, not yet delivered to the other side */
  int ready;
  int pongs;
  char muxer[32];
} side;

static int side_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((side *)ud)->out, p, len);
}

static int side_event(void *ud, const lp2p_event *ev) {
  side *s = ud;
  if (ev->type == LP2P_EV_READY) {
    s->ready++;
    snprintf(s->muxer, sizeof s->muxer, "%s", ev->protocol);
  }
  if (ev->type == LP2P_EV_PONG) s->pongs++;
  return 0;
}

/* How deliveries are cut: `chunk` bytes per call (0: all), or, when
 * `split` is set, each delivery in two at that offset. */
typedef struct cut {
  size_t chunk, split;
} cut;

static int conn_feed(void *ud, const uint8_t *p, size_t n) {
  return lp2p_conn_recv(ud, p, n);
}

/* Delivers what `from` wrote to `to`, cut as `c` says. */
static int deliver(side *from, side *to, cut c) {
  lp2p_buf b = from->out;
  from->out = (lp2p_buf){0};
  int rc = 0;
  if (c.split) {
    rc = b.len ? tu_feed((int)c.split + 1, b.data, b.len, conn_feed, to->conn) : 0;
    lp2p_buf_free(&b);
    return rc;
  }
  for (size_t off = 0; off < b.len && rc == 0;) {
    size_t n = c.chunk && c.chunk < b.len - off ? c.chunk : b.len - off;
    rc = lp2p_conn_recv(to->conn, b.data + off, n);
    off += n;
  }
  lp2p_buf_free(&b);
  return rc;
}

/* The largest delivery seen, to bound the split offsets. */
static size_t largest;

static int pump(side *a, side *b, cut c) {
  for (int i = 0; i < 1000 && (a->out.len || b->out.len); i++) {
    if (a->out.len > largest) largest = a->out.len;
    int rc = deliver(a, b, c);
    if (rc) return rc;
    if (b->out.len > largest) largest = b->out.len;
    if ((rc = deliver(b, a, c))) return rc;
  }
  return 0;
}

typedef struct scenario {
  const char *muxer;
  lp2p_key_type keys;
  int no_inline;
  size_t chunk;
  int wrong_peer;
  const char *security; /* NULL: noise */
  size_t split;
  int shared;     /* per-process security state, as our node uses */
  int optimistic; /* the dialer's first handshake message behind its proposal */
} scenario;

static int run(const scenario *sc, side *d, side *l) {
  static lp2p_env env;
  static uint64_t seed = 7;
  env.random = tu_random;
  env.random_ud = &seed;
  env.unix_s = 1790000000; /* 2026-09: certificate validity (TLS) */
  cut c = {sc->chunk, sc->split};
  lp2p_identity di, li, other;
  assert_int_equal(lp2p_identity_generate(&di, sc->keys, &env), 0);
  assert_int_equal(lp2p_identity_generate(&li, sc->keys, &env), 0);
  assert_int_equal(lp2p_identity_generate(&other, sc->keys, &env), 0);
  lp2p_peerid expect;
  lp2p_peerid_from_pubkey(&expect, sc->wrong_peer ? &other.pub : &li.pub);
  lp2p_conn_config dc = {.initiator = 1,
                         .identity = &di,
                         .security =
                             lp2p_security_find(sc->security ? sc->security : "noise"),
                         .muxer = lp2p_muxer_find(sc->muxer),
                         .expected_peer = &expect,
                         .step_timeout_ms = 1000,
                         .no_inline_muxer = sc->no_inline,
                         .optimistic_security = sc->optimistic};
  lp2p_conn_config lc = dc;
  lc.initiator = 0;
  lc.identity = &li;
  lc.expected_peer = NULL;
  lc.identify_peer = 1; /* as our listener does */
  lp2p_multiaddr la;
  assert_int_equal(lp2p_multiaddr_parse(&la, "/ip4/127.0.0.1/tcp/4001"), 0);
  lc.listen_addrs = &la;
  lc.n_listen_addrs = 1;
  /* Plaintext keeps no per-process state. */
  if (sc->shared && dc.security->shared_new) {
    dc.security_shared = lp2p_conn_shared_new(&env, &dc);
    lc.security_shared = lp2p_conn_shared_new(&env, &lc);
    assert_non_null(dc.security_shared);
    assert_non_null(lc.security_shared);
  }
  d->conn = lp2p_conn_new(&env, &dc,
                          (lp2p_io){.write = side_write, .event = side_event, .ud = d});
  l->conn = lp2p_conn_new(&env, &lc,
                          (lp2p_io){.write = side_write, .event = side_event, .ud = l});
  assert_non_null(d->conn);
  assert_non_null(l->conn);
  assert_int_equal(lp2p_conn_start(d->conn), 0);
  assert_int_equal(lp2p_conn_start(l->conn), 0);
  int rc = pump(d, l, c);
  for (int i = 0; rc == 0 && i < 3; i++) {
    if ((rc = lp2p_conn_ping(d->conn))) break;
    rc = pump(d, l, c);
  }
  /* Engines only borrow the shared state: free it before them, so the
   * sanitizer build shows any engine that still reads it. */
  lp2p_conn_shared_free(&dc, dc.security_shared);
  lp2p_conn_shared_free(&lc, lc.security_shared);
  lp2p_identity_clear(&di);
  lp2p_identity_clear(&li);
  lp2p_identity_clear(&other);
  return rc;
}

static void finish(side *d, side *l) {
  lp2p_conn_free(d->conn);
  lp2p_conn_free(l->conn);
  lp2p_buf_free(&d->out);
  lp2p_buf_free(&l->out);
}

static void check_ok(const scenario *sc) {
  side d = {0}, l = {0};
  assert_int_equal(run(sc, &d, &l), 0);
  assert_int_equal(d.ready, 1);
  assert_int_equal(l.ready, 1);
  assert_string_equal(d.muxer, lp2p_muxer_find(sc->muxer)->protocol);
  assert_string_equal(l.muxer, lp2p_muxer_find(sc->muxer)->protocol);
  assert_int_equal(d.pongs, 3);
  assert_int_equal(l.pongs, 0);
  assert_non_null(lp2p_conn_peer(l.conn));
  /* The listener identified the dialer: our own reply, read back. */
  const lp2p_identify_peer *idp = lp2p_conn_identified(l.conn);
  assert_non_null(idp);
  assert_string_equal(idp->agent_version, "lp2p-interop/" LP2P_VERSION);
  assert_string_equal(idp->protocol_version, "ipfs/0.1.0");
  assert_int_equal(idp->n_protocols, 2);
  finish(&d, &l);
}

static void test_all_paths(void **state) {
  (void)state;
  const char *muxers[] = {"yamux", "mplex"};
  lp2p_key_type keys[] = {LP2P_KEY_SECP256K1, LP2P_KEY_ED25519};
  size_t chunks[] = {0, 1, 7};
  for (int m = 0; m < 2; m++)
    for (int k = 0; k < 2; k++)
      for (int inl = 0; inl < 2; inl++)
        for (int c = 0; c < 3; c++) {
          scenario sc = {muxers[m], keys[k], inl, chunks[c], 0, NULL, 0, c == 1, c != 1};
          check_ok(&sc);
        }
}

/* tls and plaintext: both muxers, both key types, muxer agreed in ALPN or
 * with multistream-select; every delivery whole, byte by byte, and split at
 * every offset. */
static void test_tls_plaintext(void **state) {
  (void)state;
  const char *secs[] = {"tls", "plaintext"};
  const char *muxers[] = {"yamux", "mplex"};
  lp2p_key_type keys[] = {LP2P_KEY_SECP256K1, LP2P_KEY_ED25519};
  for (int s = 0; s < 2; s++)
    for (int m = 0; m < 2; m++)
      for (int k = 0; k < 2; k++) {
        largest = 0;
        for (int inl = 0; inl < 2; inl++) {
          scenario sc = {muxers[m], keys[k], inl, 0, 0, secs[s], 0, inl, !inl};
          check_ok(&sc);
          sc.chunk = 1;
          check_ok(&sc);
        }
        /* Every offset, the two muxer paths taking turns (both are
         * covered whole and byte by byte above). */
        size_t max = largest;
        for (size_t off = 1; off < max; off++) {
          scenario sc = {muxers[m], keys[k],        (int)(off & 1), 0, 0, secs[s],
                         off,       (off & 2) != 0, (off & 4) != 0};
          check_ok(&sc);
        }
      }
}

static void test_tls_wrong_peer(void **state) {
  (void)state;
  const char *secs[] = {"tls", "plaintext"};
  for (int s = 0; s < 2; s++) {
    scenario sc = {"yamux", LP2P_KEY_ED25519, 0, 0, 1, secs[s], 0, 1, 1};
    side d = {0}, l = {0};
    assert_int_equal(run(&sc, &d, &l), LP2P_EPEERID);
    assert_int_equal(d.ready, 0);
    finish(&d, &l);
  }
}

static void test_wrong_peer_aborts(void **state) {
  (void)state;
  scenario sc = {"yamux", LP2P_KEY_ED25519, 0, 0, 1, NULL, 0, 1, 0};
  side d = {0}, l = {0};
  assert_int_equal(run(&sc, &d, &l), LP2P_EPEERID);
  assert_int_equal(d.ready, 0);
  assert_int_equal(d.pongs, 0);
  finish(&d, &l);
}

static void test_step_deadline(void **state) {
  (void)state;
  lp2p_env env = {.now_ms = 100, .random = tu_random};
  uint64_t seed = 1;
  env.random_ud = &seed;
  lp2p_identity id;
  lp2p_identity_generate(&id, LP2P_KEY_ED25519, &env);
  lp2p_conn_config cfg = {.initiator = 1,
                          .identity = &id,
                          .security = lp2p_security_find("noise"),
                          .muxer = lp2p_muxer_find("yamux"),
                          .step_timeout_ms = 50};
  side s = {0};
  s.conn = lp2p_conn_new(&env, &cfg,
                         (lp2p_io){.write = side_write, .event = side_event, .ud = &s});
  assert_int_equal(lp2p_conn_start(s.conn), 0);
  assert_int_equal(lp2p_conn_deadline(s.conn), 150);
  env.now_ms = 149;
  assert_int_equal(lp2p_conn_expire(s.conn), 0);
  env.now_ms = 150;
  assert_int_equal(lp2p_conn_expire(s.conn), LP2P_ETIMEDOUT);
  lp2p_conn_free(s.conn);
  lp2p_buf_free(&s.out);
  lp2p_identity_clear(&id);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_paths),     cmocka_unit_test(test_wrong_peer_aborts),
      cmocka_unit_test(test_tls_plaintext), cmocka_unit_test(test_tls_wrong_peer),
      cmocka_unit_test(test_step_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
