/* Unit tests of src/keys.c on the libp2p/specs peer-ids.md vectors
 * (tests/vectors/peer-ids.txt), RSA and ECDSA signatures made with the
 * OpenSSL CLI (tests/vectors/key-sigs.txt, see make-key-sigs.py), plus
 * sign/verify round trips. */
#include "testutil.h"

#include "lp2p/codec.h"
#include "lp2p/keys.h"

#include <gnutls/gnutls.h>

/* As the binary does: GnuTLS is not set up at load, so the RSA and ECDSA
 * vectors below prove that the keys module sets it up on first use. */
GNUTLS_SKIP_GLOBAL_INIT

#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

/* ---- vector file ---- */

static char *g_vectors, *g_sigs;

/* The value of "<name> <value>" in a vector file, or NULL. */
static const char *vec_find(const char *file, const char *name) {
  size_t n = strlen(name);
  const char *p = file;
  while (p && *p) {
    if (*p != '#' && strncmp(p, name, n) == 0 && p[n] == ' ') {
      static char val[4096];
      const char *v = p + n + 1, *e = strchr(v, '\n');
      size_t l = e ? (size_t)(e - v) : strlen(v);
      assert_true(l < sizeof val);
      memcpy(val, v, l);
      val[l] = 0;
      return val;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  return NULL;
}

static const char *vec_in(const char *file, const char *name) {
  const char *v = vec_find(file, name);
  if (!v) fail_msg("vector %s missing", name);
  return v;
}

/* peer-ids.txt */
static const char *vec(const char *name) { return vec_in(g_vectors, name); }

static size_t vec_hex(uint8_t *out, size_t cap, const char *name) {
  return tu_hex(out, cap, vec(name));
}

/* key-sigs.txt */
static size_t sig_hex(uint8_t *out, size_t cap, const char *name) {
  return tu_hex(out, cap, vec_in(g_sigs, name));
}

static int setup(void **state) {
  (void)state;
  g_vectors = tu_read_vector("peer-ids.txt", NULL);
  g_sigs = tu_read_vector("key-sigs.txt", NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(g_vectors);
  free(g_sigs);
  return 0;
}

static void check_peerid_text(const lp2p_pubkey *pk, const char *want) {
  lp2p_peerid id, parsed;
  char text[128];
  assert_int_equal(lp2p_peerid_from_pubkey(&id, pk), 0);
  assert_int_equal(lp2p_peerid_to_text(text, sizeof text, &id), (int)strlen(want));
  assert_string_equal(text, want);
  assert_int_equal(lp2p_peerid_parse(&parsed, want), 0);
  assert_true(lp2p_peerid_equal(&id, &parsed));
}

/* ---- spec key vectors ---- */

static void test_ed25519_vector(void **state) {
  (void)state;
  uint8_t priv[128], pub[64], pb[LP2P_PUBKEY_PB_MAX];
  size_t plen = vec_hex(priv, sizeof priv, "ed25519_priv");
  size_t publen = vec_hex(pub, sizeof pub, "ed25519_pub");
  /* PrivateKey { Type = 1, Data = 64 bytes: seed || public key }. */
  static const uint8_t hdr[] = {0x08, 0x01, 0x12, 0x40};
  assert_int_equal(plen, 4 + 64);
  assert_memory_equal(priv, hdr, 4);

  lp2p_identity id;
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_ED25519, priv + 4), 0);
  assert_memory_equal(id.sk, priv + 4, 64);
  assert_int_equal(lp2p_pubkey_marshal(pb, sizeof pb, &id.pub), (int)publen);
  assert_memory_equal(pb, pub, publen);

  /* 36 bytes <= 42: identity multihash, so the key comes back out. */
  lp2p_peerid pid;
  lp2p_pubkey back;
  check_peerid_text(&id.pub, vec("ed25519_id"));
  assert_int_equal(lp2p_peerid_from_pubkey(&pid, &id.pub), 0);
  assert_int_equal(pid.bytes[0], 0x00);
  assert_int_equal(pid.bytes[1], 36);
  assert_int_equal(lp2p_peerid_pubkey(&back, &pid), 0);
  assert_int_equal(back.type, LP2P_KEY_ED25519);
  assert_int_equal(back.len, 32);
  assert_memory_equal(back.key, id.pub.key, 32);
  lp2p_identity_clear(&id);
}

static void test_secp256k1_vector(void **state) {
  (void)state;
  uint8_t priv[64], pub[64], pb[LP2P_PUBKEY_PB_MAX];
  size_t plen = vec_hex(priv, sizeof priv, "secp256k1_priv");
  size_t publen = vec_hex(pub, sizeof pub, "secp256k1_pub");
  static const uint8_t hdr[] = {0x08, 0x02, 0x12, 0x20};
  assert_int_equal(plen, 4 + 32);
  assert_memory_equal(priv, hdr, 4);

  lp2p_identity id;
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_SECP256K1, priv + 4), 0);
  assert_int_equal(id.pub.len, 33);
  assert_int_equal(lp2p_pubkey_marshal(pb, sizeof pb, &id.pub), (int)publen);
  assert_memory_equal(pb, pub, publen);
  check_peerid_text(&id.pub, vec("secp256k1_id"));
  lp2p_identity_clear(&id);
}

