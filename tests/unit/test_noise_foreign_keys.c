/* A whole Noise XX handshake against our responder by a peer whose
 * identity is an RSA or ECDSA key, as some libp2p implementations use: the
 * private keys are the peer-ids.md vectors (tests/vectors/peer-ids.txt),
 * the peer's signature over its static key is made here with GnuTLS. Our
 * engine must verify it, report the key and give the spec's peer id; a
 * signature over another static key must fail. */
#include "testutil.h"

#include "lp2p/noise.h"
#include "noise.pb-c.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

static char *g_vectors;

static const char *vec(const char *name) {
  size_t n = strlen(name);
  for (const char *l = g_vectors; l && *l;
       l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    if (strncmp(l, name, n) == 0 && l[n] == ' ') {
      static char val[8192];
      size_t k = strcspn(l + n + 1, "\n");
      assert_true(k < sizeof val);
      memcpy(val, l + n + 1, k);
      val[k] = 0;
      return val;
    }
  }
  fail_msg("no vector %s", name);
  return NULL;
}

/* PrivateKey protobuf { Type = 1; Data = 2 }: the Data field. */
static gnutls_privkey_t load_private(const char *name) {
  static uint8_t pb[4096];
  size_t n = tu_hex(pb, sizeof pb, vec(name)), off = 2;
  assert_int_equal(pb[off++], 0x12);
  size_t len = 0;
  for (int shift = 0;; shift += 7) {
    len |= (size_t)(pb[off] & 0x7f) << shift;
    if (!(pb[off++] & 0x80)) break;
  }
  assert_int_equal(off + len, n);
  gnutls_datum_t der = {pb + off, (unsigned)len};
  gnutls_x509_privkey_t x509;
  gnutls_privkey_t key;
  assert_int_equal(gnutls_x509_privkey_init(&x509), 0);
  assert_int_equal(gnutls_x509_privkey_import(x509, &der, GNUTLS_X509_FMT_DER), 0);
  assert_int_equal(gnutls_privkey_init(&key), 0);
  assert_int_equal(
      gnutls_privkey_import_x509(key, x509, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE), 0);
  return key;
}

typedef struct responder {
  tu_capture cap;
  lp2p_pubkey peer;
  int ready;
} responder;

static int on_event(void *ud, const lp2p_event *ev) {
  responder *r = ud;
  if (ev->type == LP2P_EV_READY) {
    r->ready = 1;
    r->peer = *(const lp2p_pubkey *)ev->peer;
  }
  return 0;
}

static int on_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((responder *)ud)->cap.wire, p, len);
}

static void frame(lp2p_buf *out, const uint8_t *p, size_t len) {
  uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  lp2p_buf_append(out, hdr, 2);
  lp2p_buf_append(out, p, len);
}

/* The peer's signed payload; `forge` signs another static key instead. */
static size_t payload(uint8_t *out, size_t cap, gnutls_privkey_t key, const char *pub,
                      const uint8_t *static_pk, int forge) {
  uint8_t msg[sizeof LP2P_NOISE_SIG_PREFIX - 1 + 32];
  memcpy(msg, LP2P_NOISE_SIG_PREFIX, sizeof LP2P_NOISE_SIG_PREFIX - 1);
  memcpy(msg + sizeof LP2P_NOISE_SIG_PREFIX - 1, static_pk, 32);
  if (forge) msg[sizeof msg - 1] ^= 1;
  gnutls_datum_t data = {msg, sizeof msg}, sig;
  assert_int_equal(gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &data, &sig), 0);
  static uint8_t pk[2048];
  size_t pk_len = tu_hex(pk, sizeof pk, vec(pub));
  Pb__NoiseHandshakePayload pb = PB__NOISE_HANDSHAKE_PAYLOAD__INIT;
  pb.has_identity_key = pb.has_identity_sig = 1;
  pb.identity_key = (ProtobufCBinaryData){pk_len, pk};
  pb.identity_sig = (ProtobufCBinaryData){sig.size, sig.data};
  assert_true(pb__noise_handshake_payload__get_packed_size(&pb) <= cap);
  size_t n = pb__noise_handshake_payload__pack(&pb, out);
  gnutls_free(sig.data);
  return n;
}

