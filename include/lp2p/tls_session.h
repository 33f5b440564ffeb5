/* A generic TLS 1.3 session as a pure engine, over GnuTLS (RFC 8446).
 *
 * Wire bytes in through lp2p_tls_session_recv, wire bytes out through
 * io.write; plaintext in through lp2p_tls_session_send, events up through
 * io.event: one READY when the handshake completes (protocol = the ALPN
 * protocol agreed, or NULL; peer = NULL), then DATA, and EOF when the peer
 * sends close_notify. GnuTLS never sees a socket: its transport is a pair
 * of memory push/pull functions.
 *
 * Two users: the libp2p /tls/1.0.0 security (tls.c: libp2p certificates,
 * mutual authentication, muxer ALPN) and the TLS under wss (a plain
 * self-signed certificate, no verification, no ALPN). TLS 1.3 only, no
 * session tickets, no SNI (libp2p/specs tls/tls.md "Handshake Protocol":
 * clients MUST NOT send SNI; TLS 1.3 or higher).
 *
 * GnuTLS draws the handshake randomness itself (key shares, client random);
 * the engine reads no clock: certificate validity is the verify callback's
 * business, with env->unix_s. */
#ifndef LP2P_TLS_SESSION_H
#define LP2P_TLS_SESSION_H

#include "lp2p/common.h"

/* TLS 1.3 record plaintext limit (RFC 8446 section 5.1): each DATA event
 * carries at most this much. */
#define LP2P_TLS_RECORD_MAX 16384
/* ALPN: at most this many protocols, each at most 255 bytes (RFC 7301
 * section 3.1). */
#define LP2P_TLS_ALPN_MAX 8

/* Credentials: one certificate and its private key, shared by any number of
 * sessions; must outlive every session made with it. */
typedef struct lp2p_tls_creds lp2p_tls_creds;

/* From a DER X.509 certificate (or up to 4 concatenated: a chain, ours
 * first) and the DER private key of the first (PKCS#8 or the algorithm's
 * own form). The bytes are copied. LP2P_EKEY when GnuTLS refuses them,
 * LP2P_ENOMEM. */
int lp2p_tls_creds_new(lp2p_tls_creds **out, const uint8_t *cert, size_t cert_len,
                       const uint8_t *key, size_t key_len);
void lp2p_tls_creds_free(lp2p_tls_creds *c);

/* One extension to put in a generated certificate. make() gets the DER
 * SubjectPublicKeyInfo of the fresh key (the extension may sign it) and
 * appends the extension's DER value to out. */
typedef struct lp2p_tls_ext {
  const char *oid; /* dotted, e.g. "1.3.6.1.4.1.53594.1.1" */
  int critical;
  int (*make)(void *ctx, lp2p_buf *out, const uint8_t *spki, size_t spki_len);
  void *ctx;
  const struct lp2p_tls_ext *next; /* a further extension, or NULL */
} lp2p_tls_ext;

/* Makes a fresh ECDSA P-256 key (GnuTLS draws it) and a self-signed X.509
 * v3 certificate for it, signed with ECDSA-SHA256: random 8-byte serial
 * (env->random), valid from an hour before env->unix_s for 100 years, empty
 * subject and issuer, and `ext` with its `next` ones (may be NULL) as its
 * extensions.
 * Appends the DER certificate to cert and the PKCS#8 DER key to key (wipe
 * it with lp2p_buf_free_secret). LP2P_EINVAL without env->unix_s or
 * env->random; LP2P_EKEY when GnuTLS fails; make()'s error. */
int lp2p_tls_selfsigned(lp2p_buf *cert, lp2p_buf *key, const lp2p_env *env,
                        const lp2p_tls_ext *ext);
/* The same without extension, as credentials: what wss serves. */
int lp2p_tls_selfsigned_credentials(lp2p_tls_creds **out, const lp2p_env *env);

