/* Outgoing datagrams batched for UDP GSO (see udp_tx.h). */
#include "udp_tx.h"

#include "lp2p/common.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/uio.h>

void lp2p__udp_tx_init(lp2p__udp_tx *t, int fd) {
  t->fd = fd;
  t->gso = 1;
  t->len = t->n = 0;
  t->closed = 0;
}

int lp2p__udp_tx_pending(const lp2p__udp_tx *t) { return t->n > 0; }

/* One sendmsg of len bytes at p; seg > 0: GSO segments of that size. */
static int send_one(lp2p__udp_tx *t, const uint8_t *p, size_t len, size_t seg) {
  struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctl;
  struct msghdr m = {
      .msg_name = &t->to, .msg_namelen = t->to_len, .msg_iov = &iov, .msg_iovlen = 1};
  if (seg) {
    memset(&ctl, 0, sizeof ctl);
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t s = (uint16_t)seg;
    memcpy(CMSG_DATA(c), &s, sizeof s);
  }
  ssize_t n;
  do
    n = sendmsg(t->fd, &m, 0);
  while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

void lp2p__udp_tx_flush(lp2p__udp_tx *t) {
  if (t->n == 0) return;
  int err = send_one(t, t->buf, t->len, t->n > 1 ? t->seg : 0);
  if (err && t->n > 1 && (err == EIO || err == EINVAL)) {
    /* EIO (no checksum offload), EINVAL (no UDP_SEGMENT): one at a time,
     * from now on. Other errors (an unreachable route while a container
     * starts, a firewall) say nothing about GSO: the batch is dropped
     * below, as one datagram would be, and QUIC resends. */
    LP2P_DEBUG("udp", "GSO refused (%s): one datagram per send from now on",
               strerror(err));
    t->gso = 0;
    for (size_t off = 0; off < t->len; off += t->seg)
      send_one(t, t->buf + off, t->len - off < t->seg ? t->len - off : t->seg, 0);
  } else if (err && err != EAGAIN && err != ENOBUFS) {
    LP2P_DEBUG("udp", "send: %s", strerror(err));
  }
  t->len = t->n = 0;
  t->closed = 0;
}

static int joins(const lp2p__udp_tx *t, const struct sockaddr *to, socklen_t to_len,
                 size_t len) {
  return t->n > 0 && !t->closed && len <= t->seg && t->n < LP2P__UDP_TX_SEGS &&
         t->len + len <= LP2P__UDP_TX_MAX && to_len == t->to_len &&
         memcmp(to, &t->to, to_len) == 0;
}

void lp2p__udp_tx_add(lp2p__udp_tx *t, const struct sockaddr *to, socklen_t to_len,
                      const uint8_t *p, size_t len) {
  if (len == 0 || len > LP2P__UDP_TX_MAX || to_len > sizeof t->to) return;
  if (!joins(t, to, to_len, len)) {
    lp2p__udp_tx_flush(t);
    memcpy(&t->to, to, to_len);
    t->to_len = to_len;
    t->seg = len;
  }
  memcpy(t->buf + t->len, p, len);
  t->len += len;
  t->n++;
  if (len < t->seg) t->closed = 1;
  if (!t->gso) lp2p__udp_tx_flush(t);
}
