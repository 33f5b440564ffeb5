/* Hostile /tls/1.0.0 dialers against a real listener (tls.md "Peer
 * Authentication"): no certificate, two certificates, no / malformed /
 * oversized libp2p extension, a host key signature over another key, an
 * expired and a not-yet-valid certificate, bytes that are not TLS, a forged
 * record after the handshake, a stall after the ClientHello; and our real dialer
 * expecting another peer id. The hostile client is the generic TLS session of
 * tls_session.h with certificates made by hand, so each case changes one thing of an
 * otherwise honest handshake. Each case must end with the listener closing
 * that connection with a clear reason and still serving an honest dialer. */
#include "hostile.h"

#include "lp2p/tls.h"
#include "lp2p/tls_cert.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

static hl H;

static int setup(void **state) {
  (void)state;
  hl_init_sec(&H, "tls", "yamux");
  H.env.unix_s = (int64_t)time(NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hl_free(&H);
  return 0;
}

/* ---- a scripted TLS dialer -------------------------------------------- */

typedef struct ht {
  hc *c;
  lp2p_tls_session *s;
  lp2p_tls_creds *creds;
  int ready;
} ht;

static int ht_write(void *ud, const uint8_t *p, size_t len) {
  ht *t = ud;
  return hc_send(t->c, p, len) ? LP2P_EEOF : 0;
}

static int ht_event(void *ud, const lp2p_event *ev) {
  ht *t = ud;
  if (ev->type == LP2P_EV_READY) t->ready = 1;
  return 0;
}

/* We are the hostile side: whatever the listener presents is fine. */
static int ht_accept(void *ctx, const lp2p_tls_der *certs, size_t n) {
  (void)ctx;
  (void)certs;
  (void)n;
  return 0;
}

/* Negotiates /tls/1.0.0 and starts a handshake presenting cert/key (no
 * certificate when cert is NULL). */
static void ht_start(ht *t, hc *c, const lp2p_buf *cert, const lp2p_buf *key) {
  memset(t, 0, sizeof *t);
  t->c = c;
  if (cert)
    assert_int_equal(
        lp2p_tls_creds_new(&t->creds, cert->data, cert->len, key->data, key->len), 0);
  static const char *const alpn[] = {"/yamux/1.0.0", LP2P_TLS_ALPN};
  lp2p_tls_config cfg = {
      .client = 1, .creds = t->creds, .alpn = alpn, .n_alpn = 2, .verify = ht_accept};
  t->s = lp2p_tls_session_new(&H.env, &cfg,
                              (lp2p_io){.write = ht_write, .event = ht_event, .ud = t});
  assert_non_null(t->s);
  lp2p_buf b = {0};
  hu_mss_msg(&b, LP2P_MSS_PROTOCOL);
  hu_mss_msg(&b, LP2P_TLS_PROTOCOL);
  assert_int_equal(hc_send(c, b.data, b.len), 0);
  assert_int_equal(hc_need(c, b.len), 0);
  assert_memory_equal(c->in.data, b.data, b.len);
  lp2p_buf_consume(&c->in, b.len);
  lp2p_buf_free(&b);
  assert_int_equal(lp2p_tls_session_start(t->s), 0);
}

/* Feeds what the listener sends to our session until it closes. */
static void ht_run(ht *t) {
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (!t->c->eof && hu_now_ms() < end) {
    hc_read_some(t->c);
    if (t->c->in.len) {
      (void)lp2p_tls_session_recv(t->s, t->c->in.data, t->c->in.len);
      t->c->in.len = 0;
    }
    hl_pump(t->c->h, t->c->fd);
  }
}

/* Runs until our session is READY (the listener has our Finished with
 * what follows it). Returns 0 then, -1 on EOF or timeout. */
static int ht_until_ready(ht *t) {
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (!t->ready && !t->c->eof && hu_now_ms() < end) {
    hc_read_some(t->c);
    if (t->c->in.len) {
      (void)lp2p_tls_session_recv(t->s, t->c->in.data, t->c->in.len);
      t->c->in.len = 0;
    }
    hl_pump(t->c->h, t->c->fd);
  }
  return t->ready ? 0 : -1;
}

static void ht_free(ht *t) {
  lp2p_tls_session_free(t->s);
  lp2p_tls_creds_free(t->creds);
}

/* One case: a dialer presenting cert/key; the listener must close with err
 * and say `logged`. */
static void cert_case(const char *name, const lp2p_buf *cert, const lp2p_buf *key,
                      int err, const char *logged) {
  hc c;
  ht t;
  hl_case(&H, &c, name);
  ht_start(&t, &c, cert, key);
  ht_run(&t);
  hl_expect_closed(&H, &c, err, logged, HU_WAIT_MS);
  ht_free(&t);
}

/* ---- certificates made by hand ---------------------------------------- */

typedef enum { EXT_OK, EXT_WRONG_KEY, EXT_GARBAGE, EXT_HUGE } ext_kind;

typedef struct ext_ctx {
  ext_kind kind;
  lp2p_identity id;
} ext_ctx;

static int make_ext(void *ctx, lp2p_buf *out, const uint8_t *spki, size_t len) {
  ext_ctx *e = ctx;
  static uint8_t junk[LP2P_TLS_EXT_MAX + 100];
  uint8_t other[1024];
  switch (e->kind) {
  case EXT_OK: return lp2p_tls_signedkey_encode(out, &e->id, spki, len);
  case EXT_WRONG_KEY:
    /* The host key signs some other certificate key. */
    memcpy(other, spki, len);
    other[len - 1] ^= 0x55;
    return lp2p_tls_signedkey_encode(out, &e->id, other, len);
  case EXT_GARBAGE: return lp2p_buf_append(out, "\x30\x05\x04\x03\x01", 5);
  case EXT_HUGE:
    memset(junk, 0x04, sizeof junk);
    return lp2p_buf_append(out, junk, sizeof junk);
  }
  return LP2P_EINVAL;
}

/* A certificate from lp2p_tls_selfsigned at unix time `now` with one
 * extension of `kind` (ext_kind) or none (kind < 0). */
static void make_cert(lp2p_buf *cert, lp2p_buf *key, int kind, int64_t now) {
  ext_ctx e = {.kind = kind < 0 ? EXT_OK : (ext_kind)kind};
  assert_int_equal(lp2p_identity_generate(&e.id, LP2P_KEY_ED25519, &H.env), 0);
  lp2p_tls_ext ext = {
      .oid = LP2P_TLS_EXT_OID, .critical = 1, .make = make_ext, .ctx = &e};
  lp2p_env env = H.env;
  env.unix_s = now;
  *cert = (lp2p_buf){0};
  *key = (lp2p_buf){0};
  assert_int_equal(lp2p_tls_selfsigned(cert, key, &env, kind < 0 ? NULL : &ext), 0);
  lp2p_identity_clear(&e.id);
}

/* A certificate built with GnuTLS directly, for what lp2p_tls_selfsigned
 * never makes: a validity window in the past, or a two-certificate chain.
 * With `libp2p` it carries an honest libp2p extension; with issuer set it
 * is signed by that CA, else self-signed (a CA when ca is set). */
static gnutls_x509_crt_t gen_cert(gnutls_x509_privkey_t *key, time_t nb, time_t na,
                                  int libp2p, int ca, gnutls_x509_crt_t issuer,
                                  gnutls_x509_privkey_t issuer_key) {
  gnutls_x509_crt_t crt;
  static const uint8_t serial[] = {1, 2, 3};
  assert_int_equal(gnutls_x509_privkey_init(key), 0);
  assert_int_equal(
      gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                   GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
      0);
  assert_int_equal(gnutls_x509_crt_init(&crt), 0);
  assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
  assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), 0);
  assert_int_equal(gnutls_x509_crt_set_activation_time(crt, nb), 0);
  assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, na), 0);
  assert_int_equal(gnutls_x509_crt_set_key(crt, *key), 0);
  const char *cn = ca ? "ca" : "leaf";
  assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                 (unsigned)strlen(cn)),
                   0);
  if (ca) assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), 0);
  if (libp2p) {
    ext_ctx e = {.kind = EXT_OK};
    gnutls_pubkey_t pub;
    gnutls_datum_t spki;
    lp2p_buf ext = {0};
    assert_int_equal(lp2p_identity_generate(&e.id, LP2P_KEY_ED25519, &H.env), 0);
    assert_int_equal(gnutls_pubkey_init(&pub), 0);
    assert_int_equal(gnutls_pubkey_import_x509(pub, crt, 0), 0);
    assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki), 0);
    assert_int_equal(make_ext(&e, &ext, spki.data, spki.size), 0);
    assert_int_equal(
        gnutls_x509_crt_set_extension_by_oid(crt, LP2P_TLS_EXT_OID, ext.data, ext.len, 1),
        0);
    gnutls_free(spki.data);
    lp2p_buf_free(&ext);
    gnutls_pubkey_deinit(pub);
    lp2p_identity_clear(&e.id);
  }
  assert_int_equal(gnutls_x509_crt_sign2(crt, issuer ? issuer : crt,
                                         issuer ? issuer_key : *key, GNUTLS_DIG_SHA256,
                                         0),
                   0);
  return crt;
}

