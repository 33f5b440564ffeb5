/* The libp2p TLS certificate (tls_cert.h): the published vectors of
 * libp2p/specs tls/tls.md (tests/vectors/tls-certs.txt), our own
 * certificates by round trip for both identity types, an RSA host key
 * signed by GnuTLS (the ECDSA one is the spec vector), and every refusal:
 * validity window, self-signature, missing / oversized extension, an
 * unknown critical extension, bad host key signature, malformed SignedKey at every
 * truncation. */
#include "testutil.h"

#include "lp2p/tls_cert.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_S 1790000000 /* 2026-09 */

static lp2p_env env;
static uint64_t seed = 9;

static void init_env(void) {
  env.random = tu_random;
  env.random_ud = &seed;
  env.unix_s = NOW_S;
}

static void peer_text(const lp2p_pubkey *pk, char *out, size_t cap) {
  lp2p_peerid id;
  assert_int_equal(lp2p_peerid_from_pubkey(&id, pk), 0);
  assert_true(lp2p_peerid_to_text(out, cap, &id) > 0);
}

static void test_spec_vectors(void **state) {
  (void)state;
  size_t flen;
  char *text = tu_read_vector("tls-certs.txt", &flen);
  int n = 0, invalid = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#') continue;
    char name[32], want[128], hex[4096];
    assert_int_equal(sscanf(line, "%31s %127s %4095s", name, want, hex), 3);
    static uint8_t der[2048];
    size_t len = tu_hex(der, sizeof der, hex);
    lp2p_pubkey pk;
    lp2p_clear_reason();
    int rc = lp2p_tls_cert_verify(&pk, der, len, NOW_S);
    if (strcmp(want, "invalid") == 0) {
      /* tls.md: the extension's key did not sign this certificate key. */
      assert_int_equal(rc, LP2P_ESIG);
      const char *why = lp2p_take_reason();
      assert_non_null(why);
      assert_non_null(strstr(why, "host key signature"));
      invalid++;
    } else {
      assert_int_equal(rc, 0);
      char got[128];
      peer_text(&pk, got, sizeof got);
      assert_string_equal(got, want);
      /* Valid 1975..4096: outside that window the same bytes are refused. */
      assert_int_equal(lp2p_tls_cert_verify(&pk, der, len, 100000000), LP2P_ETIMEDOUT);
      /* Every truncation is refused, never read past. */
      for (size_t k = 0; k < len; k++)
        assert_int_not_equal(lp2p_tls_cert_verify(&pk, der, k, NOW_S), 0);
    }
    n++;
  }
  assert_int_equal(n, 4);
  assert_int_equal(invalid, 1);
  free(text);
}

static void check_ours(lp2p_key_type type) {
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, type, &env), 0);
  lp2p_buf cert = {0}, key = {0};
  assert_int_equal(lp2p_tls_cert_make(&cert, &key, &id, &env), 0);
  lp2p_pubkey pk;
  assert_int_equal(lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S), 0);
  assert_int_equal(pk.type, id.pub.type);
  assert_int_equal(pk.len, id.pub.len);
  assert_memory_equal(pk.key, id.pub.key, pk.len);
  /* The extension is the first one and critical; the certificate key is
   * ECDSA P-256 signed with SHA-256; validity: an hour back, 100 years on. */
  gnutls_x509_crt_t crt;
  gnutls_datum_t d = {cert.data, (unsigned)cert.len};
  assert_int_equal(gnutls_x509_crt_init(&crt), 0);
  assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER), 0);
  char oid[64];
  size_t oid_len = sizeof oid;
  unsigned critical = 0;
  assert_int_equal(gnutls_x509_crt_get_extension_info(crt, 0, oid, &oid_len, &critical),
                   0);
  assert_string_equal(oid, LP2P_TLS_EXT_OID);
  assert_int_equal(critical, 1);
  assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt),
                   GNUTLS_SIGN_ECDSA_SHA256);
  assert_int_equal(gnutls_x509_crt_get_activation_time(crt), NOW_S - 3600);
  assert_true(gnutls_x509_crt_get_expiration_time(crt) > NOW_S + 99LL * 365 * 86400);
  gnutls_x509_crt_deinit(crt);
  /* Outside the window. */
  assert_int_equal(lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S - 7200),
                   LP2P_ETIMEDOUT);
  assert_int_equal(
      lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S + 101LL * 365 * 86400),
      LP2P_ETIMEDOUT);
  /* The certificate's own signature (its last byte) broken. */
  cert.data[cert.len - 1] ^= 1;
  assert_int_equal(lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S), LP2P_ESIG);
  /* The usable credentials. */
  lp2p_tls_creds *cr;
  assert_int_equal(lp2p_tls_cert_credentials(&cr, &id, &env), 0);
  lp2p_tls_creds_free(cr);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  lp2p_identity_clear(&id);
}