static void check_unmarshal_roundtrip(const char *name, lp2p_key_type type) {
  uint8_t in[64], out[LP2P_PUBKEY_PB_MAX];
  size_t n = vec_hex(in, sizeof in, name);
  lp2p_pubkey pk;
  assert_int_equal(lp2p_pubkey_unmarshal(&pk, in, n), 0);
  assert_int_equal(pk.type, type);
  assert_int_equal(lp2p_pubkey_marshal(out, sizeof out, &pk), (int)n);
  assert_memory_equal(out, in, n);
  /* Output cap one short is refused. */
  assert_int_equal(lp2p_pubkey_marshal(out, n - 1, &pk), LP2P_ETOOBIG);
  /* Every truncation is refused. */
  for (size_t k = 0; k < n; k++)
    assert_int_equal(lp2p_pubkey_unmarshal(&pk, in, k), LP2P_EKEY);
}

static void test_pubkey_roundtrip(void **state) {
  (void)state;
  check_unmarshal_roundtrip("ed25519_pub", LP2P_KEY_ED25519);
  check_unmarshal_roundtrip("secp256k1_pub", LP2P_KEY_SECP256K1);
}

/* ---- RSA and ECDSA (remote keys only) ---- */

/* The spec's RSA (4096-bit) and ECDSA (P-256) public keys: accepted,
 * re-marshalled byte for byte, with sha2-256 peer ids (their encodings are
 * over 42 bytes) that match the ids in peer-ids.txt. */
static void test_rsa_ecdsa_vectors(void **state) {
  (void)state;
  static const struct {
    const char *pub, *id;
    lp2p_key_type type;
    size_t data_len;
  } keys[] = {{"rsa_pub", "rsa_id", LP2P_KEY_RSA, 550},
              {"ecdsa_pub", "ecdsa_id", LP2P_KEY_ECDSA, 91}};
  for (int i = 0; i < 2; i++) {
    uint8_t pb[LP2P_PUBKEY_PB_MAX], out[LP2P_PUBKEY_PB_MAX];
    size_t n = vec_hex(pb, sizeof pb, keys[i].pub);
    lp2p_pubkey pk;
    lp2p_peerid id, id_pb;
    assert_int_equal(lp2p_pubkey_unmarshal(&pk, pb, n), 0);
    assert_int_equal(pk.type, keys[i].type);
    assert_int_equal(pk.len, keys[i].data_len);
    assert_memory_equal(pk.key, pb + n - pk.len, pk.len);
    assert_int_equal(lp2p_pubkey_marshal(out, sizeof out, &pk), (int)n);
    assert_memory_equal(out, pb, n);
    assert_int_equal(lp2p_pubkey_marshal(out, n - 1, &pk), LP2P_ETOOBIG);
    for (size_t k = 0; k < n; k++)
      assert_int_equal(lp2p_pubkey_unmarshal(&pk, pb, k), LP2P_EKEY);
    assert_int_equal(lp2p_pubkey_unmarshal(&pk, pb, n), 0);

    check_peerid_text(&pk, vec(keys[i].id));
    assert_int_equal(lp2p_peerid_from_pubkey(&id, &pk), 0);
    assert_int_equal(lp2p_peerid_from_pubkey_pb(&id_pb, pb, n), 0);
    assert_true(lp2p_peerid_equal(&id, &id_pb));
    assert_int_equal(id.len, 34);
    assert_int_equal(id.bytes[0], 0x12);
    assert_int_equal(id.bytes[1], 32);
    /* A hashed id does not give the key back. */
    assert_int_equal(lp2p_peerid_pubkey(&pk, &id), LP2P_EKEY);
  }
}

