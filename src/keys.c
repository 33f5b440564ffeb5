/* Identity keys and peer ids (libp2p/specs peer-ids/peer-ids.md). All
 * cryptography comes from libsodium (ed25519, SHA-256), libsecp256k1
 * (secp256k1 ECDSA) and, through the GnuTLS module, GnuTLS (remote RSA and
 * ECDSA keys: keys_spki.c); this file only encodes and checks sizes. */
#include "lp2p/keys.h"

#include "gnutls_module.h"
#include "lp2p/codec.h"

#include <secp256k1.h>
#include <sodium.h>
#include <string.h>

/* LP2P_PUBKEY_PB_MAX counts 2 bytes for the varint length of Data. */
_Static_assert(LP2P_PUBKEY_MAX < (1 << 14), "Data length must fit 2 bytes");

#define ED25519_PK 32
#define ED25519_SEED 32
#define ED25519_SIG 64
#define SECP_SK 32
#define SECP_PK_COMPRESSED 33
#define SECP_PK_UNCOMPRESSED 65

/* peer-ids.md "Peer Ids": keys whose encoding is at most 42 bytes are
 * inlined with the identity multihash, others hashed with sha2-256. */
#define PEERID_INLINE_MAX 42
#define MH_IDENTITY 0x00
#define MH_SHA2_256 0x12
/* multicodec table: libp2p-key, the CID codec of peer ids. */
#define CODEC_LIBP2P_KEY 0x72

static int crypto_ready(void) {
  /* sodium_init: 0 first time, 1 when already done, -1 on failure. */
  return sodium_init() < 0 ? LP2P_EINVAL : 0;
}

/* One context for the process: the engines run on a single thread. */
static secp256k1_context *secp_ctx(void) {
  static secp256k1_context *ctx;
  if (!ctx) ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  return ctx;
}

/* ---- identities ---- */

static int secp_from_secret(lp2p_identity *id, const uint8_t secret[32]) {
  secp256k1_context *ctx = secp_ctx();
  secp256k1_pubkey pk;
  size_t n = SECP_PK_COMPRESSED;
  if (!ctx) return LP2P_ENOMEM;
  if (!secp256k1_ec_seckey_verify(ctx, secret) ||
      !secp256k1_ec_pubkey_create(ctx, &pk, secret))
    return LP2P_EKEY;
  secp256k1_ec_pubkey_serialize(ctx, id->pub.key, &n, &pk, SECP256K1_EC_COMPRESSED);
  memcpy(id->sk, secret, SECP_SK);
  id->pub.len = n;
  return 0;
}

int lp2p_identity_from_secret(lp2p_identity *id, lp2p_key_type type,
                              const uint8_t secret[32]) {
  int rc = crypto_ready();
  if (rc) return rc;
  memset(id, 0, sizeof *id);
  id->type = id->pub.type = type;
  if (type == LP2P_KEY_ED25519) {
    if (crypto_sign_seed_keypair(id->pub.key, id->sk, secret) != 0) rc = LP2P_EKEY;
    id->pub.len = ED25519_PK;
  } else if (type == LP2P_KEY_SECP256K1) {
    rc = secp_from_secret(id, secret);
  } else {
    rc = LP2P_EKEY;
  }
  if (rc) lp2p_identity_clear(id);
  return rc;
}

int lp2p_identity_generate(lp2p_identity *id, lp2p_key_type type, const lp2p_env *env) {
  uint8_t secret[32];
  int rc = LP2P_EKEY;
  if (!env || !env->random) return LP2P_EINVAL;
  if (type != LP2P_KEY_ED25519 && type != LP2P_KEY_SECP256K1) return LP2P_EKEY;
  if (type == LP2P_KEY_SECP256K1 && secp_ctx() &&
      env->random(env->random_ud, secret, sizeof secret) == 0) {
    /* Blinds the shared context against side channels; optional, so a
     * failure only costs that hardening. */
    if (!secp256k1_context_randomize(secp_ctx(), secret))
      LP2P_DEBUG("keys", "secp256k1 context randomization failed");
  }
  /* A secp256k1 draw is out of range with probability ~2^-128; a few tries
   * only guard against a broken source. */
  for (int tries = 0; tries < 4 && rc == LP2P_EKEY; tries++) {
    int r = env->random(env->random_ud, secret, sizeof secret);
    rc = r ? r : lp2p_identity_from_secret(id, type, secret);
  }
  sodium_memzero(secret, sizeof secret);
  return rc;
}

int lp2p_identity_self_check(const lp2p_identity *id) {
  static const uint8_t msg[] = "lp2p-interop identity self-check";
  uint8_t sig[LP2P_SIG_MAX];
  size_t sig_len;
  int rc = lp2p_identity_sign(sig, &sig_len, id, msg, sizeof msg);
  return rc ? rc : lp2p_pubkey_verify(&id->pub, msg, sizeof msg, sig, sig_len);
}

