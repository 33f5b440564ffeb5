/* The /plaintext/2.0.0 "security" layer (libp2p/specs plaintext/README.md):
 * no encryption, no authentication. Each side sends one Exchange {id,
 * pubkey} prefixed with its unsigned-varint length, checks that the peer's
 * id is the one its key derives, then bytes pass through unchanged. For
 * tests and interop only.
 *
 * Events up: READY (peer = the remote const lp2p_pubkey*, protocol = NULL:
 * the muxer is negotiated with multistream-select), then DATA. The dialer's
 * check against the dialed peer id is the connection's (conn.c). */
#ifndef LP2P_PLAINTEXT_H
#define LP2P_PLAINTEXT_H

#include "lp2p/common.h"
#include "lp2p/keys.h"

#define LP2P_PLAINTEXT_PROTOCOL "/plaintext/2.0.0"
/* Cap on a peer's Exchange: a peer id and a PublicKey with headers. */
#define LP2P_PLAINTEXT_MSG_MAX (2 + LP2P_PEERID_MAX + 3 + LP2P_PUBKEY_PB_MAX)

typedef struct lp2p_plaintext lp2p_plaintext;

typedef struct lp2p_plaintext_config {
  int initiator;
  const lp2p_identity *identity; /* only its public key is sent; copied */
} lp2p_plaintext_config;

/* NULL on ENOMEM or a NULL identity. */
lp2p_plaintext *lp2p_plaintext_new(lp2p_env *env, const lp2p_plaintext_config *cfg,
                                   lp2p_io io);
/* Both roles: writes our Exchange (the spec has both send at once). */
int lp2p_plaintext_start(lp2p_plaintext *p);
/* Feeds bytes, split at any offset: the peer's Exchange, then data. READY
 * when it checks out, then the rest of the call as DATA. Errors (sticky):
 * LP2P_ETOOBIG (length over LP2P_PLAINTEXT_MSG_MAX, before buffering),
 * LP2P_EVARINT, LP2P_EPROTO (bad protobuf, id or key missing), LP2P_EKEY
 * (key refused), LP2P_EPEERID (id does not match the key), LP2P_EINVAL
 * (before start, or re-entered). */
int lp2p_plaintext_recv(lp2p_plaintext *p, const uint8_t *in, size_t len);
/* After READY only (LP2P_EINVAL before): written as they are. */
int lp2p_plaintext_send(lp2p_plaintext *p, const uint8_t *data, size_t len);
const lp2p_pubkey *lp2p_plaintext_remote_key(const lp2p_plaintext *p);
void lp2p_plaintext_free(lp2p_plaintext *p);

/* Encodes an Exchange for pub: varint length then the message, appended to
 * out (tests build hostile ones from it). */
int lp2p_plaintext_exchange_encode(lp2p_buf *out, const lp2p_pubkey *pub);

#endif
