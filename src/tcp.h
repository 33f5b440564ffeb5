/* Internal: the TCP stream transport (tcp, ws, wss: only the chain's layer
 * list differs). This file's part is what is TCP-socket specific: listen,
 * bind, accept, connect bounded by a step, TCP_NODELAY, the peer address
 * for identify's observedAddr, and the listener's list of connections. The
 * generic driver each connection runs on (buffers, backpressure, the one
 * timer, the orderly close, teardown) is src/stream.c. Handlers may close
 * the connection from inside a callback; the teardown waits until the
 * driver's call has unwound. */
#ifndef LP2P_TCP_INTERNAL_H
#define LP2P_TCP_INTERNAL_H

#include "lp2p/chain.h"

#include <uv.h>

typedef struct lp2p__tcp_conn lp2p__tcp_conn;
typedef struct lp2p__tcp_listener lp2p__tcp_listener;

typedef struct lp2p__tcp_handlers {
  void (*ready)(void *ud, lp2p__tcp_conn *tc, const lp2p_peerid *peer);
  void (*pong)(void *ud, lp2p__tcp_conn *tc);
  void (*perf_done)(void *ud, lp2p__tcp_conn *tc); /* lp2p__tcp_perf finished */
  /* Called once when the connection ends: err 0 for a clean close. */
  void (*closed)(void *ud, lp2p__tcp_conn *tc, int err);
  void *ud;
} lp2p__tcp_handlers;

/* Listens on ip:port (port 0: any). conn_cfg is copied per connection. */
int lp2p__tcp_listen(uv_loop_t *loop, lp2p_env *env, const char *ip, uint16_t port,
                     const lp2p_conn_config *conn_cfg, const lp2p__tcp_handlers *h,
                     lp2p__tcp_listener **out);
/* The addresses identify replies list (copied by reference: they must
 * outlive the listener). */
void lp2p__tcp_listener_set_addrs(lp2p__tcp_listener *l, const lp2p_multiaddr *addrs,
                                  size_t n);
/* The bound port. */
int lp2p__tcp_listener_port(lp2p__tcp_listener *l, uint16_t *port);
void lp2p__tcp_listener_close(lp2p__tcp_listener *l);
/* fn(arg) runs when the listener is freed, after its last connection. */
void lp2p__tcp_listener_on_free(lp2p__tcp_listener *l, void (*fn)(void *), void *arg);
/* Connections currently open under the listener. */
unsigned lp2p__tcp_listener_count(const lp2p__tcp_listener *l);

/* Dials addr; the connect itself is bounded by conn_cfg->step_timeout_ms. */
int lp2p__tcp_dial(uv_loop_t *loop, lp2p_env *env, const struct sockaddr *addr,
                   const lp2p_conn_config *conn_cfg, const lp2p__tcp_handlers *h,
                   lp2p__tcp_conn **out);
int lp2p__tcp_ping(lp2p__tcp_conn *tc);
/* The same, with byte layers below the connection (cc->layers; the layer
 * params' strings must outlive the call only). */
int lp2p__tcp_listen_chain(uv_loop_t *loop, lp2p_env *env, const char *ip, uint16_t port,
                           const lp2p_chain_config *cc, const lp2p__tcp_handlers *h,
                           lp2p__tcp_listener **out);
int lp2p__tcp_dial_chain(uv_loop_t *loop, lp2p_env *env, const struct sockaddr *addr,
                         const lp2p_chain_config *cc, const lp2p__tcp_handlers *h,
                         lp2p__tcp_conn **out);
/* One /perf/1.0.0 exchange on a new stream (lp2p_conn_perf); perf_done
 * follows. */
int lp2p__tcp_perf(lp2p__tcp_conn *tc, uint64_t upload, uint64_t download);
/* Payload bytes of the current or last exchange. */
void lp2p__tcp_perf_progress(const lp2p__tcp_conn *tc, uint64_t *up, uint64_t *down);
/* Graceful: muxer goodbye, flush, then close. No handler runs after. */
void lp2p__tcp_close(lp2p__tcp_conn *tc);

#endif
