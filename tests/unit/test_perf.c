/* /perf/1.0.0 engine (libp2p/specs perf/perf.md "Protocol"): both roles on
 * hand-built stream bytes, fed whole, byte by byte and split at every
 * offset; the two-header variant of the unified-testing rust image; the
 * listener's cap. */
#include "testutil.h"

#include "lp2p/perf.h"

#include <string.h>

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int feed_perf(void *ud, const uint8_t *p, size_t n) {
  return lp2p_perf_recv(ud, p, n);
}

/* Drains the engine's output in pieces of at most `max`; returns the bytes
 * and whether a FIN came last. */
static uint64_t drain(lp2p_perf *p, size_t max, lp2p_buf *keep, int *fin) {
  uint64_t total = 0;
  *fin = 0;
  while (lp2p_perf_wants_output(p)) {
    const uint8_t *out;
    int f;
    size_t n = lp2p_perf_output(p, max, &out, &f);
    assert_true(n <= max);
    if (keep && n) assert_int_equal(lp2p_buf_append(keep, out, n), 0);
    total += n;
    if (f) {
      *fin = 1;
      assert_false(lp2p_perf_wants_output(p));
    }
    if (!n && !f) break;
  }
  return total;
}

static void test_client_wire(void **state) {
  (void)state;
  lp2p_perf p;
  lp2p_perf_client_init(&p, 1000, 0x0102030405060708ull);
  lp2p_buf w = {0};
  int fin;
  uint64_t n = drain(&p, 300, &w, &fin);
  assert_int_equal(n, 8 + 1000);
  assert_true(fin);
  /* Client step 2: one big-endian uint64, then the upload. */
  assert_memory_equal(w.data, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  for (size_t i = 8; i < w.len; i++)
    assert_int_equal(w.data[i], 0);
  assert_int_equal(p.sent, 1000);
  lp2p_buf_free(&w);
}

static void test_client_download_every_split(void **state) {
  (void)state;
  uint8_t down[40];
  memset(down, 0xab, sizeof down);
  for (size_t pass = 0; pass < tu_split_passes(sizeof down); pass++) {
    lp2p_perf p;
    lp2p_perf_client_init(&p, 0, sizeof down);
    int fin;
    assert_int_equal(drain(&p, 1 << 20, NULL, &fin), 8);
    assert_true(fin);
    assert_int_equal(tu_feed((int)pass, down, sizeof down, feed_perf, &p), 0);
    assert_false(lp2p_perf_done(&p));
    assert_int_equal(lp2p_perf_fin(&p), 0);
    assert_true(lp2p_perf_done(&p));
    assert_int_equal(p.received, sizeof down);
  }
}

static void test_client_bad_downloads(void **state) {
  (void)state;
  lp2p_perf p;
  int fin;
  uint8_t b[8] = {0};
  lp2p_perf_client_init(&p, 0, 4);
  drain(&p, 64, NULL, &fin);
  assert_int_equal(lp2p_perf_recv(&p, b, 5), LP2P_EPROTO);
  assert_int_equal(lp2p_perf_fin(&p), LP2P_EPROTO); /* sticky */
  lp2p_perf_client_init(&p, 0, 4);
  drain(&p, 64, NULL, &fin);
  assert_int_equal(lp2p_perf_recv(&p, b, 3), 0);
  assert_int_equal(lp2p_perf_fin(&p), LP2P_EPROTO);
  /* The server may not answer before our upload is out. */
  lp2p_perf_client_init(&p, 100, 0);
  lp2p_perf_output(&p, 8, &(const uint8_t *){0}, &fin);
  assert_int_equal(lp2p_perf_fin(&p), LP2P_EEOF);
}

/* A request: header(s) then `upload` bytes. */
static size_t request(uint8_t *out, int two, uint64_t up, uint64_t down) {
  size_t n = 0;
  put64(out, two ? up : down);
  n += 8;
  if (two) {
    put64(out + n, down);
    n += 8;
  }
  memset(out + n, 0x5a, (size_t)up);
  return n + (size_t)up;
}

static void server_case(int two, uint64_t up, uint64_t down) {
  uint8_t req[128];
  size_t len = request(req, two, up, down);
  for (size_t pass = 0; pass < tu_split_passes(len); pass++) {
    lp2p_perf p;
    lp2p_perf_server_init(&p, 1 << 20);
    int fin;
    assert_int_equal(tu_feed((int)pass, req, len, feed_perf, &p), 0);
    /* Server step 3 MUST NOT run concurrently with step 2. */
    assert_false(lp2p_perf_wants_output(&p));
    assert_int_equal(lp2p_perf_fin(&p), 0);
    assert_int_equal(p.two_headers, two);
    assert_int_equal(drain(&p, 7, NULL, &fin), down);
    assert_true(fin);
    assert_true(lp2p_perf_done(&p));
  }
}

static void test_server_every_split(void **state) {
  (void)state;
  server_case(0, 0, 0);
  server_case(0, 50, 1000);
  server_case(0, 1, 1);
  server_case(0, 100, 0);
  server_case(0, 9, 100); /* 9 != 100 + 8: one header */
}

static void test_server_two_headers(void **state) {
  (void)state;
  server_case(1, 0, 1000); /* rust image download run */
  server_case(1, 100, 0);  /* upload run */
  server_case(1, 1, 1);    /* latency run */
}

static void test_server_cap_and_short(void **state) {
  (void)state;
  lp2p_perf p;
  uint8_t req[16];
  put64(req, 1001);
  lp2p_perf_server_init(&p, 1000);
  assert_int_equal(lp2p_perf_recv(&p, req, 8), 0);
  assert_int_equal(lp2p_perf_fin(&p), LP2P_ETOOBIG);
  assert_false(lp2p_perf_wants_output(&p));
  /* The largest request is refused without anything being sized by it. */
  put64(req, UINT64_MAX);
  lp2p_perf_server_init(&p, 1000);
  assert_int_equal(lp2p_perf_recv(&p, req, 8), 0);
  assert_int_equal(lp2p_perf_fin(&p), LP2P_ETOOBIG);
  lp2p_perf_server_init(&p, UINT64_MAX);
  assert_int_equal(lp2p_perf_recv(&p, req, 8), 0);
  assert_int_equal(lp2p_perf_fin(&p), 0);
  assert_true(lp2p_perf_wants_output(&p));
  for (size_t short_len = 0; short_len < 8; short_len++) {
    lp2p_perf_server_init(&p, 1000);
    assert_int_equal(lp2p_perf_recv(&p, req, short_len), 0);
    assert_int_equal(lp2p_perf_fin(&p), LP2P_EPROTO);
  }
}

/* A big transfer is handed out in bounded pieces from static memory. */
static void test_large_no_alloc(void **state) {
  (void)state;
  lp2p_perf p;
  lp2p_perf_client_init(&p, 10ull << 30, 0);
  const uint8_t *out;
  int fin;
  assert_int_equal(lp2p_perf_output(&p, 1 << 30, &out, &fin), 8);
  assert_int_equal(lp2p_perf_output(&p, 1 << 30, &out, &fin), LP2P_PERF_BLOCK);
  const uint8_t *again;
  lp2p_perf_output(&p, 1 << 30, &again, &fin);
  assert_ptr_equal(out, again);
  assert_false(fin);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_wire),
      cmocka_unit_test(test_client_download_every_split),
      cmocka_unit_test(test_client_bad_downloads),
      cmocka_unit_test(test_server_every_split),
      cmocka_unit_test(test_server_two_headers),
      cmocka_unit_test(test_server_cap_and_short),
      cmocka_unit_test(test_large_no_alloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