int lp2p_identity_sign(uint8_t *sig, size_t *sig_len, const lp2p_identity *id,
                       const uint8_t *msg, size_t len) {
  int rc = crypto_ready();
  if (rc) return rc;
  if (id->type == LP2P_KEY_ED25519) {
    unsigned long long n;
    crypto_sign_detached(sig, &n, msg, len, id->sk);
    *sig_len = (size_t)n;
    return 0;
  }
  if (id->type != LP2P_KEY_SECP256K1) return LP2P_EKEY;
  /* peer-ids.md "Secp256k1": ECDSA over SHA-256 of the message, DER. */
  secp256k1_context *ctx = secp_ctx();
  uint8_t h[crypto_hash_sha256_BYTES];
  secp256k1_ecdsa_signature s;
  size_t n = LP2P_SIG_MAX;
  if (!ctx) return LP2P_ENOMEM;
  crypto_hash_sha256(h, msg, len);
  if (!secp256k1_ecdsa_sign(ctx, &s, h, id->sk, NULL, NULL) ||
      !secp256k1_ecdsa_signature_serialize_der(ctx, sig, &n, &s))
    return LP2P_EKEY;
  *sig_len = n;
  return 0;
}

void lp2p_identity_clear(lp2p_identity *id) { sodium_memzero(id, sizeof *id); }

/* ---- verification ---- */

static int secp_parse_pubkey(secp256k1_pubkey *out, const uint8_t *p, size_t len) {
  secp256k1_context *ctx = secp_ctx();
  if (!ctx) return LP2P_ENOMEM;
  if (len != SECP_PK_COMPRESSED && len != SECP_PK_UNCOMPRESSED) return LP2P_EKEY;
  return secp256k1_ec_pubkey_parse(ctx, out, p, len) ? 0 : LP2P_EKEY;
}

static int secp_verify(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                       const uint8_t *sig, size_t sig_len) {
  secp256k1_context *ctx = secp_ctx();
  secp256k1_pubkey key;
  secp256k1_ecdsa_signature s;
  uint8_t h[crypto_hash_sha256_BYTES];
  int rc = secp_parse_pubkey(&key, pk->key, pk->len);
  if (rc) return rc;
  /* An empty signature may come as NULL (protobuf-c does so for an empty
   * bytes field), which libsecp256k1 treats as a caller bug and aborts. */
  if (sig_len == 0 || sig_len > LP2P_SIG_MAX ||
      !secp256k1_ecdsa_signature_parse_der(ctx, &s, sig, sig_len))
    return LP2P_ESIG;
  /* libsecp256k1 verifies low-S only (BIP 62 rule); other implementations
   * may emit high-S, which is just as valid for ECDSA. */
  secp256k1_ecdsa_signature_normalize(ctx, &s, &s);
  crypto_hash_sha256(h, msg, len);
  return secp256k1_ecdsa_verify(ctx, &s, h, &key) ? 0 : LP2P_ESIG;
}

/* RSA and ECDSA (DER SubjectPublicKeyInfo) are GnuTLS's business, in the
 * module (gnutls_module.h), loaded when the first such key comes: a peer
 * with an ed25519 or secp256k1 key never costs a process GnuTLS. */
static const lp2p__gnutls_ops *spki_module(const lp2p_pubkey *pk) {
  const lp2p__gnutls_ops *m = lp2p__gnutls();
  if (!m)
    LP2P_REASON("keys", "%s key not checked: %s",
                pk->type == LP2P_KEY_RSA ? "RSA" : "ECDSA", lp2p__gnutls_error());
  return m;
}

static int spki_verify(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                       const uint8_t *sig, size_t sig_len) {
  const lp2p__gnutls_ops *m = spki_module(pk);
  return m ? m->key_verify(pk, msg, len, sig, sig_len) : LP2P_EKEY;
}

static int spki_check(const lp2p_pubkey *pk) {
  const lp2p__gnutls_ops *m = spki_module(pk);
  return m ? m->key_check(pk) : LP2P_EKEY;
}

int lp2p_pubkey_verify(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                       const uint8_t *sig, size_t sig_len) {
  int rc = crypto_ready();
  if (rc) return rc;
  switch (pk->type) {
  case LP2P_KEY_ED25519:
    if (pk->len != ED25519_PK) return LP2P_EKEY;
    if (sig_len != ED25519_SIG) return LP2P_ESIG;
    return crypto_sign_verify_detached(sig, msg, len, pk->key) == 0 ? 0 : LP2P_ESIG;
  case LP2P_KEY_SECP256K1: return secp_verify(pk, msg, len, sig, sig_len);
  case LP2P_KEY_RSA:
  case LP2P_KEY_ECDSA: return spki_verify(pk, msg, len, sig, sig_len);
  default: return LP2P_EKEY;
  }
}