/* Runs the handshake as the initiator with key `priv`; returns what our
 * responder's recv of message 3 returned. */
static int handshake(const char *priv, const char *pub, int forge, responder *r) {
  uint64_t seed = 42;
  lp2p_env env = {.random = tu_random, .random_ud = &seed};
  lp2p_identity ours;
  assert_int_equal(lp2p_identity_generate(&ours, LP2P_KEY_ED25519, &env), 0);
  lp2p_noise_config cfg = {.initiator = 0, .identity = &ours};
  lp2p_noise *n = lp2p_noise_new(
      &env, &cfg, (lp2p_io){.write = on_write, .event = on_event, .ud = r});
  assert_non_null(n);
  uint8_t s_sk[32], e_sk[32];
  tu_random(&seed, s_sk, sizeof s_sk);
  tu_random(&seed, e_sk, sizeof e_sk);
  lp2p_noise_hs hs;
  assert_int_equal(lp2p_noise_hs_init(&hs, 1, NULL, 0, s_sk, e_sk), 0);
  static uint8_t msg[LP2P_NOISE_MSG_MAX], pl[LP2P_NOISE_PAYLOAD_MAX];
  lp2p_buf wire = {0};
  int len = lp2p_noise_hs_write(&hs, msg, sizeof msg, NULL, 0);
  assert_true(len > 0);
  frame(&wire, msg, (size_t)len);
  assert_int_equal(lp2p_noise_recv(n, wire.data, wire.len), 0);
  assert_true(r->cap.wire.len > 2);
  assert_true(lp2p_noise_hs_read(&hs, pl, sizeof pl, r->cap.wire.data + 2,
                                 r->cap.wire.len - 2) >= 0);
  gnutls_privkey_t key = load_private(priv);
  size_t plen = payload(pl, sizeof pl, key, pub, lp2p_noise_hs_local_static(&hs), forge);
  gnutls_privkey_deinit(key);
  len = lp2p_noise_hs_write(&hs, msg, sizeof msg, pl, plen);
  assert_true(len > 0);
  wire.len = 0;
  frame(&wire, msg, (size_t)len);
  int rc = lp2p_noise_recv(n, wire.data, wire.len);
  lp2p_buf_free(&wire);
  lp2p_noise_hs_clear(&hs);
  lp2p_noise_free(n);
  lp2p_identity_clear(&ours);
  return rc;
}

static void check_peer(const char *priv, const char *pub, const char *id,
                       lp2p_key_type type) {
  responder r = {0};
  assert_int_equal(handshake(priv, pub, 0, &r), 0);
  assert_true(r.ready);
  assert_int_equal(r.peer.type, type);
  lp2p_peerid pid;
  char text[128];
  assert_int_equal(lp2p_peerid_from_pubkey(&pid, &r.peer), 0);
  assert_true(lp2p_peerid_to_text(text, sizeof text, &pid) > 0);
  assert_string_equal(text, vec(id));
  tu_capture_free(&r.cap);

  responder bad = {0};
  assert_int_equal(handshake(priv, pub, 1, &bad), LP2P_ESIG);
  assert_false(bad.ready);
  tu_capture_free(&bad.cap);
}

static void test_rsa_peer(void **state) {
  (void)state;
  check_peer("rsa_priv", "rsa_pub", "rsa_id", LP2P_KEY_RSA);
}

static void test_ecdsa_peer(void **state) {
  (void)state;
  check_peer("ecdsa_priv", "ecdsa_pub", "ecdsa_id", LP2P_KEY_ECDSA);
}

int main(void) {
  g_vectors = tu_read_vector("peer-ids.txt", NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rsa_peer),
      cmocka_unit_test(test_ecdsa_peer),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  free(g_vectors);
  return rc;
}
