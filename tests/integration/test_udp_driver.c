/* The quic-v1 UDP driver (src/udp.c) over real loopback sockets: a
 * listener closing one of its inbound links, from inside that link's ready
 * handler (the close waits for the engine call to return) and from a timer
 * outside any engine call. The listener's socket and its other connections
 * must live on: the dialer of the closed link sees its connection end, and
 * a second dialer still gets a ping answered. (udp_close once ran a
 * dialer's teardown on inbound links: it freed the listener's engine under
 * it and closed the listener's socket.) And /perf/1.0.0 over the driver:
 * one exchange each way, PERF_DONE, the progress counters. */
#include "testutil.h"

#include "../../src/transport.h"

#include "lp2p/conn.h"
#include "lp2p/keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CLOSE_IN_READY, CLOSE_FROM_TIMER, KEEP };

static uv_loop_t loop;
static lp2p_env env;
static lp2p_identity id_l, id_d;
static lp2p_conn_config cc_l, cc_d;
static const lp2p__transport *quic;
static lp2p__link_listener *lis;
static uint16_t port;
static uv_timer_t close_timer, guard;
static int mode;
static lp2p__link *inbound;
static int l_ready, d_ready, d_closed, d_closed_err, d_pongs, d_perf_done;
static lp2p__link *dial;
static uint64_t perf_up, perf_down;

static int rnd(void *ud, uint8_t *out, size_t len) {
  (void)ud;
  randombytes_buf(out, len);
  return 0;
}

static void stop_all(void) {
  if (dial) lp2p__transport_close(quic, dial);
  dial = NULL;
  if (lis) lp2p__transport_listener_close(quic, lis);
  lis = NULL;
  uv_timer_stop(&guard);
  uv_stop(&loop); /* a kept listener stays open between runs */
}

static void close_cb(uv_timer_t *t) {
  (void)t;
  lp2p__transport_close(quic, inbound);
}

static void l_ready_cb(void *ud, lp2p__link *c, const lp2p_peerid *peer) {
  (void)ud, (void)peer;
  l_ready++;
  inbound = c;
  if (mode == CLOSE_IN_READY) lp2p__transport_close(quic, c);
  if (mode == CLOSE_FROM_TIMER) uv_timer_start(&close_timer, close_cb, 50, 0);
}

static void l_closed_cb(void *ud, lp2p__link *c, int err) {
  (void)ud, (void)c, (void)err;
  /* Nothing: a link the listener closed reports nothing after. */
}

static const lp2p__link_handlers lh = {.ready = l_ready_cb, .closed = l_closed_cb};

static void d_ready_cb(void *ud, lp2p__link *c, const lp2p_peerid *peer) {
  (void)ud, (void)peer;
  d_ready++;
  if (mode != KEEP) return; /* waits for the listener's close */
  int rc = perf_up || perf_down ? lp2p__transport_perf(quic, c, perf_up, perf_down)
                                : lp2p__transport_ping(quic, c);
  assert_int_equal(rc, 0);
}

static void d_pong_cb(void *ud, lp2p__link *c) {
  (void)ud, (void)c;
  d_pongs++;
  stop_all();
}

static void d_perf_done_cb(void *ud, lp2p__link *c) {
  (void)ud;
  uint64_t up, down;
  lp2p__transport_perf_progress(quic, c, &up, &down);
  assert_int_equal(up, perf_up);
  assert_int_equal(down, perf_down);
  d_perf_done++;
  stop_all();
}

static void d_closed_cb(void *ud, lp2p__link *c, int err) {
  (void)ud, (void)c;
  d_closed++;
  d_closed_err = err;
  dial = NULL;
  if (mode != KEEP) stop_all();
}

static const lp2p__link_handlers dh = {.ready = d_ready_cb,
                                       .pong = d_pong_cb,
                                       .perf_done = d_perf_done_cb,
                                       .closed = d_closed_cb};

static void guard_cb(uv_timer_t *t) {
  (void)t;
  fail_msg("no outcome within the guard time (mode %d)", mode);
}

static void dial_once(void) {
  lp2p__dial_plan plan;
  char addr[128];
  snprintf(addr, sizeof addr, "/ip4/127.0.0.1/udp/%u/quic-v1", port);
  assert_int_equal(lp2p__transport_plan(quic, addr, &plan), 0);
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", port, &sa);
  env.now_ms = uv_now(&loop);
  assert_int_equal(lp2p__transport_dial(quic, &loop, &env, &plan,
                                        (const struct sockaddr *)&sa, &cc_d, &dh, &dial),
                   0);
}

static void run(int m) {
  mode = m;
  l_ready = d_ready = d_closed = d_pongs = d_perf_done = 0;
  d_closed_err = 0;
  inbound = NULL;
  uv_timer_start(&guard, guard_cb, 20000, 0);
  dial_once();
  uv_run(&loop, UV_RUN_DEFAULT);
}

static int setup(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  if (getenv("DEBUG")) lp2p_log_level = LP2P_LOG_DEBUG;
  assert_int_equal(uv_loop_init(&loop), 0);
  env = (lp2p_env){.random = rnd, .unix_s = (int64_t)time(NULL)};
  assert_int_equal(lp2p_identity_generate(&id_l, LP2P_KEY_ED25519, &env), 0);
  assert_int_equal(lp2p_identity_generate(&id_d, LP2P_KEY_ED25519, &env), 0);
  cc_l = (lp2p_conn_config){.identity = &id_l,
                            .step_timeout_ms = 5000,
                            .perf_server = 1,
                            .perf_max_bytes = 1u << 30};
  cc_d = (lp2p_conn_config){.initiator = 1, .identity = &id_d, .step_timeout_ms = 5000};
  quic = lp2p__transport_find("quic-v1");
  assert_non_null(quic);
  uv_timer_init(&loop, &close_timer);
  uv_timer_init(&loop, &guard);
  return 0;
}

/* A fresh listener for each test; every handle closes before the next. */
static void listen_fresh(void) {
  env.now_ms = uv_now(&loop);
  assert_int_equal(
      lp2p__transport_listen(quic, &loop, &env, "127.0.0.1", 0, &cc_l, &lh, &lis), 0);
  assert_int_equal(lp2p__transport_port(quic, lis, &port), 0);
}

static void test_close_inbound(void **state) {
  (void)state;
  for (int m = CLOSE_IN_READY; m <= CLOSE_FROM_TIMER; m++) {
    listen_fresh();
    /* The closed link's dialer sees its connection end... */
    mode = m;
    lp2p__link_listener *keep = lis;
    lis = NULL; /* stop_all must leave the listener open */
    run(m);
    assert_int_equal(l_ready, 1);
    assert_int_equal(d_closed, 1);
    assert_int_equal(d_pongs, 0);
    /* ... and the listener still answers a second dialer's ping. */
    lis = keep;
    run(KEEP);
    assert_int_equal(l_ready, 1);
    assert_int_equal(d_pongs, 1);
    assert_null(lis);
  }
}

static void test_perf(void **state) {
  (void)state;
  static const uint64_t sizes[][2] = {{3000000, 5000000}, {0, 4000000}, {2000000, 0}};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    listen_fresh();
    perf_up = sizes[i][0];
    perf_down = sizes[i][1];
    run(KEEP);
    assert_int_equal(d_perf_done, 1);
    assert_null(lis);
  }
  perf_up = perf_down = 0;
}

static int teardown(void **state) {
  (void)state;
  uv_close((uv_handle_t *)&close_timer, NULL);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  lp2p_identity_clear(&id_l);
  lp2p_identity_clear(&id_d);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_close_inbound),
      cmocka_unit_test(test_perf),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
