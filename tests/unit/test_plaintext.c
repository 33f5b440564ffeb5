/* /plaintext/2.0.0 (plaintext.h, libp2p/specs plaintext/README.md): two
 * engines exchange keys with the input split at every offset and data
 * right behind the Exchange; then each refusal: an id that is not the
 * key's, missing fields, a length over the cap, a bad varint, a bad key. */
#include "testutil.h"

#include "lp2p/codec.h"
#include "lp2p/plaintext.h"

#include "plaintext.pb-c.h"

#include <string.h>

static lp2p_env env;
static uint64_t seed = 5;
static lp2p_identity ida, idb;

static int setup(void **state) {
  (void)state;
  env.random = tu_random;
  env.random_ud = &seed;
  assert_int_equal(lp2p_identity_generate(&ida, LP2P_KEY_ED25519, &env), 0);
  assert_int_equal(lp2p_identity_generate(&idb, LP2P_KEY_SECP256K1, &env), 0);
  return 0;
}

static int feed(void *ud, const uint8_t *p, size_t n) {
  return lp2p_plaintext_recv(ud, p, n);
}

static lp2p_plaintext *engine(tu_capture *cap, int initiator, const lp2p_identity *id) {
  lp2p_plaintext_config cfg = {.initiator = initiator, .identity = id};
  lp2p_plaintext *p = lp2p_plaintext_new(&env, &cfg, tu_capture_io(cap));
  assert_non_null(p);
  assert_int_equal(lp2p_plaintext_start(p), 0);
  return p;
}

static void test_exchange_every_split(void **state) {
  (void)state;
  /* What the peer sends: its Exchange, then data in the same bytes. */
  lp2p_buf in = {0};
  assert_int_equal(lp2p_plaintext_exchange_encode(&in, &idb.pub), 0);
  lp2p_buf_append(&in, "/multistream/1.0.0\n", 19);
  for (size_t pass = 0; pass < tu_split_passes(in.len); pass++) {
    tu_capture cap = {0};
    lp2p_plaintext *p = engine(&cap, (int)(pass & 1), &ida);
    /* Our Exchange went out first, and before READY nothing may be sent. */
    lp2p_buf mine = {0};
    lp2p_plaintext_exchange_encode(&mine, &ida.pub);
    assert_int_equal(cap.wire.len, mine.len);
    assert_memory_equal(cap.wire.data, mine.data, mine.len);
    lp2p_buf_free(&mine);
    assert_null(lp2p_plaintext_remote_key(p));
    assert_int_equal(tu_feed((int)pass, in.data, in.len, feed, p), 0);
    assert_int_equal(cap.ready, 1);
    assert_string_equal(cap.protocol, "");
    const lp2p_pubkey *rk = lp2p_plaintext_remote_key(p);
    assert_non_null(rk);
    assert_int_equal(rk->len, idb.pub.len);
    assert_memory_equal(rk->key, idb.pub.key, rk->len);
    assert_int_equal(cap.data.len, 19);
    assert_memory_equal(cap.data.data, "/multistream/1.0.0\n", 19);
    /* Data passes through as it is. */
    cap.wire.len = 0;
    assert_int_equal(lp2p_plaintext_send(p, (const uint8_t *)"abc", 3), 0);
    assert_int_equal(cap.wire.len, 3);
    lp2p_plaintext_free(p);
    tu_capture_free(&cap);
  }
  lp2p_buf_free(&in);
}

/* Feeds one hostile input; returns the engine's error. */
static int refuse(const uint8_t *p, size_t len) {
  tu_capture cap = {0};
  lp2p_plaintext *e = engine(&cap, 0, &ida);
  lp2p_clear_reason();
  int rc = lp2p_plaintext_recv(e, p, len);
  assert_int_equal(cap.ready, 0);
  if (rc) {
    /* Sticky, and said once. */
    assert_int_equal(lp2p_plaintext_recv(e, (const uint8_t *)"x", 1), rc);
    assert_non_null(lp2p_take_reason());
  }
  lp2p_plaintext_free(e);
  tu_capture_free(&cap);
  return rc;
}

