/* QUIC v1 (RFC 9000, RFC 9001) for libp2p (libp2p/specs quic/README.md)
 * as a pure engine over ngtcp2 0.12 and GnuTLS: datagrams and time in,
 * datagrams, stream events and the next expiry out. TLS is the libp2p TLS
 * handshake (tls/tls.md): the libp2p certificate of tls_cert.h on both
 * sides (client certificate required), ALPN "libp2p" mandatory, no SNI.
 * Streams are QUIC's own: lp2p_quic_muxer presents them through the muxer
 * contract of upgrade.h, so lp2p_conn runs multistream-select, ping and
 * identify on them as on yamux.
 *
 * One connection (lp2p_quic_conn): io.write gets one UDP datagram per
 * call, for the connection's peer address; io.event gets
 *   READY         the connection is up (dialer: handshake confirmed, since
 *                 quinn checks our certificate only after its handshake
 *                 completes; listener: handshake completed); peer = the
 *                 remote host key (const lp2p_pubkey *);
 *   STREAM_OPEN / STREAM_DATA / STREAM_FIN / STREAM_RESET;
 *   EOF           the peer closed the connection.
 * Every entry point flushes what is due, except when called from inside an
 * event callback (the outer call flushes).
 *
 * One listener (lp2p_quic_listener): datagrams from any address; finds the
 * connection by destination connection id, accepts new ones (with a cap on
 * concurrent handshakes, and a Retry first when many are in progress),
 * answers unknown versions with Version
 * Negotiation and unknown short-header packets with a Stateless Reset. */
#ifndef LP2P_QUIC_H
#define LP2P_QUIC_H

#include "lp2p/common.h"
#include "lp2p/keys.h"
#include "lp2p/upgrade.h"

#include <sys/socket.h>

/* quic/README.md: ALPN is "libp2p". */
#define LP2P_QUIC_ALPN "libp2p"
/* Keep-alive: below quinn's 10 s idle timeout (TLS-QUIC-FACTS.md). */
#define LP2P_QUIC_KEEPALIVE_MS 5000
/* Our idle timeout, advertised in the transport parameters. */
#define LP2P_QUIC_IDLE_MS 30000
/* Streams the peer may have open at once, each way (bidi only). */
#define LP2P_QUIC_MAX_STREAMS 256
/* Connection ids we issue: 16 bytes (RFC 9000 section 5.1: at most 20). */
#define LP2P_QUIC_CID_LEN 16
/* Largest datagram we write (RFC 9000 section 14: 1200 is always safe;
 * ngtcp2 probes up to 1452). */
#define LP2P_QUIC_DGRAM_MAX 1452

typedef struct lp2p_quic_addr {
  struct sockaddr_storage sa;
  socklen_t len;
} lp2p_quic_addr;

/* Per-process state shared by every connection of one identity: the libp2p
 * certificate (tls_cert.h) as GnuTLS credentials, and the secret behind
 * our stateless reset tokens. NULL on failure (reason logged). */
typedef struct lp2p_quic_shared lp2p_quic_shared;
lp2p_quic_shared *lp2p_quic_shared_new(lp2p_env *env, const lp2p_identity *id);
void lp2p_quic_shared_free(lp2p_quic_shared *sh);

typedef struct lp2p_quic_config {
  const lp2p_quic_shared *shared;
  const lp2p_peerid *expected_peer; /* dialer: refuse any other; or NULL */
  uint32_t handshake_timeout_ms;    /* 0: 10 s */
  uint32_t idle_timeout_ms;         /* 0: LP2P_QUIC_IDLE_MS */
} lp2p_quic_config;

typedef struct lp2p_quic_conn lp2p_quic_conn;

/* A dialer's connection from local to remote; sends its first flight on
 * lp2p_quic_conn_start. NULL on failure (reason logged). */
lp2p_quic_conn *lp2p_quic_dial(lp2p_env *env, const lp2p_quic_config *cfg,
                               const lp2p_quic_addr *local, const lp2p_quic_addr *remote,
                               lp2p_io io);
int lp2p_quic_conn_start(lp2p_quic_conn *q);
/* One datagram from the peer. A negative code: the connection is over
 * (reason said once with LP2P_REASON); free it. */
int lp2p_quic_conn_recv(lp2p_quic_conn *q, const lp2p_quic_addr *from, const uint8_t *p,
                        size_t len);
