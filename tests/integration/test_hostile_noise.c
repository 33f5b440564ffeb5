/* Hostile Noise initiators against a real listener (our listener is the
 * responder): malformed message 1, tampered message 3, bad handshake
 * payloads, low-order ephemeral keys, short and forged transport frames.
 * The messages are built with the Noise core API of noise.h, so each case
 * changes exactly one thing of an otherwise honest handshake. */
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

/* Negotiates /noise, sends an honest message 1 and reads message 2. */
static void to_msg2(hn *n) {
  hc_mss_noise(n->c);
  lp2p_buf b = {0};
  hn_msg1(n, &b);
  assert_int_equal(hc_send(n->c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hn_read_msg2(n);
}

/* Sends raw frames right after /noise is agreed. */
static void raw_msg1(const char *name, const uint8_t *frame, size_t len, int err,
                     const char *logged) {
  hc c;
  hl_case(&H, &c, name);
  hc_mss_noise(&c);
  assert_int_equal(hc_send(&c, frame, len), 0);
  hl_expect_closed(&H, &c, err, logged, HU_WAIT_MS);
}

static void test_msg1_wrong_size(void **state) {
  (void)state;
  uint8_t f[2 + 64] = {0, 31};
  tu_random(&H.seed, f + 2, 31);
  raw_msg1("message 1 of 31 bytes", f, 2 + 31, LP2P_EPROTO,
           "failed in security handshake");
  f[1] = 0;
  raw_msg1("empty message 1", f, 2, LP2P_EPROTO, "failed in security handshake");
}

static void test_frame_over_cap(void **state) {
  (void)state;
  static const uint8_t f[] = {0xff, 0xff, 1, 2, 3};
  raw_msg1("handshake frame of 65535 bytes", f, sizeof f, LP2P_ETOOBIG,
           "failed in security handshake");
  static const uint8_t g[] = {0x23, 0x28}; /* 9000 > 8192 payload + keys */
  raw_msg1("handshake frame of 9000 bytes", g, sizeof g, LP2P_ETOOBIG,
           "failed in security handshake");
}

/* Half a frame, then FIN: the listener sees the peer go mid-message. */
static void test_truncated_then_eof(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "truncated message 1 then EOF");
  hc_mss_noise(&c);
  uint8_t f[2 + 10] = {0, 32};
  assert_int_equal(hc_send(&c, f, sizeof f), 0);
  shutdown(c.fd, SHUT_WR);
  hl_expect_closed(&H, &c, LP2P_EEOF, NULL, HU_WAIT_MS);
}

/* X25519 points whose DH result is all zero: the responder must refuse
 * them (noise.h: LP2P_EKEY) instead of keying with zeros. */
static void test_low_order_ephemeral(void **state) {
  (void)state;
  static const uint8_t zero[32] = {0};
  static const uint8_t one[32] = {1};
  const uint8_t *keys[] = {zero, one};
  const char *names[] = {"all-zero ephemeral key", "ephemeral key u=1 (low order)"};
  for (int i = 0; i < 2; i++) {
    uint8_t f[2 + 32] = {0, 32};
    memcpy(f + 2, keys[i], 32);
    raw_msg1(names[i], f, sizeof f, LP2P_EKEY, "failed in security handshake");
  }
}

/* A flipped bit in message 1: the listener cannot tell (e is plaintext),
 * but the honest initiator then fails to read message 2; whatever it sends
 * as message 3 cannot authenticate. */
static void test_msg1_flipped_bit(void **state) {
  (void)state;
  hc c;
  hl_case(&H, &c, "flipped bit in message 1");
  hn n;
  hn_init(&n, &c, NULL);
  hc_mss_noise(&c);
  lp2p_buf b = {0};
  hn_msg1(&n, &b);
  b.data[2 + 7] ^= 0x04;
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  static uint8_t m[LP2P_NOISE_MSG_MAX];
  int len = hc_read_frame(&c, m, sizeof m);
  assert_true(len > 0);
  assert_int_equal(lp2p_noise_hs_read(&n.hs, n.remote_payload, sizeof n.remote_payload, m,
                                      (size_t)len),
                   LP2P_EDECRYPT);
  b.len = 0;
  uint8_t junk[32 + 16 + 100];
  tu_random(&H.seed, junk, sizeof junk);
  hu_frame(&b, junk, sizeof junk);
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hn_free(&n);
  hl_expect_closed(&H, &c, LP2P_EDECRYPT, "failed in security handshake", HU_WAIT_MS);
}

/* An honest message 3 with one bit flipped at `at` (from the end when
 * negative). */
static void msg3_flipped(const char *name, int at) {
  hc c;
  hl_case(&H, &c, name);
  hn n;
  hn_init(&n, &c, NULL);
  to_msg2(&n);
  uint8_t pl[1024];
  size_t plen = hn_payload_build(&n, HN_GOOD, "/yamux/1.0.0", pl, sizeof pl);
  lp2p_buf b = {0};
  hn_msg3(&n, &b, pl, plen);
  size_t k = at >= 0 ? 2 + (size_t)at : b.len - (size_t)-at;
  b.data[k] ^= 0x80;
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hn_free(&n);
  hl_expect_closed(&H, &c, LP2P_EDECRYPT, "failed in security handshake", HU_WAIT_MS);
}

static void test_msg3_flipped_bit(void **state) {
  (void)state;
  int readies = H.readies;
  msg3_flipped("flipped bit in message 3 (encrypted static key)", 5);
  msg3_flipped("flipped bit in message 3 (static key tag)", 40);
  msg3_flipped("flipped bit in message 3 (payload)", 60);
  msg3_flipped("flipped bit in message 3 (payload tag)", -1);
  /* Only the honest dialers of hl_check_serves got READY. */
  assert_int_equal(H.readies, readies + 4);
}

/* Message 3 with an authentic encryption but a bad payload. */
static void bad_payload(const char *name, hn_payload kind, int err) {
  hc c;
  hl_case(&H, &c, name);
  hn n;
  hn_init(&n, &c, NULL);
  to_msg2(&n);
  uint8_t pl[1024];
  size_t plen = hn_payload_build(&n, kind, "/yamux/1.0.0", pl, sizeof pl);
  lp2p_buf b = {0};
  hn_msg3(&n, &b, pl, plen);
  int readies = H.readies;
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hn_free(&n);
  hl_expect_closed(&H, &c, err, "failed in security handshake", HU_WAIT_MS);
  assert_int_equal(H.readies, readies + 1); /* the honest dialer only */
}

static void test_bad_payloads(void **state) {
  (void)state;
  bad_payload("payload without signature", HN_NO_SIG, LP2P_EPROTO);
  bad_payload("payload without identity key", HN_NO_KEY, LP2P_EPROTO);
  bad_payload("wrong identity signature", HN_BAD_SIG, LP2P_ESIG);
  bad_payload("signature over another static key", HN_SIG_OTHER_KEY, LP2P_ESIG);
  bad_payload("garbage protobuf", HN_GARBAGE, LP2P_EPROTO);
  bad_payload("unknown key type 7", HN_UNKNOWN_KEY, LP2P_EKEY);
  bad_payload("RSA key type (unsupported)", HN_RSA_KEY, LP2P_EKEY);
}

/* After an honest handshake: transport frames that cannot be valid. */
static void bad_transport(const char *name, const uint8_t *frame, size_t len, int forge,
                          int err) {
  hc c;
  hl_case(&H, &c, name);
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, "/yamux/1.0.0");
  lp2p_buf b = {0};
  if (forge) {
    /* A real frame with a flipped tag bit. */
    static const uint8_t ping[12] = {0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7};
    hn_seal(&n, &b, ping, sizeof ping);
    b.data[b.len - 1] ^= 1;
  } else {
    lp2p_buf_append(&b, frame, len);
  }
  assert_int_equal(hc_send(&c, b.data, b.len), 0);
  lp2p_buf_free(&b);
  hn_free(&n);
  hl_expect_closed(&H, &c, err, "failed in muxed connection", HU_WAIT_MS);
}

