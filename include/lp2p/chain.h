/* One connection as the driver sees it: zero or more byte layers (bottom
 * first: tls, then ws) below the libp2p connection engine (conn.h). Pure:
 * wire bytes in, wire bytes out, events up (READY and PONG of the
 * connection, EOF when a byte layer saw the peer end the stream). Each byte
 * layer starts when the one below it is READY; the connection starts when
 * the top layer is. The in-memory tests and every stream transport drive
 * this one contract. */
#ifndef LP2P_CHAIN_H
#define LP2P_CHAIN_H

#include "lp2p/conn.h"
#include "lp2p/layer.h"

/* At most tls + ws today; room for one more. */
#define LP2P_CHAIN_MAX_LAYERS 3

typedef struct lp2p_chain lp2p_chain;

typedef struct lp2p_chain_config {
  const lp2p_conn_config *conn;        /* copied */
  const lp2p_layer_ops *const *layers; /* bottom first */
  size_t n_layers;                     /* <= LP2P_CHAIN_MAX_LAYERS */
  lp2p_layer_params params;            /* read during lp2p_chain_new */
  /* The multiaddr components the layers add after /tcp/<port> ("/ws",
   * "/tls/ws"), for the observed address the driver reports; a static
   * string, or NULL. */
  const char *addr_suffix;
} lp2p_chain_config;

lp2p_chain *lp2p_chain_new(lp2p_env *env, const lp2p_chain_config *cfg, lp2p_io io);
int lp2p_chain_start(lp2p_chain *c);
int lp2p_chain_recv(lp2p_chain *c, const uint8_t *in, size_t len);
int lp2p_chain_ping(lp2p_chain *c);
/* The connection's perf client and its pulled output (conn.h). */
int lp2p_chain_perf(lp2p_chain *c, uint64_t upload, uint64_t download);
int lp2p_chain_wants_output(const lp2p_chain *c);
int lp2p_chain_pump(lp2p_chain *c, size_t budget);
uint64_t lp2p_chain_deadline(const lp2p_chain *c);
int lp2p_chain_expire(lp2p_chain *c);
/* Graceful: the muxer's goodbye, then each byte layer's, top down. */
int lp2p_chain_close(lp2p_chain *c);
int lp2p_chain_is_ready(const lp2p_chain *c);
/* The libp2p connection on top (peer, identify, observed address). */
lp2p_conn *lp2p_chain_conn(const lp2p_chain *c);
void lp2p_chain_free(lp2p_chain *c);

#endif
