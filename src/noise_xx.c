/* Noise_XX_25519_ChaChaPoly_SHA256: the Noise protocol framework rev 34
 * core. Section numbers below refer to that document. Primitives come from
 * libsodium, the AEAD from OpenSSL (aead.h says why); only their
 * composition (HKDF, the token sequence) is here. */
#include "lp2p/noise.h"

#include "aead.h"

#include <sodium.h>
#include <string.h>

/* ---- CipherState (section 5.1) --------------------------------------- */

/* Section 12.3 (ChaChaPoly): 32 bits of zeros, then n as 64-bit LE. */
static void nonce96(uint8_t out[12], uint64_t n) {
  memset(out, 0, 4);
  for (int i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(n >> (8 * i));
}

void lp2p_noise_cs_init(lp2p_noise_cs *cs, const uint8_t *k) {
  if (k) {
    memcpy(cs->k, k, LP2P_NOISE_KEYLEN);
    cs->has_k = 1;
  } else {
    sodium_memzero(cs->k, sizeof cs->k);
    cs->has_k = 0;
  }
  cs->n = 0;
}

int lp2p_noise_cs_encryptv(lp2p_noise_cs *cs, uint8_t *out, const uint8_t *ad,
                           size_t adlen, const lp2p_iovec *v, size_t n) {
  size_t len = lp2p_iov_len(v, n);
  if (len > LP2P_NOISE_PLAINTEXT_MAX) return LP2P_ETOOBIG;
  if (!cs->has_k) {
    for (size_t i = 0, off = 0; i < n; off += v[i].len, i++)
      if (v[i].len && out + off != v[i].p) memmove(out + off, v[i].p, v[i].len);
    return (int)len;
  }
  /* Section 5.1: n = 2^64-1 is reserved; further use is an error. */
  if (cs->n == UINT64_MAX) return LP2P_ELIMIT;
  uint8_t nonce[12];
  nonce96(nonce, cs->n);
  int rc = lp2p__aead_sealv(out, cs->k, nonce, ad, adlen, v, n);
  if (rc) return rc;
  cs->n++;
  return (int)(len + LP2P_NOISE_TAGLEN);
}

int lp2p_noise_cs_encrypt(lp2p_noise_cs *cs, uint8_t *out, const uint8_t *ad,
                          size_t adlen, const uint8_t *pt, size_t len) {
  lp2p_iovec v = {pt, len};
  return lp2p_noise_cs_encryptv(cs, out, ad, adlen, &v, 1);
}

int lp2p_noise_cs_decrypt(lp2p_noise_cs *cs, uint8_t *out, const uint8_t *ad,
                          size_t adlen, const uint8_t *ct, size_t len) {
  if (!cs->has_k) {
    if (len > LP2P_NOISE_MSG_MAX) return LP2P_ETOOBIG;
    if (len && out != ct) memmove(out, ct, len);
    return (int)len;
  }
  if (len < LP2P_NOISE_TAGLEN) return LP2P_EPROTO;
  if (len > LP2P_NOISE_MSG_MAX) return LP2P_ETOOBIG;
  if (cs->n == UINT64_MAX) return LP2P_ELIMIT;
  uint8_t nonce[12];
  nonce96(nonce, cs->n);
  int rc = lp2p__aead_open(out, cs->k, nonce, ad, adlen, ct, len - LP2P_NOISE_TAGLEN);
  if (rc) return rc;
  cs->n++;
  return (int)(len - LP2P_NOISE_TAGLEN);
}

void lp2p_noise_cs_clear(lp2p_noise_cs *cs) { sodium_memzero(cs, sizeof *cs); }

/* ---- SymmetricState (section 5.2) ------------------------------------ */

static void hmac(uint8_t out[32], const uint8_t key[32], const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, 32);
  if (alen) crypto_auth_hmacsha256_update(&st, a, alen);
  if (blen) crypto_auth_hmacsha256_update(&st, b, blen);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

/* Section 4.3 HKDF with two outputs; out1 / out2 may alias ck. */
static void hkdf2(uint8_t out1[32], uint8_t out2[32], const uint8_t ck[32],
                  const uint8_t *ikm, size_t ikm_len) {
  static const uint8_t one = 0x01, two = 0x02;
  uint8_t temp_key[32], o1[32], o2[32];
  hmac(temp_key, ck, ikm, ikm_len, NULL, 0);
  hmac(o1, temp_key, &one, 1, NULL, 0);
  hmac(o2, temp_key, o1, 32, &two, 1);
  memcpy(out1, o1, 32);
  memcpy(out2, o2, 32);
  sodium_memzero(temp_key, sizeof temp_key);
  sodium_memzero(o1, sizeof o1);
  sodium_memzero(o2, sizeof o2);
}

static void ss_init(lp2p_noise_ss *ss) {
  /* The name is exactly HASHLEN bytes, so h = name without hashing. */
  _Static_assert(sizeof LP2P_NOISE_PROTOCOL_NAME - 1 == LP2P_NOISE_HASHLEN,
                 "protocol name must fill h exactly");
  memcpy(ss->h, LP2P_NOISE_PROTOCOL_NAME, LP2P_NOISE_HASHLEN);
  memcpy(ss->ck, ss->h, LP2P_NOISE_HASHLEN);
  lp2p_noise_cs_init(&ss->cs, NULL);
}

static void ss_mix_hash(lp2p_noise_ss *ss, const uint8_t *data, size_t len) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, ss->h, sizeof ss->h);
  if (len) crypto_hash_sha256_update(&st, data, len);
  crypto_hash_sha256_final(&st, ss->h);
}

