/* Hostile connections against a real listener: silent clients, hundreds of
 * half-open connections, clients that vanish at once. */
#include "hostile.h"

static hl H;

static int setup(void **state) {
  (void)state;
  hl_init(&H, "yamux");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hl_free(&H);
  return 0;
}

/* Connect and send nothing: the first step's deadline closes it. */
static void test_silent(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "connect and send nothing");
  uint64_t t0 = hu_now_ms();
  hl_expect_closed(&H, &c, LP2P_ETIMEDOUT, "failed in security negotiation: timed out",
                   HU_WAIT_MS);
  /* Closed by the deadline, not by the wait bound. */
  assert_true(hu_now_ms() - t0 < HU_WAIT_MS);
}

/* Hundreds of connections that never speak (or stop halfway): the
 * listener keeps serving honest dialers meanwhile and times all of them
 * out. */
static void test_half_open_hundreds(void **state) {
  (void)state;
  enum { N = 300 };
  static hc cs[N];
  hl_log_begin(&H);
  int closes = H.closes;
  for (int i = 0; i < N; i++) {
    hc_open(&cs[i], &H);
    if (i % 3 == 1) {
      /* header only */
      assert_int_equal(hc_send(&cs[i], "\x13/multistream/1.0.0\n", 20), 0);
    } else if (i % 3 == 2) {
      /* /noise agreed, then half of message 1 */
      hc_mss_noise(&cs[i]);
      assert_int_equal(hc_send(&cs[i],
                               "\x00\x20"
                               "0123456789",
                               12),
                       0);
    }
  }
  uv_run(&H.loop, UV_RUN_NOWAIT);
  assert_true(lp2p__tcp_listener_count(H.l) > 0);
  /* Served while the half-open ones are still there. */
  assert_int_equal(hu_dial_ping(&H.loop, &H.env, H.port, "yamux", &H.pid, hl_pump_cb, &H),
                   0);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  char *log = hl_log_end(&H);
  assert_non_null(strstr(log, "timed out"));
  free(log);
  assert_int_equal(H.closes, closes + N + 1);
  for (int i = 0; i < N; i++) {
    assert_int_equal(hc_wait_closed(&cs[i], HU_WAIT_MS), 0);
    hc_close(&cs[i]);
  }
  hl_check_serves(&H);
}

/* Gone at once: FIN, or RST, before a byte or in the middle of a frame. */
static void test_vanishing(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "FIN right after connect");
  hl_pump_ms(&H, 10);
  shutdown(c.fd, SHUT_WR);
  hl_expect_closed(&H, &c, LP2P_EEOF, NULL, HU_WAIT_MS);

  hl_case(&H, &c, "RST right after connect");
  hl_pump_ms(&H, 10);
  hc_reset(&c);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  free(hl_log_end(&H));
  assert_int_equal(H.last_err, UV_ECONNRESET);
  hl_check_serves(&H);

  hl_case(&H, &c, "RST in the middle of message 1");
  hc_mss_noise(&c);
  assert_int_equal(hc_send(&c,
                           "\x00\x20"
                           "0123456789",
                           12),
                   0);
  hl_pump_ms(&H, 10);
  hc_reset(&c);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  free(hl_log_end(&H));
  assert_int_equal(H.last_err, UV_ECONNRESET);
  hl_check_serves(&H);
}

/* The listener closes (SIGTERM in the binary) while connections are open,
 * some mid-handshake and one secured: they are torn down with it, nothing
 * touches the freed listener afterwards (ASan), nothing leaks. */
static void test_close_with_connections_open(void **state) {
  (void)state;
  hl h;
  hl_init(&h, "yamux");
  hc cs[6];
  hn n;
  for (int i = 0; i < 5; i++)
    hc_open(&cs[i], &h);
  hc_mss_noise(&cs[1]);
  hc_open(&cs[5], &h);
  hn_init(&n, &cs[5], NULL);
  hn_secure(&n, "/yamux/1.0.0");
  hl_pump_ms(&h, 20);
  assert_int_equal(lp2p__tcp_listener_count(h.l), 6);
  int closes = h.closes;
  hl_free(&h);
  assert_int_equal(h.closes, closes + 6);
  for (int i = 0; i < 6; i++)
    hc_close(&cs[i]);
  hn_free(&n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_silent),
      cmocka_unit_test(test_half_open_hundreds),
      cmocka_unit_test(test_vanishing),
      cmocka_unit_test(test_close_with_connections_open),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