/* Absolute env->now_ms of the next timer; LP2P_NO_DEADLINE when none. */
uint64_t lp2p_quic_conn_deadline(const lp2p_quic_conn *q);
/* Runs timers due at env->now_ms (retransmission, keep-alive, idle and
 * handshake timeouts: LP2P_ETIMEDOUT). Negative: over, free it. */
int lp2p_quic_conn_expire(lp2p_quic_conn *q);
/* Graceful: CONNECTION_CLOSE with application error 0 (NO_ERROR). */
int lp2p_quic_conn_close(lp2p_quic_conn *q);
/* The remote's address (listener side: where its datagrams come from). */
const lp2p_quic_addr *lp2p_quic_conn_remote(const lp2p_quic_conn *q);
/* A pointer for the driver. */
void lp2p_quic_conn_set_user(lp2p_quic_conn *q, void *user);
void *lp2p_quic_conn_user(const lp2p_quic_conn *q);
void lp2p_quic_conn_free(lp2p_quic_conn *q);

/* QUIC streams through the muxer contract: the instance is the
 * lp2p_quic_conn, bound by lp2p_conn_start_secured (conn.h); create,
 * recv and destroy are not used (the QUIC engine lives on its own). */
extern const lp2p_muxer_ops lp2p_quic_muxer;

/* ---- listener ---- */

typedef struct lp2p_quic_listener lp2p_quic_listener;

typedef struct lp2p_quic_listener_cbs {
  /* A datagram for `to`. */
  int (*send)(void *ud, const lp2p_quic_addr *to, const uint8_t *p, size_t len);
  /* An event of connection q (see above). READY is where the driver binds
   * its session; the return code fails q. */
  int (*event)(void *ud, lp2p_quic_conn *q, const lp2p_event *ev);
  /* After a datagram or a timer of q, before its deadline is taken: the
   * driver's turn to write more on q's streams (a bulk sender refilling as
   * acknowledgements free its send buffer). A negative code closes q. May
   * be NULL. */
  int (*ran)(void *ud, lp2p_quic_conn *q);
  /* q's next deadline (lp2p_quic_conn_deadline) after a datagram or a
   * timer of its: where the driver re-arms q's timer. */
  void (*timer)(void *ud, lp2p_quic_conn *q, uint64_t deadline);
  /* q is about to be freed (err 0: closed cleanly): drop every reference. */
  void (*gone)(void *ud, lp2p_quic_conn *q, int err);
  void *ud;
} lp2p_quic_listener_cbs;

typedef struct lp2p_quic_listener_config {
  lp2p_quic_config conn;
  unsigned max_handshakes;  /* concurrent handshakes; more Initials dropped */
  unsigned max_connections; /* in all */
  /* Address validation (RFC 9000 section 8.1): with at least this many
   * handshakes in progress, a new Initial without a Retry token gets a
   * Retry, so only dialers that receive at our address hold a handshake
   * slot; below it none (a Retry costs a round trip). 0: half of
   * max_handshakes. */
  unsigned retry_from;
} lp2p_quic_listener_config;

lp2p_quic_listener *lp2p_quic_listener_new(lp2p_env *env,
                                           const lp2p_quic_listener_config *cfg,
                                           const lp2p_quic_addr *local,
                                           lp2p_quic_listener_cbs cbs);
/* One datagram from `from`. Never fails the listener: a bad datagram is
 * dropped with a reason (logged at info level), a failing connection is
 * closed and freed (gone). Returns 0. */
int lp2p_quic_listener_recv(lp2p_quic_listener *l, const lp2p_quic_addr *from,
                            const uint8_t *p, size_t len);
/* Runs q's timers; frees q (gone) when they end it. */
void lp2p_quic_listener_expire(lp2p_quic_listener *l, lp2p_quic_conn *q);
/* Closes q gracefully (CONNECTION_CLOSE with NO_ERROR) and frees it (gone,
 * err 0): the listener's side of ending one connection. Not from inside a
 * callback of q's own (its engine is on the stack then). */
void lp2p_quic_listener_close_conn(lp2p_quic_listener *l, lp2p_quic_conn *q);
/* Counts, for tests and logs. */
unsigned lp2p_quic_listener_handshakes(const lp2p_quic_listener *l);
unsigned lp2p_quic_listener_connections(const lp2p_quic_listener *l);
unsigned lp2p_quic_listener_retries(const lp2p_quic_listener *l);
/* Closes every connection gracefully (gone for each) and frees. */
void lp2p_quic_listener_free(lp2p_quic_listener *l);

#endif
