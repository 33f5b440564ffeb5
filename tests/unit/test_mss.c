/* multistream-select: byte sequences from multiformats/multistream-select
 * README (varint length, text, newline), fed whole, byte by byte and split
 * at every offset. */
#include "testutil.h"

#include "lp2p/mss.h"

#include <string.h>

#define HDR "\x13/multistream/1.0.0\n"
#define NOISE "\x07/noise\n"
#define NA "\x03na\n"

static const char *const noise_only[] = {"/noise"};
static const char *const tls_then_noise[] = {"/tls/1.0.0", "/noise"};

static int feed_mss(void *ud, const uint8_t *p, size_t n) {
  return lp2p_mss_recv(ud, p, n);
}

static void test_encode(void **state) {
  (void)state;
  uint8_t out[64];
  int n = lp2p_mss_encode(out, sizeof out, "/noise");
  assert_int_equal(n, 8);
  assert_memory_equal(out, NOISE, 8);
  char big[LP2P_MSS_MAX_MSG + 1];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  uint8_t huge[2 * LP2P_MSS_MAX_MSG];
  assert_int_equal(lp2p_mss_encode(huge, sizeof huge, big), LP2P_ETOOBIG);
}

static void test_initiator_every_split(void **state) {
  (void)state;
  static const uint8_t reply[] = HDR NOISE "LEFTOVER";
  size_t len = sizeof reply - 1;
  for (size_t pass = 0; pass < tu_split_passes(len); pass++) {
    tu_capture c = {0};
    lp2p_mss m;
    lp2p_mss_init(&m, 1, noise_only, 1, tu_capture_io(&c));
    assert_int_equal(lp2p_mss_start(&m), 0);
    assert_int_equal(c.wire.len, 28);
    assert_memory_equal(c.wire.data, HDR NOISE, 28);
    assert_int_equal(tu_feed((int)pass, reply, len, feed_mss, &m), 0);
    assert_int_equal(c.ready, 1);
    assert_string_equal(c.protocol, "/noise");
    assert_int_equal(c.data.len, 8);
    assert_memory_equal(c.data.data, "LEFTOVER", 8);
    tu_capture_free(&c);
  }
}

static void test_responder_every_split(void **state) {
  (void)state;
  static const uint8_t offer[] = HDR "\x0f/unknown/1.0.0\n" NOISE "DATA";
  size_t len = sizeof offer - 1;
  static const uint8_t want[] = HDR NA NOISE;
  for (size_t pass = 0; pass < tu_split_passes(len); pass++) {
    tu_capture c = {0};
    lp2p_mss m;
    lp2p_mss_init(&m, 0, noise_only, 1, tu_capture_io(&c));
    assert_int_equal(lp2p_mss_start(&m), 0);
    assert_int_equal(tu_feed((int)pass, offer, len, feed_mss, &m), 0);
    assert_int_equal(c.wire.len, sizeof want - 1);
    assert_memory_equal(c.wire.data, want, sizeof want - 1);
    assert_int_equal(c.ready, 1);
    assert_string_equal(c.protocol, "/noise");
    assert_int_equal(c.data.len, 4);
    assert_memory_equal(c.data.data, "DATA", 4);
    tu_capture_free(&c);
  }
}

static void test_initiator_falls_back_after_na(void **state) {
  (void)state;
  tu_capture c = {0};
  lp2p_mss m;
  lp2p_mss_init(&m, 1, tls_then_noise, 2, tu_capture_io(&c));
  assert_int_equal(lp2p_mss_start(&m), 0);
  c.wire.len = 0;
  static const uint8_t r1[] = HDR NA;
  assert_int_equal(lp2p_mss_recv(&m, r1, sizeof r1 - 1), 0);
  assert_int_equal(c.wire.len, 8);
  assert_memory_equal(c.wire.data, NOISE, 8);
  assert_int_equal(lp2p_mss_recv(&m, (const uint8_t *)NOISE, 8), 0);
  assert_int_equal(c.ready, 1);
  assert_string_equal(c.protocol, "/noise");
  tu_capture_free(&c);
}

static void test_initiator_all_refused(void **state) {
  (void)state;
  tu_capture c = {0};
  lp2p_mss m;
  lp2p_mss_init(&m, 1, noise_only, 1, tu_capture_io(&c));
  assert_int_equal(lp2p_mss_start(&m), 0);
  static const uint8_t r[] = HDR NA;
  assert_int_equal(lp2p_mss_recv(&m, r, sizeof r - 1), LP2P_ENOTSUP);
  /* Dead engine keeps failing the same way. */
  assert_int_equal(lp2p_mss_recv(&m, r, 1), LP2P_ENOTSUP);
  assert_int_equal(c.ready, 0);
  tu_capture_free(&c);
}

static int responder_result(const uint8_t *in, size_t len) {
  tu_capture c = {0};
  lp2p_mss m;
  lp2p_mss_init(&m, 0, noise_only, 1, tu_capture_io(&c));
  lp2p_mss_start(&m);
  int rc = lp2p_mss_recv(&m, in, len);
  tu_capture_free(&c);
  return rc;
}

static void test_hostile_input(void **state) {
  (void)state;
  assert_int_equal(responder_result((const uint8_t *)"\x13/multistream/2.0.0\n", 20),
                   LP2P_EPROTO);
  assert_int_equal(responder_result((const uint8_t *)"\x13/multistream/1.0.0X", 20),
                   LP2P_EPROTO);
  /* Non-minimal varint for 19. */
  assert_int_equal(responder_result((const uint8_t *)"\x93\x00", 2), LP2P_EVARINT);
  /* Ten continuation bytes. */
  static const uint8_t ten[] = {0x80, 0x80, 0x80, 0x80, 0x80,
                                0x80, 0x80, 0x80, 0x80, 0x80};
  assert_int_equal(responder_result(ten, sizeof ten), LP2P_EVARINT);
  /* 1025 > cap, refused before any buffering. */
  assert_int_equal(responder_result((const uint8_t *)"\x81\x08", 2), LP2P_ETOOBIG);
  assert_int_equal(responder_result((const uint8_t *)"\x00", 1), LP2P_EPROTO);
  /* Endless unknown proposals. */
  lp2p_buf b = {0};
  lp2p_buf_append(&b, HDR, 20);
  for (int i = 0; i <= LP2P_MSS_MAX_NA; i++)
    lp2p_buf_append(&b, "\x04/xx\n", 5);
  assert_int_equal(responder_result(b.data, b.len), LP2P_ELIMIT);
  lp2p_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode),
      cmocka_unit_test(test_initiator_every_split),
      cmocka_unit_test(test_responder_every_split),
      cmocka_unit_test(test_initiator_falls_back_after_na),
      cmocka_unit_test(test_initiator_all_refused),
      cmocka_unit_test(test_hostile_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