/* A PublicKey from key-sigs.txt, else from peer-ids.txt (the spec's). */
static void load_key(lp2p_pubkey *pk, const char *name) {
  uint8_t pb[LP2P_PUBKEY_PB_MAX];
  const char *hex = vec_find(g_sigs, name);
  size_t n = tu_hex(pb, sizeof pb, hex ? hex : vec(name));
  assert_int_equal(lp2p_pubkey_unmarshal(pk, pb, n), 0);
}

/* Signatures by OpenSSL verify; any change to the message or signature, and
 * any other key, makes them fail with LP2P_ESIG. */
static void test_rsa_ecdsa_verify(void **state) {
  (void)state;
  static const struct {
    const char *pub, *sig;
  } cases[] = {{"rsa_pub", "rsa_sig"},
               {"ecdsa_pub", "ecdsa_sig"},
               {"ecdsa384_pub", "ecdsa384_sig"},
               {"ecdsa521_pub", "ecdsa521_sig"},
               {"rsa2048_pub", "rsa2048_sig"}};
  enum { N = sizeof cases / sizeof cases[0] };
  uint8_t msg[128];
  size_t msg_len = sig_hex(msg, sizeof msg, "msg");
  for (size_t i = 0; i < N; i++) {
    lp2p_pubkey pk;
    uint8_t sig[LP2P_PUBKEY_MAX + 1];
    size_t sig_len = sig_hex(sig, sizeof sig, cases[i].sig);
    load_key(&pk, cases[i].pub);
    assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len), 0);

    for (size_t k = 0; k < msg_len; k++)
      for (int bit = 0; bit < 8; bit++) {
        msg[k] ^= (uint8_t)(1u << bit);
        assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len), LP2P_ESIG);
        msg[k] ^= (uint8_t)(1u << bit);
      }
    assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len - 1, sig, sig_len), LP2P_ESIG);
    for (size_t k = 0; k < sig_len; k++)
      for (int bit = 0; bit < 8; bit++) {
        sig[k] ^= (uint8_t)(1u << bit);
        assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len), LP2P_ESIG);
        sig[k] ^= (uint8_t)(1u << bit);
      }
    for (size_t k = 0; k < sig_len; k++)
      assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, k), LP2P_ESIG);
    sig[sig_len] = 0;
    assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len + 1), LP2P_ESIG);
    /* Over the signature cap: refused without a look. */
    assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, SIZE_MAX), LP2P_ESIG);
    /* Every other key refuses this signature. */
    for (size_t j = 0; j < N; j++) {
      lp2p_pubkey other;
      if (j == i) continue;
      load_key(&other, cases[j].pub);
      assert_int_equal(lp2p_pubkey_verify(&other, msg, msg_len, sig, sig_len), LP2P_ESIG);
    }
  }
}

/* Rewrites a PublicKey protobuf with another Type and/or Data. */
static size_t rewrap(uint8_t *out, size_t cap, lp2p_key_type type, const uint8_t *data,
                     size_t len) {
  size_t n = 3 + lp2p_varint_size(len) + len;
  assert_true(n <= cap);
  out[0] = 0x08;
  out[1] = (uint8_t)type;
  out[2] = 0x12;
  lp2p_varint_encode(out + 3, len);
  memcpy(out + n - len, data, len);
  return n;
}

static void assert_refused(const uint8_t *pb, size_t n) {
  lp2p_pubkey pk;
  assert_int_equal(lp2p_pubkey_unmarshal(&pk, pb, n), LP2P_EKEY);
  assert_int_equal(pk.len, 0);
}

/* Keys we refuse, at unmarshal and at verify (with a signature that is
 * valid for the key, where there is one). */