static void framed(lp2p_buf *b, const Pb__Exchange *ex) {
  size_t n = pb__exchange__get_packed_size(ex);
  uint8_t v[LP2P_VARINT_MAX];
  lp2p_buf_append(b, v, lp2p_varint_encode(v, n));
  lp2p_buf_reserve(b, n);
  b->len += pb__exchange__pack(ex, b->data + b->len);
}

static void test_refusals(void **state) {
  (void)state;
  uint8_t key_a[LP2P_PUBKEY_PB_MAX], key_b[LP2P_PUBKEY_PB_MAX];
  int la = lp2p_pubkey_marshal(key_a, sizeof key_a, &ida.pub);
  int lb = lp2p_pubkey_marshal(key_b, sizeof key_b, &idb.pub);
  lp2p_peerid pid_a;
  lp2p_peerid_from_pubkey(&pid_a, &ida.pub);
  lp2p_buf b = {0};

  /* The id of one key with another key (plaintext/README.md "Exchange"). */
  Pb__Exchange ex = PB__EXCHANGE__INIT;
  ex.has_id = ex.has_pubkey = 1;
  ex.id = (ProtobufCBinaryData){pid_a.len, pid_a.bytes};
  ex.pubkey = (ProtobufCBinaryData){(size_t)lb, key_b};
  framed(&b, &ex);
  assert_int_equal(refuse(b.data, b.len), LP2P_EPEERID);
  b.len = 0;

  /* No key; no id. */
  ex.has_pubkey = 0;
  framed(&b, &ex);
  assert_int_equal(refuse(b.data, b.len), LP2P_EPROTO);
  b.len = 0;
  ex.has_pubkey = 1;
  ex.has_id = 0;
  ex.pubkey = (ProtobufCBinaryData){(size_t)la, key_a};
  framed(&b, &ex);
  assert_int_equal(refuse(b.data, b.len), LP2P_EPROTO);
  b.len = 0;

  /* A key that does not parse. */
  ex.has_id = 1;
  key_a[3] ^= 0xff;
  framed(&b, &ex);
  assert_int_not_equal(refuse(b.data, b.len), 0);
  b.len = 0;

  /* Length over the cap (refused before any body), a non-minimal varint,
   * an empty message, not a protobuf. */
  uint8_t v[LP2P_VARINT_MAX];
  size_t vl = lp2p_varint_encode(v, LP2P_PLAINTEXT_MSG_MAX + 1);
  assert_int_equal(refuse(v, vl), LP2P_ETOOBIG);
  static const uint8_t nonmin[] = {0x80, 0x00};
  assert_int_equal(refuse(nonmin, sizeof nonmin), LP2P_EVARINT);
  static const uint8_t empty[] = {0x00};
  assert_int_equal(refuse(empty, sizeof empty), LP2P_EPROTO);
  static const uint8_t junk[] = {0x03, 0xff, 0xff, 0xff};
  assert_int_equal(refuse(junk, sizeof junk), LP2P_EPROTO);
  /* Half a message is no error yet. */
  assert_int_equal(refuse(junk, 2), 0);
  lp2p_buf_free(&b);
}

static void test_misuse(void **state) {
  (void)state;
  tu_capture cap = {0};
  lp2p_plaintext_config cfg = {.initiator = 1, .identity = &ida};
  lp2p_plaintext *p = lp2p_plaintext_new(&env, &cfg, tu_capture_io(&cap));
  assert_int_equal(lp2p_plaintext_send(p, (const uint8_t *)"x", 1), LP2P_EINVAL);
  lp2p_plaintext_free(p);
  p = lp2p_plaintext_new(&env, &cfg, tu_capture_io(&cap));
  assert_int_equal(lp2p_plaintext_recv(p, (const uint8_t *)"x", 1), LP2P_EINVAL);
  lp2p_plaintext_free(p);
  cfg.identity = NULL;
  assert_null(lp2p_plaintext_new(&env, &cfg, tu_capture_io(&cap)));
  tu_capture_free(&cap);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exchange_every_split),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_misuse),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
