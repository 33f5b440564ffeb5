/* Internal: what the QUIC listener (quic_listener.c) needs of one
 * connection engine (quic.c). */
#ifndef LP2P_QUIC_INTERNAL_H
#define LP2P_QUIC_INTERNAL_H

#include "lp2p/quic.h"

#include <ngtcp2/ngtcp2.h>

/* The connection ids one connection answers to (ours, plus the client's
 * original destination id): at most this many; more are not routed. */
#define LP2P__QUIC_MAX_CIDS 16

/* Called when q starts or stops answering to cid. */
typedef void (*lp2p__quic_cid_cb)(void *owner, lp2p_quic_conn *q, const ngtcp2_cid *cid,
                                  int add);

/* Accepts a client's first Initial (hd from ngtcp2_accept): a server
 * connection from local to remote. retry_odcid: NULL, or after a Retry
 * whose token hd carries (verified), the DCID of the client's Initial
 * before it. NULL on failure (reason said). */
lp2p_quic_conn *lp2p__quic_accept(lp2p_env *env, const lp2p_quic_config *cfg,
                                  const lp2p_quic_addr *local,
                                  const lp2p_quic_addr *remote, const ngtcp2_pkt_hd *hd,
                                  const ngtcp2_cid *retry_odcid, lp2p_io io,
                                  lp2p__quic_cid_cb cid_cb, void *owner);
int lp2p__quic_handshake_done(const lp2p_quic_conn *q);
/* The connection is over (closed, draining, failed): free it. */
int lp2p__quic_is_over(const lp2p_quic_conn *q);
/* The stateless reset token for cid (RFC 9000 section 10.3.2). */
int lp2p__quic_reset_token(const lp2p_quic_shared *sh, uint8_t *token,
                           const ngtcp2_cid *cid);

#endif