static void test_rsa_ecdsa_refused(void **state) {
  (void)state;
  uint8_t msg[128], sig[1024], pb[2048], data[LP2P_PUBKEY_PB_MAX];
  size_t msg_len = sig_hex(msg, sizeof msg, "msg"), n, sig_len;
  lp2p_pubkey pk;

  /* RSA 1024 and id-RSASSA-PSS, each with its valid signature. */
  static const char *weak[][2] = {{"rsa1024_pub", "rsa1024_sig"},
                                  {"rsapss_pub", "rsapss_sig"}};
  for (int i = 0; i < 2; i++) {
    n = sig_hex(pb, sizeof pb, weak[i][0]);
    sig_len = sig_hex(sig, sizeof sig, weak[i][1]);
    assert_refused(pb, n);
    /* Built by hand, the key is refused by verify too. */
    memset(&pk, 0, sizeof pk);
    pk.type = LP2P_KEY_RSA;
    pk.len = n - 5;
    memcpy(pk.key, pb + 5, pk.len);
    assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len), LP2P_EKEY);
  }
  /* EC keys on curves outside P-256/384/521 under the ECDSA type. */
  n = sig_hex(pb, sizeof pb, "ecdsa224_pub");
  assert_refused(pb, n);
  n = sig_hex(pb, sizeof pb, "ecdsak1_pub");
  assert_refused(pb, n);

  /* Type mismatch: an ECDSA key labelled RSA, an RSA key labelled ECDSA,
   * and SPKIs labelled ed25519 / secp256k1. */
  uint8_t ec[LP2P_PUBKEY_PB_MAX], rsa[LP2P_PUBKEY_PB_MAX];
  size_t ec_n = vec_hex(ec, sizeof ec, "ecdsa_pub");
  size_t rsa_n = vec_hex(rsa, sizeof rsa, "rsa_pub");
  const uint8_t *ec_data = ec + 4, *rsa_data = rsa + 5;
  size_t ec_len = ec_n - 4, rsa_len = rsa_n - 5;
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_RSA, ec_data, ec_len));
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_ECDSA, rsa_data, rsa_len));
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_ED25519, ec_data, ec_len));
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_SECP256K1, ec_data, ec_len));
  sig_len = sig_hex(sig, sizeof sig, "ecdsa_sig");
  memset(&pk, 0, sizeof pk);
  pk.type = LP2P_KEY_RSA;
  pk.len = ec_len;
  memcpy(pk.key, ec_data, ec_len);
  assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len), LP2P_EKEY);
  pk.type = LP2P_KEY_ECDSA;
  assert_int_equal(lp2p_pubkey_verify(&pk, msg, msg_len, sig, sig_len), 0);

  /* Not canonical DER: the outer SEQUENCE length in long form; a trailing
   * byte; truncated. */
  assert_int_equal(ec_data[0], 0x30);
  assert_int_equal(ec_data[1], ec_len - 2);
  data[0] = 0x30;
  data[1] = 0x81;
  memcpy(data + 2, ec_data + 1, ec_len - 1);
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_ECDSA, data, ec_len + 1));
  memcpy(data, ec_data, ec_len);
  data[ec_len] = 0;
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_ECDSA, data, ec_len + 1));
  for (size_t k = 0; k < ec_len; k++)
    assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_ECDSA, ec_data, k));
  memcpy(data, rsa_data, rsa_len);
  data[rsa_len] = 0;
  assert_refused(pb, rewrap(pb, sizeof pb, LP2P_KEY_RSA, data, rsa_len + 1));

  /* RSA 8192: a real key, but its 1062-byte Data is over the cap, so it is
   * refused on its length; its peer id is still computed. */
  n = sig_hex(pb, sizeof pb, "rsa8192_pub");
  assert_true(n > LP2P_PUBKEY_PB_MAX);
  assert_refused(pb, n);
  lp2p_peerid id;
  assert_int_equal(lp2p_peerid_from_pubkey_pb(&id, pb, n), 0);
  assert_int_equal(id.bytes[0], 0x12);

  /* Hand-built keys: garbage, empty, over the cap. */
  lp2p_pubkey junk = {.type = LP2P_KEY_RSA, .len = 3, .key = {1, 2, 3}};
  assert_int_equal(lp2p_pubkey_verify(&junk, msg, msg_len, sig, sig_len), LP2P_EKEY);
  junk.type = LP2P_KEY_ECDSA;
  junk.len = 0;
  assert_int_equal(lp2p_pubkey_verify(&junk, msg, msg_len, sig, sig_len), LP2P_EKEY);
  junk.len = LP2P_PUBKEY_MAX + 1;
  assert_int_equal(lp2p_pubkey_verify(&junk, msg, msg_len, sig, sig_len), LP2P_EKEY);
  assert_int_equal(lp2p_pubkey_marshal(pb, sizeof pb, &junk), LP2P_EKEY);
}

