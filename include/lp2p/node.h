/* The interop roles on one libuv loop: a listener that publishes its
 * address through Redis and serves until stopped, and a dialer that takes
 * the address, connects, pings and measures. */
#ifndef LP2P_NODE_H
#define LP2P_NODE_H

#include "lp2p/config.h"

typedef struct lp2p_result {
  double handshake_plus_one_rtt_ms; /* from the address in hand to 1st pong */
  double ping_rtt_ms;               /* that ping: its stream opened to echo */
} lp2p_result;

/* Runs the configured role to its end. Returns 0 on success (a listener
 * stopped by SIGTERM/SIGINT; a dialer with *res filled) or a negative code
 * after one line on stderr saying why. */
int lp2p_node_run(const lp2p_config *cfg, lp2p_result *res);

#endif
