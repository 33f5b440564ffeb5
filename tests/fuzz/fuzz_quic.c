/* Fuzz target: the QUIC datagram input path (quic.h), listener and dialer.
 *
 * Input: [mode] then records [len hi][len lo][bytes...][from][dt] until
 * the input ends.
 *   mode & 1: a real dialer engine first sends its Initial to the
 *             listener, so records can reach a connection mid-handshake
 *             (from == 0 is that dialer's address);
 *   mode & 2: records go to that dialer engine instead (as if from the
 *             listener's address), with the listener's answers to its
 *             Initial not delivered.
 * Each record is one datagram from port 1000 + from; dt * 7 ms passes
 * after it and every due timer runs. Invariants: the listener holds at
 * most MAX_HS handshakes and MAX_CONNS connections, never fails, and
 * everything is freed. */
#include "fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lp2p/quic.h"

#define MAX_HS 4
#define MAX_CONNS 8
#define LISTEN_PORT 4001

static lp2p_quic_shared *shared_l, *shared_d;

static lp2p_quic_addr addr_of(uint16_t port) {
  lp2p_quic_addr a = {.len = sizeof(struct sockaddr_in)};
  struct sockaddr_in *in = (struct sockaddr_in *)&a.sa;
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

typedef struct harness {
  lp2p_quic_listener *l;
  lp2p_quic_conn *d;
  int d_over;
  uint8_t initial[LP2P_QUIC_DGRAM_MAX];
  size_t initial_len;
  uint64_t sum;
  struct {
    lp2p_quic_conn *q;
    uint64_t deadline;
  } timers[MAX_CONNS];
} harness;

static int l_send(void *ud, const lp2p_quic_addr *to, const uint8_t *p, size_t len) {
  (void)to;
  return fz_sink_write(&((harness *)ud)->sum, p, len);
}

/* The listener's connections never get a session: READY is only noted. */
static int l_event(void *ud, lp2p_quic_conn *q, const lp2p_event *ev) {
  (void)ud, (void)q, (void)ev;
  return 0;
}

static void l_timer(void *ud, lp2p_quic_conn *q, uint64_t deadline) {
  harness *h = ud;
  int free_slot = -1;
  for (int i = 0; i < MAX_CONNS; i++) {
    if (h->timers[i].q == q) {
      h->timers[i].deadline = deadline;
      return;
    }
    if (!h->timers[i].q && free_slot < 0) free_slot = i;
  }
  FZ_CHECK(free_slot >= 0); /* never more than MAX_CONNS connections */
  h->timers[free_slot].q = q;
  h->timers[free_slot].deadline = deadline;
}

static void l_gone(void *ud, lp2p_quic_conn *q, int err) {
  harness *h = ud;
  (void)err;
  for (int i = 0; i < MAX_CONNS; i++)
    if (h->timers[i].q == q) h->timers[i].q = NULL;
}

/* Runs every listener connection timer that is due. */
static void run_timers(harness *h, uint64_t now) {
  for (int i = 0; i < MAX_CONNS; i++)
    if (h->timers[i].q && h->timers[i].deadline <= now) {
      h->timers[i].deadline = UINT64_MAX;
      lp2p_quic_listener_expire(h->l, h->timers[i].q);
    }
}

static int d_write(void *ud, const uint8_t *p, size_t len) {
  harness *h = ud;
  if (!h->initial_len && len <= sizeof h->initial) {
    memcpy(h->initial, p, len);
    h->initial_len = len;
  }
  return fz_sink_write(&h->sum, p, len);
}

static int d_event(void *ud, const lp2p_event *ev) {
  (void)ud, (void)ev;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lp2p_env env;
  uint64_t state;
  fz_env_init(&env, &state, 42);
  env.unix_s = 1767225600;
  env.now_ms = 1000;
  if (!shared_l) {
    /* Made once: a certificate costs a key generation. */
    shared_l = lp2p_quic_shared_new(&env, fz_identity(0));
    shared_d = lp2p_quic_shared_new(&env, fz_identity(1));
    FZ_CHECK(shared_l && shared_d);
  }
  fz_log_begin(0);
  fz_in in = fz_in_make(data, size);
  unsigned mode = fz_u8(&in);
  harness h = {0};
  lp2p_quic_listener_config lc = {
      .conn = {.shared = shared_l, .handshake_timeout_ms = 3000},
      .max_handshakes = MAX_HS,
      .max_connections = MAX_CONNS};
  lp2p_quic_addr local = addr_of(LISTEN_PORT), dial_from = addr_of(1000);
  lp2p_quic_listener_cbs cbs = {
      .send = l_send, .event = l_event, .timer = l_timer, .gone = l_gone, .ud = &h};
  h.l = lp2p_quic_listener_new(&env, &lc, &local, cbs);
  FZ_CHECK(h.l);
  if (mode & 3) {
    lp2p_quic_config qc = {.shared = shared_d, .handshake_timeout_ms = 3000};
    lp2p_io io = {.write = d_write, .event = d_event, .ud = &h};
    h.d = lp2p_quic_dial(&env, &qc, &dial_from, &local, io);
    FZ_CHECK(h.d);
    FZ_CHECK(lp2p_quic_conn_start(h.d) == 0);
    if ((mode & 1) && h.initial_len)
      lp2p_quic_listener_recv(h.l, &dial_from, h.initial, h.initial_len);
  }
  while (fz_left(&in)) {
    size_t want = fz_u16(&in), len;
    const uint8_t *p = fz_take(&in, want, &len);
    lp2p_quic_addr from = addr_of((uint16_t)(1000 + fz_u8(&in)));
    if ((mode & 2) && !h.d_over) {
      if (lp2p_quic_conn_recv(h.d, &local, p, len)) h.d_over = 1;
    } else {
      lp2p_quic_listener_recv(h.l, &from, p, len);
    }
    env.now_ms += (uint64_t)fz_u8(&in) * 7;
    if (h.d && !h.d_over && lp2p_quic_conn_deadline(h.d) <= env.now_ms &&
        lp2p_quic_conn_expire(h.d))
      h.d_over = 1;
    run_timers(&h, env.now_ms);
    FZ_CHECK(lp2p_quic_listener_handshakes(h.l) <= MAX_HS);
    FZ_CHECK(lp2p_quic_listener_connections(h.l) <= MAX_CONNS);
  }
  lp2p_quic_listener_free(h.l);
  lp2p_quic_conn_free(h.d);
  fz_log_end();
  return 0;
}
