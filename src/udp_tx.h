/* Internal: the outgoing datagrams of one UDP socket (udp.c), batched for
 * UDP generic segmentation offload (Linux UDP_SEGMENT, kernel 4.18+):
 * consecutive datagrams to one address, all of one size but a shorter last
 * one, leave in one sendmsg, and the kernel cuts them apart as late as it
 * can (on loopback, not at all until the receiver). A receiver sees the
 * same datagrams either way. Where the kernel or the device refuses GSO,
 * the batcher falls back to one sendmsg per datagram for good.
 *
 * A datagram the socket cannot take now (EAGAIN, ENOBUFS) is lost, as on
 * any network; QUIC recovers it. */
#ifndef LP2P_UDP_TX_INTERNAL_H
#define LP2P_UDP_TX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One GSO send: at most 64 segments (the kernel's UDP_MAX_SEGMENTS) and
 * 64 KiB less the IPv4 and UDP headers in all. */
#define LP2P__UDP_TX_SEGS 64
#define LP2P__UDP_TX_MAX 65507

typedef struct lp2p__udp_tx {
  int fd;
  int gso; /* 1 until the kernel refuses UDP_SEGMENT */
  struct sockaddr_storage to;
  socklen_t to_len;
  size_t seg; /* the batch's segment size: its first datagram's */
  size_t len; /* bytes batched */
  unsigned n; /* datagrams batched */
  int closed; /* the last one was shorter than seg: nothing may follow */
  uint8_t buf[LP2P__UDP_TX_MAX];
} lp2p__udp_tx;

void lp2p__udp_tx_init(lp2p__udp_tx *t, int fd);
/* Takes one datagram for `to`: batched when it can join the batch, which
 * is sent first when it cannot. */
void lp2p__udp_tx_add(lp2p__udp_tx *t, const struct sockaddr *to, socklen_t to_len,
                      const uint8_t *p, size_t len);
/* Sends the batch, if any. */
void lp2p__udp_tx_flush(lp2p__udp_tx *t);
int lp2p__udp_tx_pending(const lp2p__udp_tx *t);

#endif