static void test_roundtrip(void **state) {
  (void)state;
  check_ours(LP2P_KEY_ED25519);
  check_ours(LP2P_KEY_SECP256K1);
}

/* Hostile certificates built with the generic maker and a custom extension. */
typedef enum { EXT_WRONG_MSG, EXT_HUGE, EXT_GARBAGE, EXT_OTHER_OID } ext_kind;
typedef struct ext_ctx {
  ext_kind kind;
  const lp2p_identity *id;
} ext_ctx;

static int bad_ext(void *ctx, lp2p_buf *out, const uint8_t *spki, size_t len) {
  ext_ctx *e = ctx;
  static uint8_t junk[LP2P_TLS_EXT_MAX + 64];
  switch (e->kind) {
  case EXT_WRONG_MSG: {
    /* Signed over another SPKI: this certificate's key flipped. */
    uint8_t other[512];
    memcpy(other, spki, len);
    other[len - 1] ^= 1;
    return lp2p_tls_signedkey_encode(out, e->id, other, len);
  }
  case EXT_HUGE:
    memset(junk, 0x04, sizeof junk);
    return lp2p_buf_append(out, junk, sizeof junk);
  case EXT_GARBAGE: return lp2p_buf_append(out, "\x30\x03\x04\x01", 4);
  case EXT_OTHER_OID: return lp2p_tls_signedkey_encode(out, e->id, spki, len);
  }
  return -1;
}

static int hostile(ext_kind kind, const char *oid) {
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, LP2P_KEY_ED25519, &env), 0);
  ext_ctx c = {kind, &id};
  lp2p_tls_ext ext = {.oid = oid, .critical = 1, .make = bad_ext, .ctx = &c};
  lp2p_buf cert = {0}, key = {0};
  assert_int_equal(lp2p_tls_selfsigned(&cert, &key, &env, &ext), 0);
  lp2p_pubkey pk;
  lp2p_clear_reason();
  int rc = lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S);
  const char *why = lp2p_take_reason();
  assert_non_null(why);
  print_message("refused: %s\n", why);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  lp2p_identity_clear(&id);
  return rc;
}

/* Our own libp2p extension followed by another one, critical or not. */
static int with_other_ext(int critical, const char *other_oid) {
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, LP2P_KEY_ED25519, &env), 0);
  ext_ctx ours = {EXT_OTHER_OID, &id}, other = {EXT_GARBAGE, &id};
  lp2p_tls_ext second = {
      .oid = other_oid, .critical = critical, .make = bad_ext, .ctx = &other};
  lp2p_tls_ext first = {.oid = LP2P_TLS_EXT_OID,
                        .critical = 1,
                        .make = bad_ext,
                        .ctx = &ours,
                        .next = &second};
  lp2p_buf cert = {0}, key = {0};
  assert_int_equal(lp2p_tls_selfsigned(&cert, &key, &env, &first), 0);
  lp2p_pubkey pk;
  lp2p_clear_reason();
  int rc = lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S);
  const char *why = lp2p_take_reason();
  if (rc) print_message("refused: %s\n", why);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  lp2p_identity_clear(&id);
  return rc;
}

static void test_refusals(void **state) {
  (void)state;
  assert_int_equal(hostile(EXT_WRONG_MSG, LP2P_TLS_EXT_OID), LP2P_ESIG);
  assert_int_equal(hostile(EXT_HUGE, LP2P_TLS_EXT_OID), LP2P_ETOOBIG);
  assert_int_equal(hostile(EXT_GARBAGE, LP2P_TLS_EXT_OID), LP2P_EPROTO);
  assert_int_equal(hostile(EXT_OTHER_OID, "1.3.6.1.4.1.53594.1.2"), LP2P_EPROTO);
  /* A valid libp2p extension beside a critical one we do not know, then
   * the same unknown one marked non-critical, which is ignored. */
  assert_int_equal(with_other_ext(1, "1.2.3.4.5"), LP2P_EPROTO);
  assert_int_equal(with_other_ext(0, "1.2.3.4.5"), 0);
  /* The same with an OID longer than our reader's first buffer (64). */
  static char long_oid[128];
  strcpy(long_oid, "1.2");
  while (strlen(long_oid) < 96)
    strcat(long_oid, ".999");
  assert_int_equal(with_other_ext(1, long_oid), LP2P_EPROTO);
  assert_int_equal(with_other_ext(0, long_oid), 0);
  /* No extension at all (the plain wss certificate). */
  lp2p_buf cert = {0}, key = {0};
  assert_int_equal(lp2p_tls_selfsigned(&cert, &key, &env, NULL), 0);
  lp2p_pubkey pk;
  assert_int_equal(lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S), LP2P_EPROTO);
  static uint8_t big[LP2P_TLS_CERT_MAX + 1];
  assert_int_equal(lp2p_tls_cert_verify(&pk, big, sizeof big, NOW_S), LP2P_ETOOBIG);
  assert_int_equal(lp2p_tls_cert_verify(&pk, big, 100, NOW_S), LP2P_EPROTO);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
}

