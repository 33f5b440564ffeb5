/* Identity keys and peer ids (libp2p/specs peer-ids/peer-ids.md).
 * secp256k1 via libsecp256k1: ECDSA over SHA-256, DER signatures, 33-byte
 * compressed public keys. ed25519 via libsodium. Randomness comes from env.
 * Remote RSA and ECDSA keys (DER SubjectPublicKeyInfo) are verified with
 * GnuTLS, in the GnuTLS module (src/gnutls_module.h), loaded for the first
 * such key; our own identities are ed25519 or secp256k1 only. */
#ifndef LP2P_KEYS_H
#define LP2P_KEYS_H

#include "lp2p/common.h"

/* KeyType enum of the PublicKey protobuf (peer-ids.md). */
typedef enum lp2p_key_type {
  LP2P_KEY_RSA = 0,
  LP2P_KEY_ED25519 = 1,
  LP2P_KEY_SECP256K1 = 2,
  LP2P_KEY_ECDSA = 3
} lp2p_key_type;

/* The Data of a PublicKey: 32 bytes (ed25519), 33 or 65 bytes (secp256k1),
 * or a DER PKIX SubjectPublicKeyInfo (RSA, ECDSA). The cap covers RSA 4096
 * (550 bytes) with headroom; larger keys are refused before any copy. */
#define LP2P_PUBKEY_MAX 1024
typedef struct lp2p_pubkey {
  lp2p_key_type type;
  uint8_t key[LP2P_PUBKEY_MAX];
  size_t len;
} lp2p_pubkey;

/* A local identity: the secret key and its public key. Wipe with
 * lp2p_identity_clear(). */
typedef struct lp2p_identity {
  lp2p_key_type type;
  uint8_t sk[64]; /* ed25519: libsodium 64-byte sk; secp256k1: 32 bytes */
  lp2p_pubkey pub;
} lp2p_identity;

/* Generates a new identity of type ED25519 or SECP256K1 from env->random. */
int lp2p_identity_generate(lp2p_identity *id, lp2p_key_type type, const lp2p_env *env);
/* From a 32-byte seed (ed25519) or secret key (secp256k1). */
int lp2p_identity_from_secret(lp2p_identity *id, lp2p_key_type type,
                              const uint8_t secret[32]);
/* Signs msg. sig must hold LP2P_SIG_MAX bytes; *sig_len is set. */
#define LP2P_SIG_MAX 72
int lp2p_identity_sign(uint8_t *sig, size_t *sig_len, const lp2p_identity *id,
                       const uint8_t *msg, size_t len);
/* Signs a fixed message and verifies it with the identity's own public
 * key: 0, or the error that shows the key is unusable. Run once at start,
 * it also pages in the signature code and tables before any connection. */
int lp2p_identity_self_check(const lp2p_identity *id);
void lp2p_identity_clear(lp2p_identity *id);

/* Verifies a signature by a remote key: 0 or LP2P_ESIG (LP2P_EKEY for a
 * malformed key or one we refuse). peer-ids.md "Key Types": ed25519; ECDSA
 * over SHA-256 with DER signatures for secp256k1 and for ECDSA keys (P-256,
 * P-384, P-521); RSASSA-PKCS1-v1_5 with SHA-256 for RSA keys of at least
 * LP2P_RSA_MIN_BITS. */
#define LP2P_RSA_MIN_BITS 2048

/* GnuTLS's global state, for the code of the GnuTLS module
 * (src/gnutls_module.h: keys_spki.c defines it, tls and quic call it
 * first): 0 or LP2P_ENOMEM. The binary maps GnuTLS only when it loads that
 * module (a tls, wss or quic-v1 stack, or an RSA/ECDSA peer key), so a
 * tcp/noise run never pays for GnuTLS's set-up. Idempotent and cheap
 * after the first call. */
int lp2p_gnutls_init(void);
int lp2p_pubkey_verify(const lp2p_pubkey *pk, const uint8_t *msg, size_t len,
                       const uint8_t *sig, size_t sig_len);

/* PublicKey protobuf { KeyType Type = 1; bytes Data = 2; } in its
 * deterministic encoding. marshal returns bytes written or negative;
 * unmarshal validates the key and accepts only the deterministic form (Type
 * then Data, minimal varints, nothing else), so re-marshalling gives the
 * same bytes. Validation: on-curve for secp256k1; for RSA and ECDSA, a DER
 * SubjectPublicKeyInfo whose algorithm matches Type (rsaEncryption of at
 * least LP2P_RSA_MIN_BITS; id-ecPublicKey on P-256, P-384 or P-521) and that
 * is in canonical DER, so every implementation derives the same peer id
 * from it. Input over LP2P_PUBKEY_PB_MAX is refused before it is read. */
/* Tags, Type and a 2-byte Data length around LP2P_PUBKEY_MAX bytes. */
#define LP2P_PUBKEY_PB_MAX (LP2P_PUBKEY_MAX + 5)
int lp2p_pubkey_marshal(uint8_t *out, size_t cap, const lp2p_pubkey *pk);
int lp2p_pubkey_unmarshal(lp2p_pubkey *pk, const uint8_t *in, size_t len);

/* Peer id: a multihash of the marshalled PublicKey: identity (0x00) when the
 * encoding is at most 42 bytes, sha2-256 (0x12) otherwise. */
#define LP2P_PEERID_MAX 64
typedef struct lp2p_peerid {
  uint8_t bytes[LP2P_PEERID_MAX];
  size_t len;
} lp2p_peerid;

int lp2p_peerid_from_pubkey(lp2p_peerid *id, const lp2p_pubkey *pk);
/* Same from an already marshalled PublicKey (any key type, any length; the
 * key is not checked). */
int lp2p_peerid_from_pubkey_pb(lp2p_peerid *id, const uint8_t *pb, size_t len);
/* From multihash bytes (e.g. a /p2p/ value): identity holding a valid
 * PublicKey (ed25519 or secp256k1) of at most 42 bytes, or sha2-256 with a
 * 32-byte digest; returns 0 or LP2P_EBASE58. */
int lp2p_peerid_from_bytes(lp2p_peerid *id, const uint8_t *p, size_t len);
/* base58btc text, NUL-terminated; returns length or negative. */
int lp2p_peerid_to_text(char *out, size_t cap, const lp2p_peerid *id);
/* CIDv1 text: multibase 'b' (base32 lowercase, unpadded) of
 * <0x01><0x72 libp2p-key><multihash>; returns length or negative. */
int lp2p_peerid_to_cid(char *out, size_t cap, const lp2p_peerid *id);
/* Parses base58btc multihash text ("12D3Koo...", "Qm...", "16Uiu...") or the
 * CIDv1 form (multibase base32 'b' or base58btc 'z', codec libp2p-key 0x72).
 * The multihash must pass lp2p_peerid_from_bytes. Returns 0 or
 * LP2P_EBASE58. */
int lp2p_peerid_parse(lp2p_peerid *id, const char *text);
/* 1 when equal, 0 otherwise. */
int lp2p_peerid_equal(const lp2p_peerid *a, const lp2p_peerid *b);
/* Extracts the public key from an identity-multihash peer id; LP2P_EKEY for
 * sha2-256 ids. */
int lp2p_peerid_pubkey(lp2p_pubkey *pk, const lp2p_peerid *id);

#endif
