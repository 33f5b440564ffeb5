/* Yamux receive-window auto-tuning (include/lp2p/yamux.h): the RTT ping
 * with the first stream, and the window doubling only when a window
 * drains within 4 round trips, up to LP2P_YAMUX_AUTOTUNE_MAX. Frames are
 * built by hand (hashicorp/yamux spec.md "Framing"). */
#include "testutil.h"

#include "lp2p/yamux.h"

#include <stdlib.h>
#include <string.h>

#define KIB 1024u

typedef struct rec {
  lp2p_buf out;
} rec;

static int rec_write(void *ud, const uint8_t *p, size_t len) {
  return lp2p_buf_append(&((rec *)ud)->out, p, len);
}
static int rec_event(void *ud, const lp2p_event *ev) {
  (void)ud;
  (void)ev;
  return 0;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void feed_frame(lp2p_yamux *y, uint8_t type, uint16_t flags, uint32_t id,
                       uint32_t len) {
  lp2p_buf b = {0};
  tu_yamux_header(&b, 0, type, flags, id, len);
  if (type == 0) {
    assert_int_equal(lp2p_buf_reserve(&b, len), 0);
    memset(b.data + b.len, 0, len);
    b.len += len;
  }
  assert_int_equal(lp2p_yamux_recv(y, b.data, b.len), 0);
  lp2p_buf_free(&b);
}

/* The delta of the last window update written, or 0. */
static uint32_t last_update(const rec *r) {
  uint32_t delta = 0;
  for (size_t off = 0; off + 12 <= r->out.len;) {
    const uint8_t *h = r->out.data + off;
    if (h[1] == 1) delta = be32(h + 8);
    off += 12 + (h[1] == 0 ? be32(h + 8) : 0);
  }
  return delta;
}

/* A listener session; the peer opens stream 1 at time 0; the RTT ping is
 * answered at `rtt` ms (or never); 128 KiB arrive at `at` ms. Returns the
 * window update that follows. */
static uint32_t run(int autotune, int answer, uint64_t rtt, uint64_t at) {
  lp2p_env env = {0};
  rec r = {0};
  lp2p_yamux_config cfg = {.initiator = 0, .autotune = autotune};
  lp2p_yamux *y = lp2p_yamux_new(
      &env, &cfg, (lp2p_io){.write = rec_write, .event = rec_event, .ud = &r});
  assert_non_null(y);
  feed_frame(y, 1, 1 /* SYN */, 1, 0);
  if (autotune) {
    /* The ping rides with the first stream. */
    assert_int_equal(r.out.len, 12);
    assert_int_equal(r.out.data[1], 2);
    assert_int_equal(be32(r.out.data + 8), LP2P_YAMUX_RTT_OPAQUE);
  } else {
    assert_int_equal(r.out.len, 0);
  }
  env.now_ms = rtt;
  if (answer) feed_frame(y, 2, 2 /* ACK */, 0, LP2P_YAMUX_RTT_OPAQUE);
  env.now_ms = at;
  r.out.len = 0;
  feed_frame(y, 0, 0, 1, 128 * KIB);
  uint32_t d = last_update(&r);
  lp2p_yamux_free(y);
  lp2p_buf_free(&r.out);
  return d;
}

static void test_grows_when_drained_fast(void **state) {
  (void)state;
  /* Drained in 15 ms < 4 x 10 ms: the credit plus a doubled window. */
  assert_int_equal(run(1, 1, 10, 15), 128 * KIB + 256 * KIB);
  /* Sub-tick round trip counts as 1 ms: drained within 4 ms grows. */
  assert_int_equal(run(1, 1, 0, 3), 128 * KIB + 256 * KIB);
}

static void test_stays_when_slow_or_unknown(void **state) {
  (void)state;
  assert_int_equal(run(1, 1, 10, 40), 128 * KIB); /* not within 4 RTT */
  assert_int_equal(run(1, 0, 10, 15), 128 * KIB); /* no RTT yet */
  assert_int_equal(run(0, 0, 10, 15), 128 * KIB); /* autotune off */
}

/* Repeated fast drains stop at the cap; the peer may then use it all. */
static void test_cap(void **state) {
  (void)state;
  lp2p_env env = {0};
  rec r = {0};
  lp2p_yamux_config cfg = {.initiator = 0, .autotune = 1};
  lp2p_yamux *y = lp2p_yamux_new(
      &env, &cfg, (lp2p_io){.write = rec_write, .event = rec_event, .ud = &r});
  feed_frame(y, 1, 1, 1, 0);
  feed_frame(y, 2, 2, 0, LP2P_YAMUX_RTT_OPAQUE);
  uint64_t window = 256 * KIB;
  for (int i = 0; i < 12; i++) {
    r.out.len = 0;
    /* Half the current window, in frames the session accepts. */
    for (uint64_t left = window / 2; left;) {
      uint32_t n = left > 65536 ? 65536 : (uint32_t)left;
      feed_frame(y, 0, 0, 1, n);
      left -= n;
    }
    uint32_t d = last_update(&r);
    assert_true(d >= window / 2);
    window += d - window / 2;
    assert_true(window <= LP2P_YAMUX_AUTOTUNE_MAX);
  }
  assert_int_equal(window, LP2P_YAMUX_AUTOTUNE_MAX);
  lp2p_yamux_free(y);
  lp2p_buf_free(&r.out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_grows_when_drained_fast),
      cmocka_unit_test(test_stays_when_slow_or_unknown),
      cmocka_unit_test(test_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
