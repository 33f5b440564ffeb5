/* A flood of real QUIC v1 Initials that never complete (tests/hostile/
 * quic.sh): COUNT dialer engines, each on its own loopback UDP port, send
 * their first flight to IP:PORT and then never read a datagram, so every
 * Initial that a listener accepts holds one of its handshake slots until
 * its handshake timeout, and every Retry is left unanswered (RFC 9000
 * section 8.1.2). Prints "sent N" on stdout once the first COUNT are out;
 * then, for SECONDS, another COUNT / 4 every 250 ms (so slots freed by
 * timeouts are taken again at once), each port kept open while its slot
 * in a ring of MAX_COUNT lasts; exits 0.
 *
 *   lp2p-quic-flood IP PORT COUNT SECONDS */
#include "lp2p/keys.h"
#include "lp2p/quic.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 512

typedef struct flooder {
  int fd;
  lp2p_quic_addr to;
} flooder;

static int rnd(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  randombytes_buf(out, len);
  return 0;
}

static int fl_write(void *ud, const uint8_t *p, size_t len) {
  flooder *f = ud;
  sendto(f->fd, p, len, 0, (const struct sockaddr *)&f->to.sa, f->to.len);
  return 0; /* a lost datagram is just lost */
}

static int fl_event(void *ud, const lp2p_event *ev) {
  (void)ud, (void)ev;
  return 0;
}

/* One engine on a new loopback port: its first flight goes out. */
static int flood_one(lp2p_env *env, const lp2p_quic_config *qc, flooder *f,
                     const lp2p_quic_addr *to, lp2p_quic_conn **out) {
  f->to = *to;
  f->fd = socket(AF_INET, SOCK_DGRAM, 0);
  lp2p_quic_addr local = {.len = sizeof(struct sockaddr_in)};
  struct sockaddr_in *l = (struct sockaddr_in *)&local.sa;
  l->sin_family = AF_INET;
  l->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = local.len;
  if (f->fd < 0 || bind(f->fd, (struct sockaddr *)l, sl) ||
      getsockname(f->fd, (struct sockaddr *)l, &sl))
    return -1;
  lp2p_io io = {.write = fl_write, .event = fl_event, .ud = f};
  *out = lp2p_quic_dial(env, qc, &local, to, io);
  return *out && lp2p_quic_conn_start(*out) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  long count = argc == 5 ? strtol(argv[3], NULL, 10) : 0;
  long secs = argc == 5 ? strtol(argv[4], NULL, 10) : -1;
  lp2p_quic_addr to = {.len = sizeof(struct sockaddr_in)};
  struct sockaddr_in *in = (struct sockaddr_in *)&to.sa;
  in->sin_family = AF_INET;
  in->sin_port = htons((uint16_t)(argc == 5 ? atoi(argv[2]) : 0));
  if (argc != 5 || inet_pton(AF_INET, argv[1], &in->sin_addr) != 1 || !in->sin_port ||
      count < 4 || count > MAX_COUNT || secs < 0 || secs > 600) {
    fprintf(stderr, "usage: %s IPV4 PORT COUNT(4-%d) SECONDS(0-600)\n", argv[0],
            MAX_COUNT);
    return 2;
  }
  if (sodium_init() < 0) return 1;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  lp2p_env env = {.random = rnd,
                  .unix_s = (int64_t)time(NULL),
                  .now_ms =
                      (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000};
  lp2p_identity id;
  lp2p_quic_shared *sh = NULL;
  if (lp2p_identity_generate(&id, LP2P_KEY_ED25519, &env) ||
      !(sh = lp2p_quic_shared_new(&env, &id))) {
    fprintf(stderr, "quic_flood: cannot make an identity\n");
    return 1;
  }
  static flooder fl[MAX_COUNT];
  static lp2p_quic_conn *q[MAX_COUNT];
  lp2p_quic_config qc = {.shared = sh, .handshake_timeout_ms = 60000};
  long sent = 0;
  for (long wave = 0; wave <= secs * 4; wave++) {
    for (long k = 0; k < (wave ? count / 4 : count); k++, sent++) {
      long i = sent % MAX_COUNT;
      if (q[i]) {
        lp2p_quic_conn_free(q[i]);
        close(fl[i].fd);
      }
      q[i] = NULL;
      if (flood_one(&env, &qc, &fl[i], &to, &q[i])) {
        fprintf(stderr, "quic_flood: cannot start dialer %ld\n", sent);
        return 1;
      }
    }
    if (wave == 0) {
      printf("sent %ld\n", sent);
      fflush(stdout);
    }
    if (wave < secs * 4) nanosleep(&(struct timespec){.tv_nsec = 250000000}, NULL);
  }
  for (long i = 0; i < MAX_COUNT; i++)
    if (q[i]) {
      lp2p_quic_conn_free(q[i]);
      close(fl[i].fd);
    }
  lp2p_quic_shared_free(sh);
  lp2p_identity_clear(&id);
  return 0;
}