/* DER header in minimal form (X.690 10.1). */
static void der_hdr(lp2p_buf *b, uint8_t tag, size_t len) {
  uint8_t h[4] = {tag};
  size_t n = 2;
  if (len < 0x80) {
    h[1] = (uint8_t)len;
  } else if (len < 0x100) {
    h[1] = 0x81, h[2] = (uint8_t)len, n = 3;
  } else {
    h[1] = 0x82, h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len, n = 4;
  }
  lp2p_buf_append(b, h, n);
}

/* A SignedKey by an RSA host key (our identities are ed25519 or secp256k1
 * only, so GnuTLS signs here): PKCS#1 v1.5 over SHA-256 (peer-ids.md). */
static int rsa_ext(void *ctx, lp2p_buf *out, const uint8_t *spki, size_t len) {
  gnutls_privkey_t k = ctx;
  gnutls_pubkey_t pub;
  gnutls_datum_t rsa_spki, sig;
  assert_int_equal(gnutls_pubkey_init(&pub), 0);
  assert_int_equal(gnutls_pubkey_import_privkey(pub, k, 0, 0), 0);
  assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &rsa_spki), 0);
  lp2p_pubkey pk = {.type = LP2P_KEY_RSA, .len = rsa_spki.size};
  memcpy(pk.key, rsa_spki.data, rsa_spki.size);
  uint8_t pb[LP2P_PUBKEY_PB_MAX];
  int pbl = lp2p_pubkey_marshal(pb, sizeof pb, &pk);
  assert_true(pbl > 0);
  uint8_t msg[512];
  memcpy(msg, LP2P_TLS_SIG_PREFIX, strlen(LP2P_TLS_SIG_PREFIX));
  memcpy(msg + strlen(LP2P_TLS_SIG_PREFIX), spki, len);
  gnutls_datum_t m = {msg, (unsigned)(strlen(LP2P_TLS_SIG_PREFIX) + len)};
  assert_int_equal(gnutls_privkey_sign_data(k, GNUTLS_DIG_SHA256, 0, &m, &sig), 0);
  size_t kh = pbl < 0x80 ? 2 : pbl < 0x100 ? 3 : 4;
  size_t sh = sig.size < 0x80 ? 2 : sig.size < 0x100 ? 3 : 4;
  der_hdr(out, 0x30, kh + (size_t)pbl + sh + sig.size);
  der_hdr(out, 0x04, (size_t)pbl);
  lp2p_buf_append(out, pb, (size_t)pbl);
  der_hdr(out, 0x04, sig.size);
  lp2p_buf_append(out, sig.data, sig.size);
  gnutls_free(sig.data);
  gnutls_free(rsa_spki.data);
  gnutls_pubkey_deinit(pub);
  return 0;
}

static void test_rsa_host_key(void **state) {
  (void)state;
  gnutls_privkey_t k;
  assert_int_equal(gnutls_privkey_init(&k), 0);
  assert_int_equal(gnutls_privkey_generate(k, GNUTLS_PK_RSA, 2048, 0), 0);
  lp2p_tls_ext ext = {.oid = LP2P_TLS_EXT_OID, .critical = 1, .make = rsa_ext, .ctx = k};
  lp2p_buf cert = {0}, key = {0};
  assert_int_equal(lp2p_tls_selfsigned(&cert, &key, &env, &ext), 0);
  lp2p_pubkey pk;
  assert_int_equal(lp2p_tls_cert_verify(&pk, cert.data, cert.len, NOW_S), 0);
  assert_int_equal(pk.type, LP2P_KEY_RSA);
  /* sha2-256 peer id: the key is too long to inline. */
  char text[128];
  peer_text(&pk, text, sizeof text);
  assert_true(strncmp(text, "Qm", 2) == 0);
  lp2p_buf_free(&cert);
  lp2p_buf_free_secret(&key);
  gnutls_privkey_deinit(k);
}

