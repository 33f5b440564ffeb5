/* The byte layer contract: a layer between the socket and the first
 * multistream-select that turns a byte stream into a byte stream (WebSocket
 * framing, TLS for wss). Like every engine it is pure: bytes and time in
 * through recv/expire, bytes down through io.write, events up through
 * io.event:
 *
 *   READY  the layer's own handshake is done; the layer above may start.
 *          Bytes that arrived with the end of the handshake follow in the
 *          same call as DATA (connections/README.md has no such layer, but
 *          the same leftover rule as multistream-select applies).
 *   DATA   bytes for the layer above.
 *   EOF    the peer ended the stream in an orderly way (WebSocket close,
 *          TLS close_notify).
 *
 * send() takes bytes from the layer above (only after READY). close() starts
 * an orderly end (close frame, close_notify). recv/send/expire return 0 or a
 * negative code; the reason is given once with LP2P_REASON where found. */
#ifndef LP2P_LAYER_H
#define LP2P_LAYER_H

#include "lp2p/common.h"

typedef struct lp2p_layer_params {
  /* Dialer: the host the address names (ip or dns text), for the HTTP Host
   * header and TLS SNI; NULL when there is none. */
  const char *host;
  uint16_t port;
  uint32_t step_timeout_ms; /* each handshake */
  /* Listener of a TLS layer (wss): the certificate it serves, made once
   * when the listener starts; must outlive every layer made with it. */
  const struct lp2p_tls_creds *tls_creds;
} lp2p_layer_params;

typedef struct lp2p_layer_ops {
  const char *name; /* for log lines: "ws", "tls" */
  /* params is read during create only (strings copied). NULL on ENOMEM. */
  void *(*create)(lp2p_env *env, int initiator, const lp2p_layer_params *p, lp2p_io io);
  /* Sends the first bytes, if the role sends first. */
  int (*start)(void *l);
  int (*recv)(void *l, const uint8_t *in, size_t len);
  int (*send)(void *l, const uint8_t *p, size_t len);
  int (*close)(void *l);
  uint64_t (*deadline)(const void *l); /* LP2P_NO_DEADLINE: no timer */
  int (*expire)(void *l);
  void (*destroy)(void *l);
} lp2p_layer_ops;

#endif
