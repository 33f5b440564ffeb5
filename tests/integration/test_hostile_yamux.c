/* Hostile yamux sessions against a real listener: an honest Noise
 * handshake (the scripted initiator of hostile.h, yamux agreed inline),
 * then crafted yamux frames through the secured channel. The listener is
 * the yamux server: its streams are even, ours must be odd. */
#include "hostile.h"

#include "lp2p/yamux.h"

enum { T_DATA = 0, T_WU = 1, T_PING = 2, T_GOAWAY = 3 };
enum { F_SYN = 1, F_ACK = 2, F_FIN = 4, F_RST = 8 };

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

static void frame(lp2p_buf *b, uint8_t ver, uint8_t type, uint16_t flags, uint32_t id,
                  uint32_t len) {
  tu_yamux_header(b, ver, type, flags, id, len);
}

/* A secured session; the case sends `bytes` through it and the listener
 * must close with a protocol error logged as `logged`. */
static void proto_case(const char *name, const lp2p_buf *bytes, const char *logged) {
  hc c;
  hl_case(&H, &c, name);
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  assert_int_equal(hn_send(&n, bytes->data, bytes->len), 0);
  /* The listener says why before it closes: GoAway, protocol error. */
  lp2p_buf plain = {0};
  assert_int_equal(hc_need(&c, 2 + 12 + 16), 0);
  assert_int_equal(hn_recv(&n, &plain), 0);
  assert_true(plain.len >= 12);
  assert_int_equal(plain.data[plain.len - 12 + 1], T_GOAWAY);
  assert_int_equal(plain.data[plain.len - 1], LP2P_YAMUX_GOAWAY_PROTO);
  lp2p_buf_free(&plain);
  hn_free(&n);
  hl_expect_closed(&H, &c, LP2P_EPROTO, logged, HU_WAIT_MS);
}

static void test_protocol_errors(void **state) {
  (void)state;
  lp2p_buf b = {0};
  frame(&b, 1, T_PING, F_SYN, 0, 1);
  proto_case("bad version", &b, "bad version 1");
  b.len = 0;
  frame(&b, 0, 9, 0, 1, 0);
  proto_case("bad frame type", &b, "bad frame type 9");
  b.len = 0;
  frame(&b, 0, T_WU, F_SYN, 1, 0);
  frame(&b, 0, T_DATA, 0, 1, LP2P_YAMUX_INITIAL_WINDOW + 1);
  proto_case("data past the window", &b, "over the receive window");
  b.len = 0;
  frame(&b, 0, T_DATA, F_SYN, 3, LP2P_YAMUX_INITIAL_WINDOW + 1);
  proto_case("data past the window on the SYN", &b, "over the receive window");
  b.len = 0;
  frame(&b, 0, T_WU, F_SYN, 1, 0);
  frame(&b, 0, T_WU, 0, 1, UINT32_MAX);
  proto_case("window-update overflow", &b, "overflows stream 1 window");
  b.len = 0;
  frame(&b, 0, T_WU, F_SYN, 1, 0);
  frame(&b, 0, T_WU, F_SYN, 1, 0);
  proto_case("duplicate SYN", &b, "duplicate SYN");
  b.len = 0;
  frame(&b, 0, T_WU, F_SYN, 2, 0);
  proto_case("SYN with the listener's parity", &b, "with our id parity");
  b.len = 0;
  frame(&b, 0, T_DATA, F_SYN, 0, 0);
  proto_case("SYN on stream 0", &b, "SYN on stream 0");
  lp2p_buf_free(&b);
}