/* ---- PublicKey protobuf ---- */

/* Protobuf tags: field 1 varint (0x08), field 2 length-delimited (0x12). */
#define PB_TAG_TYPE 0x08
#define PB_TAG_DATA 0x12

int lp2p_pubkey_marshal(uint8_t *out, size_t cap, const lp2p_pubkey *pk) {
  if ((unsigned)pk->type > LP2P_KEY_ECDSA || pk->len > LP2P_PUBKEY_MAX) return LP2P_EKEY;
  /* peer-ids.md "Keys": deterministic, fields in tag order, minimal
   * varints. Type < 128 fits one varint byte, the length at most two. */
  size_t lenlen = lp2p_varint_size(pk->len);
  size_t n = 3 + lenlen + pk->len;
  if (n > cap) return LP2P_ETOOBIG;
  out[0] = PB_TAG_TYPE;
  out[1] = (uint8_t)pk->type;
  out[2] = PB_TAG_DATA;
  lp2p_varint_encode(out + 3, pk->len);
  memcpy(out + 3 + lenlen, pk->key, pk->len);
  return (int)n;
}

static int check_key(const lp2p_pubkey *pk) {
  secp256k1_pubkey key;
  switch (pk->type) {
  case LP2P_KEY_ED25519: return pk->len == ED25519_PK ? 0 : LP2P_EKEY;
  case LP2P_KEY_SECP256K1: return secp_parse_pubkey(&key, pk->key, pk->len);
  case LP2P_KEY_RSA:
  case LP2P_KEY_ECDSA: return spki_check(pk);
  default: return LP2P_EKEY;
  }
}

int lp2p_pubkey_unmarshal(lp2p_pubkey *pk, const uint8_t *in, size_t len) {
  uint64_t type, dlen;
  size_t pos = 0;
  int n;
  memset(pk, 0, sizeof *pk);
  /* Only the deterministic form is accepted (peer-ids.md "Keys"): Type then
   * Data, each once, nothing else, so that the peer id is well defined. */
  if (len > LP2P_PUBKEY_PB_MAX) {
    LP2P_DEBUG("keys", "PublicKey of %zu bytes: over the cap", len);
    return LP2P_EKEY;
  }
  if (len < 2 || in[pos++] != PB_TAG_TYPE) return LP2P_EKEY;
  n = lp2p_varint_decode(&type, in + pos, len - pos);
  if (n <= 0 || type > LP2P_KEY_ECDSA) return LP2P_EKEY;
  pos += (size_t)n;
  if (pos >= len || in[pos++] != PB_TAG_DATA) return LP2P_EKEY;
  n = lp2p_varint_decode(&dlen, in + pos, len - pos);
  if (n <= 0) return LP2P_EKEY;
  pos += (size_t)n;
  if (dlen != len - pos || dlen > LP2P_PUBKEY_MAX) return LP2P_EKEY;
  pk->type = (lp2p_key_type)type;
  pk->len = (size_t)dlen;
  memcpy(pk->key, in + pos, pk->len);
  int rc = check_key(pk);
  if (rc) memset(pk, 0, sizeof *pk);
  return rc;
}

/* ---- peer ids ---- */

int lp2p_peerid_from_pubkey_pb(lp2p_peerid *id, const uint8_t *pb, size_t len) {
  int rc = crypto_ready();
  if (rc) return rc;
  if (len <= PEERID_INLINE_MAX) {
    id->bytes[0] = MH_IDENTITY;
    id->bytes[1] = (uint8_t)len;
    memcpy(id->bytes + 2, pb, len);
    id->len = 2 + len;
  } else {
    id->bytes[0] = MH_SHA2_256;
    id->bytes[1] = crypto_hash_sha256_BYTES;
    crypto_hash_sha256(id->bytes + 2, pb, len);
    id->len = 2 + crypto_hash_sha256_BYTES;
  }
  return 0;
}

int lp2p_peerid_from_pubkey(lp2p_peerid *id, const lp2p_pubkey *pk) {
  uint8_t pb[LP2P_PUBKEY_PB_MAX];
  int n = lp2p_pubkey_marshal(pb, sizeof pb, pk);
  if (n < 0) return n;
  return lp2p_peerid_from_pubkey_pb(id, pb, (size_t)n);
}

int lp2p_peerid_to_text(char *out, size_t cap, const lp2p_peerid *id) {
  if (id->len > LP2P_PEERID_MAX) return LP2P_EINVAL;
  return lp2p_base58_encode(out, cap, id->bytes, id->len);
}