static void ss_mix_key(lp2p_noise_ss *ss, const uint8_t ikm[32]) {
  uint8_t temp_k[32];
  hkdf2(ss->ck, temp_k, ss->ck, ikm, 32);
  /* HASHLEN == 32, so temp_k needs no truncation. */
  lp2p_noise_cs_init(&ss->cs, temp_k);
  sodium_memzero(temp_k, sizeof temp_k);
}

static int ss_encrypt_and_hash(lp2p_noise_ss *ss, uint8_t *out, const uint8_t *pt,
                               size_t len) {
  int rc = lp2p_noise_cs_encrypt(&ss->cs, out, ss->h, sizeof ss->h, pt, len);
  if (rc < 0) return rc;
  ss_mix_hash(ss, out, (size_t)rc);
  return rc;
}

static int ss_decrypt_and_hash(lp2p_noise_ss *ss, uint8_t *out, const uint8_t *ct,
                               size_t len) {
  int rc = lp2p_noise_cs_decrypt(&ss->cs, out, ss->h, sizeof ss->h, ct, len);
  if (rc < 0) return rc;
  ss_mix_hash(ss, ct, len);
  return rc;
}

/* ---- HandshakeState (section 5.3), pattern XX (section 7.5) ---------- */

/* crypto_scalarmult fails on an all-zero result (a low-order point);
 * section 12.1 lets us reject it, and we do. */
static int dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32]) {
  if (crypto_scalarmult(out, sk, pk) != 0) {
    sodium_memzero(out, 32);
    return LP2P_EKEY;
  }
  return 0;
}

static int mix_dh(lp2p_noise_ss *ss, const uint8_t sk[32], const uint8_t pk[32]) {
  uint8_t shared[32];
  int rc = dh(shared, sk, pk);
  if (rc == 0) ss_mix_key(ss, shared);
  sodium_memzero(shared, sizeof shared);
  return rc;
}

int lp2p_noise_hs_init(lp2p_noise_hs *hs, int initiator, const uint8_t *prologue,
                       size_t prologue_len, const uint8_t s_sk[LP2P_NOISE_DHLEN],
                       const uint8_t e_sk[LP2P_NOISE_DHLEN]) {
  uint8_t s_pk[32], e_pk[32];
  /* Idempotent; picks libsodium's implementations before first use. */
  if (sodium_init() < 0) return LP2P_EINVAL;
  crypto_scalarmult_base(s_pk, s_sk);
  crypto_scalarmult_base(e_pk, e_sk);
  return lp2p_noise_hs_init_keys(hs, initiator, prologue, prologue_len, s_sk, s_pk, e_sk,
                                 e_pk);
}

int lp2p_noise_hs_init_keys(lp2p_noise_hs *hs, int initiator, const uint8_t *prologue,
                            size_t prologue_len, const uint8_t s_sk[LP2P_NOISE_DHLEN],
                            const uint8_t s_pk[LP2P_NOISE_DHLEN],
                            const uint8_t e_sk[LP2P_NOISE_DHLEN],
                            const uint8_t e_pk[LP2P_NOISE_DHLEN]) {
  memset(hs, 0, sizeof *hs);
  if (sodium_init() < 0) return LP2P_EINVAL;
  hs->initiator = initiator ? 1 : 0;
  ss_init(&hs->ss);
  ss_mix_hash(&hs->ss, prologue, prologue ? prologue_len : 0);
  memcpy(hs->s_sk, s_sk, 32);
  memcpy(hs->s_pk, s_pk, 32);
  memcpy(hs->e_sk, e_sk, 32);
  memcpy(hs->e_pk, e_pk, 32);
  return 0;
}

/* Message 0 and 2 are the initiator's, message 1 the responder's. */
static int my_turn(const lp2p_noise_hs *hs) {
  if (hs->msg > 2) return 0;
  return (hs->msg % 2 == 0) == (hs->initiator == 1);
}

