/* The two layer contracts the connection upgrade drives, so that it never
 * cares which security protocol or muxer runs: a security layer turns wire
 * bytes into plaintext after a handshake; a muxer turns plaintext into
 * streams. Each engine module provides one ops table. */
#ifndef LP2P_UPGRADE_H
#define LP2P_UPGRADE_H

#include "lp2p/common.h"
#include "lp2p/keys.h"

/* What a security engine is made with. */
typedef struct lp2p_security_params {
  int initiator;
  const lp2p_identity *identity;
  const char *const *muxers; /* our muxer ids in preference order, for
                                negotiation inside the handshake (Noise
                                extensions, TLS ALPN); may be NULL/0 */
  size_t n_muxers;
  const lp2p_peerid *expected_peer; /* dialer: the /p2p/ dialed, or NULL; a
                                       protocol that can refuses another
                                       peer inside its handshake */
  void *shared;                     /* from shared_new, or NULL */
} lp2p_security_params;

/* Security: READY (peer = const lp2p_pubkey*, protocol = inlined muxer or
 * NULL), then DATA.
 * shared_new (optional, may be NULL) makes, once per process, the state
 * every connection of one identity and muxer list can share (Noise's static
 * key and signed payload, the TLS certificate), so no connection pays for
 * it: p->initiator, expected_peer and shared are unused there. create gets
 * it in p->shared; without one the engine makes its own. */
typedef struct lp2p_security_ops {
  const char *name;     /* harness name: "noise" */
  const char *protocol; /* multistream id: "/noise" */
  void *(*shared_new)(lp2p_env *env, const lp2p_security_params *p);
  void (*shared_free)(void *shared);
  void *(*create)(lp2p_env *env, const lp2p_security_params *p, lp2p_io io);
  int (*start)(void *s);
  int (*recv)(void *s, const uint8_t *in, size_t len);
  int (*send)(void *s, const uint8_t *p, size_t len);
  void (*destroy)(void *s);
  /* Optional (NULL: send each piece): the pieces of one muxer frame, in
   * order, sealed together without copying them together first. */
  int (*sendv)(void *s, const lp2p_iovec *v, size_t n);
} lp2p_security_ops;

/* Muxer: STREAM_OPEN / STREAM_DATA / STREAM_FIN / STREAM_RESET / EOF. */
typedef struct lp2p_muxer_ops {
  const char *name;     /* harness name: "yamux", "mplex" */
  const char *protocol; /* multistream id: "/yamux/1.0.0" */
  void *(*create)(lp2p_env *env, int initiator, lp2p_io io);
  int (*recv)(void *m, const uint8_t *in, size_t len);
  int (*open)(void *m, uint32_t *id);
  int (*send)(void *m, uint32_t id, const uint8_t *p, size_t len);
  int (*close)(void *m, uint32_t id);
  int (*reset)(void *m, uint32_t id);
  int (*goaway)(void *m, uint32_t code);
  /* Bytes send() would put on the wire now for stream id (flow control),
   * so a bulk sender produces no more than that; SIZE_MAX when the muxer
   * has no flow control. May be NULL (same as SIZE_MAX). */
  size_t (*writable)(const void *m, uint32_t id);
  uint64_t (*deadline)(const void *m);
  int (*expire)(void *m);
  void (*destroy)(void *m);
  /* Only for an instance the transport made (QUIC streams): sets the sink
   * of its STREAM_* events. NULL for the byte-stream muxers. */
  void (*bind)(void *m, lp2p_io io);
} lp2p_muxer_ops;

/* By harness name ("noise", "yamux"); NULL when unsupported. */
const lp2p_security_ops *lp2p_security_find(const char *name);
const lp2p_muxer_ops *lp2p_muxer_find(const char *name);
/* Comma-separated harness names of what we support, for error messages. */
const char *lp2p_security_names(void);
const char *lp2p_muxer_names(void);
/* Internal: "a, b, c" from names into out (cap LP2P__NAMES_MAX), made on
 * the first call (out starts zeroed, as a static buffer does); the lists
 * above and the transports' use it. */
#define LP2P__NAMES_MAX 128
const char *lp2p__join_names(char out[LP2P__NAMES_MAX], const char *const *names,
                             size_t n);

#endif