static void append_der(lp2p_buf *b, gnutls_x509_crt_t crt) {
  gnutls_datum_t d;
  assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d), 0);
  lp2p_buf_append(b, d.data, d.size);
  gnutls_free(d.data);
}

static void append_key(lp2p_buf *b, gnutls_x509_privkey_t k) {
  gnutls_datum_t d;
  assert_int_equal(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_DER, &d), 0);
  lp2p_buf_append(b, d.data, d.size);
  gnutls_free(d.data);
}

/* An honest libp2p certificate whose validity ended yesterday. */
static void make_expired(lp2p_buf *cert, lp2p_buf *key) {
  time_t now = time(NULL);
  gnutls_x509_privkey_t k;
  gnutls_x509_crt_t crt = gen_cert(&k, now - 2 * 86400, now - 86400, 1, 0, NULL, NULL);
  *cert = (lp2p_buf){0};
  *key = (lp2p_buf){0};
  append_der(cert, crt);
  append_key(key, k);
  gnutls_x509_crt_deinit(crt);
  gnutls_x509_privkey_deinit(k);
}

/* A libp2p certificate and the CA that signed it: a real chain, which
 * GnuTLS sends whole (it drops certificates that are not). */
static void make_chain(lp2p_buf *cert, lp2p_buf *key) {
  time_t now = time(NULL);
  gnutls_x509_privkey_t ck, lk;
  gnutls_x509_crt_t ca = gen_cert(&ck, now - 3600, now + 86400, 0, 1, NULL, NULL);
  gnutls_x509_crt_t leaf = gen_cert(&lk, now - 3600, now + 86400, 1, 0, ca, ck);
  *cert = (lp2p_buf){0};
  *key = (lp2p_buf){0};
  append_der(cert, leaf);
  append_der(cert, ca);
  append_key(key, lk);
  gnutls_x509_crt_deinit(leaf);
  gnutls_x509_crt_deinit(ca);
  gnutls_x509_privkey_deinit(lk);
  gnutls_x509_privkey_deinit(ck);
}

