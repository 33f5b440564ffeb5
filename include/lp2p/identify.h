/* /ipfs/id/1.0.0 (libp2p/specs identify/README.md): the peer being
 * identified writes one varint-length-prefixed Identify protobuf and closes
 * the stream. We answer with a small, well-formed message (HARNESS.md
 * pitfall 6), and read the peer's within a cap, checking that its public
 * key is the one the connection authenticated. */
#ifndef LP2P_IDENTIFY_H
#define LP2P_IDENTIFY_H

#include "lp2p/multiaddr.h"
#include "lp2p/keys.h"

#define LP2P_IDENTIFY_PROTOCOL "/ipfs/id/1.0.0"
/* protocolVersion: the value go, rust and js libp2p send. */
#define LP2P_IDENTIFY_PROTOCOL_VERSION "ipfs/0.1.0"
/* Cap on an inbound message: real ones with a signed peer record are
 * ~1-2 KiB. */
#define LP2P_IDENTIFY_MAX_IN (8 * 1024)
/* Cap on ours, so it stays small for every peer. */
#define LP2P_IDENTIFY_MAX_OUT (4 * 1024)

typedef struct lp2p_identify_info {
  const lp2p_pubkey *pub;
  const lp2p_multiaddr *listen_addrs;
  size_t n_listen_addrs;
  const lp2p_multiaddr *observed; /* the peer's address as we see it, or NULL */
  const char *const *protocols;
  size_t n_protocols;
  const char *agent_version;
} lp2p_identify_info;

/* Appends varint length + Identify protobuf to out. LP2P_ETOOBIG past
 * LP2P_IDENTIFY_MAX_OUT. */
int lp2p_identify_encode(lp2p_buf *out, const lp2p_identify_info *info);

/* What we keep of a peer's message. */
typedef struct lp2p_identify_peer {
  char agent_version[128];
  char protocol_version[64];
  size_t n_protocols;
  size_t n_listen_addrs;
} lp2p_identify_peer;

/* Reads a peer's reply as it arrives. */
typedef struct lp2p_identify_reader {
  lp2p_buf buf;
  int done;
} lp2p_identify_reader;

/* Feeds bytes; returns 1 once a whole message was parsed into *out and its
 * key matched `peer`, 0 when more is needed, or a negative code
 * (LP2P_ETOOBIG over the cap, LP2P_EPROTO for a malformed message,
 * LP2P_EPEERID when its key is another peer's). */
int lp2p_identify_read(lp2p_identify_reader *r, lp2p_identify_peer *out,
                       const lp2p_peerid *peer, const uint8_t *in, size_t len);
void lp2p_identify_reader_free(lp2p_identify_reader *r);

#endif
