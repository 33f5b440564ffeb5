/* The GSO batcher (src/udp_tx.h) over a real loopback socket pair: the
 * receiver gets the very datagrams added, in order and with their own
 * sizes, whether they left as one GSO send or one send each (the fallback
 * where the kernel refuses UDP_SEGMENT); a datagram to another address, a
 * shorter one, and a full batch each end a batch. */
#include "testutil.h"

#include "../../src/udp_tx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int rx_a, rx_b, txfd;
static struct sockaddr_in addr_a, addr_b;
static lp2p__udp_tx tx;

static int bound(struct sockaddr_in *a) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  *a = (struct sockaddr_in){.sin_family = AF_INET};
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof *a), 0);
  socklen_t len = sizeof *a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)a, &len), 0);
  struct timeval tv = {.tv_sec = 2};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

static void add(struct sockaddr_in *to, size_t len, uint8_t fill) {
  static uint8_t p[LP2P__UDP_TX_MAX];
  memset(p, fill, len);
  lp2p__udp_tx_add(&tx, (struct sockaddr *)to, sizeof *to, p, len);
}

static void expect(int fd, size_t len, uint8_t fill) {
  static uint8_t p[70000];
  ssize_t n = recv(fd, p, sizeof p, 0);
  assert_int_equal(n, (ssize_t)len);
  for (size_t i = 0; i < len; i++)
    if (p[i] != fill)
      fail_msg("byte %zu of a %zu-byte datagram: %u, want %u", i, len, p[i], fill);
}

static void run_case(int gso) {
  lp2p__udp_tx_init(&tx, txfd);
  tx.gso = gso;
  /* Five of 1200 and a shorter tail: one batch (with GSO). */
  for (uint8_t i = 1; i <= 5; i++)
    add(&addr_a, 1200, i);
  add(&addr_a, 300, 6);
  /* The tail closed the batch: this one starts another. */
  add(&addr_a, 1200, 7);
  /* Another address: the batch is sent first. */
  add(&addr_b, 500, 8);
  /* More than one GSO send holds. */
  for (unsigned i = 0; i < LP2P__UDP_TX_SEGS + 3; i++)
    add(&addr_a, 900, (uint8_t)(20 + i % 200));
  lp2p__udp_tx_flush(&tx);
  assert_false(lp2p__udp_tx_pending(&tx));
  for (uint8_t i = 1; i <= 5; i++)
    expect(rx_a, 1200, i);
  expect(rx_a, 300, 6);
  expect(rx_a, 1200, 7);
  expect(rx_b, 500, 8);
  for (unsigned i = 0; i < LP2P__UDP_TX_SEGS + 3; i++)
    expect(rx_a, 900, (uint8_t)(20 + i % 200));
}

static void test_gso(void **state) {
  (void)state;
  run_case(1);
}

static void test_one_by_one(void **state) {
  (void)state;
  run_case(0);
}

static int setup(void **state) {
  (void)state;
  struct sockaddr_in t;
  rx_a = bound(&addr_a);
  rx_b = bound(&addr_b);
  txfd = bound(&t);
  int big = 4 << 20;
  setsockopt(rx_a, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  close(rx_a);
  close(rx_b);
  close(txfd);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gso),
      cmocka_unit_test(test_one_by_one),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
