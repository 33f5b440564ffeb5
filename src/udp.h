/* Internal: the libuv UDP driver that runs quic-v1 (udp.c), a transport
 * driver of the seam (transport.h). */
#ifndef LP2P_UDP_INTERNAL_H
#define LP2P_UDP_INTERNAL_H

#include "transport.h"

extern const lp2p__driver lp2p__udp_driver;

#endif