static void test_pubkey_malformed(void **state) {
  (void)state;
  static const char *bad[] = {
      "",
      "08",
      "0801",
      "080112",
      /* unknown key type 4 */
      "080412201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
      /* type as a non-minimal varint */
      "08810012201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
      /* fields in the wrong order */
      "12201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e0801",
      /* an extra field after Data */
      "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e1800",
      /* Type repeated */
      "0801080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
      /* Data length past the end / short of the end */
      "080112211ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
      "0801121f1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
      /* ed25519 key of 31 bytes */
      "0801121f1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce2",
      /* secp256k1: x >= field prime, bad prefix, wrong length */
      "0802122102ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
      "08021221057777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99",
      "08021220037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t in[128];
    size_t n = tu_hex(in, sizeof in, bad[i]);
    lp2p_pubkey pk;
    assert_int_equal(lp2p_pubkey_unmarshal(&pk, in, n), LP2P_EKEY);
    assert_int_equal(pk.len, 0);
  }
  /* Over the cap, refused before reading: a well-formed PublicKey one byte
   * over LP2P_PUBKEY_PB_MAX, and a Data of LP2P_PUBKEY_MAX + 1 bytes
   * inside the cap. */
  static uint8_t big[LP2P_PUBKEY_PB_MAX + 1];
  lp2p_pubkey pk;
  size_t dlen = LP2P_PUBKEY_PB_MAX + 1 - 5;
  big[0] = 0x08;
  big[1] = LP2P_KEY_RSA;
  big[2] = 0x12;
  assert_int_equal(lp2p_varint_encode(big + 3, dlen), 2);
  assert_int_equal(lp2p_pubkey_unmarshal(&pk, big, sizeof big), LP2P_EKEY);
  assert_int_equal(lp2p_varint_encode(big + 3, LP2P_PUBKEY_MAX + 1), 2);
  assert_int_equal(lp2p_pubkey_unmarshal(&pk, big, 5 + LP2P_PUBKEY_MAX + 1), LP2P_EKEY);
  /* Exactly at the cap, it gets to the key check (garbage: refused). */
  assert_int_equal(lp2p_varint_encode(big + 3, LP2P_PUBKEY_MAX), 2);
  assert_int_equal(lp2p_pubkey_unmarshal(&pk, big, LP2P_PUBKEY_PB_MAX), LP2P_EKEY);
}

/* ---- peer id text ---- */

static void test_peerid_cid(void **state) {
  (void)state;
  lp2p_peerid a, b;
  char text[128];
  /* The spec's CID example is the same peer as its base58 example. */
  assert_int_equal(lp2p_peerid_parse(&a, vec("example_cid")), 0);
  assert_int_equal(lp2p_peerid_parse(&b, vec("example_sha256")), 0);
  assert_true(lp2p_peerid_equal(&a, &b));
  assert_int_equal(lp2p_peerid_to_text(text, sizeof text, &a),
                   (int)strlen(vec("example_sha256")));
  assert_string_equal(text, vec("example_sha256"));
  assert_int_equal(lp2p_peerid_to_cid(text, sizeof text, &b),
                   (int)strlen(vec("example_cid")));
  assert_string_equal(text, vec("example_cid"));
  assert_int_equal(lp2p_peerid_pubkey(&(lp2p_pubkey){0}, &a), LP2P_EKEY);

  /* An identity id: CID round trip, in base32 and base58 ('z') multibase. */
  assert_int_equal(lp2p_peerid_parse(&a, vec("ed25519_id")), 0);
  assert_true(lp2p_peerid_to_cid(text, sizeof text, &a) > 0);
  assert_int_equal(lp2p_peerid_parse(&b, text), 0);
  assert_true(lp2p_peerid_equal(&a, &b));
  uint8_t cid[2 + LP2P_PEERID_MAX] = {0x01, 0x72};
  memcpy(cid + 2, a.bytes, a.len);
  text[0] = 'z';
  assert_true(lp2p_base58_encode(text + 1, sizeof text - 1, cid, 2 + a.len) > 0);
  assert_int_equal(lp2p_peerid_parse(&b, text), 0);
  assert_true(lp2p_peerid_equal(&a, &b));
  /* Wrong CID version or codec. */
  text[0] = 'b';
  cid[0] = 0x00;
  assert_true(lp2p_base32_encode(text + 1, sizeof text - 1, cid, 2 + a.len) > 0);
  assert_int_equal(lp2p_peerid_parse(&b, text), LP2P_EBASE58);
  cid[0] = 0x01;
  cid[1] = 0x70;
  assert_true(lp2p_base32_encode(text + 1, sizeof text - 1, cid, 2 + a.len) > 0);
  assert_int_equal(lp2p_peerid_parse(&b, text), LP2P_EBASE58);
  assert_int_equal(lp2p_peerid_to_cid(text, 10, &a), LP2P_ETOOBIG);
}

