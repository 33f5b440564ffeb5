/* /perf/1.0.0 through two whole connection stacks wired in memory (mss,
 * noise, yamux | mplex): the client's exchange end to end with the output
 * pulled by lp2p_conn_pump as a driver would (with and without the sides
 * lending room for Noise to seal into), a listener without perf
 * refusing it, and a listener's cap resetting an oversized request. */
#include "testutil.h"

#include "lp2p/conn.h"

#include <string.h>

typedef struct side {
  tu_lent lent; /* first: the io's ud serves both */
  lp2p_conn *conn;
  int ready, done;
} side;

/* Whether the sides lend room at the tail of their output (io.reserve) as
 * the stream driver does: Noise then seals straight into it. */
static int lend_room;

static int side_event(void *ud, const lp2p_event *ev) {
  side *s = ud;
  s->ready += ev->type == LP2P_EV_READY;
  s->done += ev->type == LP2P_EV_PERF_DONE;
  return 0;
}

static lp2p_io side_io(side *s) {
  return (lp2p_io){.write = tu_lent_write,
                   .event = side_event,
                   .ud = s,
                   .reserve = lend_room ? tu_lent_reserve : NULL};
}

static int deliver(side *from, side *to, size_t chunk) {
  lp2p_buf b = from->lent.out;
  from->lent.out = (lp2p_buf){0};
  int rc = 0;
  for (size_t off = 0; off < b.len && rc == 0;) {
    size_t n = chunk && chunk < b.len - off ? chunk : b.len - off;
    rc = lp2p_conn_recv(to->conn, b.data + off, n);
    off += n;
  }
  lp2p_buf_free(&b);
  return rc;
}

/* Like a driver: deliver, then let perf streams refill up to a small
 * budget, until nothing moves. */
static int run_until_quiet(side *a, side *b, size_t chunk) {
  for (int i = 0; i < 100000; i++) {
    int rc = deliver(a, b, chunk);
    if (!rc) rc = deliver(b, a, chunk);
    if (!rc && lp2p_conn_wants_output(a->conn)) rc = lp2p_conn_pump(a->conn, 100000) < 0;
    if (!rc && lp2p_conn_wants_output(b->conn)) rc = lp2p_conn_pump(b->conn, 100000) < 0;
    if (rc) return rc;
    if (!a->lent.out.len && !b->lent.out.len) return 0;
  }
  return LP2P_ETIMEDOUT;
}

static lp2p_env env;
static uint64_t seed = 11;
static lp2p_identity di, li;

static void setup_pair(side *d, side *l, const char *muxer, int perf_server,
                       uint64_t cap) {
  env.random = tu_random;
  env.random_ud = &seed;
  assert_int_equal(lp2p_identity_generate(&di, LP2P_KEY_ED25519, &env), 0);
  assert_int_equal(lp2p_identity_generate(&li, LP2P_KEY_ED25519, &env), 0);
  lp2p_conn_config cfg = {.initiator = 1,
                          .identity = &di,
                          .security = lp2p_security_find("noise"),
                          .muxer = lp2p_muxer_find(muxer),
                          .step_timeout_ms = 10000};
  memset(d, 0, sizeof *d);
  memset(l, 0, sizeof *l);
  d->conn = lp2p_conn_new(&env, &cfg, side_io(d));
  cfg.initiator = 0;
  cfg.identity = &li;
  cfg.perf_server = perf_server;
  cfg.perf_max_bytes = cap;
  l->conn = lp2p_conn_new(&env, &cfg, side_io(l));
  assert_int_equal(lp2p_conn_start(d->conn), 0);
  assert_int_equal(lp2p_conn_start(l->conn), 0);
  assert_int_equal(run_until_quiet(d, l, 0), 0);
  assert_int_equal(d->ready, 1);
}

static void teardown_pair(side *d, side *l) {
  lp2p_conn_free(d->conn);
  lp2p_conn_free(l->conn);
  lp2p_buf_free(&d->lent.out);
  lp2p_buf_free(&l->lent.out);
}

static void exchange(const char *muxer, uint64_t up, uint64_t down, size_t chunk) {
  side d, l;
  setup_pair(&d, &l, muxer, 1, 1 << 30);
  assert_int_equal(lp2p_conn_perf(d.conn, up, down), 0);
  assert_int_equal(lp2p_conn_perf(d.conn, 1, 1), LP2P_EINVAL); /* one at a time */
  assert_int_equal(run_until_quiet(&d, &l, chunk), 0);
  assert_int_equal(d.done, 1);
  uint64_t u, w;
  lp2p_conn_perf_progress(d.conn, &u, &w);
  assert_int_equal(u, up);
  assert_int_equal(w, down);
  /* The next exchange runs on a new stream of the same connection. */
  assert_int_equal(lp2p_conn_perf(d.conn, 1, 1), 0);
  assert_int_equal(run_until_quiet(&d, &l, chunk), 0);
  assert_int_equal(d.done, 2);
  /* Every Noise message after the handshake went out in place. */
  if (lend_room) assert_true(d.lent.in_place > 0 && l.lent.in_place > 0);
  if (!lend_room) assert_int_equal(d.lent.in_place + l.lent.in_place, 0);
  teardown_pair(&d, &l);
}

static void test_exchanges(void **state) {
  (void)state;
  const char *muxers[] = {"yamux", "mplex"};
  for (int m = 0; m < 4; m++) {
    lend_room = m >= 2;
    exchange(muxers[m % 2], 0, 0, 0);
    exchange(muxers[m % 2], 1, 1, 1);
    exchange(muxers[m % 2], 3 << 20, 0, 0); /* past yamux's 256 KiB window */
    exchange(muxers[m % 2], 0, 3 << 20, 0);
    exchange(muxers[m % 2], 70000, 70000, 9999);
  }
  lend_room = 0;
}

static void test_not_served(void **state) {
  (void)state;
  side d, l;
  setup_pair(&d, &l, "yamux", 0, 0);
  assert_int_equal(lp2p_conn_perf(d.conn, 10, 10), 0);
  assert_int_not_equal(run_until_quiet(&d, &l, 0), 0);
  assert_int_equal(d.done, 0);
  teardown_pair(&d, &l);
}

static void test_over_cap_reset(void **state) {
  (void)state;
  side d, l;
  setup_pair(&d, &l, "yamux", 1, 1000);
  assert_int_equal(lp2p_conn_perf(d.conn, 10, 1001), 0);
  assert_int_not_equal(run_until_quiet(&d, &l, 0), 0);
  assert_int_equal(d.done, 0);
  /* The listener's connection lives on: only the stream was reset. */
  assert_true(lp2p_conn_is_ready(l.conn));
  teardown_pair(&d, &l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exchanges),
      cmocka_unit_test(test_not_served),
      cmocka_unit_test(test_over_cap_reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