int lp2p_peerid_to_cid(char *out, size_t cap, const lp2p_peerid *id) {
  uint8_t cid[2 + LP2P_PEERID_MAX];
  if (id->len > LP2P_PEERID_MAX) return LP2P_EINVAL;
  if (cap < 2) return LP2P_ETOOBIG;
  /* CIDv1: <version 0x01><codec 0x72><multihash>, multibase 'b'. */
  cid[0] = 0x01;
  cid[1] = CODEC_LIBP2P_KEY;
  memcpy(cid + 2, id->bytes, id->len);
  out[0] = 'b';
  int n = lp2p_base32_encode(out + 1, cap - 1, cid, 2 + id->len);
  if (n < 0) {
    out[0] = 0;
    return n;
  }
  return n + 1;
}

/* A peer id multihash (peer-ids.md "Peer Ids"): identity inlining a
 * PublicKey of at most 42 bytes, or sha2-256 with its 32-byte digest. The
 * inlined key must be one we can use: a short prefix of a base58 id can
 * otherwise pass for a well-formed identity multihash. */
static int check_multihash(const uint8_t *p, size_t len) {
  uint64_t code;
  size_t off;
  lp2p_pubkey pk;
  if (len > LP2P_PEERID_MAX || lp2p_multihash_check(&code, &off, p, len))
    return LP2P_EBASE58;
  if (code == MH_IDENTITY && len - off <= PEERID_INLINE_MAX &&
      lp2p_pubkey_unmarshal(&pk, p + off, len - off) == 0)
    return 0;
  if (code == MH_SHA2_256 && len - off == crypto_hash_sha256_BYTES) return 0;
  return LP2P_EBASE58;
}

int lp2p_peerid_from_bytes(lp2p_peerid *id, const uint8_t *p, size_t len) {
  memset(id, 0, sizeof *id);
  if (check_multihash(p, len)) return LP2P_EBASE58;
  memcpy(id->bytes, p, len);
  id->len = len;
  return 0;
}

/* CID decoding (multiformats/cid README, "Decoding Algorithm"). */
static int parse_cid(lp2p_peerid *id, const uint8_t *p, size_t len) {
  uint64_t version, codec;
  int n1 = lp2p_varint_decode(&version, p, len);
  if (n1 <= 0 || version != 1) return LP2P_EBASE58;
  int n2 = lp2p_varint_decode(&codec, p + n1, len - (size_t)n1);
  if (n2 <= 0 || codec != CODEC_LIBP2P_KEY) return LP2P_EBASE58;
  size_t off = (size_t)n1 + (size_t)n2;
  return lp2p_peerid_from_bytes(id, p + off, len - off);
}

int lp2p_peerid_parse(lp2p_peerid *id, const char *text) {
  uint8_t buf[2 * LP2P_PEERID_MAX];
  size_t tlen = strnlen(text, 2 * LP2P_BASE58_MAX_BYTES + 1);
  int n;
  memset(id, 0, sizeof *id);
  if (tlen == 0 || tlen > 2 * LP2P_BASE58_MAX_BYTES) return LP2P_EBASE58;
  /* peer-ids.md "Decoding": '1...' / 'Qm...' is a bare base58btc multihash;
   * a multibase prefix means a CIDv1 ('b' base32, 'z' base58btc). */
  if (text[0] == '1' || text[0] == 'Q') {
    n = lp2p_base58_decode(buf, sizeof buf, text, tlen);
    return n < 0 ? LP2P_EBASE58 : lp2p_peerid_from_bytes(id, buf, (size_t)n);
  }
  if (text[0] == 'b')
    n = lp2p_base32_decode(buf, sizeof buf, text + 1, tlen - 1);
  else if (text[0] == 'z')
    n = lp2p_base58_decode(buf, sizeof buf, text + 1, tlen - 1);
  else
    return LP2P_EBASE58;
  if (n < 0) return LP2P_EBASE58;
  return parse_cid(id, buf, (size_t)n);
}

int lp2p_peerid_equal(const lp2p_peerid *a, const lp2p_peerid *b) {
  return a->len == b->len && a->len <= LP2P_PEERID_MAX &&
         memcmp(a->bytes, b->bytes, a->len) == 0;
}

int lp2p_peerid_pubkey(lp2p_pubkey *pk, const lp2p_peerid *id) {
  uint64_t code;
  size_t off;
  if (id->len > LP2P_PEERID_MAX ||
      lp2p_multihash_check(&code, &off, id->bytes, id->len) || code != MH_IDENTITY)
    return LP2P_EKEY;
  return lp2p_pubkey_unmarshal(pk, id->bytes + off, id->len - off);
}
