/* The libp2p TLS certificate (libp2p/specs tls/tls.md "Peer
 * Authentication"): a self-signed X.509 certificate for a throwaway key,
 * carrying the libp2p Public Key Extension, in which the host (identity)
 * key signs "libp2p-tls-handshake:" || the certificate's
 * SubjectPublicKeyInfo.
 *
 *   SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING }
 *
 * publicKey is the PublicKey protobuf of keys.h. Making and checking
 * certificates only: no session state, so /tls/1.0.0 over TCP and QUIC
 * share it. */
#ifndef LP2P_TLS_CERT_H
#define LP2P_TLS_CERT_H

#include "lp2p/common.h"
#include "lp2p/keys.h"
#include "lp2p/tls_session.h"

/* tls.md: OID allocated by IANA to libp2p (PEN 53594). */
#define LP2P_TLS_EXT_OID "1.3.6.1.4.1.53594.1.1"
#define LP2P_TLS_SIG_PREFIX "libp2p-tls-handshake:"

/* Caps, checked before anything is parsed: a libp2p certificate with an
 * RSA-4096 host key is about 1.6 KiB. */
#define LP2P_TLS_CERT_MAX 8192
/* An identity signature is at most as long as the largest key we take
 * (RSA), see keys.h. */
#define LP2P_TLS_SIG_MAX LP2P_PUBKEY_MAX
/* SignedKey: two OCTET STRINGs with 4-byte headers inside a SEQUENCE. */
#define LP2P_TLS_EXT_MAX (4 + 4 + LP2P_PUBKEY_PB_MAX + 4 + LP2P_TLS_SIG_MAX)

/* SignedKey DER for `id` over spki, appended to out. */
int lp2p_tls_signedkey_encode(lp2p_buf *out, const lp2p_identity *id, const uint8_t *spki,
                              size_t spki_len);
/* Parses SignedKey DER: exactly SEQUENCE { OCTET STRING, OCTET STRING },
 * definite minimal lengths, nothing after it; the publicKey at most
 * LP2P_PUBKEY_PB_MAX and the signature at most LP2P_TLS_SIG_MAX bytes.
 * Pointers are into in. LP2P_EPROTO when malformed, LP2P_ETOOBIG over a cap. */
int lp2p_tls_signedkey_parse(const uint8_t *in, size_t len, const uint8_t **key,
                             size_t *key_len, const uint8_t **sig, size_t *sig_len);

/* A fresh ECDSA P-256 certificate for `id` (lp2p_tls_selfsigned with the
 * extension, critical and the only one, hence first): DER certificate
 * appended to cert, PKCS#8 key to key (wipe with lp2p_buf_free_secret). */
int lp2p_tls_cert_make(lp2p_buf *cert, lp2p_buf *key, const lp2p_identity *id,
                       const lp2p_env *env);
/* The same, as credentials. */
int lp2p_tls_cert_credentials(lp2p_tls_creds **out, const lp2p_identity *id,
                              const lp2p_env *env);

/* Checks one peer certificate (tls.md "Peer Authentication") at unix time
 * now_s and sets *pk to the host key it authenticates:
 *   - size at most LP2P_TLS_CERT_MAX, X.509 DER that GnuTLS parses;
 *   - NotBefore <= now_s <= NotAfter;
 *   - self-signed: its signature verifies with its own key;
 *   - the libp2p extension present, once, at most LP2P_TLS_EXT_MAX bytes;
 *   - SignedKey well-formed, publicKey a key keys.h accepts (ed25519,
 *     secp256k1, ECDSA, RSA), its signature over "libp2p-tls-handshake:"
 *     || SPKI valid.
 * Errors, each said with LP2P_REASON: LP2P_ETOOBIG, LP2P_EPROTO (malformed,
 * no or duplicate extension), LP2P_ETIMEDOUT (expired or not yet valid),
 * LP2P_ESIG (self-signature or identity signature), LP2P_EKEY (host key
 * refused), LP2P_ENOMEM. */
int lp2p_tls_cert_verify(lp2p_pubkey *pk, const uint8_t *der, size_t len, int64_t now_s);

#endif