static void free_cert(lp2p_buf *cert, lp2p_buf *key) {
  lp2p_buf_free(cert);
  lp2p_buf_free_secret(key);
}

/* ---- cases ------------------------------------------------------------ */

static void test_no_certificate(void **state) {
  (void)state;
  /* tls.md: servers MUST require client authentication. */
  cert_case("no client certificate", NULL, NULL, LP2P_EPROTO, "tls: handshake");
}

static void test_two_certificates(void **state) {
  (void)state;
  lp2p_buf cert, key;
  make_chain(&cert, &key);
  cert_case("two certificates", &cert, &key, LP2P_EPROTO, "peer sent 2 certificates");
  free_cert(&cert, &key);
}

static void test_bad_extensions(void **state) {
  (void)state;
  lp2p_buf cert, key;
  make_cert(&cert, &key, -1, H.env.unix_s);
  cert_case("no libp2p extension", &cert, &key, LP2P_EPROTO,
            "no libp2p public key extension");
  free_cert(&cert, &key);
  make_cert(&cert, &key, EXT_GARBAGE, H.env.unix_s);
  cert_case("malformed SignedKey", &cert, &key, LP2P_EPROTO, "malformed SignedKey");
  free_cert(&cert, &key);
  make_cert(&cert, &key, EXT_HUGE, H.env.unix_s);
  cert_case("oversized extension", &cert, &key, LP2P_ETOOBIG, "over its size cap");
  free_cert(&cert, &key);
}

