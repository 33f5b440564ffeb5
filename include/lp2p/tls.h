/* The libp2p /tls/1.0.0 security layer (libp2p/specs tls/tls.md) on the
 * generic session of tls_session.h and the certificate of tls_cert.h.
 *
 * Both sides present a libp2p certificate; the listener requires one from
 * the dialer. Each side checks the peer's inside the handshake (tls_cert
 * verify at env->unix_s); a dialer given an expected peer id also refuses
 * another peer there, with a bad_certificate alert.
 *
 * Early muxer negotiation (connections/inlined-muxer-negotiation.md
 * "Multiplexer Negotiation over TLS"): the dialer offers its muxer ids then
 * "libp2p" in ALPN, the listener accepts its muxer ids and "libp2p" and
 * picks in the dialer's order. READY carries peer = the remote
 * const lp2p_pubkey* and protocol = the agreed muxer, or NULL when only
 * "libp2p" (or nothing) was agreed, in which case the muxer is negotiated
 * with multistream-select inside TLS. */
#ifndef LP2P_TLS_H
#define LP2P_TLS_H

#include "lp2p/common.h"
#include "lp2p/keys.h"
#include "lp2p/tls_session.h"

#define LP2P_TLS_PROTOCOL "/tls/1.0.0"
/* tls.md "ALPN". */
#define LP2P_TLS_ALPN "libp2p"

typedef struct lp2p_tls lp2p_tls;

typedef struct lp2p_tls_sec_config {
  int initiator;
  const lp2p_identity *identity;
  const char *const *muxers; /* our muxer ids, in preference order; may be
                                NULL/0 (then ALPN carries only "libp2p") */
  size_t n_muxers;
  const lp2p_peerid *expected_peer; /* dialer: refuse another peer inside the
                                       handshake; may be NULL */
  const lp2p_tls_creds *creds;      /* our certificate, shared by the
                                       process's connections (tls_cert.h
                                       lp2p_tls_cert_credentials; must
                                       outlive the engine); NULL: made here */
} lp2p_tls_sec_config;

/* NULL on ENOMEM, a bad configuration or a certificate that cannot be made
 * (env->unix_s unset). env must outlive the engine. */
lp2p_tls *lp2p_tls_new(lp2p_env *env, const lp2p_tls_sec_config *cfg, lp2p_io io);
/* Dialer: writes the ClientHello. Listener: nothing. */
int lp2p_tls_start(lp2p_tls *t);
/* As lp2p_tls_session_recv; refusals of the peer's certificate come back as
 * tls_cert's codes (LP2P_EPROTO, LP2P_ESIG, LP2P_ETIMEDOUT, LP2P_EKEY,
 * LP2P_ETOOBIG) or LP2P_EPEERID, each with its reason. */
int lp2p_tls_recv(lp2p_tls *t, const uint8_t *in, size_t len);
int lp2p_tls_send(lp2p_tls *t, const uint8_t *p, size_t len);
/* The pieces of one muxer frame (lp2p_tls_session_sendv). */
int lp2p_tls_sendv(lp2p_tls *t, const lp2p_iovec *v, size_t n);
int lp2p_tls_close(lp2p_tls *t);
/* After READY: the peer's host key; NULL before. */
const lp2p_pubkey *lp2p_tls_remote_key(const lp2p_tls *t);
void lp2p_tls_free(lp2p_tls *t);

#endif