static void test_peerid_example_ed25519(void **state) {
  (void)state;
  lp2p_peerid id, again;
  lp2p_pubkey pk;
  char text[128];
  assert_int_equal(lp2p_peerid_parse(&id, vec("example_ed25519")), 0);
  assert_int_equal(lp2p_peerid_pubkey(&pk, &id), 0);
  assert_int_equal(pk.type, LP2P_KEY_ED25519);
  assert_int_equal(lp2p_peerid_from_pubkey(&again, &pk), 0);
  assert_true(lp2p_peerid_equal(&id, &again));
  assert_true(lp2p_peerid_to_text(text, sizeof text, &again) > 0);
  assert_string_equal(text, vec("example_ed25519"));
}

static void test_peerid_malformed(void **state) {
  (void)state;
  static const char *bad[] = {
      "",
      "1",
      "Qm",
      "bafz",
      "B",
      "b",
      "z",
      "f0172",
      "x12D3KooW",
      "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N0",
      "BAFZBEIE5745RPV2M6TJYUUGYWY4D5EWRQGQQHFNF445HE3OMZPJBX5XQXE",
      "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe=",
  };
  lp2p_peerid id;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(lp2p_peerid_parse(&id, bad[i]), LP2P_EBASE58);
  /* Every truncation and one extra character of each valid text. */
  static const char *good[] = {"example_cid", "example_sha256", "example_ed25519",
                               "secp256k1_id"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char t[128];
    strcpy(t, vec(good[i]));
    size_t n = strlen(t);
    assert_int_equal(lp2p_peerid_parse(&id, t), 0);
    for (size_t k = 0; k < n; k++) {
      char pre[128];
      memcpy(pre, t, k);
      pre[k] = 0;
      assert_int_equal(lp2p_peerid_parse(&id, pre), LP2P_EBASE58);
    }
    t[n] = 'a';
    t[n + 1] = 0;
    assert_int_equal(lp2p_peerid_parse(&id, t), LP2P_EBASE58);
  }
  /* Multihash bytes: unsupported hash, wrong digest length, empty. */
  static const char *badmh[] = {"1320"
                                "00",
                                "1220"
                                "00",
                                "0000", "00", ""};
  for (size_t i = 0; i < sizeof badmh / sizeof badmh[0]; i++) {
    uint8_t b[8];
    size_t n = tu_hex(b, sizeof b, badmh[i]);
    assert_int_equal(lp2p_peerid_from_bytes(&id, b, n), LP2P_EBASE58);
  }
  /* A long text is refused before decoding. */
  char big[2048];
  memset(big, 'z', sizeof big - 1);
  big[0] = 'Q';
  big[sizeof big - 1] = 0;
  assert_int_equal(lp2p_peerid_parse(&id, big), LP2P_EBASE58);
}

/* ---- identities, sign and verify ---- */

static const uint8_t MSG[] = "libp2p-tls-handshake: noise payload";