/* Counts yamux frames of `type` carrying `flag` in plaintext p. */
static size_t count_frames(const lp2p_buf *p, uint8_t type, uint16_t flag) {
  size_t n = 0;
  for (size_t off = 0; off + 12 <= p->len;) {
    const uint8_t *h = p->data + off;
    uint32_t len =
        (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
    if (h[1] == type && ((h[2] << 8 | h[3]) & flag)) n++;
    off += 12 + (h[1] == T_DATA ? len : 0);
  }
  return n;
}

/* Thousands of SYNs, each in its own Noise frame, never accepted and never
 * read: the listener takes LP2P_YAMUX_DEFAULT_MAX_STREAMS of them and
 * refuses the rest with RST; it stays up and keeps serving. */
static void test_syn_flood(void **state) {
  (void)state;
  enum { N = 4000 };
  hc c;
  hl_case(&H, &c, "thousands of SYNs never accepted");
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  lp2p_buf b = {0}, f = {0};
  for (uint32_t i = 0; i < N; i++) {
    f.len = 0;
    frame(&f, 0, T_WU, F_SYN, 2 * i + 1, 0);
    hn_seal(&n, &b, f.data, f.len);
  }
  size_t before = hu_heap_bytes();
  assert_int_equal(hc_send_opt(&c, b.data, b.len, 0), 0);
  hl_pump_ms(&H, 50);
  lp2p_buf plain = {0};
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (count_frames(&plain, T_WU, F_RST) < N - LP2P_YAMUX_DEFAULT_MAX_STREAMS &&
         hu_now_ms() < end) {
    hl_pump(&H, c.fd);
    assert_int_equal(hn_recv(&n, &plain), 0);
  }
  assert_int_equal(count_frames(&plain, T_WU, F_RST), N - LP2P_YAMUX_DEFAULT_MAX_STREAMS);
  /* What the listener keeps for the accepted streams is bounded. */
  size_t grown = hu_heap_bytes() - before;
  fprintf(stderr, "heap growth during the SYN flood: %zu bytes\n", grown);
  assert_true(grown < 4u << 20);
  assert_int_equal(lp2p__tcp_listener_count(H.l), 1);
  /* Meanwhile an honest dialer is served. */
  assert_int_equal(hu_dial_ping(&H.loop, &H.env, H.port, "yamux", &H.pid, hl_pump_cb, &H),
                   0);
  lp2p_buf_free(&b);
  lp2p_buf_free(&f);
  lp2p_buf_free(&plain);
  hn_free(&n);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  free(hl_log_end(&H));
  hl_check_serves(&H);
}

/* Pings, one per Noise frame so that every frame in makes a pong frame
 * out, and never a byte read: the listener must not queue its replies
 * without bound. It stops reading, and when the peer still does not read
 * within a step it closes the connection. */
static void test_ping_flood_never_reading(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "a flood of pings, never reading");
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  /* Small socket buffers so the flood backs up quickly. */
  int sz = 64 * 1024;
  setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  lp2p_buf b = {0}, f = {0};
  enum { PER_BATCH = 20000, MAX_MB = 64 };
  size_t before = hu_heap_bytes(), peak = 0, sent = 0;
  int rc = 0;
  uint32_t op = 0;
  while (rc == 0 && sent < (size_t)MAX_MB << 20) {
    b.len = 0;
    for (int i = 0; i < PER_BATCH; i++) {
      f.len = 0;
      frame(&f, 0, T_PING, F_SYN, 0, op++);
      hn_seal(&n, &b, f.data, f.len);
    }
    rc = hc_send_opt(&c, b.data, b.len, 0);
    sent += b.len;
    size_t now = hu_heap_bytes();
    if (now > before && now - before > peak) peak = now - before;
  }
  fprintf(stdout,
          "ping flood: sent %zu bytes (%s), listener heap growth peak %zu bytes\n", sent,
          rc ? strerror(-rc) : "all accepted", peak);
  assert_true(peak < 8u << 20);
  lp2p_buf_free(&b);
  lp2p_buf_free(&f);
  hn_free(&n);
  hl_expect_closed(&H, &c, LP2P_ETIMEDOUT, "not reading", HU_WAIT_MS);
}

/* GoAway from the peer, then more SYNs: allowed (GoAway only says the
 * peer opens no more); the session ends cleanly when the peer closes. */
static void test_goaway_then_close(void **state) {
  (void)state;
  hc c;
  hc_open(&c, &H);
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  lp2p_buf b = {0};
  frame(&b, 0, T_GOAWAY, 0, 0, 0);
  frame(&b, 0, T_GOAWAY, 0, 0, 2);
  assert_int_equal(hn_send(&n, b.data, b.len), 0);
  hl_pump_ms(&H, 20);
  assert_int_equal(lp2p__tcp_listener_count(H.l), 1);
  lp2p_buf_free(&b);
  hn_free(&n);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  hl_check_serves(&H);
}

/* Reset mid-frame: half a yamux header inside a complete Noise frame,
 * half a Noise frame, then RST. */
