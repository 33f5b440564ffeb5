/* Hostile mplex sessions against a real listener running mplex: an honest
 * Noise handshake agreeing /mplex/6.7.0 inline, then crafted mplex frames
 * through the secured channel. */
#include "hostile.h"

#include "lp2p/mplex.h"

enum { F_NEW_STREAM = 0, F_MSG_INITIATOR = 2, F_RESET_RECEIVER = 5 };

static hl H;

static int setup(void **state) {
  (void)state;
  hl_init(&H, "mplex");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hl_free(&H);
  return 0;
}

static void varint(lp2p_buf *b, uint64_t v) {
  uint8_t t[LP2P_VARINT_MAX];
  lp2p_buf_append(b, t, lp2p_varint_encode(t, v));
}

static void mframe(lp2p_buf *b, uint64_t id, unsigned flag, uint64_t len) {
  varint(b, id << 3 | flag);
  varint(b, len);
}

static void proto_case(const char *name, const lp2p_buf *bytes, int err) {
  hc c;
  hl_case(&H, &c, name);
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_MPLEX_PROTOCOL);
  assert_int_equal(hn_send(&n, bytes->data, bytes->len), 0);
  hn_free(&n);
  hl_expect_closed(&H, &c, err, "failed in muxed connection", HU_WAIT_MS);
}

static void test_protocol_errors(void **state) {
  (void)state;
  lp2p_buf b = {0};
  mframe(&b, 0, F_NEW_STREAM, 0);
  mframe(&b, 0, F_MSG_INITIATOR, LP2P_MPLEX_MAX_FRAME_DEFAULT + 1);
  proto_case("frame length over 1 MiB", &b, LP2P_ETOOBIG);
  b.len = 0;
  mframe(&b, 1, F_NEW_STREAM, (uint64_t)1 << 40);
  proto_case("NewStream of 2^40 bytes", &b, LP2P_ETOOBIG);
  b.len = 0;
  static const uint8_t ten[] = {0x80, 0x80, 0x80, 0x80, 0x80,
                                0x80, 0x80, 0x80, 0x80, 0x01};
  lp2p_buf_append(&b, ten, sizeof ten);
  proto_case("10-byte header varint", &b, LP2P_EVARINT);
  b.len = 0;
  static const uint8_t nonmin[] = {0x80, 0x00, 0x00};
  lp2p_buf_append(&b, nonmin, sizeof nonmin);
  proto_case("non-minimal header varint", &b, LP2P_EVARINT);
  b.len = 0;
  mframe(&b, 0, 7, 0);
  proto_case("unknown flag 7", &b, LP2P_EPROTO);
  b.len = 0;
  mframe(&b, 4, F_NEW_STREAM, 0);
  mframe(&b, 4, F_NEW_STREAM, 0);
  proto_case("NewStream twice", &b, LP2P_EPROTO);
  lp2p_buf_free(&b);
}

/* Counts frames with `flag` in plaintext p. */
static size_t count_flag(const lp2p_buf *p, unsigned flag) {
  size_t n = 0, off = 0;
  while (off < p->len) {
    uint64_t h, len;
    int a = lp2p_varint_decode(&h, p->data + off, p->len - off);
    if (a <= 0) break;
    int k = lp2p_varint_decode(&len, p->data + off + (size_t)a, p->len - off - (size_t)a);
    if (k <= 0 || off + (size_t)a + (size_t)k + len > p->len) break;
    if ((h & 7) == flag) n++;
    off += (size_t)a + (size_t)k + len;
  }
  return n;
}

/* Thousands of NewStream, never used: LP2P_MPLEX_MAX_STREAMS_DEFAULT are
 * taken, the rest reset; the listener stays up and keeps serving. */
static void test_newstream_flood(void **state) {
  (void)state;
  enum { N = 4000 };
  hc c;
  hl_case(&H, &c, "thousands of NewStream");
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_MPLEX_PROTOCOL);
  lp2p_buf b = {0};
  for (uint32_t i = 0; i < N; i++) {
    char name[16];
    int l = snprintf(name, sizeof name, "%u", i);
    mframe(&b, i, F_NEW_STREAM, (uint64_t)l);
    lp2p_buf_append(&b, name, (size_t)l);
  }
  size_t before = hu_heap_bytes();
  assert_int_equal(hn_send_opt(&n, b.data, b.len, 0), 0);
  lp2p_buf plain = {0};
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (count_flag(&plain, F_RESET_RECEIVER) < N - LP2P_MPLEX_MAX_STREAMS_DEFAULT &&
         hu_now_ms() < end) {
    hl_pump(&H, c.fd);
    assert_int_equal(hn_recv(&n, &plain), 0);
  }
  assert_int_equal(count_flag(&plain, F_RESET_RECEIVER),
                   N - LP2P_MPLEX_MAX_STREAMS_DEFAULT);
  size_t grown = hu_heap_bytes() - before;
  fprintf(stdout, "heap growth during the NewStream flood: %zu bytes\n", grown);
  assert_true(grown < 4u << 20);
  assert_int_equal(hu_dial_ping(&H.loop, &H.env, H.port, "mplex", &H.pid, hl_pump_cb, &H),
                   0);
  lp2p_buf_free(&b);
  lp2p_buf_free(&plain);
  hn_free(&n);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  free(hl_log_end(&H));
  hl_check_serves(&H);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_protocol_errors),
      cmocka_unit_test(test_newstream_flood),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