static void check_sign_verify(lp2p_key_type type, uint64_t seed) {
  lp2p_env env = {.random = tu_random, .random_ud = &seed};
  lp2p_identity id, other;
  uint8_t sig[LP2P_SIG_MAX];
  size_t sig_len = 0;
  assert_int_equal(lp2p_identity_generate(&id, type, &env), 0);
  assert_int_equal(lp2p_identity_generate(&other, type, &env), 0);
  assert_int_equal(lp2p_identity_sign(sig, &sig_len, &id, MSG, sizeof MSG), 0);
  assert_true(sig_len > 0 && sig_len <= LP2P_SIG_MAX);
  if (type == LP2P_KEY_ED25519) assert_int_equal(sig_len, 64);
  assert_int_equal(lp2p_pubkey_verify(&id.pub, MSG, sizeof MSG, sig, sig_len), 0);

  /* A key parsed back from the wire verifies too. */
  uint8_t pb[LP2P_PUBKEY_PB_MAX];
  lp2p_pubkey remote;
  int n = lp2p_pubkey_marshal(pb, sizeof pb, &id.pub);
  assert_true(n > 0);
  assert_int_equal(lp2p_pubkey_unmarshal(&remote, pb, (size_t)n), 0);
  assert_int_equal(lp2p_pubkey_verify(&remote, MSG, sizeof MSG, sig, sig_len), 0);

  /* Tampering: message, every signature bit, length, key. */
  uint8_t msg[sizeof MSG];
  memcpy(msg, MSG, sizeof MSG);
  msg[3] ^= 1;
  assert_int_equal(lp2p_pubkey_verify(&id.pub, msg, sizeof msg, sig, sig_len), LP2P_ESIG);
  for (size_t k = 0; k < sig_len; k++) {
    for (int bit = 0; bit < 8; bit++) {
      sig[k] ^= (uint8_t)(1u << bit);
      assert_int_equal(lp2p_pubkey_verify(&id.pub, MSG, sizeof MSG, sig, sig_len),
                       LP2P_ESIG);
      sig[k] ^= (uint8_t)(1u << bit);
    }
  }
  for (size_t k = 0; k < sig_len; k++)
    assert_int_equal(lp2p_pubkey_verify(&id.pub, MSG, sizeof MSG, sig, k), LP2P_ESIG);
  uint8_t longer[LP2P_SIG_MAX + 8] = {0};
  memcpy(longer, sig, sig_len);
  assert_int_equal(lp2p_pubkey_verify(&id.pub, MSG, sizeof MSG, longer, sig_len + 1),
                   LP2P_ESIG);
  assert_int_equal(lp2p_pubkey_verify(&other.pub, MSG, sizeof MSG, sig, sig_len),
                   LP2P_ESIG);
  lp2p_identity_clear(&id);
  lp2p_identity_clear(&other);
}

static void test_sign_verify(void **state) {
  (void)state;
  check_sign_verify(LP2P_KEY_ED25519, 1);
  check_sign_verify(LP2P_KEY_SECP256K1, 2);
}

/* Other implementations may send high-S ECDSA signatures; they verify. */
static void test_secp256k1_high_s(void **state) {
  (void)state;
  uint8_t priv[64];
  vec_hex(priv, sizeof priv, "secp256k1_priv");
  lp2p_identity id;
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_SECP256K1, priv + 4), 0);
  uint8_t sig[LP2P_SIG_MAX], high[LP2P_SIG_MAX], rs[64];
  size_t sig_len, high_len = sizeof high;
  assert_int_equal(lp2p_identity_sign(sig, &sig_len, &id, MSG, sizeof MSG), 0);

  /* s -> n - s with the library's scalar negation. */
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  secp256k1_ecdsa_signature s;
  assert_true(secp256k1_ecdsa_signature_parse_der(ctx, &s, sig, sig_len));
  assert_true(secp256k1_ecdsa_signature_serialize_compact(ctx, rs, &s));
  assert_true(secp256k1_ec_seckey_negate(ctx, rs + 32));
  assert_true(secp256k1_ecdsa_signature_parse_compact(ctx, &s, rs));
  assert_true(secp256k1_ecdsa_signature_serialize_der(ctx, high, &high_len, &s));
  secp256k1_context_destroy(ctx);

  assert_false(high_len == sig_len && memcmp(high, sig, sig_len) == 0);
  assert_int_equal(lp2p_pubkey_verify(&id.pub, MSG, sizeof MSG, high, high_len), 0);
  assert_int_equal(lp2p_pubkey_verify(&id.pub, MSG, sizeof MSG - 1, high, high_len),
                   LP2P_ESIG);
  lp2p_identity_clear(&id);
}

static int failing_random(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  (void)out;
  (void)len;
  return LP2P_ENOMEM;
}