static void test_transport_frames(void **state) {
  (void)state;
  static const uint8_t short15[] = {0, 15, 1,  2,  3,  4,  5,  6, 7,
                                    8, 9,  10, 11, 12, 13, 14, 15};
  static const uint8_t empty[] = {0, 0};
  bad_transport("transport frame shorter than the tag", short15, sizeof short15, 0,
                LP2P_EPROTO);
  bad_transport("empty transport frame", empty, sizeof empty, 0, LP2P_EPROTO);
  bad_transport("transport frame with a forged tag", NULL, 0, 1, LP2P_EDECRYPT);
}

/* An honest handshake, then silence on a muxed connection is fine (no
 * deadline), and a clean close ends it with no error. */
static void test_honest_then_close(void **state) {
  (void)state;
  hc c;
  hc_open(&c, &H);
  hn n;
  hn_init(&n, &c, NULL);
  hn_secure(&n, "/yamux/1.0.0");
  hl_pump_ms(&H, 2 * HU_STEP_MS);
  assert_int_equal(lp2p__tcp_listener_count(H.l), 1);
  hn_free(&n);
  hc_close(&c);
  assert_int_equal(hl_wait_idle(&H, HU_WAIT_MS), 0);
  assert_int_equal(H.last_err, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_msg1_wrong_size),
      cmocka_unit_test(test_frame_over_cap),
      cmocka_unit_test(test_truncated_then_eof),
      cmocka_unit_test(test_low_order_ephemeral),
      cmocka_unit_test(test_msg1_flipped_bit),
      cmocka_unit_test(test_msg3_flipped_bit),
      cmocka_unit_test(test_bad_payloads),
      cmocka_unit_test(test_transport_frames),
      cmocka_unit_test(test_honest_then_close),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
