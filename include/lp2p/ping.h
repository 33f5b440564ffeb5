/* /ipfs/ping/1.0.0 (libp2p/specs ping/ping.md): the initiator sends 32
 * random bytes, the responder echoes them; several pings may share one
 * stream. The responder echoes every complete 32-byte block until the
 * stream closes. The initiator emits LP2P_EV_PONG when an echo matches and
 * fails with LP2P_EMISMATCH when it does not. */
#ifndef LP2P_PING_H
#define LP2P_PING_H

#include "lp2p/common.h"

#define LP2P_PING_PROTOCOL "/ipfs/ping/1.0.0"
#define LP2P_PING_SIZE 32 /* ping.md: "32 bytes of random binary data" */

typedef struct lp2p_ping {
  lp2p_env *env;
  lp2p_io io;
  int initiator;
  int outstanding;
  int err;
  size_t have;
  uint8_t sent[LP2P_PING_SIZE];
  uint8_t got[LP2P_PING_SIZE];
} lp2p_ping;

void lp2p_ping_init(lp2p_ping *p, lp2p_env *env, int initiator, lp2p_io io);
/* Initiator: sends one ping. LP2P_EINVAL while one is outstanding. */
int lp2p_ping_send(lp2p_ping *p);
int lp2p_ping_recv(lp2p_ping *p, const uint8_t *in, size_t len);
int lp2p_ping_outstanding(const lp2p_ping *p);

#endif