static void test_bad_host_signature(void **state) {
  (void)state;
  lp2p_buf cert, key;
  make_cert(&cert, &key, EXT_WRONG_KEY, H.env.unix_s);
  cert_case("host key signed another key", &cert, &key, LP2P_ESIG,
            "host key signature does not verify");
  free_cert(&cert, &key);
}

static void test_validity(void **state) {
  (void)state;
  lp2p_buf cert, key;
  make_expired(&cert, &key);
  cert_case("expired certificate", &cert, &key, LP2P_ETIMEDOUT, "expired");
  free_cert(&cert, &key);
  /* Made ten years from now: not valid yet. */
  make_cert(&cert, &key, EXT_OK, H.env.unix_s + 10LL * 365 * 86400);
  cert_case("certificate not valid yet", &cert, &key, LP2P_ETIMEDOUT, "not valid yet");
  free_cert(&cert, &key);
}

static void test_garbage_records(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "HTTP where TLS records belong");
  lp2p_buf b = {0};
  hu_mss_msg(&b, LP2P_MSS_PROTOCOL);
  hu_mss_msg(&b, LP2P_TLS_PROTOCOL);
  const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  lp2p_buf_append(&b, junk, strlen(junk));
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hl_expect_closed(&H, &c, LP2P_EPROTO, "not a TLS record", HU_WAIT_MS);

  /* A record header announcing more than TLS allows. */
  hl_case(&H, &c, "oversized record");
  hu_mss_msg(&b, LP2P_MSS_PROTOCOL);
  hu_mss_msg(&b, LP2P_TLS_PROTOCOL);
  lp2p_buf_append(&b, "\x16\x03\x01\xff\xff", 5);
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hl_expect_closed(&H, &c, LP2P_ETOOBIG, "over the limit", HU_WAIT_MS);

  /* A well-framed ClientHello of random bytes. */
  hl_case(&H, &c, "random ClientHello");
  hu_mss_msg(&b, LP2P_MSS_PROTOCOL);
  hu_mss_msg(&b, LP2P_TLS_PROTOCOL);
  uint8_t rec[5 + 200] = {0x16, 0x03, 0x01, 0, 200};
  tu_random(&H.seed, rec + 5, 200);
  memcpy(rec + 5, "\x01\x00\x00\xc4", 4); /* client_hello, 196 bytes */
  lp2p_buf_append(&b, rec, sizeof rec);
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hl_expect_closed(&H, &c, LP2P_EPROTO, "tls: handshake", HU_WAIT_MS);
}

/* An honest handshake, then a record that does not decrypt. */
static void test_forged_record(void **state) {
  (void)state;
  hc c;
  ht t;
  lp2p_buf cert, key;
  make_cert(&cert, &key, EXT_OK, H.env.unix_s);
  hl_case(&H, &c, "forged record after the handshake");
  ht_start(&t, &c, &cert, &key);
  assert_int_equal(ht_until_ready(&t), 0);
  uint8_t rec[5 + 40] = {0x17, 0x03, 0x03, 0, 40};
  tu_random(&H.seed, rec + 5, 40);
  assert_int_equal(hc_send(&c, rec, sizeof rec), 0);
  hl_expect_closed(&H, &c, LP2P_EDECRYPT, "Decryption has failed", HU_WAIT_MS);
  ht_free(&t);
  free_cert(&cert, &key);
}

/* The forged record, and the peer keeps writing: the listener's alert
 * must reach it, followed by a clean end of stream (FIN), not a reset
 * (the driver drains before it closes, src/stream.c LINGER_MS). */