static void test_generate(void **state) {
  (void)state;
  uint64_t s1 = 42, s2 = 42, s3 = 43;
  lp2p_env e1 = {.random = tu_random, .random_ud = &s1};
  lp2p_env e2 = {.random = tu_random, .random_ud = &s2};
  lp2p_env e3 = {.random = tu_random, .random_ud = &s3};
  static const struct {
    lp2p_key_type type;
    const char *prefix;
  } kinds[] = {{LP2P_KEY_ED25519, "12D3KooW"}, {LP2P_KEY_SECP256K1, "16Uiu2HA"}};
  for (int i = 0; i < 2; i++) {
    lp2p_identity a, b, c;
    lp2p_peerid id;
    char text[128];
    assert_int_equal(lp2p_identity_generate(&a, kinds[i].type, &e1), 0);
    assert_int_equal(lp2p_identity_generate(&b, kinds[i].type, &e2), 0);
    assert_int_equal(lp2p_identity_generate(&c, kinds[i].type, &e3), 0);
    /* Deterministic in env->random only. */
    assert_memory_equal(a.pub.key, b.pub.key, a.pub.len);
    assert_memory_not_equal(a.pub.key, c.pub.key, a.pub.len);
    assert_int_equal(lp2p_peerid_from_pubkey(&id, &a.pub), 0);
    assert_true(lp2p_peerid_to_text(text, sizeof text, &id) > 0);
    assert_memory_equal(text, kinds[i].prefix, 8);
    lp2p_identity_clear(&a);
    lp2p_identity_clear(&b);
    lp2p_identity_clear(&c);
  }
  lp2p_identity x;
  lp2p_env bad = {.random = failing_random};
  assert_int_equal(lp2p_identity_generate(&x, LP2P_KEY_ED25519, &bad), LP2P_ENOMEM);
  assert_int_equal(lp2p_identity_generate(&x, LP2P_KEY_SECP256K1, &bad), LP2P_ENOMEM);
  assert_int_equal(lp2p_identity_generate(&x, LP2P_KEY_ED25519, NULL), LP2P_EINVAL);
  assert_int_equal(lp2p_identity_generate(&x, LP2P_KEY_RSA, &e1), LP2P_EKEY);
}

static void test_secret_checks(void **state) {
  (void)state;
  lp2p_identity id;
  uint8_t zero[32] = {0}, order[32];
  /* The group order n of secp256k1 (SEC 2, section 2.4.1) is out of range. */
  tu_hex(order, sizeof order,
         "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_SECP256K1, zero), LP2P_EKEY);
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_SECP256K1, order), LP2P_EKEY);
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_ECDSA, order), LP2P_EKEY);
  uint8_t blank[sizeof id];
  memset(blank, 0, sizeof blank);
  assert_memory_equal(&id, blank, sizeof id);

  uint8_t seed[32];
  memset(seed, 7, sizeof seed);
  assert_int_equal(lp2p_identity_from_secret(&id, LP2P_KEY_ED25519, seed), 0);
  lp2p_identity_clear(&id);
  assert_memory_equal(&id, blank, sizeof id);

  /* An identity of an unsupported type cannot sign. */
  uint8_t sig[LP2P_SIG_MAX];
  size_t sig_len;
  id.type = LP2P_KEY_RSA;
  assert_int_equal(lp2p_identity_sign(sig, &sig_len, &id, seed, 1), LP2P_EKEY);
}

static void test_self_check(void **state) {
  (void)state;
  uint64_t seed = 5;
  lp2p_env env = {.random = tu_random, .random_ud = &seed};
  lp2p_key_type types[] = {LP2P_KEY_ED25519, LP2P_KEY_SECP256K1};
  for (int t = 0; t < 2; t++) {
    lp2p_identity a, b;
    assert_int_equal(lp2p_identity_generate(&a, types[t], &env), 0);
    assert_int_equal(lp2p_identity_generate(&b, types[t], &env), 0);
    assert_int_equal(lp2p_identity_self_check(&a), 0);
    /* An empty signature is refused, not passed to the library (libsecp256k1
     * aborts on a zero-length DER input; found by fuzz_keys). */
    uint8_t none[1] = {0};
    assert_int_equal(lp2p_pubkey_verify(&a.pub, none, 1, none, 0), LP2P_ESIG);
    a.pub = b.pub; /* a secret key with someone else's public key */
    assert_int_equal(lp2p_identity_self_check(&a), LP2P_ESIG);
    lp2p_identity_clear(&a);
    lp2p_identity_clear(&b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_self_check),
      cmocka_unit_test(test_ed25519_vector),
      cmocka_unit_test(test_secp256k1_vector),
      cmocka_unit_test(test_pubkey_roundtrip),
      cmocka_unit_test(test_rsa_ecdsa_vectors),
      cmocka_unit_test(test_rsa_ecdsa_verify),
      cmocka_unit_test(test_rsa_ecdsa_refused),
      cmocka_unit_test(test_pubkey_malformed),
      cmocka_unit_test(test_peerid_cid),
      cmocka_unit_test(test_peerid_example_ed25519),
      cmocka_unit_test(test_peerid_malformed),
      cmocka_unit_test(test_sign_verify),
      cmocka_unit_test(test_secp256k1_high_s),
      cmocka_unit_test(test_generate),
      cmocka_unit_test(test_secret_checks),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