int lp2p_noise_hs_write(lp2p_noise_hs *hs, uint8_t *out, size_t cap,
                        const uint8_t *payload, size_t payload_len) {
  if (!my_turn(hs)) return LP2P_EINVAL;
  size_t need = payload_len;
  switch (hs->msg) {
  case 0: need += 32; break; /* e */
  case 1: need += 32 + 32 + LP2P_NOISE_TAGLEN + LP2P_NOISE_TAGLEN; break;
  default: need += 32 + LP2P_NOISE_TAGLEN + LP2P_NOISE_TAGLEN; break;
  }
  if (need > cap || need > LP2P_NOISE_MSG_MAX) return LP2P_ETOOBIG;

  size_t off = 0;
  int rc;
  switch (hs->msg) {
  case 0: /* -> e */
    memcpy(out, hs->e_pk, 32);
    ss_mix_hash(&hs->ss, hs->e_pk, 32);
    off = 32;
    break;
  case 1: /* <- e, ee, s, es */
    memcpy(out, hs->e_pk, 32);
    ss_mix_hash(&hs->ss, hs->e_pk, 32);
    off = 32;
    if ((rc = mix_dh(&hs->ss, hs->e_sk, hs->re))) return rc;
    rc = ss_encrypt_and_hash(&hs->ss, out + off, hs->s_pk, 32);
    if (rc < 0) return rc;
    off += (size_t)rc;
    if ((rc = mix_dh(&hs->ss, hs->s_sk, hs->re))) return rc;
    break;
  default: /* -> s, se */
    rc = ss_encrypt_and_hash(&hs->ss, out, hs->s_pk, 32);
    if (rc < 0) return rc;
    off = (size_t)rc;
    if ((rc = mix_dh(&hs->ss, hs->s_sk, hs->re))) return rc;
    break;
  }
  rc = ss_encrypt_and_hash(&hs->ss, out + off, payload, payload_len);
  if (rc < 0) return rc;
  hs->msg++;
  return (int)(off + (size_t)rc);
}

int lp2p_noise_hs_read(lp2p_noise_hs *hs, uint8_t *payload, size_t cap,
                       const uint8_t *msg, size_t len) {
  if (hs->msg > 2 || my_turn(hs)) return LP2P_EINVAL;
  if (len > LP2P_NOISE_MSG_MAX) return LP2P_ETOOBIG;
  size_t off = 0;
  int rc;
  switch (hs->msg) {
  case 0: /* -> e */
    if (len < 32) return LP2P_EPROTO;
    memcpy(hs->re, msg, 32);
    ss_mix_hash(&hs->ss, hs->re, 32);
    off = 32;
    break;
  case 1: /* <- e, ee, s, es */
    if (len < 32 + 32 + LP2P_NOISE_TAGLEN + LP2P_NOISE_TAGLEN) return LP2P_EPROTO;
    memcpy(hs->re, msg, 32);
    ss_mix_hash(&hs->ss, hs->re, 32);
    off = 32;
    if ((rc = mix_dh(&hs->ss, hs->e_sk, hs->re))) return rc;
    rc = ss_decrypt_and_hash(&hs->ss, hs->rs, msg + off, 32 + LP2P_NOISE_TAGLEN);
    if (rc < 0) return rc;
    off += 32 + LP2P_NOISE_TAGLEN;
    if ((rc = mix_dh(&hs->ss, hs->e_sk, hs->rs))) return rc;
    break;
  default: /* -> s, se */
    if (len < 32 + LP2P_NOISE_TAGLEN + LP2P_NOISE_TAGLEN) return LP2P_EPROTO;
    rc = ss_decrypt_and_hash(&hs->ss, hs->rs, msg, 32 + LP2P_NOISE_TAGLEN);
    if (rc < 0) return rc;
    off = 32 + LP2P_NOISE_TAGLEN;
    if ((rc = mix_dh(&hs->ss, hs->e_sk, hs->rs))) return rc;
    break;
  }
  size_t body = len - off;
  size_t plen = hs->ss.cs.has_k ? body - LP2P_NOISE_TAGLEN : body;
  if (plen > cap) return LP2P_ETOOBIG;
  rc = ss_decrypt_and_hash(&hs->ss, payload, msg + off, body);
  if (rc < 0) return rc;
  hs->msg++;
  return rc;
}

int lp2p_noise_hs_done(const lp2p_noise_hs *hs) { return hs->msg == 3; }

int lp2p_noise_hs_split(lp2p_noise_hs *hs, lp2p_noise_cs *tx, lp2p_noise_cs *rx) {
  if (!lp2p_noise_hs_done(hs)) return LP2P_EINVAL;
  uint8_t k1[32], k2[32];
  hkdf2(k1, k2, hs->ss.ck, NULL, 0);
  lp2p_noise_cs_init(hs->initiator ? tx : rx, k1);
  lp2p_noise_cs_init(hs->initiator ? rx : tx, k2);
  sodium_memzero(k1, sizeof k1);
  sodium_memzero(k2, sizeof k2);
  return 0;
}

const uint8_t *lp2p_noise_hs_hash(const lp2p_noise_hs *hs) { return hs->ss.h; }

const uint8_t *lp2p_noise_hs_remote_static(const lp2p_noise_hs *hs) {
  /* rs arrives in message 1 (initiator reads it) or 2 (responder). */
  if (hs->msg >= (hs->initiator ? 2 : 3)) return hs->rs;
  return NULL;
}

const uint8_t *lp2p_noise_hs_local_static(const lp2p_noise_hs *hs) { return hs->s_pk; }

void lp2p_noise_hs_clear(lp2p_noise_hs *hs) { sodium_memzero(hs, sizeof *hs); }