/* A certificate as the peer sent it. */
#define LP2P_TLS_CHAIN_MAX 16
typedef struct lp2p_tls_der {
  const uint8_t *p;
  size_t len;
} lp2p_tls_der;

/* Called once during the handshake with the peer's certificate list, after
 * GnuTLS has checked the peer's CertificateVerify (the peer holds the key of
 * certs[0]); n may be 0 when the peer sent none, and is at most
 * LP2P_TLS_CHAIN_MAX (a longer list is cut there). Returns 0 to accept, or a
 * negative lp2p code (after LP2P_REASON) to abort the handshake with a
 * bad_certificate alert; recv then returns that code. */
typedef int (*lp2p_tls_verify_cb)(void *ctx, const lp2p_tls_der *certs, size_t n);

typedef struct lp2p_tls_config {
  int client;                  /* 1: client (dialer), 0: server */
  const lp2p_tls_creds *creds; /* ours; NULL for a client without one */
  const char *const *alpn;     /* offered (client) or accepted (server), in
                                  preference order; copied; may be NULL/0 */
  size_t n_alpn;
  int require_peer_cert;     /* server: a client without a certificate
                                fails inside the handshake */
  lp2p_tls_verify_cb verify; /* NULL: the peer's certificate is not
                                checked at all */
  void *verify_ctx;
  int send_tickets; /* server, tests: send two TLS 1.3 session tickets
                       after the handshake, as a js-libp2p (Node) server
                       does */
} lp2p_tls_config;

typedef struct lp2p_tls_session lp2p_tls_session;

/* NULL on ENOMEM, a bad ALPN list (over LP2P_TLS_ALPN_MAX, an empty or
 * over-255-byte name) or a GnuTLS setup failure. env must outlive the
 * session. */
lp2p_tls_session *lp2p_tls_session_new(lp2p_env *env, const lp2p_tls_config *cfg,
                                       lp2p_io io);
/* Client: writes the ClientHello. Server: nothing. Once only (LP2P_EINVAL). */
int lp2p_tls_session_start(lp2p_tls_session *s);
/* Feeds wire bytes, split at any offset. Handshake messages are answered
 * through io.write; READY is emitted when the handshake completes, then the
 * rest of the same call is decrypted into DATA events. The event callback
 * may call lp2p_tls_session_send, _close and _set_io, never _recv or _free.
 * After the peer's close_notify (EOF), further bytes are ignored.
 * Errors (sticky): the verify callback's code, LP2P_EDECRYPT (a record
 * failed authentication), LP2P_ETOOBIG (record over its limit), LP2P_EEOF
 * (the peer sent a fatal alert), LP2P_EPROTO (any other TLS failure), or
 * io's code. Each failure is said once with LP2P_REASON. */
int lp2p_tls_session_recv(lp2p_tls_session *s, const uint8_t *in, size_t len);
/* Encrypts p into records and writes them. Only after READY (LP2P_EINVAL
 * before, LP2P_ECLOSED after close). len 0 writes nothing. */
int lp2p_tls_session_send(lp2p_tls_session *s, const uint8_t *p, size_t len);
/* The same for the concatenation of n pieces (a muxer frame's header and
 * payload): small pieces share a record instead of making their own. */
int lp2p_tls_session_sendv(lp2p_tls_session *s, const lp2p_iovec *v, size_t n);
/* Graceful close: writes close_notify; sending ends, receiving goes on. */
int lp2p_tls_session_close(lp2p_tls_session *s);
/* Replaces the io; meant for the READY callback. */
void lp2p_tls_session_set_io(lp2p_tls_session *s, lp2p_io io);
int lp2p_tls_session_handshake_done(const lp2p_tls_session *s);
/* After READY: the ALPN protocol agreed (our copy), else NULL. */
const char *lp2p_tls_session_alpn(const lp2p_tls_session *s);
/* Wipes plaintext buffers and frees. NULL is fine. */
void lp2p_tls_session_free(lp2p_tls_session *s);

#endif
