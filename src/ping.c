#include "lp2p/ping.h"

#include <string.h>

void lp2p_ping_init(lp2p_ping *p, lp2p_env *env, int initiator, lp2p_io io) {
  memset(p, 0, sizeof *p);
  p->env = env;
  p->io = io;
  p->initiator = initiator;
}

int lp2p_ping_send(lp2p_ping *p) {
  if (p->err) return p->err;
  if (!p->initiator || p->outstanding) return LP2P_EINVAL;
  int rc = p->env->random(p->env->random_ud, p->sent, sizeof p->sent);
  if (rc) return rc;
  p->outstanding = 1;
  return p->io.write(p->io.ud, p->sent, sizeof p->sent);
}

int lp2p_ping_outstanding(const lp2p_ping *p) { return p->outstanding; }

static int on_block(lp2p_ping *p) {
  if (!p->initiator) return p->io.write(p->io.ud, p->got, sizeof p->got);
  if (!p->outstanding) {
    LP2P_REASON("ping", "echo with no ping outstanding");
    return p->err = LP2P_EPROTO;
  }
  if (memcmp(p->got, p->sent, sizeof p->sent) != 0) {
    LP2P_REASON("ping", "echo differs from the ping sent");
    return p->err = LP2P_EMISMATCH;
  }
  p->outstanding = 0;
  return lp2p_io_emit(&p->io, LP2P_EV_PONG, 0, NULL, 0);
}

int lp2p_ping_recv(lp2p_ping *p, const uint8_t *in, size_t len) {
  if (p->err) return p->err;
  while (len > 0) {
    size_t n = LP2P_PING_SIZE - p->have;
    if (n > len) n = len;
    memcpy(p->got + p->have, in, n);
    p->have += n;
    in += n;
    len -= n;
    if (p->have < LP2P_PING_SIZE) break;
    p->have = 0;
    int rc = on_block(p);
    if (rc) return rc;
  }
  return 0;
}
