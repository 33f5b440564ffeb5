/* Internal: the transport contract, one table entry per harness transport
 * name ("tcp", "ws", "wss"), chosen in config like the security and muxer
 * tables of upgrade.h. The app (node.c) only talks to this contract: which
 * addresses a transport dials, listen, dial, ping, close, and the multiaddr
 * its listener publishes.
 *
 * A stream transport is the libuv stream driver (stream.h) on a TCP socket
 * (tcp.h) with a list of byte layers (layer.h) below the libp2p connection,
 * so a new one is an engine module plus a table entry. A datagram transport (QUIC) brings
 * its own driver (lp2p__driver) behind the same contract. */
#ifndef LP2P_TRANSPORT_INTERNAL_H
#define LP2P_TRANSPORT_INTERNAL_H

#include "lp2p/multiaddr.h"
#include "tcp.h"

/* A connection and a listener of any transport, as the app holds them:
 * opaque, each driver's own. */
typedef struct lp2p__link lp2p__link;
typedef struct lp2p__link_listener lp2p__link_listener;

/* What a driver reports; the handlers struct passed to listen or dial must
 * outlive the listener or connection. */
typedef struct lp2p__link_handlers {
  void (*ready)(void *ud, lp2p__link *c, const lp2p_peerid *peer);
  void (*pong)(void *ud, lp2p__link *c);
  /* One /perf/1.0.0 exchange finished (lp2p__transport_perf). */
  void (*perf_done)(void *ud, lp2p__link *c);
  /* Called once when the connection ends: err 0 for a clean close. */
  void (*closed)(void *ud, lp2p__link *c, int err);
  void *ud;
} lp2p__link_handlers;

typedef struct lp2p__transport lp2p__transport;
typedef struct lp2p__dial_plan lp2p__dial_plan;

/* The I/O driver of a transport: the stream driver (tcp.c, byte layers
 * below lp2p_conn) for tcp, ws, wss; a datagram transport (QUIC) brings
 * its own. Same contract as the lp2p__transport_* functions below. */
typedef struct lp2p__driver {
  int (*listen)(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env, const char *ip,
                uint16_t port, const lp2p_conn_config *cc, const lp2p__link_handlers *h,
                lp2p__link_listener **out);
  /* The bound port. */
  int (*port)(lp2p__link_listener *l, uint16_t *port);
  void (*set_addrs)(lp2p__link_listener *l, const lp2p_multiaddr *addrs, size_t n);
  void (*listener_close)(lp2p__link_listener *l);
  int (*dial)(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
              const lp2p__dial_plan *plan, const struct sockaddr *addr,
              const lp2p_conn_config *cc, const lp2p__link_handlers *h, lp2p__link **out);
  int (*ping)(lp2p__link *c);
  /* Optional (NULL: the transport has no perf): one /perf/1.0.0 exchange,
   * and the payload bytes of the current or last one. */
  int (*perf)(lp2p__link *c, uint64_t upload, uint64_t download);
  void (*perf_progress)(const lp2p__link *c, uint64_t *up, uint64_t *down);
  void (*close)(lp2p__link *c);
} lp2p__driver;

/* What a dialer read out of the listener's address. */
struct lp2p__dial_plan {
  lp2p_dial_target target; /* host, family, tcp port, /p2p/ */
  char sni[256];           /* /tls/sni/<host>: the TLS server name */
  lp2p_layer_params params;
};

struct lp2p__transport {
  const char *name; /* harness name */
  /* Needs the GnuTLS module (gnutls_module.h): ws for the SHA-1 of its
   * accept key, wss for its TLS layer too, quic-v1 for its driver. The app loads it at
   * start (lp2p__transport_ needs_gnutls), so a failure is said before anything is
   * published. */
  int gnutls;
  /* The port's multiaddr protocol: LP2P_MA_TCP, or LP2P_MA_UDP. */
  int udp;
  /* No security or muxer to choose: the transport has its own (QUIC). */
  int secure_muxed;
  /* Byte layers below the connection, bottom first. */
  const lp2p_layer_ops *const *layers;
  size_t n_layers;
  /* The listener serves a fresh self-signed TLS certificate (wss). */
  int tls_cert;
  /* What the listener publishes after /ip4|ip6/<ip>/tcp|udp/<port>. */
  const char *suffix;
  /* Checks that ma (already known to have a host and port) is a form of
   * this transport, reading the components after /tcp|udp/<port> (the /p2p/
   * part is skipped). Fills plan->sni where the address names one. Returns
   * 0 or LP2P_EADDR. */
  int (*dialable)(const lp2p_ma_part *after, size_t n, lp2p__dial_plan *plan);
};

/* By harness name; NULL when unsupported. */
const lp2p__transport *lp2p__transport_find(const char *name);
/* Whether t, or security s (may be NULL), runs on the GnuTLS module. */
int lp2p__transport_needs_gnutls(const lp2p__transport *t, const lp2p_security_ops *s);
/* Comma-separated names, for error messages. */
const char *lp2p__transport_names(void);

/* Listens on ip (port 0: any). */
int lp2p__transport_listen(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                           const char *ip, uint16_t port, const lp2p_conn_config *cc,
                           const lp2p__link_handlers *h, lp2p__link_listener **out);
/* The port the listener is bound to. */
int lp2p__transport_port(const lp2p__transport *t, lp2p__link_listener *l,
                         uint16_t *port);
/* The multiaddr text the listener publishes for host_ip (no /p2p/). */
int lp2p__transport_published(const lp2p__transport *t, lp2p__link_listener *l,
                              const char *host_ip, char *out, size_t cap);
void lp2p__transport_listener_set_addrs(const lp2p__transport *t, lp2p__link_listener *l,
                                        const lp2p_multiaddr *addrs, size_t n);
void lp2p__transport_listener_close(const lp2p__transport *t, lp2p__link_listener *l);

/* Reads a listener address: LP2P_EADDR (one line on stderr) unless it is
 * a form this transport dials. */
int lp2p__transport_plan(const lp2p__transport *t, const char *text,
                         lp2p__dial_plan *plan);
/* Dials the resolved address of plan. */
int lp2p__transport_dial(const lp2p__transport *t, uv_loop_t *loop, lp2p_env *env,
                         const lp2p__dial_plan *plan, const struct sockaddr *addr,
                         const lp2p_conn_config *cc, const lp2p__link_handlers *h,
                         lp2p__link **out);
int lp2p__transport_ping(const lp2p__transport *t, lp2p__link *c);
/* Whether perf runs over t; its harness name. */
int lp2p__transport_has_perf(const lp2p__transport *t);
const char *lp2p__transport_name(const lp2p__transport *t);
/* LP2P_ENOTSUP where the transport has no perf. */
int lp2p__transport_perf(const lp2p__transport *t, lp2p__link *c, uint64_t upload,
                         uint64_t download);
void lp2p__transport_perf_progress(const lp2p__transport *t, const lp2p__link *c,
                                   uint64_t *up, uint64_t *down);
/* Graceful; no handler runs after. */
void lp2p__transport_close(const lp2p__transport *t, lp2p__link *c);

#endif