static void test_reset_mid_frame(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "reset mid-frame");
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  lp2p_buf b = {0}, f = {0};
  frame(&f, 0, T_WU, F_SYN, 1, 0);
  hn_seal(&n, &b, f.data, 6);
  hn_seal(&n, &b, f.data + 6, 6);
  assert_int_equal(hc_send(&c, b.data, b.len - 10), 0);
  hl_pump_ms(&H, 20);
  hc_reset(&c);
  close(c.fd);
  c.fd = -1;
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  char *log = hl_log_end(&H);
  assert_int_equal(H.last_err, UV_ECONNRESET);
  /* The connection was up: a reset is the peer leaving (go's dialer does
   * it after its ping), said at info level, not as our error. */
  assert_null(strstr(log, "lp2p error"));
  free(log);
  lp2p_buf_free(&b);
  lp2p_buf_free(&f);
  hn_free(&n);
  hc_close(&c);
  hl_check_serves(&H);
}

/* A peer that breaks the protocol and keeps writing: closing at once,
 * with its bytes unread, would send a TCP reset that can overtake our
 * GoAway. The listener shuts down writing after the GoAway and drains, so
 * the peer reads the GoAway and then a clean end of stream, never
 * ECONNRESET; the listener keeps serving. */
static void test_close_readable_while_peer_writes(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "protocol error while the peer keeps writing");
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  lp2p_buf b = {0}, plain = {0};
  frame(&b, 0, 9, 0, 1, 0); /* bad frame type */
  /* The bad frame, then bytes the listener has not read when it fails
   * (never decrypted: it stops at the bad frame). */
  static uint8_t junk[16384];
  assert_int_equal(hn_send(&n, b.data, b.len), 0);
  for (int i = 0; i < 8; i++) /* more than the listener reads at once */
    (void)send(c.fd, junk, sizeof junk, MSG_NOSIGNAL | MSG_DONTWAIT);
  uint64_t end = hu_now_ms() + HU_WAIT_MS;
  while (!c.eof && hu_now_ms() < end) {
    ssize_t k = send(c.fd, junk, sizeof junk, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.err = errno;
    hl_pump(&H, c.fd);
    assert_int_equal(hn_recv(&n, &plain), 0);
  }
  assert_true(c.eof);
  assert_int_equal(c.err, 0); /* FIN after the GoAway, no reset */
  assert_true(plain.len >= 12);
  assert_int_equal(plain.data[plain.len - 12 + 1], T_GOAWAY);
  assert_int_equal(plain.data[plain.len - 1], LP2P_YAMUX_GOAWAY_PROTO);
  /* Over for the listener already: not counted while it drains. */
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  assert_int_equal(H.last_err, LP2P_EPROTO);
  free(hl_log_end(&H));
  lp2p_buf_free(&b);
  lp2p_buf_free(&plain);
  hn_free(&n);
  hc_close(&c);
  hl_check_serves(&H);
}

/* True when plaintext yamux frames in b include an RST for stream id. */
static int has_rst(const lp2p_buf *b, uint32_t id) {
  for (size_t off = 0; off + 12 <= b->len;) {
    const uint8_t *h = b->data + off;
    uint32_t fid = (uint32_t)h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7];
    uint32_t len = (uint32_t)h[8] << 24 | h[9] << 16 | h[10] << 8 | h[11];
    if (h[1] != T_DATA) len = 0;
    if (fid == id && (h[3] & F_RST)) return 1;
    off += 12 + len;
  }
  return 0;
}

/* A stream opened and never negotiated: every step has a deadline, so the
 * listener resets that stream after the step timeout; the connection lives
 * on and the listener still serves. */
static void test_silent_stream_is_reset(void **state) {
  (void)state;
  hc c;
  hc_open(&c, &H);
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, LP2P_YAMUX_PROTOCOL);
  lp2p_buf b = {0}, plain = {0};
  frame(&b, 0, T_WU, F_SYN, 1, 0);
  assert_int_equal(hn_send(&n, b.data, b.len), 0);
  hl_pump_ms(&H, 3 * HU_STEP_MS);
  assert_int_equal(hn_recv(&n, &plain), 0);
  assert_true(has_rst(&plain, 1));
  assert_int_equal(lp2p__tcp_listener_count(H.l), 1);
  lp2p_buf_free(&b);
  lp2p_buf_free(&plain);
  hn_free(&n);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  hl_check_serves(&H);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_silent_stream_is_reset),
      cmocka_unit_test(test_protocol_errors),
      cmocka_unit_test(test_syn_flood),
      cmocka_unit_test(test_goaway_then_close),
      cmocka_unit_test(test_reset_mid_frame),
      cmocka_unit_test(test_close_readable_while_peer_writes),
      cmocka_unit_test(test_ping_flood_never_reading),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