static void test_signedkey_parser(void **state) {
  (void)state;
  lp2p_identity id;
  assert_int_equal(lp2p_identity_generate(&id, LP2P_KEY_SECP256K1, &env), 0);
  lp2p_buf sk = {0};
  static const uint8_t spki[91] = {0x30};
  assert_int_equal(lp2p_tls_signedkey_encode(&sk, &id, spki, sizeof spki), 0);
  const uint8_t *k, *s;
  size_t kl, sl;
  assert_int_equal(lp2p_tls_signedkey_parse(sk.data, sk.len, &k, &kl, &s, &sl), 0);
  assert_int_equal(kl, 37);
  assert_int_equal(k[0], 0x08);
  assert_true(sl >= 8 && sl <= LP2P_SIG_MAX);
  for (size_t n = 0; n < sk.len; n++)
    assert_int_equal(lp2p_tls_signedkey_parse(sk.data, n, &k, &kl, &s, &sl), LP2P_EPROTO);
  /* Trailing byte; non-minimal and indefinite lengths; wrong tags. */
  lp2p_buf_append(&sk, "", 1);
  assert_int_equal(lp2p_tls_signedkey_parse(sk.data, sk.len, &k, &kl, &s, &sl),
                   LP2P_EPROTO);
  static const uint8_t nonmin[] = {0x30, 0x81, 0x04, 0x04, 0x00, 0x04, 0x00};
  static const uint8_t indef[] = {0x30, 0x80, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00};
  static const uint8_t bitstr[] = {0x30, 0x04, 0x03, 0x00, 0x04, 0x00};
  static const uint8_t ok[] = {0x30, 0x04, 0x04, 0x00, 0x04, 0x00};
  static const uint8_t inner_over[] = {0x30, 0x04, 0x04, 0x05, 0x04, 0x00};
  static const uint8_t three[] = {0x30, 0x06, 0x04, 0x00, 0x04, 0x00, 0x04, 0x00};
  assert_int_equal(lp2p_tls_signedkey_parse(nonmin, sizeof nonmin, &k, &kl, &s, &sl),
                   LP2P_EPROTO);
  assert_int_equal(lp2p_tls_signedkey_parse(indef, sizeof indef, &k, &kl, &s, &sl),
                   LP2P_EPROTO);
  assert_int_equal(lp2p_tls_signedkey_parse(bitstr, sizeof bitstr, &k, &kl, &s, &sl),
                   LP2P_EPROTO);
  assert_int_equal(
      lp2p_tls_signedkey_parse(inner_over, sizeof inner_over, &k, &kl, &s, &sl),
      LP2P_EPROTO);
  assert_int_equal(lp2p_tls_signedkey_parse(three, sizeof three, &k, &kl, &s, &sl),
                   LP2P_EPROTO);
  assert_int_equal(lp2p_tls_signedkey_parse(ok, sizeof ok, &k, &kl, &s, &sl), 0);
  assert_int_equal(kl + sl, 0);
  /* A publicKey over its cap, in a well-formed SEQUENCE. */
  lp2p_buf big = {0};
  size_t kbig = LP2P_PUBKEY_PB_MAX + 1;
  uint8_t h[] = {0x30, 0x82, (uint8_t)((kbig + 6) >> 8), (uint8_t)(kbig + 6),
                 0x04, 0x82, (uint8_t)(kbig >> 8),       (uint8_t)kbig};
  lp2p_buf_append(&big, h, sizeof h);
  static uint8_t zeros[LP2P_PUBKEY_PB_MAX + 1];
  lp2p_buf_append(&big, zeros, kbig);
  lp2p_buf_append(&big, "\x04\x00", 2);
  assert_int_equal(lp2p_tls_signedkey_parse(big.data, big.len, &k, &kl, &s, &sl),
                   LP2P_ETOOBIG);
  lp2p_buf_free(&big);
  lp2p_buf_free(&sk);
  lp2p_identity_clear(&id);
}

int main(void) {
  if (getenv("LP2P_DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  init_env();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spec_vectors),     cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_refusals),         cmocka_unit_test(test_rsa_host_key),
      cmocka_unit_test(test_signedkey_parser),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