static void test_forged_record_peer_keeps_writing(void **state) {
  (void)state;
  hc c;
  ht t;
  lp2p_buf cert, key;
  make_cert(&cert, &key, EXT_OK, H.env.unix_s);
  hl_case(&H, &c, "forged record, the peer keeps writing");
  ht_start(&t, &c, &cert, &key);
  assert_int_equal(ht_until_ready(&t), 0);
  c.in.len = 0;
  static uint8_t rec[5 + 16000] = {0x17, 0x03, 0x03, 16000 >> 8, 16000 & 0xff};
  tu_random(&H.seed, rec + 5, 40);
  /* More than the listener reads at once behind the forged record, so
   * that input is left unread when it fails. */
  for (int i = 0; i < 8; i++)
    (void)send(c.fd, rec, sizeof rec, MSG_NOSIGNAL | MSG_DONTWAIT);
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (!c.eof && hu_now_ms() < end) {
    ssize_t k = send(c.fd, rec, sizeof rec, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.err = errno;
    hl_pump(&H, c.fd);
    hc_read_some(&c);
  }
  assert_true(c.eof);
  assert_int_equal(c.err, 0);
  /* The alert: one whole record (TLS 1.3 protects it as application data). */
  assert_true(c.in.len >= 5 + 17);
  assert_int_equal(c.in.data[0], 0x17);
  assert_int_equal(c.in.len, 5 + ((size_t)c.in.data[3] << 8 | c.in.data[4]));
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  assert_int_equal(H.last_err, LP2P_EDECRYPT);
  free(hl_log_end(&H));
  hc_close(&c);
  hl_check_serves(&H);
  ht_free(&t);
  free_cert(&cert, &key);
}

/* The ClientHello, then nothing: the step deadline ends it. */
static void test_stall_mid_handshake(void **state) {
  (void)state;
  hc c;
  ht t;
  lp2p_buf cert, key;
  make_cert(&cert, &key, EXT_OK, H.env.unix_s);
  hl_case(&H, &c, "stall after the ClientHello");
  ht_start(&t, &c, &cert, &key);
  hl_expect_closed(&H, &c, LP2P_ETIMEDOUT, "timed out", 10 * HU_STEP_MS);
  ht_free(&t);
  free_cert(&cert, &key);
}

/* Our real dialer expecting another peer: it fails with the reason, right
 * after the handshake; the listener drops that connection and serves on. */
static void test_wrong_peer_id(void **state) {
  (void)state;
  lp2p_identity other;
  lp2p_peerid other_id;
  assert_int_equal(lp2p_identity_generate(&other, LP2P_KEY_ED25519, &H.env), 0);
  lp2p_peerid_from_pubkey(&other_id, &other.pub);
  hl_log_begin(&H);
  int rc = hu_dial_ping_sec(&H.loop, &H.env, H.port, "tls", "yamux", &other_id,
                            hl_pump_cb, &H);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  char *log = hl_log_end(&H);
  assert_int_equal(rc, LP2P_EPEERID);
  assert_non_null(strstr(log, "but the peer is"));
  free(log);
  lp2p_identity_clear(&other);
  hl_check_serves(&H);
}

static void test_honest_mplex_and_plaintext(void **state) {
  (void)state;
  /* The same listener shape with the other muxer and with plaintext. */
  const char *secs[] = {"tls", "plaintext"};
  for (int i = 0; i < 2; i++) {
    hl h;
    hl_init_sec(&h, secs[i], "mplex");
    hl_check_serves(&h);
    hl_free(&h);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_certificate),
      cmocka_unit_test(test_two_certificates),
      cmocka_unit_test(test_bad_extensions),
      cmocka_unit_test(test_bad_host_signature),
      cmocka_unit_test(test_validity),
      cmocka_unit_test(test_garbage_records),
      cmocka_unit_test(test_forged_record),
      cmocka_unit_test(test_forged_record_peer_keeps_writing),
      cmocka_unit_test(test_stall_mid_handshake),
      cmocka_unit_test(test_wrong_peer_id),
      cmocka_unit_test(test_honest_mplex_and_plaintext),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
