/* One libp2p connection as a pure engine: wire bytes in, wire bytes out.
 *
 *   mss(/noise) -> security -> mss(muxer) | inlined -> muxer
 *     -> per stream: mss -> ping | identify | perf
 *
 * Events up (io.event): READY once the muxer runs (peer = remote
 * const lp2p_pubkey*, protocol = the muxer's id), PONG for each ping echo,
 * PERF_DONE when our perf exchange has finished.
 * recv/expire/ping return a negative code when the connection has failed;
 * the reason is logged once where it was found. A failing inbound stream is
 * reset without failing the connection. */
#ifndef LP2P_CONN_H
#define LP2P_CONN_H

#include "lp2p/multiaddr.h"
#include "lp2p/common.h"
#include "lp2p/identify.h"
#include "lp2p/keys.h"
#include "lp2p/upgrade.h"

typedef struct lp2p_conn lp2p_conn;

typedef struct lp2p_conn_config {
  int initiator;
  const lp2p_identity *identity;
  const lp2p_security_ops *security;
  const lp2p_muxer_ops *muxer;
  const lp2p_peerid *expected_peer;   /* dialer: /p2p/ of the address; or NULL */
  uint32_t step_timeout_ms;           /* each upgrade step, and each ping */
  int no_inline_muxer;                /* list no muxers in the handshake: the
                                         muxer is always negotiated with mss */
  int identify_peer;                  /* open /ipfs/id/1.0.0 once muxed */
  int optimistic_security;            /* dialer: start the security handshake
                                         behind its multistream proposal,
                                         without waiting for the echo (one
                                         round trip less; the listener must
                                         keep bytes read past the protocol) */
  const lp2p_multiaddr *listen_addrs; /* what our identify reply lists */
  size_t n_listen_addrs;
  void *security_shared;   /* from lp2p_conn_shared_new, or NULL */
  int perf_server;         /* serve /perf/1.0.0 to inbound streams (perf.md
                              "Security Considerations": SHOULD NOT be on by
                              default) */
  uint64_t perf_max_bytes; /* largest download a perf peer may ask for */
} lp2p_conn_config;

/* The security protocol's per-process state for connections made with cfg
 * (see lp2p_security_ops.shared_new), for cfg->security_shared: made once,
 * it outlives every connection using it. NULL when the protocol keeps
 * none, or on failure (connections then make their own). */
void *lp2p_conn_shared_new(lp2p_env *env, const lp2p_conn_config *cfg);
void lp2p_conn_shared_free(const lp2p_conn_config *cfg, void *shared);

lp2p_conn *lp2p_conn_new(lp2p_env *env, const lp2p_conn_config *cfg, lp2p_io io);
/* Sends our first bytes (both roles send the multistream header at once). */
int lp2p_conn_start(lp2p_conn *c);
/* For a transport that secures and multiplexes itself (QUIC): instead of
 * lp2p_conn_start, the connection starts muxed, with the remote host key
 * the transport authenticated (checked against cfg->expected_peer) and the
 * transport's streams as its muxer: muxer->bind(instance, io) gets the
 * stream event sink, and the connection never destroys the instance.
 * cfg->security and cfg->muxer may then be NULL. Emits READY. */
int lp2p_conn_start_secured(lp2p_conn *c, const lp2p_pubkey *remote,
                            const lp2p_muxer_ops *muxer, void *instance);
/* The peer's address as the transport sees it, for identify's
 * observedAddr. Copied. */
void lp2p_conn_set_observed(lp2p_conn *c, const lp2p_multiaddr *ma);
int lp2p_conn_recv(lp2p_conn *c, const uint8_t *in, size_t len);
/* Opens the ping stream on first use, then sends one ping; PONG follows.
 * Only once READY. */
int lp2p_conn_ping(lp2p_conn *c);
/* Starts one /perf/1.0.0 exchange as client on a new stream: uploads
 * `upload` bytes, asks for `download`. PERF_DONE follows; a failing perf
 * stream fails the connection. Only once READY, one exchange at a time
 * (LP2P_EINVAL). The bytes flow as lp2p_conn_pump asks for them. */
int lp2p_conn_perf(lp2p_conn *c, uint64_t upload, uint64_t download);
/* Payload bytes of our current (or last) perf exchange so far. */
void lp2p_conn_perf_progress(const lp2p_conn *c, uint64_t *uploaded,
                             uint64_t *downloaded);
/* 1 while some perf stream has bytes (or a half-close) to send. */
int lp2p_conn_wants_output(const lp2p_conn *c);
/* Lets perf streams write about `budget` more bytes (the driver calls it as
 * its socket drains). Returns the bytes produced, or a negative code when
 * the connection has failed. */
int lp2p_conn_pump(lp2p_conn *c, size_t budget);
uint64_t lp2p_conn_deadline(const lp2p_conn *c);
int lp2p_conn_expire(lp2p_conn *c);
/* Graceful close: the muxer says goodbye (yamux GoAway). */
int lp2p_conn_close(lp2p_conn *c);
int lp2p_conn_is_ready(const lp2p_conn *c);
/* What the peer's identify reply said, once read; else NULL. */
const lp2p_identify_peer *lp2p_conn_identified(const lp2p_conn *c);
/* The remote peer id once secured, else NULL. */
const lp2p_peerid *lp2p_conn_peer(const lp2p_conn *c);
void lp2p_conn_free(lp2p_conn *c);

#endif
